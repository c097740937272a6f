/*
 * ics/cib_objects.h: the CIB objects of an ICS VM, as XML.
 *
 * A VM is one ocf:ics:vm primitive plus two constraints that keep it after
 * and with its pool's clone "ics-pool-<pool name>".  The primitive's id is
 * the VM's name whenever that can be a CIB id (ics_cib_vm_resource_id():
 * the rule, docs/vm-definition.md "Resource ids"), so `crm resource move
 * web1 node2` works; the constraints are "<id>-after-pool" and
 * "<id>-with-pool".  Which VM a primitive is comes from its "uuid" instance
 * attribute only (ics_cib_vm_find()), never from its id: ids chosen by
 * crm or pcs users, and the "vm-<uuid>" of CIBs written before names, are
 * VMs like any other.  Both ics-admin (through Pacemaker's tools) and
 * ics-managerd (through libcib) write exactly these objects.  The XML is
 * built with libxml2 (never by pasting strings), so names and values are
 * always escaped, and tests check it with XPath.
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
	/* The primitive's id (ics_cib_vm_resource_id()); every builder below
	 * needs it.  ics_cluster_define_vms() chooses it from @name itself. */
	const char *rsc_id;
	const char *name; /* the VM's name */
	const char *pool_path;
	const char *pool_name;
	guint vcpus;
	guint64 memory_mib;
	gboolean migration_unsafe;
	gboolean start; /* target-role Started instead of Stopped */
} IcsCibVmSpec;

/* "ics-pool-<name>", "<rsc>-after-pool", "<rsc>-with-pool"; g_free. */
char *ics_cib_pool_clone_id(const char *pool_name);
char *ics_cib_vm_order_id(const char *rsc_id);
char *ics_cib_vm_colocation_id(const char *rsc_id);

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

/* ------------------------------------------------------------------------
 * Resource ids (vm_resource_id.c).
 */

/*
 * The rule: the id of the primitive of a new VM named @name with @uuid,
 * given the ids @taken in the CIB's configuration (a set of strings; NULL:
 * none).  The first of these whose objects (primitive and everything in
 * it, both constraints) reuse no id of @taken:
 *   1. @name itself, when it is a valid CIB id (ics_cib_id_valid()) and
 *      does not start with "ics-" (ICS's own objects: pool clones, the
 *      manager's group);
 *   2. "vm-" + @name with every run of other characters than letters,
 *      digits, '_', '.' and '-' made one '_' ("1web" -> "vm-1web",
 *      "my vm" -> "vm-my_vm"), or "vm-<uuid>" when nothing is left of
 *      @name (the id of every VM before names);
 *   3. that with "-" and the first 8 characters of @uuid;
 *   4. that with "-" and the whole @uuid.
 * Deterministic (the same name, uuid and CIB give the same id) and
 * stable (written once, at define: later edits keep it; only a rename
 * through ics_cib_vm_rename() chooses again).  CONFLICT when every form
 * is taken.  g_free.
 */
char *ics_cib_vm_resource_id(const char *name, const char *uuid, GHashTable *taken, GError **error);

/* Add to @taken the ids the objects of a VM with primitive id @rsc_id
 * carry, so that the next VM of one CIB update cannot take them. */
void ics_cib_vm_take_ids(const char *rsc_id, GHashTable *taken);

/* A new set (g_str_hash, strings owned) of every id in @doc. */
GHashTable *ics_cib_ids(xmlDoc *doc);

/* XPath that selects, under /cib/configuration, every element whose id
 * the rule could find taken for @specs' names and every ocf:ics:vm
 * primitive of @specs' uuids: what a define needs to know of the CIB, in
 * one small query.  NULL with INVALID_ARGUMENT for a uuid that is not one
 * (uuids go into the expression). */
char *ics_cib_vm_define_xpath(const IcsCibVmSpec *const *specs, guint n, GError **error);

/* The ocf:ics:vm primitive of VM @uuid in @doc (a whole CIB, a section of
 * it, or a query's result): the one whose "uuid" instance attribute is
 * @uuid in any case, whatever its id.  NULL when there is none.  The node
 * belongs to @doc. */
xmlNode *ics_cib_vm_find(xmlDoc *doc, const char *uuid);

/* Its id (g_free), or NULL. */
char *ics_cib_vm_find_id(xmlDoc *doc, const char *uuid);

/* The XPath of VM @uuid's primitive in a CIB, for a query of the CIB
 * manager; INVALID_ARGUMENT when @uuid is not a uuid. */
char *ics_cib_vm_uuid_xpath(const char *uuid, GError **error);

/*
 * What renaming VM @spec->uuid to @spec->name changes in the CIB @cib (the
 * whole configuration): its primitive under the id the rule gives the new
 * name -- every id inside it and of the constraints that name it follows
 * ("<old>-x" -> "<new>-x", also crm_resource's "cli-prefer-<old>" and
 * "cli-ban-<old>-on-<node>"), the constraints name the new id -- and its
 * utilization set to @spec's vcpus and memory_mib.  One <configuration>
 * to send as a modification that may create (cib_can_create) and deletes
 * what is marked __delete__ (libcib's cib_mixed_update): Pacemaker sees
 * the old objects or the new ones, never both or neither.  *@rsc_id
 * receives the id after it (g_free); when it is the id already, the
 * update only sets the utilization.
 *
 * NOT_FOUND without a primitive; CONFLICT when its id must change but the
 * VM may run (target-role is not Stopped: Pacemaker would stop the old
 * resource and start the new one), when the primitive is inside a group or
 * clone, or a resource set or tag names it (edit those by hand), and when
 * an id the new objects need is taken.
 */
xmlDoc *ics_cib_vm_rename(xmlDoc *cib, const IcsCibVmSpec *spec, char **rsc_id, GError **error);

#endif /* ICS_CIB_OBJECTS_H */
