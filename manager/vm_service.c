/*
 * vm_service.c: the one write path of VMs (see ics/manager/vm_service.h):
 * cluster first, database second, the first undone when the second fails.
 *
 * Claims.  busy holds "uuid:<uuid>" and "name:<name>" of the writes in
 * flight.  Claiming both before anything is read makes a write's checks
 * stand until it ends: two creates of one name cannot both pass the check
 * and then race to the insert, and the mirror does not adopt or drop a VM
 * whose define or undefine has not reached the database yet.
 *
 * Checks run on a reader before the cluster is touched, so a refused write
 * (a name taken, a VM the caller may not see, a path it may not name)
 * leaves the cluster alone; the database write repeats the uniqueness
 * checks (constraints) and is what fails when they were beaten anyway --
 * then the cluster step is undone.  The undo is logged when it fails too;
 * the caller sees the original error.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/users.h"
#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_paths.h"
#include "ics/manager/vm_service.h"

struct IcsVmService {
	IcsVmServiceConfig cfg;
	GMutex busy_lock;
	GHashTable *busy; /* "uuid:..." / "name:..." of writes in flight */
	gint fail_once;	  /* IcsVmStep, tests */
};

IcsVmService *ics_vm_service_new(const IcsVmServiceConfig *cfg)
{
	IcsVmService *svc = g_new0(IcsVmService, 1);

	svc->cfg = *cfg;
	g_mutex_init(&svc->busy_lock);
	svc->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return svc;
}

void ics_vm_service_free(IcsVmService *svc)
{
	if (svc == NULL)
		return;
	g_hash_table_destroy(svc->busy);
	g_mutex_clear(&svc->busy_lock);
	g_free(svc);
}

void ics_vm_service_fail_once_for_test(IcsVmService *svc, IcsVmStep step)
{
	g_atomic_int_set(&svc->fail_once, step);
}

static gboolean injected(IcsVmService *svc, IcsVmStep step, GError **error)
{
	if (!g_atomic_int_compare_and_exchange(&svc->fail_once, step, ICS_VM_STEP_NONE))
		return FALSE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "injected failure (test)");
	return TRUE;
}

/* ---- claims --------------------------------------------------------------- */

typedef struct {
	IcsVmService *svc;
	char *keys[2];
} Claim;

static void claim_release(Claim *c)
{
	g_mutex_lock(&c->svc->busy_lock);
	for (guint i = 0; i < G_N_ELEMENTS(c->keys); i++)
		if (c->keys[i])
			g_hash_table_remove(c->svc->busy, c->keys[i]);
	g_mutex_unlock(&c->svc->busy_lock);
	for (guint i = 0; i < G_N_ELEMENTS(c->keys); i++)
		g_free(c->keys[i]);
	g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Claim, claim_release)

/* Claim @uuid and @name (may be NULL) for one write, or CONFLICT. */
static Claim *claim(IcsVmService *svc, const char *uuid, const char *name, GError **error)
{
	Claim *c = g_new0(Claim, 1);
	gboolean ok;

	c->svc = svc;
	c->keys[0] = g_strconcat("uuid:", uuid, NULL);
	c->keys[1] = name ? g_strconcat("name:", name, NULL) : NULL;
	g_mutex_lock(&svc->busy_lock);
	ok = !g_hash_table_contains(svc->busy, c->keys[0]) &&
	     (c->keys[1] == NULL || !g_hash_table_contains(svc->busy, c->keys[1]));
	if (ok)
		for (guint i = 0; i < G_N_ELEMENTS(c->keys); i++)
			if (c->keys[i])
				g_hash_table_add(svc->busy, g_strdup(c->keys[i]));
	g_mutex_unlock(&svc->busy_lock);
	if (!ok) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s%s%s%s is being written by another request; retry", uuid,
			    name ? " (\"" : "", name ? name : "", name ? "\")" : "");
		g_free(c->keys[0]);
		g_free(c->keys[1]);
		g_free(c);
		return NULL;
	}
	return c;
}

gboolean ics_vm_service_busy(IcsVmService *svc, const char *uuid)
{
	g_autofree char *key = g_strconcat("uuid:", uuid, NULL);
	gboolean busy;

	g_mutex_lock(&svc->busy_lock);
	busy = g_hash_table_contains(svc->busy, key);
	g_mutex_unlock(&svc->busy_lock);
	return busy;
}

/* ---- checks (on a reader) -------------------------------------------------- */

/* NOT_FOUND unless @p holds @perm on VM @uuid; its owner in @owner. */
static gboolean access_vm(IcsStore *store, const IcsPrincipal *p, const char *uuid,
			  const char *perm, gint64 *owner, GError **error)
{
	gint64 o = 0;

	if (!ics_vm_inventory_owner(store, uuid, &o, error))
		return FALSE;
	if (!ics_principal_can_on(p, perm, o)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
		return FALSE;
	}
	*owner = o;
	return TRUE;
}

/* The user id @name names (field rule give-vm when it is not @p). */
static gboolean resolve_owner(IcsStore *store, const IcsPrincipal *p, const char *name,
			      gint64 *owner, GError **error)
{
	g_autoptr(IcsUser) user = NULL;

	if (!g_str_equal(name, p->name) && !ics_field_rule_check(p, "give-vm", "owner", error))
		return FALSE;
	user = ics_user_get(store, name, error);
	if (user == NULL) {
		(*error)->code = ICS_ERROR_INVALID_ARGUMENT;
		return FALSE;
	}
	*owner = user->id;
	return TRUE;
}

/* CONFLICT when another VM than @uuid has @name (on any pool: names are
 * unique in the cluster, as a VM's name is its Pacemaker resource id), or
 * (@fresh) @uuid exists.  The message names only what the caller sent. */
static gboolean names_free(IcsStore *store, const char *uuid, const char *name, gboolean fresh,
			   GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT coalesce(sum(name = ?1 AND uuid != ?2), 0), coalesce(sum(?3 "
			       "AND uuid = ?2), 0) "
			       "FROM vms WHERE (name = ?1 AND uuid != ?2) OR (?3 AND uuid = ?2)",
			       error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	ics_stmt_bind_text(st, 2, uuid);
	ics_stmt_bind_int(st, 3, fresh);
	if (ics_stmt_step(st, error) != SQLITE_ROW)
		return FALSE;
	if (sqlite3_column_int64(st, 1) > 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "a VM with uuid %s already exists", uuid);
		return FALSE;
	}
	if (sqlite3_column_int64(st, 0) > 0) {
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_CONFLICT,
			"the VM name \"%s\" is taken: names are unique in the cluster, whatever "
			"the pool (a VM's name is its Pacemaker resource id)",
			name);
		return FALSE;
	}
	return TRUE;
}

/* The field rules on paths, with the configured roots and, when a path
 * lies outside them, the cluster's pools. */
static gboolean paths_allowed(IcsVmService *svc, const IcsPrincipal *p, const IcsVmMeta *vm,
			      GError **error)
{
	IcsVmPathPolicy pol = { svc->cfg.path_roots, svc->cfg.state_dir };
	const IcsClusterOps *ops = svc->cfg.cluster;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) roots = NULL;
	g_autoptr(json_t) pools = NULL;
	const char *rule = NULL;

	if (ics_vm_paths_check(svc->cfg.store, &pol, p, vm, &rule, &err))
		return TRUE;
	if (ops == NULL || ops->pools == NULL || g_strcmp0(rule, "host-path") != 0 ||
	    (pools = ops->pools(ops->self, NULL)) == NULL) {
		g_propagate_error(error, g_steal_pointer(&err));
		return FALSE;
	}
	roots = g_ptr_array_new();
	for (guint i = 0; pol.roots && pol.roots[i]; i++)
		g_ptr_array_add(roots, (gpointer)pol.roots[i]);
	for (size_t i = 0; i < json_array_size(pools); i++) {
		const char *path =
			json_string_value(json_object_get(json_array_get(pools, i), "path"));

		if (path && g_path_is_absolute(path) && strcmp(path, "/") != 0)
			g_ptr_array_add(roots, (gpointer)path);
	}
	g_ptr_array_add(roots, NULL);
	pol.roots = (const char *const *)roots->pdata;
	return ics_vm_paths_check(svc->cfg.store, &pol, p, vm, NULL, error);
}

/* ---- cluster steps ------------------------------------------------------- */

static gboolean cluster_define(IcsVmService *svc, const IcsVmMeta *vm, GError **error)
{
	const IcsClusterOps *ops = svc->cfg.cluster;

	if (injected(svc, ICS_VM_STEP_CLUSTER, error) ||
	    (ops && !ops->define_vm(ops->self, vm, error))) {
		ics_error_prefix(error, "VM \"%s\": cluster: ", vm->name);
		return FALSE;
	}
	return TRUE;
}

static gboolean cluster_undefine(IcsVmService *svc, const char *uuid, GError **error)
{
	const IcsClusterOps *ops = svc->cfg.cluster;

	if (injected(svc, ICS_VM_STEP_CLUSTER, error) ||
	    (ops && !ops->undefine_vm(ops->self, uuid, error))) {
		ics_error_prefix(error, "VM %s: cluster: ", uuid);
		return FALSE;
	}
	return TRUE;
}

static void publish(IcsVmService *svc, const char *type, gint64 owner, const char *uuid)
{
	ics_events_publish(svc->cfg.events, type, "vm.read", owner,
			   json_pack("{s:s}", "uuid", uuid));
}

/* ---- create, update, delete --------------------------------------------- */

json_t *ics_vm_service_create(IcsVmService *svc, const IcsPrincipal *p, const IcsVmMeta *vm,
			      const char *owner_name, GError **error)
{
	IcsStore *store = svc->cfg.store;
	g_autoptr(Claim) c = NULL;
	g_autoptr(GError) undo = NULL;
	gint64 owner = p->user_id;
	json_t *out = NULL;
	gboolean ok;

	if (!paths_allowed(svc, p, vm, error))
		return NULL;
	c = claim(svc, vm->uuid, vm->name, error);
	if (c == NULL)
		return NULL;
	ics_store_read_begin(store);
	ok = names_free(store, vm->uuid, vm->name, TRUE, error) &&
	     (owner_name == NULL || resolve_owner(store, p, owner_name, &owner, error));
	ics_store_read_end(store);
	if (!ok || !cluster_define(svc, vm, error))
		return NULL;

	if (!injected(svc, ICS_VM_STEP_STORE, error) && ics_store_begin(store, error)) {
		if (ics_vm_inventory_insert(store, vm, owner, svc->cfg.cluster != NULL, error) &&
		    (out = ics_vm_inventory_get(store, vm->uuid, error)) != NULL) {
			if (!ics_store_commit(store, error))
				g_clear_pointer(&out, json_decref);
		} else {
			ics_store_rollback(store);
		}
	}
	if (out == NULL) {
		if (svc->cfg.cluster && !cluster_undefine(svc, vm->uuid, &undo))
			ics_warning("VM %s: removing it from the cluster after a failed create: %s",
				    vm->uuid, undo->message);
		return NULL;
	}
	publish(svc, "vm.created", owner, vm->uuid);
	return out;
}

json_t *ics_vm_service_update(IcsVmService *svc, const IcsPrincipal *p, const char *uuid,
			      const char *perm, const IcsVmMeta *vm, const char *owner_name,
			      GError **error)
{
	IcsStore *store = svc->cfg.store;
	g_autoptr(Claim) c = NULL;
	g_autoptr(IcsVmMeta) old = NULL;
	g_autoptr(GError) undo = NULL;
	gint64 owner = 0, new_owner = 0;
	json_t *out = NULL;
	gboolean ok;

	if (vm && !paths_allowed(svc, p, vm, error))
		return NULL;
	c = claim(svc, uuid, vm ? vm->name : NULL, error);
	if (c == NULL)
		return NULL;
	ics_store_read_begin(store);
	ok = access_vm(store, p, uuid, perm, &owner, error) &&
	     (vm == NULL || names_free(store, uuid, vm->name, FALSE, error)) &&
	     (vm == NULL || (old = ics_vm_inventory_meta(store, uuid, error)) != NULL) &&
	     (owner_name == NULL || resolve_owner(store, p, owner_name, &new_owner, error));
	ics_store_read_end(store);
	if (!ok || (vm && !cluster_define(svc, vm, error)))
		return NULL;

	if (!injected(svc, ICS_VM_STEP_STORE, error) && ics_store_begin(store, error)) {
		if ((vm == NULL || ics_vm_inventory_update(store, vm, error)) &&
		    (owner_name == NULL ||
		     ics_vm_inventory_set_owner(store, uuid, new_owner, error)) &&
		    (out = ics_vm_inventory_get(store, uuid, error)) != NULL) {
			if (!ics_store_commit(store, error))
				g_clear_pointer(&out, json_decref);
		} else {
			ics_store_rollback(store);
		}
	}
	if (out == NULL) {
		if (vm && svc->cfg.cluster && !cluster_define(svc, old, &undo))
			ics_warning("VM %s: restoring its cluster definition after a failed "
				    "update: %s",
				    uuid, undo->message);
		return NULL;
	}
	publish(svc, "vm.updated", owner_name ? new_owner : owner, uuid);
	return out;
}

gboolean ics_vm_service_delete(IcsVmService *svc, const IcsPrincipal *p, const char *uuid,
			       const char *perm, GError **error)
{
	IcsStore *store = svc->cfg.store;
	g_autoptr(Claim) c = claim(svc, uuid, NULL, error);
	gint64 owner = 0;
	gboolean ok;

	if (c == NULL)
		return FALSE;
	ics_store_read_begin(store);
	ok = access_vm(store, p, uuid, perm, &owner, error);
	ics_store_read_end(store);
	if (!ok || !cluster_undefine(svc, uuid, error))
		return FALSE;
	ok = !injected(svc, ICS_VM_STEP_STORE, error) && ics_store_begin(store, error);
	if (ok) {
		if (ics_vm_inventory_delete(store, uuid, error)) {
			ok = ics_store_commit(store, error);
		} else {
			ics_store_rollback(store);
			ok = FALSE;
		}
	}
	if (!ok) {
		/* Gone from the cluster: the mirror drops the row. */
		ics_warning("VM %s: removed from the cluster, but not from the inventory: %s",
			    uuid, (*error)->message);
		return FALSE;
	}
	publish(svc, "vm.deleted", owner, uuid);
	return TRUE;
}
