/*
 * test_backup_policies.c: scheduled backups through the REST API and the
 * scheduler -- a policy's checks (schedule, VMs, retention, repository,
 * one name), who may do what, its time coming (once, however many times
 * were missed), its concurrency limit (the rest stay due), the backups
 * really written (the adapter copies a qcow2 disk per VM with
 * libicsbackup's stopped path), the retention pruning after each, a VM
 * deleted while due, "run now", a repository a policy uses refused for
 * removal, and a manager restarted over the same database neither losing
 * nor doubling a run; two policies sharing a VM, a policy's retention
 * sparing the other's backups, a task a restart ended making its VM due
 * again, a VM taken out of a policy, a re-enabled policy not firing for
 * the time it missed, run now refused while disabled, a vm_manager seeing
 * no policy.  The scheduler's passes are called directly with the
 * manager's clock moved forward: no test waits for a cron minute.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/exec.h"
#include "ics/manager/backup_policies.h"
#include "ics/manager/timestamp.h"
#include "mgr_test_util.h"

static char *disks; /* a qcow2 disk per VM uuid, made when first backed up */

static json_t *backed_up(void *self, const char *uuid, IcsBackupRepo *repo,
			 const IcsBackupRunOptions *opts, GError **error)
{
	g_autofree char *disk = g_strdup_printf("%s/%s.qcow2", disks, uuid);
	g_autofree char *json = g_strdup_printf(
		"{\"uuid\": \"%s\", \"name\": \"p\", \"vcpus\": 1, \"memory_mib\": 128,"
		" \"disks\": [{\"path\": \"%s\", \"format\": \"qcow2\"}]}",
		uuid, disk);
	g_autoptr(IcsVmMeta) vm = NULL;
	g_autoptr(IcsBackupManifest) m = NULL;
	json_t *out;

	(void)self;
	if (!g_file_test(disk, G_FILE_TEST_EXISTS)) {
		const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", disk, "1M", NULL };

		if (!ics_exec_simple(argv, 30000, NULL, error))
			return NULL;
	}
	vm = ics_vm_meta_parse(json, NULL, error);
	if (vm == NULL || (m = ics_backup_run_stopped(repo, vm, opts, error)) == NULL)
		return NULL;
	out = ics_backup_manifest_to_json(m);
	json_object_del(out, "definition");
	return out;
}

typedef struct {
	TestMgr *t;
	FakeCluster fake;
	IcsClusterOps ops;
	char *tmp;
	char *vm[3];
} Ctx;

static void never_by_itself(IcsManagerConfig *cfg)
{
	/* the test runs the scheduler's passes itself */
	cfg->backup_policy_check_ms = 3600 * 1000;
}

static char *vm_of(Ctx *c, const char *name)
{
	g_autofree char *body = test_vm_body(name, NULL);
	g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/vms", c->t->admin_token, body);

	assert_int_equal(r->status, 201);
	return g_strdup(test_str(r, "uuid"));
}

static int setup(void **state)
{
	Ctx *c = g_new0(Ctx, 1);
	g_autofree char *repo = NULL, *body = NULL;

	c->ops = test_fake_ops(&c->fake);
	c->ops.vm_backup = backed_up;
	c->tmp = g_dir_make_tmp("ics-policies-XXXXXX", NULL);
	disks = c->tmp;
	c->t = test_mgr_start_in(NULL, &c->ops, never_by_itself);
	repo = g_build_filename(c->tmp, "repo", NULL);
	g_mkdir(repo, 0700);
	body = g_strdup_printf("{\"name\": \"nightly\", \"path\": \"%s\"}", repo);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-repositories",
				     c->t->admin_token, body),
			 201);
	for (int i = 0; i < 3; i++) {
		g_autofree char *name = g_strdup_printf("db%d", i);

		c->vm[i] = vm_of(c, name);
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	Ctx *c = *state;

	test_mgr_stop(c->t, FALSE);
	test_rm_rf(c->tmp);
	for (int i = 0; i < 3; i++)
		g_free(c->vm[i]);
	g_free(c->tmp);
	g_free(c);
	return 0;
}

static json_t *policy(Ctx *c, const char *name)
{
	g_autofree char *path = g_strdup_printf("/api/v1/backup-policies/%s", name);
	g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);

	assert_int_equal(r->status, 200);
	return json_incref(r->json);
}

/* The vm.backup tasks, and how many are queued or running. */
static int backups_pending(Ctx *c, int *total)
{
	g_autoptr(TestResp) r =
		test_http(c->t, "GET", "/api/v1/tasks?limit=200", c->t->admin_token, NULL);
	json_t *task;
	size_t i;
	int pending = 0;

	*total = 0;
	json_array_foreach (json_object_get(r->json, "items"), i, task) {
		const char *st = json_string_value(json_object_get(task, "state"));

		if (g_strcmp0(json_string_value(json_object_get(task, "kind")), "vm.backup") != 0)
			continue;
		(*total)++;
		pending += g_str_equal(st, "queued") || g_str_equal(st, "running");
	}
	return pending;
}

static void wait_backups_done(Ctx *c)
{
	int total;

	for (int i = 0; i < 3000 && backups_pending(c, &total) > 0; i++)
		g_usleep(10000);
	assert_int_equal(backups_pending(c, &total), 0);
}

static int backups_of(Ctx *c, const char *uuid)
{
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", uuid);
	g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);

	assert_int_equal(r->status, 200);
	return (int)json_array_size(json_object_get(r->json, "backups"));
}

static void test_checks_and_access(void **state)
{
	Ctx *c = *state;
	static const struct {
		const char *body, *words;
		long status;
	} bad[] = {
		{ "{\"name\": \"p\", \"schedule\": \"61 * * * *\", \"repository\": \"nightly\","
		  " \"all_vms\": true}", "cron minute", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"0 0 30 2 *\", \"repository\": \"nightly\","
		  " \"all_vms\": true}", "never comes", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"vms\": [\"nosuchvm\"]}", "nosuchvm does not exist", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\"}",
		  "either", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"vms\": [\"db0\"], \"all_vms\": true}", "either", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"all_vms\": true, \"retention\": \"last=0\"}", "must keep something", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"elsewhere\","
		  " \"all_vms\": true}", "elsewhere does not exist", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"all_vms\": true, \"max_concurrent\": 0}", "max_concurrent", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"all_vms\": true, \"window\": \"25:00-01:00\"}", "HH:MM-HH:MM", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"all_vms\": true, \"window\": \"10:00-10:00\"}", "different", 400 },
		{ "{\"name\": \"p\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"all_vms\": true, \"window\": \"1:00-2:00x\"}", "HH:MM-HH:MM", 400 },
	};
	g_autofree char *alice = NULL, *ro = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/backup-policies",
						  c->t->admin_token, bad[i].body);

		assert_int_equal(r->status, bad[i].status);
		if (strstr(r->body->str, bad[i].words) == NULL)
			fail_msg("%s: %s lacks \"%s\"", bad[i].body, r->body->str, bad[i].words);
	}
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"p\", \"schedule\": \"0 2 * * *\","
				     " \"repository\": \"nightly\", \"vms\": [\"db0\", \"db1\"],"
				     " \"retention\": \"last=2\"}"),
			 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"p\", \"schedule\": \"@daily\","
				     " \"repository\": \"nightly\", \"all_vms\": true}"),
			 409);
	{
		g_autoptr(json_t) p = policy(c, "p");

		/* names resolved to uuids; the next run is at 02:00 UTC */
		assert_string_equal(json_string_value(json_array_get(json_object_get(p, "vms"), 0)),
				    c->vm[0]);
		assert_non_null(strstr(json_string_value(json_object_get(p, "next_run")),
				       "T02:00:00"));
		assert_int_equal(json_integer_value(json_object_get(p, "max_concurrent")), 2);
	}
	/* a repository a policy uses is not unregistered */
	{
		g_autoptr(TestResp) r = test_http(c->t, "DELETE", "/api/v1/backup-repositories/nightly",
						  c->t->admin_token, NULL);

		assert_int_equal(r->status, 409);
		assert_non_null(strstr(r->body->str, "used by backup policy p"));
	}
	/* a vm_manager may not make or run policies; readonly may read them */
	assert_int_equal(test_make_user(c->t, "alice", "[\"vm_manager\"]"), 201);
	assert_int_equal(test_make_user(c->t, "ro", "[\"readonly\"]"), 201);
	alice = test_login(c->t, "alice", TEST_PASSWORD);
	ro = test_login(c->t, "ro", TEST_PASSWORD);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", alice,
				     "{\"name\": \"q\", \"schedule\": \"@daily\","
				     " \"repository\": \"nightly\", \"all_vms\": true}"),
			 403);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/p/run", alice, NULL),
			 403);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/p", ro,
				     "{\"enabled\": false}"),
			 403);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/backup-policies", ro, NULL), 200);
	assert_int_equal(test_status(c->t, "GET", "/api/v1/backup-policies/nope",
				     c->t->admin_token, NULL),
			 404);
	/* an update is checked like a creation */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/p", c->t->admin_token,
				     "{\"schedule\": \"* * * *\"}"),
			 400);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/p", c->t->admin_token,
				     "{\"schedule\": \"30 3 * * *\", \"max_concurrent\": 1}"),
			 200);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/backup-policies/p", c->t->admin_token,
				     NULL),
			 204);
	assert_int_equal(test_status(c->t, "DELETE", "/api/v1/backup-policies/p", c->t->admin_token,
				     NULL),
			 404);
}

/* Move the manager's clock on; the admin's session, idle that long, ended:
 * log in again. */
static void advance(Ctx *c, gint64 seconds)
{
	ics_clock_advance_for_test(seconds * G_USEC_PER_SEC);
	g_free(c->t->admin_token);
	c->t->admin_token = test_login(c->t, "admin", c->t->admin_password);
	assert_non_null(c->t->admin_token);
}

static void test_schedule(void **state)
{
	Ctx *c = *state;
	int total;

	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"hourly\", \"schedule\": \"@hourly\","
				     " \"repository\": \"nightly\", \"all_vms\": true,"
				     " \"retention\": \"last=1\", \"max_concurrent\": 2}"),
			 201);
	/* not yet */
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(backups_pending(c, &total), 0);
	assert_int_equal(total, 0);
	/* three hours later: the time has come (once), two of three VMs at once */
	advance(c, 3 * 3600);
	ics_backup_policies_tick(c->t->m);
	{
		g_autoptr(json_t) p = policy(c, "hourly");

		/* three due: two running, one waiting */
		assert_int_equal(json_integer_value(json_object_get(p, "due")), 3);
		assert_non_null(json_string_value(json_object_get(p, "last_run")));
	}
	assert_true(backups_pending(c, &total) <= 2);
	assert_int_equal(total, 2);
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	backups_pending(c, &total);
	assert_int_equal(total, 3);
	wait_backups_done(c);
	/* the same time does not fire twice */
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(backups_pending(c, &total), 0);
	assert_int_equal(total, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(backups_of(c, c->vm[i]), 1);

	/* a manager restarted over the same database: the next hour fires
	 * once there, with what was due carried over */
	{
		g_autofree char *dir = g_strdup(c->t->dir);
		g_autofree char *password = g_strdup(c->t->admin_password);

		test_mgr_stop(c->t, TRUE);
		c->t = test_mgr_start_in(dir, &c->ops, never_by_itself);
		c->t->admin_password = g_steal_pointer(&password);
		c->t->admin_token = test_login(c->t, "admin", c->t->admin_password);
	}
	advance(c, 3600);
	ics_backup_policies_tick(c->t->m);
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(backups_pending(c, &total), 0);
	assert_int_equal(total, 6);
	/* last=1: each VM's older backup was pruned after its new one */
	for (int i = 0; i < 3; i++)
		assert_int_equal(backups_of(c, c->vm[i]), 1);

	/* run now, with a VM deleted while due: dropped, the others backed up */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/hourly",
				     c->t->admin_token, "{\"max_concurrent\": 1}"),
			 200);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/hourly/run",
				     c->t->admin_token, NULL),
			 202);
	{
		g_autofree char *path = g_strdup_printf("/api/v1/vms/%s", c->vm[2]);

		assert_int_equal(test_status(c->t, "DELETE", path, c->t->admin_token, NULL), 204);
	}
	for (int pass = 0; pass < 3; pass++) {
		ics_backup_policies_tick(c->t->m);
		assert_true(backups_pending(c, &total) <= 1);
		wait_backups_done(c);
	}
	assert_int_equal(total, 8);
	ics_backup_policies_tick(c->t->m);
	{
		g_autoptr(json_t) p = policy(c, "hourly");

		assert_int_equal(json_integer_value(json_object_get(p, "due")), 0);
	}
	/* disabled: its time comes and nothing happens */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/hourly",
				     c->t->admin_token, "{\"enabled\": false}"),
			 200);
	advance(c, 2 * 3600);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(backups_pending(c, &total), 0);
	assert_int_equal(total, 8);
}

/* The number of VMs due (waiting or running) of policy @name. */
static gint64 due_of(Ctx *c, const char *name)
{
	g_autoptr(json_t) p = policy(c, name);

	return json_integer_value(json_object_get(p, "due"));
}

static void test_edges(void **state)
{
	Ctx *c = *state;
	int total;

	/* two policies share db0: one pass queues one backup of it; the
	 * other policy's waits for it to end */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"a\", \"schedule\": \"@daily\","
				     " \"repository\": \"nightly\", \"vms\": [\"db0\"]}"),
			 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"b\", \"schedule\": \"@daily\","
				     " \"repository\": \"nightly\", \"vms\": [\"db0\", \"db1\"],"
				     " \"retention\": \"last=1\"}"),
			 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/a/run",
				     c->t->admin_token, NULL),
			 202);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/b/run",
				     c->t->admin_token, NULL),
			 202);
	ics_backup_policies_tick(c->t->m);
	backups_pending(c, &total);
	assert_int_equal(total, 2); /* db0 once, db1 */
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	backups_pending(c, &total);
	assert_int_equal(total, 3); /* db0 for the other policy */
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(due_of(c, "a") + due_of(c, "b"), 0);
	/* b's retention (last=1) pruned only b's own backups of db0: a's stays */
	assert_int_equal(backups_of(c, c->vm[0]), 2);

	/* a task a manager restart ended: its VM is due again */
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/a/run",
				     c->t->admin_token, NULL),
			 202);
	ics_backup_policies_tick(c->t->m);
	wait_backups_done(c);
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsStmt) st = NULL;

		assert_true(ics_store_begin(c->t->m->store, &err));
		st = ics_store_stmt(c->t->m->store,
				    "UPDATE tasks SET state = 'failed', error = 'manager restarted"
				    " while the task was running' WHERE id = (SELECT max(id) FROM tasks)",
				    &err);
		assert_non_null(st);
		assert_true(ics_stmt_run(st, &err));
		ics_stmt_release(g_steal_pointer(&st));
		assert_true(ics_store_commit(c->t->m->store, &err));
	}
	ics_backup_policies_tick(c->t->m);
	backups_pending(c, &total);
	assert_int_equal(total, 5);
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(due_of(c, "a"), 0);

	/* a VM taken out of a policy is no longer due */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/b",
				     c->t->admin_token, "{\"max_concurrent\": 1}"),
			 200);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/b/run",
				     c->t->admin_token, NULL),
			 202);
	assert_int_equal(due_of(c, "b"), 2);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/b",
				     c->t->admin_token, "{\"vms\": [\"db0\"]}"),
			 200);
	assert_int_equal(due_of(c, "b"), 1);

	/* disabled: run now is refused; enabled again after its time passed,
	 * it does not fire for the time it missed */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/a",
				     c->t->admin_token, "{\"enabled\": false}"),
			 200);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/a/run",
				     c->t->admin_token, NULL),
			 409);
	advance(c, 2 * 86400);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/a",
				     c->t->admin_token, "{\"enabled\": true}"),
			 200);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(due_of(c, "a"), 0);

	/* a window that is closed now: due, not started; two hours on, open */
	{
		guint h = (guint)((ics_now_us() / G_USEC_PER_SEC / 3600) % 24);
		g_autofree char *body = g_strdup_printf(
			"{\"name\": \"w\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
			" \"vms\": [\"db1\"], \"window\": \"%02u:00-%02u:00\"}",
			(h + 2) % 24, (h + 3) % 24);
		int before;

		/* the other policies paused, what they started ended */
		for (int k = 0; k < 2; k++)
			assert_int_equal(test_status(c->t, "PATCH",
						     k ? "/api/v1/backup-policies/b"
						       : "/api/v1/backup-policies/a",
						     c->t->admin_token, "{\"enabled\": false}"),
					 200);
		wait_backups_done(c);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies",
					     c->t->admin_token, body),
				 201);
		backups_pending(c, &before);
		assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/w/run",
					     c->t->admin_token, NULL),
				 202);
		ics_backup_policies_tick(c->t->m);
		backups_pending(c, &total);
		assert_int_equal(total, before);
		assert_int_equal(due_of(c, "w"), 1);
		advance(c, 2 * 3600);
		ics_backup_policies_tick(c->t->m);
		backups_pending(c, &total);
		assert_int_equal(total, before + 1);
		wait_backups_done(c);
	}

	/* a vm_manager reads its own VMs' backups, not the policies */
	{
		g_autofree char *alice = NULL;
		g_autoptr(TestResp) r = NULL;

		assert_int_equal(test_make_user(c->t, "alice", "[\"vm_manager\"]"), 201);
		alice = test_login(c->t, "alice", TEST_PASSWORD);
		r = test_http(c->t, "GET", "/api/v1/backup-policies", alice, NULL);
		assert_int_equal(r->status, 200);
		assert_int_equal(json_array_size(r->json), 0);
		assert_int_equal(test_status(c->t, "GET", "/api/v1/backup-policies/a", alice, NULL),
				 404);
	}
}

/* A policy selects VMs by pool and by host: those the cluster has there
 * when its time comes (the fake: every VM runs on node1 from pool
 * "shared"); names the cluster lacks, or a list beside all_vms, are 400;
 * all_vms alone replaces the lists. */
static void test_select_by_pool_and_host(void **state)
{
	Ctx *c = *state;
	static const struct {
		const char *body;
		long status;
	} cases[] = {
		{ "{\"name\": \"bad\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"pools\": [\"nope\"]}", 400 },
		{ "{\"name\": \"bad\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"hosts\": [\"node9\"]}", 400 },
		{ "{\"name\": \"bad\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"hosts\": [\"node1\"], \"all_vms\": true}", 400 },
		{ "{\"name\": \"bad\", \"schedule\": \"@daily\", \"repository\": \"nightly\","
		  " \"pools\": []}", 400 },
		{ "{\"name\": \"on-shared\", \"schedule\": \"@daily\", \"repository\":"
		  " \"nightly\", \"pools\": [\"shared\"], \"max_concurrent\": 3}", 201 },
		{ "{\"name\": \"on-node1\", \"schedule\": \"@daily\", \"repository\":"
		  " \"nightly\", \"hosts\": [\"node1\"], \"vms\": [\"db0\"]}", 201 },
	};
	int total;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(TestResp) r = test_http(c->t, "POST", "/api/v1/backup-policies",
						  c->t->admin_token, cases[i].body);

		if (r->status != cases[i].status)
			fail_msg("%s: %ld %s", cases[i].body, r->status, r->body->str);
	}
	{
		g_autoptr(json_t) p = policy(c, "on-shared");

		assert_string_equal(json_string_value(json_array_get(json_object_get(p, "pools"), 0)),
				    "shared");
		assert_int_equal(json_array_size(json_object_get(p, "hosts")), 0);
	}
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/on-shared/run",
				     c->t->admin_token, NULL),
			 202);
	assert_int_equal(due_of(c, "on-shared"), 3);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/on-node1/run",
				     c->t->admin_token, NULL),
			 202);
	assert_int_equal(due_of(c, "on-node1"), 3);
	c->t->m->cfg.backup_max_per_host = 0;
	for (int pass = 0; pass < 4; pass++) {
		ics_backup_policies_tick(c->t->m);
		wait_backups_done(c);
	}
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(due_of(c, "on-shared"), 0);
	assert_int_equal(due_of(c, "on-node1"), 0);
	backups_pending(c, &total);
	assert_int_equal(total, 6);
	for (int i = 0; i < 3; i++)
		assert_int_equal(backups_of(c, c->vm[i]), 2);
	/* all_vms alone replaces the lists; a host the cluster lacks is 400 */
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/on-node1",
				     c->t->admin_token, "{\"hosts\": [\"node9\"]}"),
			 400);
	assert_int_equal(test_status(c->t, "PATCH", "/api/v1/backup-policies/on-node1",
				     c->t->admin_token, "{\"all_vms\": true}"),
			 200);
	{
		g_autoptr(json_t) p = policy(c, "on-node1");

		assert_int_equal(json_array_size(json_object_get(p, "hosts")), 0);
		assert_int_equal(json_array_size(json_object_get(p, "vms")), 0);
		assert_true(json_is_true(json_object_get(p, "all_vms")));
	}
}

/* Give VM @uuid the tags @tags (a JSON array) in its definition: the
 * PUT's status. */
static long tag_vm(Ctx *c, const char *uuid, const char *tags)
{
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s", uuid);
	g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);
	g_autoptr(json_t) body = json_object();
	g_autofree char *text = NULL;
	json_t *def = json_deep_copy(json_object_get(r->json, "definition"));

	json_object_set_new(def, "tags", json_loads(tags, 0, NULL));
	json_object_set_new(body, "definition", def);
	text = json_dumps(body, 0);
	return test_status(c->t, "PUT", path, c->t->admin_token, text);
}

/* A policy selects VMs by tag: those whose definition has one of its tags
 * when its time comes, a tag given after the policy included; a VM
 * definition's tags are checked as names. */
static void test_select_by_tag(void **state)
{
	Ctx *c = *state;

	assert_int_equal(tag_vm(c, c->vm[1], "[\"prod\", \"eu\"]"), 200);
	{
		g_autofree char *path = g_strdup_printf("/api/v1/vms/%s", c->vm[1]);
		g_autoptr(TestResp) r = test_http(c->t, "GET", path, c->t->admin_token, NULL);
		json_t *tags = json_object_get(json_object_get(r->json, "definition"), "tags");

		assert_int_equal(json_array_size(tags), 2);
		assert_string_equal(json_string_value(json_array_get(tags, 0)), "prod");
	}
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"bad\", \"schedule\": \"@daily\", \"repository\":"
				     " \"nightly\", \"tags\": [\"env:prod\"]}"),
			 400);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"prod\", \"schedule\": \"@daily\", \"repository\":"
				     " \"nightly\", \"tags\": [\"prod\", \"web\"]}"),
			 201);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/prod/run",
				     c->t->admin_token, NULL),
			 202);
	assert_int_equal(due_of(c, "prod"), 1);
	ics_backup_policies_tick(c->t->m);
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(backups_of(c, c->vm[0]), 0);
	assert_int_equal(backups_of(c, c->vm[1]), 1);
	/* tagged afterwards: in the next run */
	assert_int_equal(tag_vm(c, c->vm[2], "[\"web\"]"), 200);
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/prod/run",
				     c->t->admin_token, NULL),
			 202);
	assert_int_equal(due_of(c, "prod"), 2);
	{
		g_autoptr(json_t) p = policy(c, "prod");

		assert_int_equal(json_array_size(json_object_get(p, "tags")), 2);
	}
	/* a definition's bad tag is the VM's 400 */
	assert_int_equal(tag_vm(c, c->vm[0], "[\"a b\"]"), 400);
}

/* [backup] max_per_host and max_per_repository hold back due VMs as the
 * policy's max_concurrent does (the fake runs every VM on node1); a
 * manual backup counts too. */
static void test_host_and_repository_limits(void **state)
{
	Ctx *c = *state;
	int total;

	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies", c->t->admin_token,
				     "{\"name\": \"all\", \"schedule\": \"@daily\","
				     " \"repository\": \"nightly\", \"all_vms\": true,"
				     " \"max_concurrent\": 3}"),
			 201);
	c->t->m->cfg.backup_max_per_host = 1;
	c->t->m->cfg.backup_max_per_repository = 0;
	assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/all/run",
				     c->t->admin_token, NULL),
			 202);
	ics_backup_policies_tick(c->t->m);
	backups_pending(c, &total);
	assert_int_equal(total, 1);
	wait_backups_done(c);
	/* one host's room, one repository's two: two at once */
	c->t->m->cfg.backup_max_per_host = 0;
	c->t->m->cfg.backup_max_per_repository = 2;
	ics_backup_policies_tick(c->t->m);
	backups_pending(c, &total);
	assert_int_equal(total, 3);
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(due_of(c, "all"), 0);
	/* a manual backup fills the repository's room: the policy waits */
	c->t->m->cfg.backup_max_per_repository = 1;
	{
		g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/backups", c->vm[0]);

		assert_int_equal(test_status(c->t, "POST", "/api/v1/backup-policies/all/run",
					     c->t->admin_token, NULL),
				 202);
		assert_int_equal(test_status(c->t, "POST", path, c->t->admin_token,
					     "{\"repository\": \"nightly\"}"),
				 202);
		ics_backup_policies_tick(c->t->m);
		/* at most the manual one and, once it ended, one of the policy's */
		assert_true(backups_pending(c, &total) <= 1);
		assert_true(total <= 5);
	}
	for (int pass = 0; pass < 4; pass++) {
		wait_backups_done(c);
		ics_backup_policies_tick(c->t->m);
		assert_true(backups_pending(c, &total) <= 1);
	}
	wait_backups_done(c);
	ics_backup_policies_tick(c->t->m);
	assert_int_equal(due_of(c, "all"), 0);
	backups_pending(c, &total);
	assert_int_equal(total, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checks_and_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_and_repository_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_by_pool_and_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_by_tag, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
