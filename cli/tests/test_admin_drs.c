/*
 * test_admin_drs.c: `ics-admin drs plan|apply|history|config` against a
 * real in-process ics-managerd whose cluster is a small simulation: two
 * hosts, four busy VMs on the first, migrations that move them.  Checks
 * the tables people read, the JSON scripts read, the task wait of apply,
 * and the exit status of bad input and conflicts.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admin_api_test_util.h"

#define N_VMS 4

static GMutex sim_lock;
static char sim_host[N_VMS][8];
static gint64 sim_since[N_VMS];

static json_t *sim_load(void *self, GError **error)
{
	json_t *vms = json_array();
	gint64 now = g_get_monotonic_time();

	(void)self, (void)error;
	g_mutex_lock(&sim_lock);
	for (int i = 0; i < N_VMS; i++) {
		g_autofree char *uuid = g_strdup_printf("00000000-0000-4000-8000-00000000000%d", i);

		json_array_append_new(
			vms, json_pack("{s:s, s:s, s:i, s:i, s:b, s:I, s:i}", "uuid", uuid, "host",
				       sim_host[i], "vcpus", 1, "memory_mib", 1024, "migrating", 0,
				       "cpu_time_ns", (json_int_t)((now - sim_since[i]) * 800),
				       "memory_used_mib", 1024));
	}
	g_mutex_unlock(&sim_lock);
	return json_pack("{s:[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i}], s:o}", "hosts", "name",
			 "node1", "state", "on", "cpus", 2, "memory_mib", 8192, "name", "node2",
			 "state", "on", "cpus", 2, "memory_mib", 8192, "vms", vms);
}

static int sim_index(const char *uuid)
{
	return g_str_has_prefix(uuid, "00000000-0000-4000-8000-00000000000") ? uuid[35] - '0' : -1;
}

static gboolean sim_status(void *self, const char *uuid, char **state, char **host, GError **error)
{
	int i = sim_index(uuid);

	(void)self;
	if (i < 0 || i >= N_VMS) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "no VM %s", uuid);
		return FALSE;
	}
	g_mutex_lock(&sim_lock);
	*state = g_strdup("running");
	*host = g_strdup(sim_host[i]);
	g_mutex_unlock(&sim_lock);
	return TRUE;
}

static gboolean sim_migrate(void *self, const char *uuid, const char *target,
			    IcsClusterProgressFn progress, void *progress_data,
			    const volatile gint *cancelled, GError **error)
{
	int i = sim_index(uuid);

	(void)self, (void)progress, (void)progress_data, (void)cancelled, (void)error;
	g_mutex_lock(&sim_lock);
	g_strlcpy(sim_host[i], target, sizeof(sim_host[i]));
	sim_since[i] = g_get_monotonic_time();
	g_mutex_unlock(&sim_lock);
	return TRUE;
}

static const IcsClusterOps sim_cluster = {
	.migrate_vm = sim_migrate,
	.vm_status = sim_status,
	.load = sim_load,
};

static int setup(void **state)
{
	for (int i = 0; i < N_VMS; i++) {
		g_strlcpy(sim_host[i], "node1", sizeof(sim_host[i]));
		sim_since[i] = g_get_monotonic_time() - G_USEC_PER_SEC;
	}
	*state = api_test_start_with(TRUE, &sim_cluster);
	return 0;
}

static int teardown(void **state)
{
	api_test_stop(*state);
	return 0;
}

static void test_drs(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	int on_node1 = 0;

	api_test_login_admin(t);
	/* Configuration: shown, changed, bad values refused with exit 2. */
	assert_int_equal(cli_run(&r, NULL, "drs", "config", NULL), 0);
	assert_non_null(strstr(r.out, "mode:        manual"));
	assert_int_equal(cli_run(&r, NULL, "drs", "config", "--level", "4", "--period", "600",
				 "--json", NULL),
			 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);

		assert_int_equal(json_integer_value(json_object_get(j, "level")), 4);
		assert_int_equal(json_integer_value(json_object_get(j, "period_s")), 600);
	}
	assert_int_equal(cli_run(&r, NULL, "drs", "config", "--mode", "sometimes", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_non_null(strstr(r.err, "mode must be"));
	assert_int_equal(cli_run(&r, NULL, "drs", "config", "--level", "7", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	/* No plan yet; then one. */
	assert_int_equal(cli_run(&r, NULL, "drs", "plan", NULL), 0);
	assert_non_null(strstr(r.out, "no plan yet"));
	assert_int_equal(cli_run(&r, NULL, "drs", "plan", "--now", NULL), 0);
	assert_non_null(strstr(r.out, "run 1: manual, planned"));
	assert_non_null(strstr(r.out, "WAVE"));
	assert_non_null(strstr(r.out, "node1"));
	assert_non_null(strstr(r.out, "hosts after the plan"));
	assert_non_null(strstr(r.out, "power (DPM, proposals only)"));
	/* Apply it: a task, waited for. */
	assert_int_equal(cli_run(&r, NULL, "drs", "apply", "--json", NULL), 0);
	{
		g_autoptr(json_t) task = json_loads(r.out, 0, NULL);

		assert_string_equal(json_string_value(json_object_get(task, "state")), "succeeded");
		assert_string_equal(json_string_value(json_object_get(task, "kind")), "drs.apply");
	}
	for (int i = 0; i < N_VMS; i++)
		on_node1 += g_str_equal(sim_host[i], "node1");
	assert_int_equal(on_node1, N_VMS / 2);
	/* Again: a conflict (exit 4); a bad run id: usage; unknown: not found. */
	assert_int_equal(cli_run(&r, NULL, "drs", "apply", "1", NULL), ICS_ADMIN_EXIT_CONFLICT);
	assert_non_null(strstr(r.err, "is applied"));
	assert_int_equal(cli_run(&r, NULL, "drs", "apply", "one", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "drs", "apply", "99", NULL), ICS_ADMIN_EXIT_NOT_FOUND);
	/* History: the run, applied, its moves done. */
	assert_int_equal(cli_run(&r, NULL, "drs", "history", NULL), 0);
	assert_non_null(strstr(r.out, "applied"));
	assert_int_equal(cli_run(&r, NULL, "drs", "history", "--moves", NULL), 0);
	assert_non_null(strstr(r.out, "done"));
	assert_int_equal(cli_run(&r, NULL, "drs", "history", "--json", "--limit", "1", NULL), 0);
	{
		g_autoptr(json_t) j = json_loads(r.out, 0, NULL);
		json_t *run = json_array_get(json_object_get(j, "items"), 0);

		assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
		assert_int_equal(json_array_size(json_object_get(run, "moves")), N_VMS / 2);
	}
	assert_int_equal(cli_run(&r, NULL, "drs", "history", "--limit", "0", NULL),
			 ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "drs", "frob", NULL), ICS_ADMIN_EXIT_USAGE);
	assert_int_equal(cli_run(&r, NULL, "drs", "help", NULL), 0);
	assert_non_null(strstr(r.out, "history"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drs, setup, teardown),
	};

	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
