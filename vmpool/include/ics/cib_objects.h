/*
 * ics/cib_objects.h: the CIB objects of an ICS VM, as XML.
 *
 * A VM is one ocf:ics:vm primitive "vm-<uuid>" plus two constraints that
 * keep it after and with its pool's clone "ics-pool-<pool name>".  Both
 * ics-admin (through Pacemaker's tools) and ics-managerd (through libcib)
 * write exactly these objects, so either can find and remove what the other
 * created: the ids are derived from the VM's uuid only.  The XML is built
 * with libxml2 (never by pasting strings), so names and values are always
 * escaped, and tests check it with XPath.
 *
 * It is part of libicsvmpool (vmpool/), which needs only GLib, libxml2 and
 * the pool's libraries, so ics-admin links it without libcib and without
 * anything of the manager's.
 */
#ifndef ICS_CIB_OBJECTS_H
#define ICS_CIB_OBJECTS_H

#include <glib.h>
#include <libxml/tree.h>

/* What the CIB records about one VM. */
typedef struct {
	const char *uuid;
	const char *pool_path;
	const char *pool_name;
	guint vcpus;
	guint64 memory_mib;
	gboolean migration_unsafe;
	gboolean start; /* target-role Started instead of Stopped */
} IcsCibVmSpec;

/* "vm-<uuid>", "ics-pool-<name>", "vm-<uuid>-after-pool", "vm-<uuid>-with-pool"; g_free. */
char *ics_cib_vm_id(const char *uuid);
char *ics_cib_pool_clone_id(const char *pool_name);
char *ics_cib_vm_order_id(const char *uuid);
char *ics_cib_vm_colocation_id(const char *uuid);

/* "cli-prefer-<rsc>": the location constraint of a move, the id
 * crm_resource --move uses, so either tool's --clear removes it. */
char *ics_cib_move_constraint_id(const char *rsc_id);

/* The <primitive>, <rsc_order> and <rsc_colocation> of a VM. */
xmlDoc *ics_cib_vm_primitive(const IcsCibVmSpec *spec);
xmlDoc *ics_cib_vm_order(const IcsCibVmSpec *spec);
xmlDoc *ics_cib_vm_colocation(const IcsCibVmSpec *spec);

/*
 * One <configuration> holding the <resources> and <constraints> of every VM
 * of @specs (NULL entries skipped): the single CIB update that defines them,
 * sent as a modification that may create (libcib's cib_can_create,
 * `cibadmin --modify --allow-create --scope configuration`).  Pacemaker
 * then sees each VM with its constraints or not at all, so a VM may be
 * created with its final target-role.
 */
xmlDoc *ics_cib_vms_configuration(const IcsCibVmSpec *const *specs, guint n);

/* <rsc_location id="cli-prefer-RSC" rsc="RSC" role="Started" node="NODE"
 * score="INFINITY"/>: what crm_resource --move --node NODE writes. */
xmlDoc *ics_cib_move_constraint(const char *rsc_id, const char *node);

/*
 * TRUE when @id may be used as a CIB id (an XML NCName in ASCII: a letter or
 * '_' first, then letters, digits, '_', '-', '.').  Ids are checked before
 * they go into XPath expressions sent to the CIB.
 */
gboolean ics_cib_id_valid(const char *id);

#endif /* ICS_CIB_OBJECTS_H */
