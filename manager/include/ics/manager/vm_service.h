/*
 * ics/manager/vm_service.h: writing VMs -- the one path by which the API
 * creates, changes and deletes a VM in the cluster and in the inventory.
 *
 * The cluster is the truth (the VM's definition on its pool, its primitive
 * in the CIB); the inventory row adds what the cluster does not know (the
 * owner) and mirrors the rest (vm_mirror.c keeps it in step with changes
 * made by other tools).  Every write therefore goes to the cluster first
 * and to the database second, and a failure of the second undoes the
 * first:
 *
 *   create  check (names, uuid, owner, paths) -> cluster define -> insert
 *           undo: cluster undefine
 *   update  check (access, names, owner, paths) -> cluster define (new)
 *           -> update            undo: cluster define (old)
 *   delete  check (access) -> cluster undefine -> delete
 *           (no undo: a VM gone from the cluster is gone; the mirror
 *           removes a row whose delete failed)
 *
 * While a write is in flight its uuid and name are claimed (under
 * busy_lock): a second write of the same VM or name is refused at once
 * (CONFLICT), and the mirror leaves claimed VMs to the write that claimed
 * them.  No database lock is held across a cluster call.  Without a
 * cluster adapter the cluster steps are skipped (an inventory only).
 *
 * Authorization of the object and of fields is done here, with the
 * permission the route's row of the authorization table names (vm.write,
 * vm.read, ...) and the field rules (give-vm, host-path, never-path,
 * foreign-disk); the handler only authenticates, parses and answers.
 */
#ifndef ICS_MANAGER_VM_SERVICE_H
#define ICS_MANAGER_VM_SERVICE_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/authz.h"
#include "ics/manager/cluster_ops.h"
#include "ics/manager/events.h"
#include "ics/manager/store.h"
#include "ics/vmdef.h"

typedef struct IcsVmService IcsVmService;

typedef struct {
	IcsStore *store;
	IcsEvents *events;
	const IcsClusterOps *cluster; /* NULL: inventory only */
	/* Where any holder of vm.write may point a VM (NULL-terminated,
	 * borrowed) and the manager's state directory (never). */
	const char *const *path_roots;
	const char *state_dir;
} IcsVmServiceConfig;

IcsVmService *ics_vm_service_new(const IcsVmServiceConfig *cfg);
void ics_vm_service_free(IcsVmService *svc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsVmService, ics_vm_service_free)

/* Create @vm (validated, uuid set) owned by @owner (a user name; NULL: the
 * caller).  The new VM as the API shows it. */
json_t *ics_vm_service_create(IcsVmService *svc, const IcsPrincipal *p, const IcsVmMeta *vm,
			      const char *owner, GError **error);

/* Change VM @uuid: its definition (@vm, may be NULL) and/or its owner
 * (@owner, may be NULL); @perm is the permission the caller needs on it.
 * NOT_FOUND for a VM the caller may not see. */
json_t *ics_vm_service_update(IcsVmService *svc, const IcsPrincipal *p, const char *uuid,
			      const char *perm, const IcsVmMeta *vm, const char *owner,
			      GError **error);

/* Delete VM @uuid (CONFLICT while it runs). */
gboolean ics_vm_service_delete(IcsVmService *svc, const IcsPrincipal *p, const char *uuid,
			       const char *perm, GError **error);

/* Is a write of VM @uuid in flight (the mirror leaves it alone)? */
gboolean ics_vm_service_busy(IcsVmService *svc, const char *uuid);

/* Tests: make the next write fail at @step, once, to exercise its undo. */
typedef enum {
	ICS_VM_STEP_NONE,
	ICS_VM_STEP_CLUSTER, /* the cluster define/undefine */
	ICS_VM_STEP_STORE,   /* the database write after it */
} IcsVmStep;
void ics_vm_service_fail_once_for_test(IcsVmService *svc, IcsVmStep step);

#endif /* ICS_MANAGER_VM_SERVICE_H */
