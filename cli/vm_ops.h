/*
 * vm_ops.h: the operations behind `ics-admin vm`, and the two ways they are
 * carried out (internal to ics-admin).
 *
 * The command layer (vm_cmd.c) parses argv into the requests below, picks
 * a way and prints the records it gets back; it never knows which way ran.
 * Through the manager (vm_managed.c): REST requests to ics-managerd, which
 * checks permissions, owns the inventory and runs power operations as
 * tasks.  Directly (vm_direct_ops.c over vm_direct.c): the definition on
 * the pool, the lease slot and the CIB of the cluster this node belongs to,
 * with Pacemaker's tools; no manager needed.  Both write the same CIB
 * objects (libicsvmpool), so a VM made one way is seen and managed the
 * other way.
 *
 * Records are JSON objects with the same members either way:
 *   uuid, name, pool (the pool's path), vcpus, memory_mib, owner (null
 *   directly: the manager keeps owners), state, node (null unless placed),
 *   broken (why the VM cannot be used; only when it cannot),
 *   resource (its Pacemaker resource id, what crm and pcs take: in show,
 *   and directly in every record; absent without a primitive),
 *   and "definition" (vm.json) in show and define.
 * state is one of running, stopped, migrating, failed, unknown, broken.
 *
 * Errors carry ICS error codes that the program maps to its exit status
 * (ics_admin_exit_code()).
 */
#ifndef ICS_ADMIN_VM_OPS_H
#define ICS_ADMIN_VM_OPS_H

#include <glib.h>
#include <jansson.h>

#include "vm_backend.h"

typedef enum {
	ICS_ADMIN_VM_START,
	ICS_ADMIN_VM_STOP,
	ICS_ADMIN_VM_REBOOT,
	ICS_ADMIN_VM_MIGRATE,
} IcsAdminVmAction;

typedef struct {
	IcsAdminVmAction action;
	const char *node;	  /* MIGRATE: the target */
	gboolean force;		  /* STOP: power off, no guest shutdown (manager) */
	gboolean keep_constraint; /* MIGRATE: keep the move constraint (direct) */
	guint wait_s;		  /* 0: return once it is requested */
} IcsAdminVmPower;

typedef struct {
	const char *name; /* "manager" or "direct", for messages */
	/* Every VM (of @pool, a path, when not NULL), sorted by name. */
	json_t *(*list)(gpointer self, const char *pool, GError **error);
	json_t *(*show)(gpointer self, const char *ref, GError **error);
	/* @owner: the manager's owner of the new VM (NULL: the caller). */
	json_t *(*define)(gpointer self, IcsAdminDefine *req, const char *owner, GError **error);
	gboolean (*remove)(gpointer self, const char *ref, gboolean force, guint wait_s,
			   GError **error);
	gboolean (*power)(gpointer self, const char *ref, const IcsAdminVmPower *p, GError **error);
	/* Where the running VM's console is: {uuid, host, libvirt_uri, serial,
	 * graphics} as the manager's GET /vms/{uuid}/console answers. */
	json_t *(*console)(gpointer self, const char *ref, GError **error);
} IcsAdminVmOps;

extern const IcsAdminVmOps ics_admin_vm_direct_ops;  /* self: IcsAdmin * */
extern const IcsAdminVmOps ics_admin_vm_managed_ops; /* self: IcsRest * */

/* Records sorted by name, then uuid (in place). */
void ics_admin_vm_records_sort(json_t *records);

/* Put @pool_path into @req and make the relative disk paths of its
 * definition absolute under it. */
void ics_admin_define_set_pool(IcsAdminDefine *req, const char *pool_path);

#endif /* ICS_ADMIN_VM_OPS_H */
