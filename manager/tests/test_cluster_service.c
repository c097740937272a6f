/*
 * test_cluster_service.c: the cluster adapter plugged into the manager
 * (cluster_service.c, cluster_hosts.c), on libcib's file variant (CIB_file:
 * a copy of a CIB captured in the lab, manager/cluster/tests/data/) with a
 * real pool in a temporary directory.
 *
 * The writes go through the adapter into the CIB file and are read back
 * through crm_mon ("live" snapshots).  A new VM's primitive is named after
 * the VM; the captured CIBs hold VMs of the older "vm-<uuid>" form, which
 * are found, edited and renamed by their uuid parameter all the same.  A CIB file sends no change
 * notifications and nothing runs a VM, so the test plays Pacemaker: it
 * waits until the write is in the CIB, checks that the operation is still
 * waiting, then hands the service the captured snapshot of the outcome
 * (running, migrating, migrated, stopped) as a notification would, and
 * the operation completes.  The test thread owns the default main context,
 * as ics-managerd's main thread does, and dispatches the calls the
 * operations' threads queue on it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cluster_service_internal.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/lock.h"
#include "ics/xml.h"

#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define VM "vm-" UUID
#define NEW_UUID "0e2b1f6c-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define NEW_VM "web1" /* meta()'s name: the primitive of a new VM is named after it */

typedef struct {
	char *dir;
	char *pool;
	char *cib;
	/* The captured state snapshots come from; NULL: live (crm_mon on the
	 * CIB file). */
	const char *state;
	IcsClusterService *svc;
	const IcsClusterOps *ops;
} Fx;

static char *data_path(const char *name)
{
	return g_build_filename(ICS_CLUSTER_TEST_DATA, name, NULL);
}

static IcsClusterSnapshot *fixture_snapshot(const char *state)
{
	g_autofree char *c = g_strdup_printf("cib-%s.xml", state);
	g_autofree char *mo = g_strdup_printf("mon-%s.xml", state);
	g_autofree char *cp = data_path(c), *mp = data_path(mo);
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) cib = ics_xml_parse_file(cp, &e);
	g_autoptr(xmlDoc) mon = cib ? ics_xml_parse_file(mp, &e) : NULL;
	IcsClusterSnapshot *s = mon ? ics_cluster_snapshot_parse(cib, mon, &e) : NULL;

	if (s == NULL)
		fail_msg("snapshot %s: %s", state, e->message);
	return s;
}

static IcsClusterSnapshot *source(IcsCluster *cluster, void *data, GError **error)
{
	Fx *f = data;

	if (f->state)
		return fixture_snapshot(f->state);
	return ics_cluster_snapshot(cluster, error);
}

/* A copy of cib-@name.xml, with @from replaced by @to when given, whose
 * pool is then our temporary pool; snapshots from source() when @hooked,
 * else the service's own (quick, then full: refresh_live). */
static Fx *fx_make(const char *name, const char *from, const char *to, gboolean hooked)
{
	Fx *f = g_new0(Fx, 1);
	g_autofree char *file = g_strdup_printf("cib-%s.xml", name);
	g_autofree char *src = data_path(file);
	g_autofree char *text = NULL;
	g_autoptr(GError) e = NULL;
	IcsPoolInitOptions o = { .name = "shared", .lease_slots = 16 };
	IcsClusterServiceConfig cfg = { 0 };
	GString *s;

	f->dir = g_dir_make_tmp("ics-cluster-svc-XXXXXX", &e);
	assert_non_null(f->dir);
	f->pool = g_build_filename(f->dir, "pool", NULL);
	f->cib = g_build_filename(f->dir, "cib.xml", NULL);
	assert_int_equal(g_mkdir(f->pool, 0755), 0);
	if (!ics_pool_init(f->pool, &o, &e))
		fail_msg("pool init: %s", e->message);
	assert_true(g_file_get_contents(src, &text, NULL, NULL));
	s = g_string_new(text);
	if (from)
		g_string_replace(s, from, to, 0);
	g_string_replace(s, "/srv/ics/pools/shared", f->pool, 0);
	assert_true(g_file_set_contents(f->cib, s->str, (gssize)s->len, NULL));
	g_string_free(s, TRUE);
	g_setenv("CIB_file", f->cib, TRUE);
	/* No sanlock daemon of ours: heartbeats are reported unreadable. */
	g_setenv("SANLOCK_RUN_DIR", f->dir, TRUE);

	cfg.wait_timeout_s = 120;
	cfg.stats_uri = "test:///default";
	if (hooked) {
		cfg.snapshot = source;
		cfg.snapshot_data = f;
	}
	f->svc = ics_cluster_service_new(&cfg, &e);
	if (f->svc == NULL)
		fail_msg("service on %s: %s", f->cib, e->message);
	f->ops = ics_cluster_service_ops(f->svc);
	return f;
}

static Fx *fx_new(const char *name, const char *from, const char *to)
{
	return fx_make(name, from, to, TRUE);
}

static void fx_free(Fx *f)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	ics_cluster_service_free(f->svc);
	g_unsetenv("CIB_file");
	g_unsetenv("SANLOCK_RUN_DIR");
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	g_free(f->dir);
	g_free(f->pool);
	g_free(f->cib);
	g_free(f);
}

static void refresh(Fx *f, const char *state)
{
	g_autoptr(GError) e = NULL;

	f->state = state;
	if (!ics_cluster_service_refresh(f->svc, &e))
		fail_msg("refresh: %s", e->message);
}

static IcsSnapRef *snap(Fx *f)
{
	g_autoptr(GError) e = NULL;
	IcsSnapRef *r = ics_cluster_service_snap(f->svc, &e);

	if (r == NULL)
		fail_msg("snapshot: %s", e->message);
	return r;
}

static IcsVmMeta *named(const char *uuid, const char *name, guint vcpus)
{
	g_autoptr(json_t) j = json_pack("{s:s, s:s, s:i, s:i}", "uuid", uuid, "name", name, "vcpus",
					(int)vcpus, "memory_mib", 64);
	g_autoptr(GError) e = NULL;
	IcsVmMeta *m = ics_vm_meta_from_json(j, NULL, &e);

	if (m == NULL)
		fail_msg("meta: %s", e->message);
	return m;
}

static IcsVmMeta *meta(const char *uuid, guint vcpus)
{
	return named(uuid, "web1", vcpus);
}

/* ---- an operation on its own thread ---------------------------------------- */

typedef enum { OP_START, OP_STOP, OP_MIGRATE, OP_MAINTENANCE } Op;

typedef struct {
	Fx *f;
	Op op;
	const char *arg;
	gint cancel;
	gint done;
	gboolean ok;
	GError *error;
	GMutex lock;
	GArray *percents; /* guint, progress reported */
	GThread *thread;
} Job;

static void on_progress(void *data, guint percent, const char *message)
{
	Job *j = data;

	(void)message;
	g_mutex_lock(&j->lock);
	g_array_append_val(j->percents, percent);
	g_mutex_unlock(&j->lock);
}

static gpointer job_run(gpointer data)
{
	Job *j = data;
	const IcsClusterOps *o = j->f->ops;

	switch (j->op) {
	case OP_START:
		j->ok = o->start_vm(o->self, UUID, &j->cancel, &j->error);
		break;
	case OP_STOP:
		j->ok = o->stop_vm(o->self, UUID, FALSE, &j->cancel, &j->error);
		break;
	case OP_MIGRATE:
		j->ok = o->migrate_vm(o->self, UUID, j->arg, on_progress, j, &j->cancel, &j->error);
		break;
	case OP_MAINTENANCE:
		j->ok = o->host_maintenance(o->self, j->arg, TRUE, on_progress, j, &j->cancel,
					    &j->error);
		break;
	}
	g_atomic_int_set(&j->done, 1);
	return NULL;
}

static Job *job_start(Fx *f, Op op, const char *arg)
{
	Job *j = g_new0(Job, 1);

	j->f = f;
	j->op = op;
	j->arg = arg;
	j->percents = g_array_new(FALSE, FALSE, sizeof(guint));
	g_mutex_init(&j->lock);
	j->thread = g_thread_new("op", job_run, j);
	return j;
}

static void job_free(Job *j)
{
	g_thread_join(j->thread);
	g_clear_error(&j->error);
	g_array_unref(j->percents);
	g_mutex_clear(&j->lock);
	g_free(j);
}

typedef gboolean (*Until)(Fx *f, Job *j);

/* Dispatch the calls queued on the main context and read the CIB back
 * (when @live) until @until holds; a hang guard, not a timing check. */
static void pump(Fx *f, Job *j, gboolean live, Until until)
{
	for (int i = 0; i < 6000; i++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		if (live)
			refresh(f, NULL);
		if (until(f, j))
			return;
		g_usleep(10000);
	}
	fail_msg("the expected state never came");
}

static gboolean job_done(Fx *f, Job *j)
{
	(void)f;
	return g_atomic_int_get(&j->done);
}

static const char *target_role(Fx *f, const char *rsc)
{
	g_autoptr(IcsSnapRef) r = snap(f);
	const IcsClusterResource *res = ics_cluster_snapshot_resource(r->snap, rsc);
	static char role[32];

	g_strlcpy(role, res && res->target_role ? res->target_role : "", sizeof(role));
	return role;
}

static gboolean role_started(Fx *f, Job *j)
{
	(void)j;
	return g_str_equal(target_role(f, VM), "Started");
}

static gboolean role_stopped(Fx *f, Job *j)
{
	(void)j;
	return g_str_equal(target_role(f, VM), "Stopped");
}

static gboolean move_written(Fx *f, Job *j)
{
	g_autoptr(IcsSnapRef) r = snap(f);
	const IcsClusterConstraint *c = ics_cluster_snapshot_constraint(r->snap, "cli-prefer-" VM);

	(void)j;
	return c && g_strcmp0(c->node, j->arg) == 0;
}

static gboolean node3_standby(Fx *f, Job *j)
{
	g_autoptr(IcsSnapRef) r = snap(f);
	const IcsClusterNode *n = ics_cluster_snapshot_node(r->snap, "node3");

	(void)j;
	return n && g_strcmp0(n->standby_permanent, "on") == 0;
}

static gboolean saw_migrating(Fx *f, Job *j)
{
	gboolean seen;

	(void)f;
	g_mutex_lock(&j->lock);
	seen = j->percents->len >= 2;
	g_mutex_unlock(&j->lock);
	return seen;
}

static void job_ok(Job *j)
{
	if (!j->ok)
		fail_msg("operation failed: %s", j->error ? j->error->message : "(no error)");
}

/* ---- tests ------------------------------------------------------------------- */

static gboolean vm_dir_exists(Fx *f, const char *uuid)
{
	g_autofree char *d = ics_vm_dir(f->pool, uuid);
	g_autofree char *j = g_build_filename(d, "vm.json", NULL);

	return g_file_test(j, G_FILE_TEST_IS_REGULAR);
}

static int slot_of(Fx *f, const char *uuid)
{
	g_autoptr(IcsPool) p = ics_pool_open(f->pool, NULL, NULL);

	assert_non_null(p);
	return ics_slot_lookup(p, uuid, NULL);
}

/* Definitions made at once from several API threads share CIB updates
 * (group commit) and each gets its own result. */
typedef struct {
	Fx *f;
	IcsVmMeta *vm;
	gboolean ok;
	GError *error;
	gint done;
} DefineJob;

static gpointer define_run(gpointer data)
{
	DefineJob *j = data;

	j->ok = j->f->ops->define_vm(j->f->ops->self, j->vm, &j->error);
	g_atomic_int_set(&j->done, 1);
	return NULL;
}

static void test_define_concurrent(void **state)
{
	enum { N = 8 };
	Fx *f = fx_new("basic", NULL, NULL);
	DefineJob jobs[N] = { 0 };
	GThread *threads[N];
	char uuids[N][37], names[N][8];
	int i, left = N;

	(void)state;
	for (i = 0; i < N; i++) {
		g_snprintf(uuids[i], sizeof(uuids[i]), "0e2b1f6c-8d2a-4b7e-9c41-2f0d5e6a7b%02d", i);
		g_snprintf(names[i], sizeof(names[i]), "web-%02d", i);
		jobs[i] = (DefineJob){ f, named(uuids[i], names[i], 1), FALSE, NULL, 0 };
		threads[i] = g_thread_new("define", define_run, &jobs[i]);
	}
	/* The main context runs the CIB calls; a hang guard, not a timing. */
	for (int k = 0; k < 6000 && left > 0; k++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		left = 0;
		for (i = 0; i < N; i++)
			left += !g_atomic_int_get(&jobs[i].done);
		if (left)
			g_usleep(1000);
	}
	assert_int_equal(left, 0);
	refresh(f, NULL);
	{
		g_autoptr(IcsSnapRef) r = snap(f);

		for (i = 0; i < N; i++) {
			const char *id = names[i];
			g_autofree char *order = g_strdup_printf("%s-after-pool", id);
			const IcsClusterVm *vm;

			g_thread_join(threads[i]);
			if (!jobs[i].ok)
				fail_msg("define %s: %s", uuids[i], jobs[i].error->message);
			assert_true(vm_dir_exists(f, uuids[i]));
			vm = ics_cluster_snapshot_vm(r->snap, id);
			assert_non_null(vm);
			assert_string_equal(vm->uuid, uuids[i]);
			assert_non_null(ics_cluster_snapshot_constraint(r->snap, order));
			ics_vm_meta_free(jobs[i].vm);
		}
	}
	fx_free(f);
}

static void test_define_update_undefine(void **state)
{
	Fx *f = fx_new("basic", NULL, NULL);
	g_autoptr(IcsVmMeta) m1 = meta(NEW_UUID, 1), m2 = meta(NEW_UUID, 2);
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *st = NULL, *host = NULL;
	g_autoptr(IcsVmMeta) saved = NULL;

	(void)state;
	if (!f->ops->define_vm(f->ops->self, m1, &e))
		fail_msg("define: %s", e->message);
	/* On the pool: the definition with its lease in the slot it got. */
	assert_true(vm_dir_exists(f, NEW_UUID));
	assert_true(slot_of(f, NEW_UUID) >= 1);
	saved = ics_vm_store_load(f->pool, NEW_UUID, &e);
	assert_non_null(saved);
	assert_true(saved->has_lease);
	assert_int_equal(saved->lease_offset, (guint64)slot_of(f, NEW_UUID) * ICS_LOCK_ALIGN);
	/* In the CIB: the primitive, Stopped, on our pool, sized. */
	refresh(f, NULL);
	{
		g_autoptr(IcsSnapRef) r = snap(f);
		const IcsClusterVm *vm = ics_cluster_snapshot_vm(r->snap, NEW_VM);

		assert_non_null(vm);
		assert_string_equal(vm->pool, f->pool);
		assert_string_equal(vm->resource->target_role, "Stopped");
		assert_string_equal(g_hash_table_lookup(vm->resource->utilization, "cpu"), "1");
		assert_non_null(ics_cluster_snapshot_constraint(r->snap, NEW_VM "-after-pool"));
		assert_non_null(ics_cluster_snapshot_constraint(r->snap, NEW_VM "-with-pool"));
	}
	assert_true(f->ops->vm_status(f->ops->self, NEW_UUID, &st, &host, &e));
	assert_string_equal(st, "stopped");
	assert_null(host);
	/* The same through a view (what a page of the API's list reads), by a
	 * uuid in any case. */
	{
		g_autofree char *upper = g_ascii_strup(NEW_UUID, -1);
		gpointer view = f->ops->vm_view(f->ops->self);
		IcsVmRuntime rt = { 0 };

		assert_non_null(view);
		assert_true(f->ops->vm_view_get(view, upper, &rt));
		assert_string_equal(rt.state, "stopped");
		assert_null(rt.host);
		assert_string_equal(rt.pool, f->pool);
		assert_string_equal(rt.resource, NEW_VM);
		assert_false(f->ops->vm_view_get(view, "00000000-0000-4000-8000-000000000000", &rt));
		f->ops->vm_view_release(view);
	}

	/* Defined again: an edit; same slot, new size. */
	{
		int slot = slot_of(f, NEW_UUID);

		if (!f->ops->define_vm(f->ops->self, m2, &e))
			fail_msg("redefine: %s", e->message);
		assert_int_equal(slot_of(f, NEW_UUID), slot);
	}
	refresh(f, NULL);
	{
		g_autoptr(IcsSnapRef) r = snap(f);
		const IcsClusterVm *vm = ics_cluster_snapshot_vm(r->snap, NEW_VM);

		assert_string_equal(g_hash_table_lookup(vm->resource->utilization, "cpu"), "2");
	}

	if (!f->ops->undefine_vm(f->ops->self, NEW_UUID, &e))
		fail_msg("undefine: %s", e->message);
	assert_false(vm_dir_exists(f, NEW_UUID));
	assert_true(slot_of(f, NEW_UUID) < 0);
	refresh(f, NULL);
	assert_false(f->ops->vm_status(f->ops->self, NEW_UUID, &st, &host, &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
	{
		g_autoptr(IcsSnapRef) r = snap(f);

		assert_null(ics_cluster_snapshot_constraint(r->snap, NEW_VM "-after-pool"));
	}
	/* Undefining an absent VM succeeds. */
	assert_true(f->ops->undefine_vm(f->ops->self, NEW_UUID, &e));
	fx_free(f);
}

/* The CIB refuses the constraints (the pool's clone has another id than
 * the one its name gives): the pool is left as it was. */
static void test_define_undone(void **state)
{
	Fx *f = fx_new("basic", "<clone id=\"ics-pool-shared\">", "<clone id=\"ics-pool-other\">");
	g_autoptr(IcsVmMeta) m = meta(NEW_UUID, 1);
	g_autoptr(GError) e = NULL;

	(void)state;
	assert_false(f->ops->define_vm(f->ops->self, m, &e));
	assert_non_null(e);
	assert_false(vm_dir_exists(f, NEW_UUID));
	assert_true(slot_of(f, NEW_UUID) < 0);
	refresh(f, NULL);
	{
		g_autoptr(IcsSnapRef) r = snap(f);

		assert_null(ics_cluster_snapshot_vm(r->snap, NEW_VM));
	}
	fx_free(f);
}

/* A VM whose primitive names another pool cannot be redefined here. */
static void test_define_other_pool(void **state)
{
	Fx *f = fx_new("vm-stopped", "name=\"pool\" value=\"/srv/ics/pools/shared\"",
		       "name=\"pool\" value=\"/srv/ics/pools/elsewhere\"");
	g_autoptr(IcsVmMeta) m = meta(UUID, 1);
	g_autoptr(GError) e = NULL;

	(void)state;
	assert_false(f->ops->define_vm(f->ops->self, m, &e));
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e->message, "/srv/ics/pools/elsewhere"));
	assert_false(vm_dir_exists(f, UUID));
	assert_true(slot_of(f, UUID) < 0);
	fx_free(f);
}

static void record_change(void *data, const char *uuid, const char *st, const char *host,
			  const char *old_state, const char *old_host)
{
	g_ptr_array_add(data, g_strdup_printf("%s %s %s %s %s", uuid, st, host ? host : "-",
					      old_state, old_host ? old_host : "-"));
}

/* The listener hears what changed between two snapshots, once. */
static void test_vm_listener(void **state)
{
	Fx *f = fx_new("vm-stopped", NULL, NULL);
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);

	(void)state;
	ics_cluster_service_set_vm_listener(f->svc, record_change, seen);
	refresh(f, "vm-running");
	assert_int_equal(seen->len, 1);
	assert_string_equal(seen->pdata[0], UUID " running node3 stopped -");
	refresh(f, "vm-running");
	assert_int_equal(seen->len, 1);
	refresh(f, "vm-stopped");
	assert_int_equal(seen->len, 2);
	assert_string_equal(seen->pdata[1], UUID " stopped - running node3");
	ics_cluster_service_set_vm_listener(f->svc, NULL, NULL);
	refresh(f, "vm-running");
	assert_int_equal(seen->len, 2);
	fx_free(f);
}

/* The service's own refresh publishes the new configuration first, read
 * with the status of the full snapshot before (a VM just defined is there
 * at once, stopped), then the full snapshot: two generations, and the
 * listener hears of the new VM once. */
static void test_quick_snapshot(void **state)
{
	Fx *f = fx_make("basic", NULL, NULL, FALSE);
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(IcsVmMeta) m = meta(NEW_UUID, 1);
	g_autoptr(GError) e = NULL;
	guint64 g;

	(void)state;
	ics_cluster_service_set_vm_listener(f->svc, record_change, seen);
	if (!f->ops->define_vm(f->ops->self, m, &e))
		fail_msg("define: %s", e->message);
	g = ics_cluster_service_generation(f->svc);
	refresh(f, NULL);
	assert_int_equal(ics_cluster_service_generation(f->svc), g + 2);
	assert_int_equal(seen->len, 1);
	assert_string_equal(seen->pdata[0], NEW_UUID " stopped - undefined -");
	{
		g_autoptr(IcsSnapRef) r = snap(f);
		const IcsClusterVm *vm = ics_cluster_snapshot_vm(r->snap, NEW_VM);

		assert_non_null(vm);
		assert_int_equal(vm->state, ICS_VM_STOPPED);
	}
	/* Nothing changed: quick and full again, nothing heard. */
	refresh(f, NULL);
	assert_int_equal(ics_cluster_service_generation(f->svc), g + 4);
	assert_int_equal(seen->len, 1);
	fx_free(f);
}

#define OTHER_UUID "5a1d2c3b-8d2a-4b7e-9c41-2f0d5e6a7b8c"

static gboolean has_vms(Fx *f, const char *a, const char *b)
{
	g_autoptr(IcsSnapRef) r = snap(f);

	return ics_cluster_snapshot_vm_by_uuid(r->snap, a) &&
	       (b == NULL || ics_cluster_snapshot_vm_by_uuid(r->snap, b));
}

/* Heard changes: the reading and its quick snapshot on this thread,
 * crm_mon on a worker.  Two definitions in a row, the second read while
 * the first one's status job may still run: each VM is there from its
 * quick snapshot on, and no older job's result takes one away again -- the
 * listener hears each VM appear once and never go. */
typedef struct {
	GMutex lock;
	GCond cond;
	gboolean held, go;
} Gate;

/* The status job waits at the gate until the test opens it. */
static void gate_hold(void *data)
{
	Gate *g = data;

	g_mutex_lock(&g->lock);
	g->held = TRUE;
	g_cond_broadcast(&g->cond);
	while (!g->go)
		g_cond_wait(&g->cond, &g->lock);
	g->held = FALSE;
	g_mutex_unlock(&g->lock);
}

/* A bare primitive of ocf:ics:vm added to the CIB, as crm or pcs would,
 * written through the service's connection (libcib keeps a CIB file in
 * memory: another process's write would not be seen) without telling the
 * service: a change it hears of only by ics_cluster_service_heard(). */
static gboolean create_primitive(IcsCluster *cluster, void *data, GError **error)
{
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(data, -1, "primitive", error);

	return doc && ics_cluster_create(cluster, "resources", doc, error);
}

static void outside_define(Fx *f, const char *name, const char *uuid)
{
	g_autofree char *xml = g_strdup_printf(
		"<primitive id='%s' class='ocf' provider='ics' type='vm'>"
		"<instance_attributes id='%s-ia'>"
		"<nvpair id='%s-ia-uuid' name='uuid' value='%s'/></instance_attributes>"
		"</primitive>",
		name, name, name, uuid);
	g_autoptr(GError) e = NULL;

	if (!ics_cluster_service_call(f->svc, create_primitive, xml, &e))
		fail_msg("create %s: %s", name, e->message);
}

static void test_status_on_worker(void **state)
{
	Fx *f = fx_make("basic", NULL, NULL, FALSE);
	Gate gate = { .go = TRUE };
	g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
	gint64 end;
	guint64 g;

	(void)state;
	g_mutex_init(&gate.lock);
	g_cond_init(&gate.cond);
	ics_cluster_service_set_status_job_hook(f->svc, gate_hold, &gate);
	refresh(f, NULL); /* a full snapshot: the quick ones' status */
	ics_cluster_service_set_vm_listener(f->svc, record_change, seen);
	gate.go = FALSE;
	outside_define(f, "web1", NEW_UUID);
	g = ics_cluster_service_generation(f->svc);
	ics_cluster_service_heard(f->svc, ICS_CLUSTER_CHANGE_RESOURCES);
	while (ics_cluster_service_generation(f->svc) == g)
		g_main_context_iteration(NULL, TRUE);
	/* The quick snapshot came without waiting for crm_mon, whose job
	 * is held at the gate while the second VM is defined and read. */
	assert_true(has_vms(f, NEW_UUID, NULL));
	g_mutex_lock(&gate.lock);
	while (!gate.held)
		g_cond_wait(&gate.cond, &gate.lock);
	g_mutex_unlock(&gate.lock);
	outside_define(f, "web2", OTHER_UUID);
	ics_cluster_service_heard(f->svc, ICS_CLUSTER_CHANGE_RESOURCES);
	end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	while (!has_vms(f, NEW_UUID, OTHER_UUID) && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	assert_true(has_vms(f, NEW_UUID, OTHER_UUID));
	/* The first job ends now, on an older reading than the newest. */
	g_mutex_lock(&gate.lock);
	gate.go = TRUE;
	g_cond_broadcast(&gate.cond);
	g_mutex_unlock(&gate.lock);
	/* Let the jobs end (crm_mon on this small CIB: tens of ms). */
	end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
		assert_true(has_vms(f, NEW_UUID, OTHER_UUID));
	}
	assert_int_equal(seen->len, 2);
	assert_string_equal(seen->pdata[0], NEW_UUID " stopped - undefined -");
	assert_string_equal(seen->pdata[1], OTHER_UUID " stopped - undefined -");
	fx_free(f);
	g_mutex_clear(&gate.lock);
	g_cond_clear(&gate.cond);
}

static void test_start(void **state)
{
	Fx *f = fx_new("vm-stopped", NULL, NULL);
	Job *j;

	(void)state;
	j = job_start(f, OP_START, NULL);
	/* target-role Started reaches the CIB; the VM is not running yet, so
	 * the start is still waiting. */
	pump(f, j, TRUE, role_started);
	assert_false(g_atomic_int_get(&j->done));
	/* Pacemaker started it. */
	refresh(f, "vm-running");
	pump(f, j, FALSE, job_done);
	job_ok(j);
	job_free(j);
	fx_free(f);
}

/* A VM defined a moment ago whose CIB change the service has not seen yet:
 * the start waits for a snapshot that has it instead of failing. */
static void test_start_after_stale_snapshot(void **state)
{
	Fx *f = fx_new("vm-stopped", NULL, NULL);
	Job *j;

	(void)state;
	refresh(f, "basic"); /* a snapshot from before the VM existed */
	j = job_start(f, OP_START, NULL);
	g_usleep(200 * 1000);
	assert_false(g_atomic_int_get(&j->done));
	pump(f, j, TRUE, role_started);
	refresh(f, "vm-running");
	pump(f, j, FALSE, job_done);
	job_ok(j);
	job_free(j);
	fx_free(f);
}

static void test_stop(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	Job *j;

	(void)state;
	j = job_start(f, OP_STOP, NULL);
	pump(f, j, TRUE, role_stopped);
	assert_false(g_atomic_int_get(&j->done));
	refresh(f, "vm-stopped");
	pump(f, j, FALSE, job_done);
	job_ok(j);
	job_free(j);
	fx_free(f);
}

static void test_start_cancelled(void **state)
{
	Fx *f = fx_new("vm-stopped", NULL, NULL);
	Job *j;

	(void)state;
	j = job_start(f, OP_START, NULL);
	pump(f, j, TRUE, role_started);
	g_atomic_int_set(&j->cancel, 1);
	pump(f, j, FALSE, job_done);
	assert_false(j->ok);
	assert_string_equal(j->error->message, "cancelled");
	job_free(j);
	fx_free(f);
}

/* A start that failed on every node fails at once with the agent's reason. */
static void test_start_failed_everywhere(void **state)
{
	Fx *f = fx_new("vm-failed", NULL, NULL);
	Job *j;

	(void)state;
	f->state = "vm-failed";
	j = job_start(f, OP_START, NULL);
	pump(f, j, FALSE, job_done);
	assert_false(j->ok);
	assert_int_equal(j->error->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(j->error->message, "failed on every node"));
	job_free(j);
	fx_free(f);
}

static void test_migrate(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL;
	Job *j;

	(void)state;
	/* Refused before anything is written: not a node, already there. */
	assert_false(f->ops->migrate_vm(f->ops->self, UUID, "node9", NULL, NULL, NULL, &e));
	assert_int_equal(e->code, ICS_ERROR_NOT_FOUND);
	g_clear_error(&e);
	assert_false(f->ops->migrate_vm(f->ops->self, UUID, "node3", NULL, NULL, NULL, &e));
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);

	j = job_start(f, OP_MIGRATE, "node1");
	pump(f, j, TRUE, move_written);
	assert_false(g_atomic_int_get(&j->done));
	refresh(f, "vm-migrating");
	/* A wait sees the newest snapshot only: let it see this one. */
	pump(f, j, FALSE, saw_migrating);
	refresh(f, "vm-migrated");
	pump(f, j, FALSE, job_done);
	job_ok(j);
	/* Progress 0 -> 50 (migrating seen) -> 100, and no constraint left. */
	assert_int_equal(j->percents->len, 3);
	assert_int_equal(g_array_index(j->percents, guint, 0), 0);
	assert_int_equal(g_array_index(j->percents, guint, 1), 50);
	assert_int_equal(g_array_index(j->percents, guint, 2), 100);
	refresh(f, NULL);
	{
		g_autoptr(IcsSnapRef) r = snap(f);

		assert_null(ics_cluster_snapshot_constraint(r->snap, "cli-prefer-" VM));
	}
	job_free(j);
	fx_free(f);
}

static void test_maintenance(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL;
	Job *j;

	(void)state;
	assert_false(f->ops->host_maintenance(f->ops->self, "node9", TRUE, NULL, NULL, NULL, &e));
	assert_int_equal(e->code, ICS_ERROR_NOT_FOUND);
	g_clear_error(&e);

	/* node3 runs the VM: standby, then wait until it has left. */
	j = job_start(f, OP_MAINTENANCE, "node3");
	pump(f, j, TRUE, node3_standby);
	assert_false(g_atomic_int_get(&j->done));
	refresh(f, "vm-migrated");
	pump(f, j, FALSE, job_done);
	job_ok(j);
	assert_true(j->percents->len >= 1);
	assert_int_equal(g_array_index(j->percents, guint, j->percents->len - 1), 100);
	job_free(j);

	/* Leaving needs no wait. */
	if (!f->ops->host_maintenance(f->ops->self, "node3", FALSE, NULL, NULL, NULL, &e))
		fail_msg("leave: %s", e->message);
	refresh(f, NULL);
	assert_false(node3_standby(f, NULL));
	fx_free(f);
}

static void test_undefine_running_refused(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL;

	(void)state;
	assert_false(f->ops->undefine_vm(f->ops->self, UUID, &e));
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e->message, "node3"));
	refresh(f, NULL);
	{
		g_autoptr(IcsSnapRef) r = snap(f);

		assert_non_null(ics_cluster_snapshot_vm(r->snap, VM));
	}
	fx_free(f);
}

/* The id of VM @uuid's primitive in the CIB file now (by its uuid
 * parameter), or NULL. */
static char *rsc_of(Fx *f, const char *uuid)
{
	g_autoptr(IcsSnapRef) r = NULL;
	const IcsClusterVm *vm;

	refresh(f, NULL);
	r = snap(f);
	vm = ics_cluster_snapshot_vm_by_uuid(r->snap, uuid);
	return vm ? g_strdup(vm->id) : NULL;
}

static char *pool_name_of(Fx *f, const char *uuid)
{
	g_autoptr(IcsVmMeta) m = ics_vm_store_load(f->pool, uuid, NULL);

	return m ? g_strdup(m->name) : NULL;
}

/* crm_resource --move -r web1 --node node2, through the service's own
 * connection to the CIB file. */
static gboolean move_web1(IcsCluster *cluster, void *data, GError **error)
{
	(void)data;
	return ics_cluster_move(cluster, "web1", "node2", error);
}

/* A stopped VM renamed: its primitive and every constraint naming it
 * (ICS's and a move crm_resource left) come back under the new name's id,
 * in one CIB update through libcib (cib_mixed_update); the size of the
 * edit with it; and back again, as the write service's undo does. */
static void test_rename_stopped(void **state)
{
	Fx *f = fx_new("basic", NULL, NULL);
	g_autoptr(IcsVmMeta) m1 = named(NEW_UUID, "web1", 1), m2 = named(NEW_UUID, "shop", 2);
	g_autoptr(GError) e = NULL;
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *name = NULL;

	(void)state;
	if (!f->ops->define_vm(f->ops->self, m1, &e))
		fail_msg("define: %s", e->message);
	a = rsc_of(f, NEW_UUID);
	assert_string_equal(a, "web1");
	if (!ics_cluster_service_call(f->svc, move_web1, NULL, &e))
		fail_msg("move: %s", e->message);

	if (!f->ops->define_vm(f->ops->self, m2, &e))
		fail_msg("rename: %s", e->message);
	b = rsc_of(f, NEW_UUID);
	assert_string_equal(b, "shop");
	name = pool_name_of(f, NEW_UUID);
	assert_string_equal(name, "shop");
	{
		g_autoptr(IcsSnapRef) r = snap(f);
		const IcsClusterVm *vm = ics_cluster_snapshot_vm(r->snap, "shop");
		const IcsClusterConstraint *mv =
			ics_cluster_snapshot_constraint(r->snap, "cli-prefer-shop");

		assert_non_null(vm);
		assert_string_equal(vm->uuid, NEW_UUID);
		assert_string_equal(vm->resource->target_role, "Stopped");
		assert_string_equal(g_hash_table_lookup(vm->resource->utilization, "cpu"), "2");
		assert_null(ics_cluster_snapshot_vm(r->snap, "web1"));
		assert_non_null(ics_cluster_snapshot_constraint(r->snap, "shop-after-pool"));
		assert_non_null(ics_cluster_snapshot_constraint(r->snap, "shop-with-pool"));
		assert_null(ics_cluster_snapshot_constraint(r->snap, "web1-after-pool"));
		assert_null(ics_cluster_snapshot_constraint(r->snap, "web1-with-pool"));
		assert_null(ics_cluster_snapshot_constraint(r->snap, "cli-prefer-web1"));
		assert_non_null(mv);
		assert_string_equal(mv->rsc, "shop");
		assert_string_equal(mv->node, "node2");
	}
	/* What GET /vms/{uuid} shows as runtime.resource. */
	{
		gpointer view = f->ops->vm_view(f->ops->self);
		IcsVmRuntime rt;

		assert_true(f->ops->vm_view_get(view, NEW_UUID, &rt));
		assert_string_equal(rt.resource, "shop");
		f->ops->vm_view_release(view);
	}

	/* Back (what the write service does when its database step fails). */
	if (!f->ops->define_vm(f->ops->self, m1, &e))
		fail_msg("rename back: %s", e->message);
	c = rsc_of(f, NEW_UUID);
	assert_string_equal(c, "web1");
	fx_free(f);
}

/* A running VM keeps its name and its id: the rename is refused before
 * anything is written, on the pool or in the CIB.  The VM of this
 * captured CIB has an id of the older form, "vm-<uuid>": an edit that
 * keeps the name keeps it. */
static void test_rename_running_refused(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(IcsVmMeta) m1 = named(UUID, "web1", 1), m2 = named(UUID, "web2", 1);
	g_autoptr(GError) e = NULL;
	g_autofree char *a = NULL, *b = NULL, *name = NULL;

	(void)state;
	if (!f->ops->define_vm(f->ops->self, m1, &e))
		fail_msg("edit: %s", e->message);
	a = rsc_of(f, UUID);
	assert_string_equal(a, VM);
	assert_false(f->ops->define_vm(f->ops->self, m2, &e));
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e->message, "running on node3"));
	assert_non_null(strstr(e->message, "stop it first"));
	b = rsc_of(f, UUID);
	assert_string_equal(b, VM);
	name = pool_name_of(f, UUID);
	assert_string_equal(name, "web1");
	fx_free(f);
}

/* An old "vm-<uuid>" VM, stopped, gets the id of its name at its rename. */
static void test_rename_old_form(void **state)
{
	Fx *f = fx_new("vm-stopped", NULL, NULL);
	g_autoptr(IcsVmMeta) m1 = named(UUID, "legacy-a", 1), m2 = named(UUID, "legacy", 1);
	g_autoptr(GError) e = NULL;
	g_autofree char *a = NULL, *b = NULL;

	(void)state;
	if (!f->ops->define_vm(f->ops->self, m1, &e))
		fail_msg("edit: %s", e->message);
	a = rsc_of(f, UUID);
	assert_string_equal(a, VM);
	if (!f->ops->define_vm(f->ops->self, m2, &e))
		fail_msg("rename: %s", e->message);
	b = rsc_of(f, UUID);
	assert_string_equal(b, "legacy");
	{
		g_autoptr(IcsSnapRef) r = snap(f);

		assert_null(ics_cluster_snapshot_resource(r->snap, VM));
		assert_null(ics_cluster_snapshot_constraint(r->snap, VM "-after-pool"));
		assert_non_null(ics_cluster_snapshot_constraint(r->snap, "legacy-after-pool"));
	}
	fx_free(f);
}

static void test_hosts_and_pools(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autoptr(json_t) hosts = f->ops->hosts(f->ops->self, &e);
	g_autoptr(json_t) h3 = f->ops->host(f->ops->self, "node3", &e);
	g_autoptr(json_t) pools = f->ops->pools(f->ops->self, &e);
	g_autoptr(json_t) pool = f->ops->pool(f->ops->self, "shared", &e);
	json_t *x;

	(void)state;
	assert_non_null(hosts);
	assert_int_equal(json_array_size(hosts), 3);
	assert_non_null(h3);
	assert_string_equal(json_string_value(json_object_get(h3, "state")), "online");
	assert_int_equal(json_integer_value(json_object_get(h3, "vm_count")), 1);
	x = json_array_get(json_object_get(h3, "vms"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "uuid")), UUID);
	assert_string_equal(json_string_value(json_object_get(x, "state")), "running");
	/* libvirt's test driver answers for the statistics. */
	assert_true(json_is_object(json_object_get(h3, "stats")));
	assert_null(f->ops->host(f->ops->self, "node9", &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);

	assert_non_null(pools);
	assert_int_equal(json_array_size(pools), 1);
	assert_non_null(pool);
	assert_string_equal(json_string_value(json_object_get(pool, "path")), f->pool);
	assert_int_equal(json_array_size(json_object_get(pool, "active_on")), 3);
	/* Our pool is mounted here: capacity from statvfs. */
	x = json_object_get(pool, "capacity");
	assert_true(json_is_object(x));
	assert_true(json_integer_value(json_object_get(x, "total_bytes")) > 0);
	/* No sanlock daemon: the heartbeat is null, with the reason. */
	assert_true(json_is_null(json_object_get(pool, "heartbeat")));
	assert_non_null(json_string_value(json_object_get(pool, "heartbeat_error")));
	fx_free(f);
}

/* The cluster at a glance, from the captured 3-node CIB: DC, quorum, hosts
 * and VMs by state, fencing enabled with the lab's device. */
static void test_summary(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) s = f->ops->summary(f->ops->self, &e);
	json_t *fencing, *dev;

	(void)state;
	assert_non_null(s);
	assert_non_null(json_string_value(json_object_get(s, "dc")));
	assert_true(json_is_true(json_object_get(s, "quorum")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "hosts"), "total")), 3);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(s, "hosts"), "by_state"), "online")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s, "vms"), "total")), 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(s, "vms"), "by_state"), "running")),
			 1);
	fencing = json_object_get(s, "fencing");
	assert_true(json_is_true(json_object_get(fencing, "enabled")));
	assert_true(json_is_true(json_object_get(fencing, "configured")));
	assert_string_equal(json_string_value(json_object_get(fencing, "action")), "reboot");
	assert_int_equal(json_array_size(json_object_get(fencing, "devices")), 1);
	dev = json_array_get(json_object_get(fencing, "devices"), 0);
	assert_string_equal(json_string_value(json_object_get(dev, "id")), "fence-lab");
	assert_string_equal(json_string_value(json_object_get(dev, "type")), "fence_ics_lab");
	assert_false(json_is_true(json_object_get(dev, "failed")));
	fx_free(f);
}

/* A VM's lease read from its slot on the pool: free until a host acquires
 * it (the holder's name is checked on the real lab, console-browser); a
 * slot that is not the VM's is refused; a VM the cluster does not have is
 * NOT_FOUND. */
static void test_vm_lease(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
	g_autoptr(json_t) lease = NULL;
	g_autoptr(IcsPool) p = ics_pool_open(f->pool, NULL, NULL);
	guint64 offset;
	int slot;

	(void)state;
	slot = ics_slot_alloc(p, UUID, &e);
	assert_true(slot >= 1);
	offset = (guint64)slot * ICS_LOCK_ALIGN;
	lease = f->ops->vm_lease(f->ops->self, UUID, offset, &e);
	assert_non_null(lease);
	assert_true(json_is_null(json_object_get(lease, "holder")));
	assert_int_equal(json_integer_value(json_object_get(lease, "slot")), slot);
	assert_null(json_object_get(lease, "host_id"));
	/* another slot than the VM's own: refused, not another VM's holder */
	assert_null(f->ops->vm_lease(f->ops->self, UUID, offset + ICS_LOCK_ALIGN, &e2));
	assert_true(e2->code == ICS_ERROR_PARSE || e2->code == ICS_ERROR_CONFLICT);
	assert_null(f->ops->vm_lease(f->ops->self, UUID, offset + 512, &e3));
	assert_int_equal(e3->code, ICS_ERROR_INVALID_ARGUMENT);
	assert_null(f->ops->vm_lease(f->ops->self, NEW_UUID, offset, &e4));
	assert_int_equal(e4->code, ICS_ERROR_NOT_FOUND);
	fx_free(f);
}

/* A host that is down is not asked for statistics. */
static void test_offline_host(void **state)
{
	Fx *f = fx_new("offline", NULL, NULL);
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) h2 = NULL;

	(void)state;
	f->state = "offline";
	refresh(f, "offline");
	h2 = f->ops->host(f->ops->self, "node2", &e);
	assert_non_null(h2);
	assert_string_equal(json_string_value(json_object_get(h2, "state")), "offline");
	assert_true(json_is_null(json_object_get(h2, "stats")));
	assert_non_null(
		strstr(json_string_value(json_object_get(h2, "stats_error")), "not a member"));
	fx_free(f);
}

/* DRS's load: hosts with libvirt's size, VMs with their utilization;
 * a host that is down is neither asked nor balanced. */
static void test_load(void **state)
{
	Fx *f = fx_new("vm-running", NULL, NULL);
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) load = f->ops->load(f->ops->self, &e);
	g_autoptr(json_t) down = NULL;
	json_t *vm, *h;
	size_t i;

	(void)state;
	if (load == NULL)
		fail_msg("load: %s", e->message);
	assert_int_equal(json_array_size(json_object_get(load, "hosts")), 3);
	json_array_foreach(json_object_get(load, "hosts"), i, h)
	{
		assert_string_equal(json_string_value(json_object_get(h, "state")), "on");
		assert_true(json_integer_value(json_object_get(h, "cpus")) > 0);
		assert_true(json_integer_value(json_object_get(h, "memory_mib")) > 0);
	}
	assert_int_equal(json_array_size(json_object_get(load, "vms")), 1);
	vm = json_array_get(json_object_get(load, "vms"), 0);
	assert_string_equal(json_string_value(json_object_get(vm, "uuid")), UUID);
	assert_string_equal(json_string_value(json_object_get(vm, "host")), "node3");
	assert_int_equal(json_integer_value(json_object_get(vm, "memory_mib")), 128);
	assert_true(json_integer_value(json_object_get(vm, "vcpus")) >= 1);
	/* The test driver has no such domain: not measurable, so pinned. */
	assert_true(json_is_true(json_object_get(vm, "migrating")));
	fx_free(f);

	f = fx_new("offline", NULL, NULL);
	refresh(f, "offline");
	down = f->ops->load(f->ops->self, &e);
	assert_non_null(down);
	json_array_foreach(json_object_get(down, "hosts"), i, h)
	{
		if (g_str_equal(json_string_value(json_object_get(h, "name")), "node2")) {
			assert_string_equal(json_string_value(json_object_get(h, "state")), "off");
			assert_null(json_object_get(h, "cpus"));
		}
	}
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_define_update_undefine),
		cmocka_unit_test(test_define_concurrent),
		cmocka_unit_test(test_define_undone),
		cmocka_unit_test(test_define_other_pool),
		cmocka_unit_test(test_vm_listener),
		cmocka_unit_test(test_quick_snapshot),
		cmocka_unit_test(test_status_on_worker),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_start_after_stale_snapshot),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_start_cancelled),
		cmocka_unit_test(test_start_failed_everywhere),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_maintenance),
		cmocka_unit_test(test_undefine_running_refused),
		cmocka_unit_test(test_rename_stopped),
		cmocka_unit_test(test_rename_running_refused),
		cmocka_unit_test(test_rename_old_form),
		cmocka_unit_test(test_hosts_and_pools),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_vm_lease),
		cmocka_unit_test(test_offline_host),
		cmocka_unit_test(test_load),
	};

	/* The test thread is the main-context thread, as in ics-managerd. */
	g_main_context_acquire(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
