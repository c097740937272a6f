/*
 * test_tasks.c: tasks -- run to success with progress and a result, fail
 * with an error, cancel while running and while queued, refuse to cancel
 * an ended task, never run a task whose creation was rolled back, and keep
 * tasks across a manager restart: finished ones stay readable, running
 * ones of an idempotent kind run again, others are failed ("manager
 * restarted"), queued ones run.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ics/manager/task.h"
#include "mgr_test_util.h"

static void one_thread(IcsManagerConfig *cfg)
{
	cfg->task_threads = 1;
}

static int setup(void **state)
{
	TestMgr *t = test_mgr_start_in(NULL, NULL, one_thread);

	assert_non_null(t->admin_token);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	if (*state)
		test_mgr_stop(*state, FALSE);
	return 0;
}

static gint64 create(TestMgr *t, const char *params_json)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) params = json_loads(params_json, 0, NULL);
	gint64 id;

	assert_true(ics_store_begin(t->m->store, &err));
	id = ics_task_create(t->m->tasks, "test.sleep", "vm",
			     "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab", 0, params, &err);
	assert_true(id > 0);
	assert_true(ics_store_commit(t->m->store, &err));
	return id;
}

static TestResp *get_task(TestMgr *t, gint64 id)
{
	g_autofree char *path = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT, id);

	return test_http(t, "GET", path, t->admin_token, NULL);
}

static void wait_state(TestMgr *t, gint64 id, const char *state)
{
	for (int i = 0; i < 3000; i++) {
		g_autoptr(TestResp) r = get_task(t, id);

		if (g_str_equal(test_str(r, "state"), state))
			return;
		g_usleep(10000);
	}
	fail_msg("task %" G_GINT64_FORMAT " never reached %s", id, state);
}

static long cancel(TestMgr *t, gint64 id)
{
	g_autofree char *path = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT "/cancel", id);

	return test_status(t, "POST", path, t->admin_token, NULL);
}

static void test_success_and_failure(void **state)
{
	TestMgr *t = *state;
	gint64 ok = create(t, "{\"ms\": 50, \"steps\": 5}");
	gint64 bad = create(t, "{\"ms\": 10, \"steps\": 1, \"fail\": true}");
	g_autofree char *s1 = test_wait_task(t, t->admin_token, ok);
	g_autofree char *s2 = test_wait_task(t, t->admin_token, bad);

	assert_string_equal(s1, "succeeded");
	assert_string_equal(s2, "failed");
	g_autoptr(TestResp) r = get_task(t, ok);
	assert_int_equal(json_integer_value(json_object_get(r->json, "progress")), 100);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(r->json, "result"), "slept_ms")),
		50);
	assert_string_equal(test_str(r, "kind"), "test.sleep");
	assert_true(json_is_string(json_object_get(r->json, "started_at")));
	assert_true(json_is_string(json_object_get(r->json, "ended_at")));
	g_autoptr(TestResp) f = get_task(t, bad);
	assert_string_equal(test_str(f, "error"), "failed as asked");
	assert_true(json_is_null(json_object_get(f->json, "result")));
	g_autoptr(TestResp) l = test_http(t, "GET", "/api/v1/tasks?limit=1", t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(l->json, "items")), 1);
	assert_int_equal(json_integer_value(json_object_get(l->json, "next")), bad);
	/* An ended task cannot be cancelled. */
	assert_int_equal(cancel(t, ok), 409);
	assert_int_equal(cancel(t, 12345), 404);
}

static void test_cancel(void **state)
{
	TestMgr *t = *state;
	gint64 running = create(t, "{\"ms\": 60000, \"steps\": 600}");
	gint64 queued;

	wait_state(t, running, "running");
	queued = create(t, "{\"ms\": 10, \"steps\": 1}"); /* one worker: it waits */
	g_autoptr(TestResp) q = get_task(t, queued);
	assert_string_equal(test_str(q, "state"), "queued");
	assert_int_equal(cancel(t, queued), 202);
	g_autoptr(TestResp) q2 = get_task(t, queued);
	assert_string_equal(test_str(q2, "state"), "cancelled");
	assert_true(json_is_true(json_object_get(q2->json, "cancel_requested")));
	assert_int_equal(cancel(t, running), 202);
	g_autofree char *s = test_wait_task(t, t->admin_token, running);
	assert_string_equal(s, "cancelled");
	/* The cancelled queued task never ran. */
	g_autoptr(TestResp) q3 = get_task(t, queued);
	assert_true(json_is_null(json_object_get(q3->json, "started_at")));
}

static void test_rolled_back_creation(void **state)
{
	TestMgr *t = *state;
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) params = json_pack("{s:i}", "ms", 1);
	gint64 ghost, real;

	assert_true(ics_store_begin(t->m->store, &err));
	ghost = ics_task_create(t->m->tasks, "test.sleep", NULL, NULL, 0, params, &err);
	assert_true(ghost > 0);
	ics_store_rollback(t->m->store);
	real = create(t, "{\"ms\": 1}");
	g_autofree char *s = test_wait_task(t, t->admin_token, real);
	assert_string_equal(s, "succeeded");
	g_autoptr(TestResp) l = test_http(t, "GET", "/api/v1/tasks", t->admin_token, NULL);
	assert_int_equal(json_array_size(json_object_get(l->json, "items")), 1);
}

static void insert_task(IcsStore *store, gint64 id, const char *kind, const char *state)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *sql = g_strdup_printf(
		"INSERT INTO tasks (id, kind, state, params, created_us) VALUES (%" G_GINT64_FORMAT
		", '%s', '%s', '{\"ms\": 1}', 1)",
		id, kind, state);

	assert_true(ics_store_begin(store, &err));
	assert_true(ics_store_exec(store, sql, &err));
	assert_true(ics_store_commit(store, &err));
}

static void test_restart(void **state)
{
	TestMgr *t = *state;
	g_autofree char *dir = g_strdup(t->dir);
	g_autofree char *pw = g_strdup(t->admin_password);
	gint64 done = create(t, "{\"ms\": 1}");
	g_autofree char *s = test_wait_task(t, t->admin_token, done);

	assert_string_equal(s, "succeeded");
	/* The manager "crashed" while these were in flight. */
	insert_task(t->m->store, 100, "test.sleep", "running");
	insert_task(t->m->store, 101, "vm.power", "running");
	insert_task(t->m->store, 102, "test.sleep", "queued");
	test_mgr_stop(t, TRUE);

	t = test_mgr_start_in(dir, NULL, one_thread);
	*state = t;
	assert_null(t->admin_password); /* the admin exists already */
	t->admin_password = g_strdup(pw);
	t->admin_token = test_login(t, "admin", pw);
	assert_non_null(t->admin_token);

	g_autofree char *s100 = test_wait_task(t, t->admin_token, 100);
	g_autofree char *s101 = test_wait_task(t, t->admin_token, 101);
	g_autofree char *s102 = test_wait_task(t, t->admin_token, 102);
	assert_string_equal(s100, "succeeded");
	assert_string_equal(s101, "failed");
	assert_string_equal(s102, "succeeded");
	g_autoptr(TestResp) f = get_task(t, 101);
	assert_non_null(strstr(test_str(f, "error"), "manager restarted"));
	g_autoptr(TestResp) d = get_task(t, done);
	assert_string_equal(test_str(d, "state"), "succeeded");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(d->json, "result"), "slept_ms")),
		1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success_and_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_creation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
