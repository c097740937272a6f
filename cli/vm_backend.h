/*
 * vm_backend.h: the direct way of `ics-admin vm` -- VM definitions on the
 * pools, lease slots and the CIB, with no manager (vm_direct.c; internal to
 * ics-admin).  vm_ops.h wraps these functions into the operations the
 * command layer calls, beside the way through the manager.
 *
 * Records are JSON objects: {"uuid", "name", "pool", "vcpus", "memory_mib",
 * "state", "node", "resource"} (state = the CIB role: "Started", "Stopped",
 * ...; "not-in-cib" for a definition without a primitive; node = null when
 * not running; resource = the primitive's id, what crm and pcs take, absent
 * without one), plus "definition" (vm.json) in show and define.
 * vm_direct_ops.c turns them into vm_ops.h's records.
 *
 * Errors carry ICS error codes that the program maps to its exit status:
 * INVALID_ARGUMENT/PARSE 2, NOT_FOUND 3, BUSY/CONFLICT 4, anything else 1.
 */
#ifndef ICS_ADMIN_VM_BACKEND_H
#define ICS_ADMIN_VM_BACKEND_H

#include <glib.h>
#include <jansson.h>

#include "cib_ops.h"
#include "ics/vmdef.h"

#define ICS_ADMIN_POOLS_DIR "/srv/ics/pools"
#define ICS_ADMIN_DEFAULT_WAIT_S 120

typedef struct {
	/* Where pools are found by name resolution: every <dir>/<x>/.ics/pool.json.
	 * NULL = $ICS_POOLS_DIR, else ICS_ADMIN_POOLS_DIR. */
	const char *pools_dir;
	/* --pool: look only at this pool. */
	const char *pool;
	IcsCib cib;
	guint poll_ms; /* waits poll crm_mon this often; 0 = 1000 */
} IcsAdmin;

/* A VM found on a pool. */
typedef struct {
	char *pool_path;
	IcsVmMeta *meta;
} IcsAdminVm;
void ics_admin_vm_free(IcsAdminVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsAdminVm, ics_admin_vm_free)

/* The pools to scan (absolute paths, sorted): --pool alone, or every
 * directory of the pools dir holding .ics/pool.json. */
GPtrArray *ics_admin_pools(IcsAdmin *adm, GError **error);

/* Find a VM by uuid or name on the pools.  NOT_FOUND when none, CONFLICT
 * when a name is defined more than once. */
IcsAdminVm *ics_admin_vm_resolve(IcsAdmin *adm, const char *ref, GError **error);

typedef enum {
	ICS_ADMIN_UNSAFE_AUTO = -1, /* true unless the pool is a cluster/network filesystem */
	ICS_ADMIN_UNSAFE_NO = 0,
	ICS_ADMIN_UNSAFE_YES = 1,
} IcsAdminUnsafe;

typedef struct {
	json_t *definition; /* vm.json without "lease"; uuid set */
	char *pool_path;    /* NULL until the pool is known (ics_admin_define_set_pool) */
	char *pool_name;    /* --pool NAME: resolved to a path by the backend */
	IcsAdminUnsafe migration_unsafe;
	gboolean start;
} IcsAdminDefine;
void ics_admin_define_clear(IcsAdminDefine *req);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsAdminDefine, ics_admin_define_clear)

/* Define: validate, allocate the lease slot, save on the pool, create the
 * primitive and its constraints; every step undone when a later one fails.
 * Returns the record with "definition". */
json_t *ics_admin_vm_define(IcsAdmin *adm, const IcsAdminDefine *req, GError **error);

/* Undefine: BUSY while running unless @force (then it is stopped first). */
gboolean ics_admin_vm_undefine(IcsAdmin *adm, const char *ref, gboolean force, guint wait_s,
			       GError **error);

/* target-role Started/Stopped; @wait_s > 0 waits for it (TIMEOUT after). */
gboolean ics_admin_vm_set_running(IcsAdmin *adm, const char *ref, gboolean running, guint wait_s,
				  GError **error);

/* Live-migrate to @node: move, wait (when @wait_s > 0) until it runs there,
 * then clear the move constraint unless @keep_constraint. */
gboolean ics_admin_vm_migrate(IcsAdmin *adm, const char *ref, const char *node,
			      gboolean keep_constraint, guint wait_s, GError **error);

/* Records of every VM primitive in the CIB (and definitions without one). */
json_t *ics_admin_vm_list(IcsAdmin *adm, GError **error);

/* One record with "definition". */
json_t *ics_admin_vm_show(IcsAdmin *adm, const char *ref, GError **error);

#endif /* ICS_ADMIN_VM_BACKEND_H */
