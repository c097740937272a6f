/*
 * test_pool_health.c: ocf:ics:pool's decisions from facts (monitor, stop,
 * soft unmount), its parameter validation, and the bounded storage probe
 * on real directories, with a FIFO standing in for hung storage (open(2)
 * of a FIFO without a writer blocks like a read from a dead NFS server).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/error.h"
#include "ocf.h"
#include "pool_config.h"
#include "pool_health.h"

/* ---- configuration ---------------------------------------------------- */

static const char *lookup_table(const char *name, gpointer data)
{
	for (const char *const *kv = data; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static gboolean parse(const char *const *kv, PoolConfig *cfg, GError **error)
{
	return pool_config_parse(cfg, lookup_table, (gpointer)kv, error);
}

static void expect_invalid(const char *const *kv, const char *needle)
{
	g_auto(PoolConfig) cfg = { 0 };
	g_autoptr(GError) error = NULL;

	assert_false(parse(kv, &cfg, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	if (strstr(error->message, needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, error->message);
}

static void test_config_dir(void **state)
{
	const char *kv[] = { "name", "shared", "path", "/srv/ics/pools/shared", "uuid",
			     "0F8FAD5B-D9CB-469F-A165-70867728950E", NULL, NULL };
	g_auto(PoolConfig) cfg = { 0 };

	assert_true(parse(kv, &cfg, NULL));
	assert_string_equal(cfg.name, "shared");
	assert_int_equal(cfg.type, POOL_TYPE_DIR);
	assert_string_equal(cfg.uuid, "0f8fad5b-d9cb-469f-a165-70867728950e");
	assert_int_equal(cfg.host_id, 0);
	assert_int_equal(cfg.monitor_timeout_s, POOL_DEFAULT_MONITOR_TIMEOUT_S);
	assert_false(cfg.force_stop);
}

static void test_config_nfs(void **state)
{
	const char *kv[] = { "name",	"gold",	    "path",	      "/srv/ics/pools/gold",
			     "type",	"nfs",	    "source",	      "nas:/export/gold",
			     "options", "vers=4.2", "host_id",	      "2000",
			     "force_stop", "yes",   "monitor_timeout", "20",
			     NULL,	NULL };
	g_auto(PoolConfig) cfg = { 0 };

	assert_true(parse(kv, &cfg, NULL));
	assert_int_equal(cfg.type, POOL_TYPE_NFS);
	assert_string_equal(cfg.source, "nas:/export/gold");
	assert_string_equal(cfg.options, "vers=4.2");
	assert_int_equal(cfg.host_id, 2000);
	assert_int_equal(cfg.monitor_timeout_s, 20);
	assert_true(cfg.force_stop);
}

static void test_config_invalid(void **state)
{
	const char *no_name[] = { "path", "/p", NULL, NULL };
	const char *bad_name[] = { "name", "Gold!", "path", "/p", NULL, NULL };
	const char *no_path[] = { "name", "g", NULL, NULL };
	const char *rel_path[] = { "name", "g", "path", "srv/p", NULL, NULL };
	const char *dotdot[] = { "name", "g", "path", "/srv/../etc", NULL, NULL };
	const char *bad_type[] = { "name", "g", "path", "/p", "type", "iscsi", NULL, NULL };
	const char *nfs_no_src[] = { "name", "g", "path", "/p", "type", "nfs", NULL, NULL };
	const char *dir_src[] = { "name", "g", "path", "/p", "source", "x:/y", NULL, NULL };
	const char *block_rel[] = { "name", "g", "path", "/p", "type", "block", "source", "sdb",
				    NULL, NULL };
	const char *bad_uuid[] = { "name", "g", "path", "/p", "uuid", "abc", NULL, NULL };
	const char *id0[] = { "name", "g", "path", "/p", "host_id", "0", NULL, NULL };
	const char *id2001[] = { "name", "g", "path", "/p", "host_id", "2001", NULL, NULL };
	const char *bad_bool[] = { "name", "g", "path", "/p", "force_stop", "sure", NULL, NULL };
	const char *bad_mt[] = { "name", "g", "path", "/p", "monitor_timeout", "0", NULL, NULL };

	expect_invalid(no_name, "name is not set");
	expect_invalid(bad_name, "name='Gold!'");
	expect_invalid(no_path, "path is not set");
	expect_invalid(rel_path, "absolute");
	expect_invalid(dotdot, "absolute");
	expect_invalid(bad_type, "type='iscsi'");
	expect_invalid(nfs_no_src, "source");
	expect_invalid(dir_src, "takes no source");
	expect_invalid(block_rel, "block device");
	expect_invalid(bad_uuid, "uuid='abc'");
	expect_invalid(id0, "host_id='0'");
	expect_invalid(id2001, "between 1 and 2000");
	expect_invalid(bad_bool, "force_stop='sure'");
	expect_invalid(bad_mt, "monitor_timeout");
}

static void test_node_id(void **state)
{
	guint64 id = 0;

	assert_true(pool_parse_node_id("3\n", &id, NULL));
	assert_int_equal(id, 3);
	assert_false(pool_parse_node_id("", &id, NULL));
	assert_false(pool_parse_node_id("4294967297\n", &id, NULL));
	assert_false(pool_parse_node_id(NULL, &id, NULL));
}

/* ---- monitor ---------------------------------------------------------- */

static PoolFacts healthy(void)
{
	PoolFacts f = {
		.pool = "shared",
		.host_id = 2,
		.started = TRUE,
		.started_age_s = 300,
		.reachable = TRUE,
		.joined = 1,
		.self_seen = TRUE,
		.self_state = ICS_HOST_ALIVE,
		.self_age_s = 1,
		.io_timeout = 1,
	};
	return f;
}

static int monitor(const PoolFacts *f, const char *needle)
{
	g_autofree char *reason = NULL;
	int rc = pool_monitor_decide(f, &reason);

	if (needle == NULL) {
		if (reason != NULL)
			fail_msg("unexpected reason '%s'", reason);
	} else if (reason == NULL || strstr(reason, needle) == NULL) {
		fail_msg("'%s' not in '%s'", needle, reason ? reason : "(null)");
	}
	return rc;
}

static void test_monitor_healthy(void **state)
{
	PoolFacts f = healthy();

	assert_int_equal(monitor(&f, NULL), OCF_SUCCESS);
	f.self_age_s = 6; /* 4 x 1 + 2: the limit itself is fine */
	assert_int_equal(monitor(&f, NULL), OCF_SUCCESS);
	f.self_age_s = -1; /* age unknown, state alive */
	assert_int_equal(monitor(&f, NULL), OCF_SUCCESS);
}

static void test_monitor_not_started(void **state)
{
	PoolFacts f = healthy();

	f.started = FALSE;
	f.joined = 0;
	assert_int_equal(monitor(&f, NULL), OCF_NOT_RUNNING);
	f.reachable = FALSE; /* a probe on a node without the storage */
	f.joined = -1;
	assert_int_equal(monitor(&f, NULL), OCF_NOT_RUNNING);
	/* Joined without our marker (marker lost): it runs. */
	f = healthy();
	f.started = FALSE;
	assert_int_equal(monitor(&f, NULL), OCF_SUCCESS);
}

static void test_monitor_heartbeat_late(void **state)
{
	PoolFacts f = healthy();

	f.self_age_s = 7;
	assert_int_equal(monitor(&f, "pool shared: heartbeat of host 2 not renewed for 7s "
				     "(storage unreachable?)"),
			 OCF_ERR_GENERIC);
	f.io_timeout = 10; /* limit 42 s */
	assert_int_equal(monitor(&f, NULL), OCF_SUCCESS);
	f.self_age_s = 43;
	assert_int_equal(monitor(&f, "not renewed for 43s"), OCF_ERR_GENERIC);
}

static void test_monitor_failing_states(void **state)
{
	IcsHostState bad[] = { ICS_HOST_FAILING, ICS_HOST_DEAD, ICS_HOST_FREE, ICS_HOST_UNKNOWN };

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		PoolFacts f = healthy();

		f.self_state = bad[i];
		assert_int_equal(monitor(&f, "heartbeat of host 2 not renewed"), OCF_ERR_GENERIC);
	}
}

static void test_monitor_unreachable(void **state)
{
	PoolFacts f = healthy();

	f.reachable = FALSE;
	f.joined = -1;
	f.unreachable = "storage unreachable: reading x took longer than 10000 ms";
	assert_int_equal(monitor(&f, "pool shared: host 2 cannot renew its heartbeat: storage "
				     "unreachable: reading x took longer"),
			 OCF_ERR_GENERIC);
}

static void test_monitor_left_lockspace(void **state)
{
	PoolFacts f = healthy();

	f.joined = 0;
	assert_int_equal(monitor(&f, "no longer in the lockspace"), OCF_NOT_RUNNING);
	f.joined = -1;
	assert_int_equal(monitor(&f, "sanlock daemon does not answer"), OCF_ERR_GENERIC);
}

static void test_monitor_hosts_not_ready(void **state)
{
	PoolFacts f = healthy();

	f.hosts_busy = TRUE;
	f.self_seen = FALSE;
	f.started_age_s = 3; /* just joined */
	assert_int_equal(monitor(&f, NULL), OCF_SUCCESS);
	f.started_age_s = (gint64)pool_join_grace_s(1) + 1;
	assert_int_equal(monitor(&f, "does not report the heartbeat of host 2"),
			 OCF_ERR_GENERIC);
	f.hosts_busy = FALSE; /* listed, but not us */
	f.started_age_s = -1;
	assert_int_equal(monitor(&f, "does not report"), OCF_ERR_GENERIC);
}

/* ---- stop ------------------------------------------------------------- */

static void test_stop_plans(void **state)
{
	PoolFacts f = healthy();

	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_LEAVE);
	assert_int_equal(pool_stop_plan(&f, TRUE), POOL_STOP_LEAVE_FORCE);
	f.joined = 0;
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_NOTHING);
	f.started = FALSE;
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_NOTHING);

	f = healthy();
	f.self_age_s = 30; /* heartbeat lost: soft unmount even without force_stop */
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_SOFT_UNMOUNT);
	f = healthy();
	f.self_state = ICS_HOST_FAILING;
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_SOFT_UNMOUNT);
	f = healthy();
	f.reachable = FALSE;
	f.joined = -1;
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_SOFT_UNMOUNT);

	/* Daemon not answering while storage is fine: no soft unmount; the
	 * leave is tried and its failure escalates. */
	f = healthy();
	f.joined = -1;
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_LEAVE);
	/* Hosts not read yet: we cannot say the heartbeat is lost. */
	f = healthy();
	f.hosts_busy = TRUE;
	f.self_seen = FALSE;
	assert_int_equal(pool_stop_plan(&f, FALSE), POOL_STOP_LEAVE);
	assert_string_equal(pool_stop_plan_name(POOL_STOP_SOFT_UNMOUNT), "soft-unmount");
}

static void test_stop_outcomes(void **state)
{
	PoolFacts f = healthy();
	g_autoptr(GError) busy = g_error_new(ICS_ERROR, ICS_ERROR_BUSY, "held by pid 42 (vm-a)");
	g_autoptr(GError) io = g_error_new(ICS_ERROR, ICS_ERROR_IO, "daemon gone");
	g_autofree char *reason = NULL;

	assert_int_equal(pool_stop_outcome(&f, POOL_STOP_LEAVE, NULL, &reason), OCF_SUCCESS);
	assert_null(reason);
	assert_int_equal(pool_stop_outcome(&f, POOL_STOP_LEAVE, busy, &reason), OCF_ERR_GENERIC);
	assert_non_null(strstr(reason, "host 2 still holds leases (held by pid 42 (vm-a))"));
	assert_non_null(strstr(reason, "force_stop=true"));
	g_clear_pointer(&reason, g_free);
	assert_int_equal(pool_stop_outcome(&f, POOL_STOP_LEAVE_FORCE, io, &reason),
			 OCF_ERR_GENERIC);
	assert_non_null(strstr(reason, "cannot leave the lockspace: daemon gone"));
	g_clear_pointer(&reason, g_free);
	/* Soft unmount: the stop succeeds whatever the leave said. */
	assert_int_equal(pool_stop_outcome(&f, POOL_STOP_SOFT_UNMOUNT, io, &reason), OCF_SUCCESS);
	assert_null(reason);
	assert_int_equal(pool_stop_outcome(&f, POOL_STOP_NOTHING, NULL, NULL), OCF_SUCCESS);
}

/* ---- storage probe ---------------------------------------------------- */

typedef struct {
	char *dir;
} Tmp;

static int tmp_setup(void **state)
{
	Tmp *t = g_new0(Tmp, 1);

	t->dir = g_dir_make_tmp("test-pool-XXXXXX", NULL);
	assert_non_null(t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	Tmp *t = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->dir);

	assert_int_equal(system(cmd), 0);
	g_free(t->dir);
	g_free(t);
	return 0;
}

static char *make_meta_dir(const Tmp *t)
{
	g_autofree char *ics = g_build_filename(t->dir, ".ics", NULL);

	assert_int_equal(g_mkdir(ics, 0755), 0);
	return g_build_filename(ics, "pool.json", NULL);
}

static void test_probe_ok(void **state)
{
	Tmp *t = *state;
	g_autofree char *meta = make_meta_dir(t);

	assert_true(g_file_set_contents(meta, "{\"format\":1}", -1, NULL));
	assert_true(pool_probe_storage(t->dir, 5000, NULL));
}

static void test_probe_missing(void **state)
{
	Tmp *t = *state;
	g_autofree char *missing = g_build_filename(t->dir, "nope", NULL);
	g_autofree char *file = g_build_filename(t->dir, "file", NULL);
	g_autoptr(GError) error = NULL;

	assert_false(pool_probe_storage(missing, 5000, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(error->message, "does not exist"));
	g_clear_error(&error);

	assert_false(pool_probe_storage(t->dir, 5000, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(error->message, "no .ics/pool.json"));
	g_clear_error(&error);

	assert_true(g_file_set_contents(file, "x", -1, NULL));
	assert_false(pool_probe_storage(file, 5000, &error));
	assert_non_null(strstr(error->message, "not a directory"));
}

static void test_probe_hung_storage_times_out(void **state)
{
	Tmp *t = *state;
	g_autofree char *meta = make_meta_dir(t);
	g_autoptr(GError) error = NULL;
	gint64 start;
	gint64 took_ms;

	assert_int_equal(mkfifo(meta, 0644), 0); /* open blocks: no writer */
	start = g_get_monotonic_time();
	assert_false(pool_probe_storage(t->dir, 300, &error));
	took_ms = (g_get_monotonic_time() - start) / 1000;
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_TIMEOUT));
	assert_non_null(strstr(error->message, "hung storage"));
	/* it waited for the timeout, and it came back (generous bound: noisy machines) */
	assert_true(took_ms >= 290 && took_ms < 30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_dir),
		cmocka_unit_test(test_config_nfs),
		cmocka_unit_test(test_config_invalid),
		cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_monitor_healthy),
		cmocka_unit_test(test_monitor_not_started),
		cmocka_unit_test(test_monitor_heartbeat_late),
		cmocka_unit_test(test_monitor_failing_states),
		cmocka_unit_test(test_monitor_unreachable),
		cmocka_unit_test(test_monitor_left_lockspace),
		cmocka_unit_test(test_monitor_hosts_not_ready),
		cmocka_unit_test(test_stop_plans),
		cmocka_unit_test(test_stop_outcomes),
		cmocka_unit_test_setup_teardown(test_probe_ok, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_probe_missing, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_probe_hung_storage_times_out, tmp_setup,
						tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
