/*
 * cluster_vms.c: the VM operations of the manager's cluster adapter
 * (IcsClusterOps: define, undefine, start, stop, migrate, reboot, console,
 * status), over the service's connection and snapshots
 * (cluster_service_internal.h).
 *
 * define puts the definition and its lease slot on the VM's pool
 * (libicsvmpool, as ics-admin does) and then creates or updates the
 * primitive and its constraints, in one CIB update shared with the other
 * definitions waiting at that moment (group commit); a failure of the CIB
 * step undoes the pool step.  The pool is the cluster pool that holds the
 * VM's lease file or first disk, or the only pool there is.  A new
 * primitive is named after the VM (vmpool's rule); an edit that changes
 * the name renames it -- its objects replaced under the new name's id in
 * one update -- which is refused unless the VM is stopped (Pacemaker
 * cannot change an id in place, and would restart a running VM under the
 * new one).  start/stop set target-role, migrate writes the move
 * constraint of crm_resource --move, waits for the VM on the target and
 * clears the constraint again.
 *
 * A VM is found by its primitive's uuid parameter, never by the id: in
 * the snapshot for what the cluster says, and in the CIB itself, right
 * before a write, for the id to write to.
 *
 * What runs where is read from the snapshot of the moment, never
 * remembered; the only state here is the queue of the group commit, under
 * its own lock.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/vm_on_pool.h"

#include "cluster_service_internal.h"

/* How long an operation waits for a VM just defined to show in a snapshot. */
#define KNOWN_WAIT_S 15

struct IcsClusterVms {
	/* Under define_lock: the CIB writes of VM definitions waiting for the
	 * one in flight (group commit, see cib_define). */
	GMutex define_lock;
	GCond define_done;
	GPtrArray *define_queue; /* DefineReq* */
	gboolean define_busy;
};

IcsClusterVms *ics_cluster_vms_new(void)
{
	IcsClusterVms *v = g_new0(IcsClusterVms, 1);

	g_mutex_init(&v->define_lock);
	g_cond_init(&v->define_done);
	v->define_queue = g_ptr_array_new();
	return v;
}

void ics_cluster_vms_free(IcsClusterVms *v)
{
	if (v == NULL)
		return;
	g_ptr_array_unref(v->define_queue);
	g_mutex_clear(&v->define_lock);
	g_cond_clear(&v->define_done);
	g_free(v);
}

/* ---- VM state ------------------------------------------------------------- */

/* The VM whose primitive has @uuid as its "uuid" parameter, whatever the
 * primitive's id (the VM's name, the "vm-<uuid>" of older CIBs, or what
 * crm and pcs users chose). */
static const IcsClusterVm *find_vm(const IcsClusterSnapshot *snap, const char *uuid)
{
	return ics_cluster_snapshot_vm_by_uuid(snap, uuid);
}

/* The VM @uuid in the current snapshot (NOT_FOUND without it): its state
 * text, the node it is on (NULL when stopped) and the node where it runs
 * (NULL unless running); each out-parameter may be NULL. */
static gboolean lookup_vm(IcsClusterService *svc, const char *uuid, char **state, char **host,
			  char **running_on, GError **error)
{
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	const IcsClusterVm *vm;

	if (ref == NULL)
		return FALSE;
	vm = find_vm(ref->snap, uuid);
	if (vm == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "cluster: VM %s has no resource in the CIB", uuid);
		return FALSE;
	}
	if (state)
		*state = g_strdup(ics_cluster_vm_state_text(vm));
	if (host)
		*host = vm->state == ICS_VM_STOPPED ? NULL : g_strdup(vm->node);
	if (running_on)
		*running_on = vm->state == ICS_VM_RUNNING ? g_strdup(vm->node) : NULL;
	return TRUE;
}

gboolean ics_cluster_vm_status(void *self, const char *uuid, char **state, char **host, GError **error)
{
	return lookup_vm(self, uuid, state, host, NULL, error);
}

/* NOT_FOUND unless the current snapshot has the VM; @node: where it runs. */
static gboolean require_vm(IcsClusterService *svc, const char *uuid, char **node, GError **error)
{
	return lookup_vm(svc, uuid, NULL, NULL, node, error);
}

/* As require_vm(), for an operation on a VM the inventory has: a VM defined
 * a moment ago may not be in the snapshot yet (its CIB notification is on
 * its way), so NOT_FOUND is final only after KNOWN_WAIT_S without a
 * snapshot that has it.  Waits on the snapshot's condition variable, never
 * on the main-context thread (that thread makes the snapshots). */
static gboolean await_vm(IcsClusterService *svc, const char *uuid, char **node, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + KNOWN_WAIT_S * G_USEC_PER_SEC;
	gboolean may_wait = !g_main_context_is_owner(g_main_context_default());

	for (;;) {
		g_autoptr(GError) e = NULL;
		guint64 generation = ics_cluster_service_generation(svc);

		if (lookup_vm(svc, uuid, NULL, NULL, node, &e))
			return TRUE;
		if (!may_wait || !g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND) ||
		    g_get_monotonic_time() >= deadline) {
			g_propagate_error(error, g_steal_pointer(&e));
			return FALSE;
		}
		if (!ics_cluster_service_wait_newer(svc, generation, deadline)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "cluster: the manager is stopping");
			return FALSE;
		}
	}
}

/* ---- define / undefine ---------------------------------------------------- */

const char *ics_cluster_pool_path(const IcsClusterPool *pool)
{
	if (pool->resource == NULL || pool->resource->params == NULL)
		return NULL;
	return g_hash_table_lookup(pool->resource->params, "path");
}

static gboolean path_under(const char *path, const char *dir)
{
	gsize n = strlen(dir);

	return path && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The pool @vm lives on: the one holding its lease file, else its first
 * disk, else the only pool of the cluster.  Name and path are copied. */
static gboolean choose_pool(IcsClusterService *svc, const IcsVmMeta *vm, char **name, char **path,
			    GError **error)
{
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	const IcsClusterPool *found = NULL;
	const char *disk = NULL;
	GPtrArray *pools;

	if (ref == NULL)
		return FALSE;
	pools = ref->snap->pools;
	for (guint i = 0; vm->disks && i < vm->disks->len && disk == NULL; i++) {
		const IcsVmDisk *d = vm->disks->pdata[i];

		if (!d->shared_outside_pool)
			disk = d->path;
	}
	for (guint i = 0; i < pools->len && found == NULL; i++) {
		const IcsClusterPool *p = pools->pdata[i];
		const char *pp = ics_cluster_pool_path(p);

		if (pp == NULL)
			continue;
		if ((vm->has_lease && path_under(vm->lease_path, pp)) || path_under(disk, pp))
			found = p;
	}
	if (found == NULL && pools->len == 1 && ics_cluster_pool_path(pools->pdata[0]))
		found = pools->pdata[0];
	if (found == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "cannot tell which pool the VM lives on: the cluster has %u pools and "
			    "no disk of the VM is under one; put its first disk on a pool",
			    pools->len);
		return FALSE;
	}
	*name = g_strdup(found->name);
	*path = g_strdup(ics_cluster_pool_path(found));
	return TRUE;
}

/* On the main-context thread: a rename (ics_cluster_rename_vm()). */
static gboolean cib_rename(IcsCluster *cluster, void *data, GError **error)
{
	const IcsCibVmSpec *spec = data;
	g_autofree char *id = NULL;

	if (!ics_cluster_rename_vm(cluster, spec, &id, error))
		return FALSE;
	ics_info("VM %s (\"%s\"): its resource is %s", spec->uuid, spec->name, id);
	return TRUE;
}

/* One VM definition waiting for its CIB write. */
typedef struct {
	const IcsCibVmSpec *spec;
	GError *error;
	gboolean done;
} DefineReq;

/* On the main-context thread: the primitives of a batch of DefineReq in
 * one CIB update; those defined already are edits, which may change the
 * VM's size. */
static gboolean cib_define_batch(IcsCluster *cluster, void *data, GError **error)
{
	GPtrArray *batch = data;
	g_autofree const IcsCibVmSpec **specs = g_new0(const IcsCibVmSpec *, batch->len);
	g_autofree GError **errors = g_new0(GError *, batch->len);

	(void)error;
	for (guint i = 0; i < batch->len; i++)
		specs[i] = ((DefineReq *)batch->pdata[i])->spec;
	ics_cluster_define_vms(cluster, specs, batch->len, errors);
	for (guint i = 0; i < batch->len; i++) {
		DefineReq *r = batch->pdata[i];

		if (g_error_matches(errors[i], ICS_ERROR, ICS_ERROR_CONFLICT)) {
			g_clear_error(&errors[i]);
			ics_cluster_set_vm_utilization(cluster, r->spec, &errors[i]);
		}
		r->error = errors[i];
	}
	return TRUE;
}

/*
 * Write @spec's primitive and constraints.  Group commit: the API thread
 * that finds no write in flight takes every definition queued so far and
 * writes them in one CIB update; the others wait for the update that
 * carries theirs.  One VM alone costs one update, as before; many created
 * at once share updates, each of which Pacemaker replicates to every node
 * and follows with a scheduler run.
 */
static gboolean cib_define(IcsClusterService *svc, const IcsCibVmSpec *spec, GError **error)
{
	IcsClusterVms *v = ics_cluster_service_vms(svc);
	DefineReq r = { spec, NULL, FALSE };

	g_mutex_lock(&v->define_lock);
	g_ptr_array_add(v->define_queue, &r);
	while (!r.done) {
		g_autoptr(GPtrArray) batch = NULL;
		GError *e = NULL;

		if (v->define_busy) {
			g_cond_wait(&v->define_done, &v->define_lock);
			continue;
		}
		batch = g_steal_pointer(&v->define_queue);
		v->define_queue = g_ptr_array_new();
		v->define_busy = TRUE;
		g_mutex_unlock(&v->define_lock);
		if (!ics_cluster_service_call(svc, cib_define_batch, batch, &e))
			for (guint i = 0; i < batch->len; i++)
				((DefineReq *)batch->pdata[i])->error = g_error_copy(e);
		g_clear_error(&e);
		g_mutex_lock(&v->define_lock);
		for (guint i = 0; i < batch->len; i++)
			((DefineReq *)batch->pdata[i])->done = TRUE;
		v->define_busy = FALSE;
		g_cond_broadcast(&v->define_done);
	}
	g_mutex_unlock(&v->define_lock);
	if (r.error) {
		g_propagate_error(error, r.error);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_cluster_vm_define(void *self, const IcsVmMeta *vm, GError **error)
{
	IcsClusterService *svc = self;
	g_autofree char *pool_name = NULL, *pool_path = NULL;
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(IcsVmMeta) before = NULL, saved = NULL;
	g_autoptr(json_t) def = NULL;
	IcsCibVmSpec spec = { 0 };
	gboolean slot_new = FALSE, known = FALSE, renaming, ok;
	IcsVmState state = ICS_VM_STOPPED;
	g_autofree char *rsc = NULL, *where = NULL;
	GError *e = NULL;

	if (!choose_pool(svc, vm, &pool_name, &pool_path, error))
		return FALSE;
	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
		const IcsClusterVm *there = ref ? find_vm(ref->snap, vm->uuid) : NULL;

		if (ref == NULL)
			return FALSE;
		if (there && there->pool && g_strcmp0(there->pool, pool_path) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "VM %s lives on pool %s, not on %s: moving a VM between pools "
				    "is not supported",
				    vm->uuid, there->pool, pool_path);
			return FALSE;
		}
		if (there) {
			known = TRUE;
			state = there->state;
			rsc = g_strdup(there->id);
			where = g_strdup(there->node);
		}
	}
	pool = ics_pool_open(pool_path, NULL, error);
	if (pool == NULL) {
		ics_error_prefix(error,
				 "pool \"%s\" (not mounted on the manager's node?): ", pool_name);
		return FALSE;
	}
	/* An edit replaces the definition; keep the old one to put back. */
	before = ics_vm_store_load(pool_path, vm->uuid, NULL);
	/* A new name is a new resource id: only while nothing may run. */
	renaming = known && before && strcmp(before->name, vm->name) != 0;
	if (renaming && state != ICS_VM_STOPPED) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s is %s%s%s: renaming it renames its Pacemaker resource %s, which "
			    "cannot be done while it runs; stop it first, or keep the name \"%s\"",
			    vm->uuid, ics_vm_state_name(state), where ? " on " : "",
			    where ? where : "", rsc, before->name);
		return FALSE;
	}
	def = ics_vm_meta_to_json(vm);
	saved = ics_vm_pool_save(pool, def, &slot_new, error);
	if (saved == NULL)
		return FALSE;
	spec.uuid = saved->uuid;
	spec.name = saved->name;
	spec.pool_path = pool_path;
	spec.pool_name = pool_name;
	spec.vcpus = saved->vcpus;
	spec.memory_mib = saved->memory_mib;
	spec.migration_unsafe = !ics_pool_is_cluster_fs(pool_path);
	if (renaming)
		ok = ics_cluster_service_call(svc, cib_rename, &spec, &e);
	else
		ok = cib_define(svc, &spec, &e);
	if (ok)
		return TRUE;
	{
		g_autoptr(GError) ue = NULL;
		gboolean undone = before ? ics_vm_store_save(pool_path, before, &ue)
					 : ics_vm_pool_remove(pool, vm->uuid, slot_new, &ue);

		if (!undone)
			ics_warning("VM %s: undoing its definition on pool %s: %s", vm->uuid,
				    pool_name, ue->message);
	}
	g_propagate_error(error, e);
	return FALSE;
}

/* On the main-context thread: remove VM @data's (a uuid) primitive and the
 * constraints naming it; none is fine. */
static gboolean cib_undefine(IcsCluster *cluster, void *data, GError **error)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *rsc = ics_cluster_vm_resource(cluster, data, &e);

	if (rsc && ics_cluster_remove_resource(cluster, rsc, &e))
		return TRUE;
	if (g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND))
		return TRUE;
	g_propagate_error(error, g_steal_pointer(&e));
	return FALSE;
}

gboolean ics_cluster_vm_undefine(void *self, const char *uuid, GError **error)
{
	IcsClusterService *svc = self;
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
		const IcsClusterVm *vm;

		if (ref == NULL)
			return FALSE;
		vm = find_vm(ref->snap, uuid);
		if (vm && vm->state != ICS_VM_STOPPED && vm->state != ICS_VM_FAILED) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "VM %s is %s%s%s; stop it first", uuid, ics_cluster_vm_state_text(vm),
				    vm->node ? " on " : "", vm->node ? vm->node : "");
			return FALSE;
		}
		if (vm && vm->pool)
			g_ptr_array_add(paths, g_strdup(vm->pool));
		else /* no primitive: look for its definition on every pool */
			for (guint i = 0; i < ref->snap->pools->len; i++) {
				const char *pp = ics_cluster_pool_path(ref->snap->pools->pdata[i]);

				if (pp)
					g_ptr_array_add(paths, g_strdup(pp));
			}
	}
	if (!ics_cluster_service_call(svc, cib_undefine, (void *)uuid, error))
		return FALSE;
	for (guint i = 0; i < paths->len; i++) {
		const char *path = paths->pdata[i];
		g_autofree char *dir = ics_vm_dir(path, uuid);
		g_autoptr(IcsPool) pool = NULL;

		if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
			continue;
		pool = ics_pool_open(path, NULL, error);
		if (pool == NULL || !ics_vm_pool_remove(pool, uuid, TRUE, error)) {
			ics_error_prefix(error, "removed from the CIB, but on pool %s: ", path);
			return FALSE;
		}
	}
	return TRUE;
}

/* ---- start / stop / migrate ------------------------------------------------ */

/* A change of VM @uuid's primitive; its id is looked up in the CIB on the
 * main-context thread, right before the write. */
typedef struct {
	const char *uuid;
	const char *role;
	const char *node;
} CibChange;

static gboolean cib_target_role(IcsCluster *cluster, void *data, GError **error)
{
	const CibChange *c = data;
	g_autofree char *rsc = ics_cluster_vm_resource(cluster, c->uuid, error);

	return rsc && ics_cluster_set_target_role(cluster, rsc, c->role, error);
}

static gboolean cib_move(IcsCluster *cluster, void *data, GError **error)
{
	const CibChange *c = data;
	g_autofree char *rsc = ics_cluster_vm_resource(cluster, c->uuid, error);

	return rsc && ics_cluster_move(cluster, rsc, c->node, error);
}

static gboolean cib_clear(IcsCluster *cluster, void *data, GError **error)
{
	const CibChange *c = data;
	g_autofree char *rsc = ics_cluster_vm_resource(cluster, c->uuid, error);

	return rsc && ics_cluster_clear(cluster, rsc, error);
}

/* The failures of @vm's start, as one line. */
static char *failure_text(const IcsClusterVm *vm)
{
	GString *s = g_string_new(NULL);
	GPtrArray *f = vm->resource->failures;

	for (guint i = 0; f && i < f->len; i++) {
		const IcsClusterFailure *x = f->pdata[i];

		g_string_append_printf(s, "%s%s on %s: %s%s%s", s->len ? "; " : "", x->operation,
				       x->node, x->exit_status,
				       x->exit_reason && x->exit_reason[0] ? " -- " : "",
				       x->exit_reason ? x->exit_reason : "");
	}
	return g_string_free(s, FALSE);
}

/* TRUE when @vm's start failed on every node that could still run it. */
static gboolean nowhere_to_start(const IcsClusterSnapshot *snap, const IcsClusterVm *vm)
{
	GPtrArray *f = vm->resource->failures;

	for (guint i = 0; i < snap->nodes->len; i++) {
		const IcsClusterNode *n = snap->nodes->pdata[i];
		gboolean failed_here = FALSE;

		if (n->state != ICS_NODE_ONLINE)
			continue;
		for (guint j = 0; f && j < f->len && !failed_here; j++) {
			const IcsClusterFailure *x = f->pdata[j];

			failed_here = g_strcmp0(x->node, n->name) == 0;
		}
		if (!failed_here)
			return FALSE;
	}
	return TRUE;
}

typedef struct {
	const char *uuid;
	const char *target; /* migrate: the node it must run on */
	gboolean running;
	IcsClusterProgressFn progress;
	void *progress_data;
	guint last_percent;
} VmWait;

static IcsWaitResult check_vm(const IcsClusterSnapshot *snap, void *data, GError **error)
{
	VmWait *w = data;
	const IcsClusterVm *vm = find_vm(snap, w->uuid);

	if (vm == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "cluster: VM %s was removed from the CIB", w->uuid);
		return ICS_WAIT_FAILED;
	}
	if (!w->running)
		return vm->state == ICS_VM_STOPPED ? ICS_WAIT_DONE : ICS_WAIT_MORE;
	/* Done when started, not when placed: a start still pending has
	 * neither its lease nor its QEMU yet. */
	if (vm->state == ICS_VM_RUNNING && !vm->starting &&
	    (w->target == NULL || g_strcmp0(vm->node, w->target) == 0))
		return ICS_WAIT_DONE;
	if (vm->state == ICS_VM_MIGRATING && w->progress && w->last_percent < 50) {
		g_autofree char *msg =
			g_strdup_printf("migrating from %s to %s", vm->node, vm->migrate_target);

		w->last_percent = 50;
		w->progress(w->progress_data, 50, msg);
	}
	if (vm->state == ICS_VM_FAILED && nowhere_to_start(snap, vm)) {
		g_autofree char *why = failure_text(vm);

		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "cluster: VM %s failed on every node that could run it (%s); fix the "
			    "cause, then 'crm_resource --cleanup -r %s'",
			    w->uuid, why, vm->id);
		return ICS_WAIT_FAILED;
	}
	return ICS_WAIT_MORE;
}

static gboolean set_role_and_wait(IcsClusterService *svc, const char *uuid, gboolean running,
				  const volatile gint *cancelled, GError **error)
{
	g_autofree char *what = NULL;
	CibChange c = { uuid, running ? "Started" : "Stopped", NULL };
	VmWait w = { uuid, NULL, running, NULL, NULL, 0 };

	if (!await_vm(svc, uuid, NULL, error))
		return FALSE;
	if (!ics_cluster_service_call(svc, cib_target_role, &c, error))
		return FALSE;
	what = g_strdup_printf("VM %s %s", uuid, running ? "start" : "stop");
	return ics_cluster_service_wait(svc, check_vm, &w, cancelled, what, error);
}

gboolean ics_cluster_vm_start(void *self, const char *uuid, const volatile gint *cancelled,
			 GError **error)
{
	return set_role_and_wait(self, uuid, TRUE, cancelled, error);
}

gboolean ics_cluster_vm_stop(void *self, const char *uuid, gboolean force,
			const volatile gint *cancelled, GError **error)
{
	IcsClusterService *svc = self;
	g_autofree char *on = NULL, *what = NULL;
	CibChange c = { uuid, "Stopped", NULL };
	VmWait w = { uuid, NULL, FALSE, NULL, NULL, 0 };

	if (!await_vm(svc, uuid, &on, error))
		return FALSE;
	if (!ics_cluster_service_call(svc, cib_target_role, &c, error))
		return FALSE;
	/* The vm agent's stop asks the guest to shut down and destroys it
	 * only after its shutdown timeout; forced, the domain is destroyed
	 * now (target-role is Stopped already, so Pacemaker does not recover
	 * it) and the agent's stop finds it gone. */
	if (force && on) {
		g_autoptr(GError) e = NULL;

		if (!ics_cluster_node_destroy_domain(on, ics_cluster_service_config(svc)->stats_uri, uuid, &e) &&
		    !g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND))
			ics_warning("VM %s: forced stop: %s; waiting for the agent's stop", uuid,
				    e->message);
	}
	what = g_strdup_printf("VM %s stop", uuid);
	return ics_cluster_service_wait(svc, check_vm, &w, cancelled, what, error);
}

gboolean ics_cluster_vm_migrate(void *self, const char *uuid, const char *target,
			   IcsClusterProgressFn progress, void *progress_data,
			   const volatile gint *cancelled, GError **error)
{
	IcsClusterService *svc = self;
	g_autofree char *on = NULL, *what = NULL;
	CibChange c = { uuid, NULL, target };
	VmWait w = { uuid, target, TRUE, progress, progress_data, 0 };
	g_autoptr(GError) ce = NULL;

	if (!await_vm(svc, uuid, &on, error))
		return FALSE;
	if (on == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s is not running; start it first", uuid);
		return FALSE;
	}
	if (g_strcmp0(on, target) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "VM %s already runs on %s", uuid,
			    target);
		return FALSE;
	}
	{
		g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
		const IcsClusterNode *n = ref ? ics_cluster_snapshot_node(ref->snap, target) : NULL;

		if (ref == NULL)
			return FALSE;
		if (n == NULL || n->state != ICS_NODE_ONLINE) {
			g_set_error(error, ICS_ERROR, n ? ICS_ERROR_CONFLICT : ICS_ERROR_NOT_FOUND,
				    "host %s %s", target,
				    n ? "cannot take VMs now (not online)"
				      : "is not a node of the cluster");
			return FALSE;
		}
	}
	if (progress) {
		g_autofree char *msg = g_strdup_printf("moving from %s to %s", on, target);

		progress(progress_data, 0, msg);
	}
	if (!ics_cluster_service_call(svc, cib_move, &c, error))
		return FALSE;
	what = g_strdup_printf("VM %s migration to %s", uuid, target);
	if (!ics_cluster_service_wait(svc, check_vm, &w, cancelled, what, error)) {
		/* No constraint left behind: the VM stays where it ends up. */
		if (!ics_cluster_service_call(svc, cib_clear, &c, &ce))
			ics_warning("VM %s: clearing the move constraint: %s", uuid, ce->message);
		return FALSE;
	}
	if (!ics_cluster_service_call(svc, cib_clear, &c, error)) {
		ics_error_prefix(error, "VM %s runs on %s, but ", uuid, target);
		return FALSE;
	}
	if (progress) {
		g_autofree char *msg = g_strdup_printf("running on %s", target);

		progress(progress_data, 100, msg);
	}
	return TRUE;
}

static gboolean running_on(IcsClusterService *svc, const char *uuid, char **node, GError **error)
{
	if (!require_vm(svc, uuid, node, error))
		return FALSE;
	if (*node == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "VM %s is not running", uuid);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_cluster_vm_reboot(void *self, const char *uuid, GError **error)
{
	IcsClusterService *svc = self;
	g_autofree char *on = NULL;

	if (!running_on(svc, uuid, &on, error))
		return FALSE;
	if (!ics_cluster_node_reboot_domain(on, ics_cluster_service_config(svc)->stats_uri, uuid, error)) {
		ics_error_prefix(error, "VM %s: ", uuid);
		return FALSE;
	}
	return TRUE;
}

json_t *ics_cluster_vm_console(void *self, const char *uuid, GError **error)
{
	IcsClusterService *svc = self;
	g_autofree char *on = NULL, *xml = NULL, *uri = NULL;
	json_t *out;

	if (!running_on(svc, uuid, &on, error))
		return NULL;
	uri = ics_cluster_service_config(svc)->stats_uri ? g_strdup(ics_cluster_service_config(svc)->stats_uri) : ics_node_libvirt_uri(on);
	xml = ics_cluster_node_domain_xml(on, uri, uuid, error);
	if (xml == NULL)
		return NULL;
	out = ics_domain_console_json(xml, error);
	if (out == NULL)
		return NULL;
	json_object_set_new(out, "host", json_string(on));
	json_object_set_new(out, "libvirt_uri", json_string(uri));
	return out;
}

gboolean ics_cluster_vm_vnc(void *self, const char *uuid, IcsVncEndpoint *out, GError **error)
{
	IcsClusterService *svc = self;
	const char *cfg_uri = ics_cluster_service_config(svc)->stats_uri;
	g_autofree char *on = NULL, *xml = NULL, *uri = NULL;
	gboolean ok;

	if (!running_on(svc, uuid, &on, error))
		return FALSE;
	uri = cfg_uri ? g_strdup(cfg_uri) : ics_node_libvirt_uri(on);
	xml = ics_cluster_node_domain_xml_secure(on, uri, uuid, error);
	if (xml == NULL)
		return FALSE;
	ok = ics_domain_vnc_endpoint(xml, uri, &out->address, &out->port, &out->password, error);
	memset(xml, 0, strlen(xml));
	if (!ok) {
		ics_error_prefix(error, "VM %s on %s: ", uuid, on);
		return FALSE;
	}
	out->host = g_steal_pointer(&on);
	return TRUE;
}

int ics_cluster_vm_serial(void *self, const char *uuid, char **host, GError **error)
{
	IcsClusterService *svc = self;
	const char *cfg_uri = ics_cluster_service_config(svc)->stats_uri;
	g_autofree char *on = NULL, *uri = NULL;
	int fd;

	if (!running_on(svc, uuid, &on, error))
		return -1;
	uri = cfg_uri ? g_strdup(cfg_uri) : ics_node_libvirt_uri(on);
	fd = ics_cluster_node_open_serial(on, uri, uuid, error);
	if (fd >= 0)
		*host = g_steal_pointer(&on);
	return fd;
}

/* ---- the VMs of the cluster, for the mirror ------------------------------ */

/* The entry of one VM: its primitive @vm (may be NULL) and the definition on
 * @pool_path (may be NULL: unknown). */
static json_t *vm_entry(const char *uuid, const IcsClusterVm *vm, const char *pool_path)
{
	json_t *e = json_pack("{s:s, s:s?, s:s?}", "uuid", uuid, "resource", vm ? vm->id : NULL,
			      "pool", pool_path);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = NULL;

	if (pool_path == NULL) {
		json_object_set_new(e, "error",
				    json_string("its primitive names no pool (parameter pool)"));
		return e;
	}
	m = ics_vm_store_load(pool_path, uuid, &err);
	if (m == NULL) {
		g_autofree char *why = g_strdup_printf(
			"%s: %s",
			g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND)
				? "no definition on its pool"
				: "its definition on the pool cannot be used",
			err->message);

		json_object_set_new(e, "error", json_string(why));
		return e;
	}
	json_object_set_new(e, "definition", ics_vm_meta_to_json(m));
	if (vm == NULL)
		json_object_set_new(e, "error",
				    json_string("defined on its pool but not in the cluster (no "
						"ocf:ics:vm primitive)"));
	return e;
}

json_t *ics_cluster_vms_json(void *self, GError **error)
{
	IcsClusterService *svc = self;
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	json_t *out;

	if (ref == NULL)
		return NULL;
	out = json_array();
	for (guint i = 0; i < ref->snap->vms->len; i++) {
		const IcsClusterVm *vm = ref->snap->vms->pdata[i];
		g_autofree char *uuid = NULL;

		if (vm->uuid == NULL || !g_uuid_string_is_valid(vm->uuid))
			continue;
		uuid = g_ascii_strdown(vm->uuid, -1);
		if (!g_hash_table_add(seen, (gpointer)vm->uuid))
			continue;
		json_array_append_new(out, vm_entry(uuid, vm, vm->pool));
	}
	/* Definitions on the pools that no primitive names. */
	for (guint i = 0; i < ref->snap->pools->len; i++) {
		const char *path = ics_cluster_pool_path(ref->snap->pools->pdata[i]);
		g_autoptr(GPtrArray) uuids = NULL;
		g_autoptr(GError) err = NULL;

		if (path == NULL || (uuids = ics_vm_store_list(path, &err)) == NULL)
			continue;
		for (guint k = 0; k < uuids->len; k++)
			if (find_vm(ref->snap, uuids->pdata[k]) == NULL)
				json_array_append_new(out, vm_entry(uuids->pdata[k], NULL, path));
	}
	return out;
}

json_t *ics_cluster_vm_json(void *self, const char *uuid, GError **error)
{
	IcsClusterService *svc = self;
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	const IcsClusterVm *vm;

	if (ref == NULL)
		return NULL;
	vm = find_vm(ref->snap, uuid);
	if (vm)
		return vm_entry(uuid, vm, vm->pool);
	for (guint i = 0; i < ref->snap->pools->len; i++) {
		const char *path = ics_cluster_pool_path(ref->snap->pools->pdata[i]);
		g_autofree char *dir = path ? ics_vm_dir(path, uuid) : NULL;

		if (dir && g_file_test(dir, G_FILE_TEST_IS_DIR))
			return vm_entry(uuid, NULL, path);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "cluster: VM %s has neither a primitive nor a definition on a pool", uuid);
	return NULL;
}

json_t *ics_cluster_pool_vm_uuids_json(void *self, GError **error)
{
	IcsClusterService *svc = self;
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	json_t *out;

	if (ref == NULL)
		return NULL;
	out = json_array();
	for (guint i = 0; i < ref->snap->pools->len; i++) {
		const char *path = ics_cluster_pool_path(ref->snap->pools->pdata[i]);
		g_autoptr(GPtrArray) uuids = NULL;

		if (path == NULL || (uuids = ics_vm_store_list(path, NULL)) == NULL)
			continue;
		for (guint k = 0; k < uuids->len; k++)
			json_array_append_new(out, json_string(uuids->pdata[k]));
	}
	return out;
}
