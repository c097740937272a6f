/*
 * cib_ops.h: the CIB objects of an ICS VM and the Pacemaker tools that
 * write and read them (internal to ics-admin).
 *
 * A VM is one ocf:ics:vm primitive, named after the VM, plus two
 * constraints that keep it after and with its pool's clone "ics-pool-<pool
 * name>"; their XML and the rule of their ids come from libicsvmpool
 * (ics/cib_objects.h), shared with ics-managerd's cluster adapter so both
 * write the same ids and shapes.  A VM's primitive is found by its "uuid"
 * parameter (ics_cib_vm_find()), never by its id.  Pacemaker's tools
 * (cibadmin, crm_resource, crm_mon) run through ics_exec_run() with a
 * deadline; the runner is a function pointer so tests can replace the tools
 * by a fake that records the calls and fails on demand.
 *
 * Pacemaker's exit codes are mapped to ICS error codes: 76 (CRM_EX_EXISTS)
 * is ICS_ERROR_CONFLICT, 105 (CRM_EX_NOSUCH) is ICS_ERROR_NOT_FOUND, 124
 * (CRM_EX_TIMEOUT) is ICS_ERROR_TIMEOUT, any other failure ICS_ERROR_EXEC.
 */
#ifndef ICS_ADMIN_CIB_OPS_H
#define ICS_ADMIN_CIB_OPS_H

#include <glib.h>
#include <libxml/tree.h>

#include "ics/cib_objects.h" /* the VM's objects: IcsCibVmSpec, ics_cib_vm_*() */
#include "ics/exec.h"

#define ICS_CIB_DEFAULT_TIMEOUT_MS 30000u

typedef gboolean (*IcsCibRunFn)(const IcsExecOptions *opts, IcsExecResult *result,
				gpointer user, GError **error);

typedef struct {
	IcsCibRunFn run; /* NULL = ics_exec_run */
	gpointer user;
	guint timeout_ms; /* per tool call; 0 = ICS_CIB_DEFAULT_TIMEOUT_MS */
} IcsCib;

/* cibadmin --create --scope @scope ("resources", "constraints"). */
gboolean ics_cib_create(IcsCib *cib, const char *scope, xmlDoc *obj, GError **error);

/* cibadmin --modify --allow-create --scope @scope: @obj, the scope's own
 * element (<configuration> for "configuration"), is merged in and the
 * objects it holds that do not exist are created -- one CIB update. */
gboolean ics_cib_modify_create(IcsCib *cib, const char *scope, xmlDoc *obj, GError **error);

/* cibadmin --replace --scope @scope: the object with @obj's element name and
 * id is replaced by @obj. */
gboolean ics_cib_replace(IcsCib *cib, const char *scope, xmlDoc *obj, GError **error);

/* cibadmin --delete of <@tag id="@id"/> in @scope; NOT_FOUND when absent. */
gboolean ics_cib_delete(IcsCib *cib, const char *scope, const char *tag, const char *id,
			GError **error);

/* cibadmin --delete-all --force --xpath: every constraint whose rsc, with-rsc,
 * first or then is @rsc_id (a valid id); none is fine. */
gboolean ics_cib_delete_constraints_of(IcsCib *cib, const char *rsc_id, GError **error);

/* cibadmin --query --scope @scope. */
xmlDoc *ics_cib_query(IcsCib *cib, const char *scope, GError **error);

/* crm_mon --output-as=xml --inactive: what runs where. */
xmlDoc *ics_cib_status(IcsCib *cib, GError **error);

/*
 * The state of resource @rsc_id in crm_mon's XML: *role ("Started",
 * "Stopped", "Migrating", ...; g_free) and *node (the first node it is active
 * on, NULL when none; g_free).  FALSE when crm_mon does not know the resource.
 */
gboolean ics_cib_resource_state(xmlDoc *status, const char *rsc_id, char **role, char **node);

/* crm_resource --meta --set-parameter target-role --parameter-value @role. */
/* Whether @node (a name from crm_mon's status) can take a VM now: a cluster
 * node (else ICS_ERROR_NOT_FOUND, naming the nodes) that is online and not
 * in standby, maintenance, unclean or pending (else ICS_ERROR_CONFLICT). */
gboolean ics_cib_node_usable(xmlDoc *status, const char *node, GError **error);

gboolean ics_cib_set_target_role(IcsCib *cib, const char *rsc_id, const char *role,
				 GError **error);

/* crm_resource --move --node @node, and --clear (removes cli-* constraints). */
gboolean ics_cib_move(IcsCib *cib, const char *rsc_id, const char *node, GError **error);
gboolean ics_cib_clear(IcsCib *cib, const char *rsc_id, GError **error);

/* Run another tool of the node (crm_node, virsh) the way the CIB tools
 * run: through @cib's runner, with its deadline; *@out (may be NULL) gets
 * its standard output. */
gboolean ics_cib_run_tool(IcsCib *cib, const char *const *argv, char **out, GError **error);

/* crm_resource --restart --timeout @timeout_s: stops @rsc_id and what
 * depends on it, waits, starts them again, waits (TIMEOUT after
 * @timeout_s). */
gboolean ics_cib_restart(IcsCib *cib, const char *rsc_id, guint timeout_s, GError **error);

#endif /* ICS_ADMIN_CIB_OPS_H */
