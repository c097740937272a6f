/*
 * test_pool_agent.c: the built ocf_ics_pool binary, run as Pacemaker runs
 * it (OCF_RESKEY_* environment, action argument), on the paths that need
 * neither a sanlock daemon nor a pool: meta-data against ra-api-1.dtd,
 * dispatch errors, parameter validation, block pools refused, probes and
 * stops of a pool that is not started, a missing pool, and a started pool
 * whose storage disappeared (monitor fails, stop is a soft unmount).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/exec.h"
#include "ics/xml.h"
#include "ocf.h"
#include <libxml/valid.h>

#define RA_DTD "/usr/share/resource-agents/ra-api-1.dtd"

typedef struct {
	char *dir;     /* temporary: state dir and pool paths */
	char *agent;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	const char *builddir = g_getenv("ICS_BUILDDIR");

	f->dir = g_dir_make_tmp("test-pool-agent-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->agent = g_build_filename(builddir ? builddir : ".", "resource-agents", "ocf_ics_pool",
				    NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f->agent);
	g_free(f);
	return 0;
}

/* Run "agent ACTION" with @env ("KEY=VALUE", NULL-terminated) added to a
 * base of state dir + host id; returns the exit code. */
static int agent(const Fixture *f, const char *action, const char *const *env,
		 IcsExecResult *res)
{
	g_autofree char *state_env = g_strdup_printf("ICS_POOL_STATE_DIR=%s/state", f->dir);
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	const char *argv[] = { f->agent, action, NULL };
	IcsExecOptions opts = { .argv = argv, .timeout_ms = 30000 };

	g_ptr_array_add(all, state_env);
	g_ptr_array_add(all, "OCF_RESKEY_host_id=1");
	g_ptr_array_add(all, "OCF_RESOURCE_INSTANCE=pool-test");
	g_ptr_array_add(all, "ICS_LOG_LEVEL=error");
	for (guint i = 0; env != NULL && env[i] != NULL; i++)
		g_ptr_array_add(all, (gpointer)env[i]);
	g_ptr_array_add(all, NULL);
	opts.env = (const char *const *)all->pdata;
	assert_true(ics_exec_run(&opts, res, NULL));
	return res->exit_status;
}

static char *env_kv(const char *key, const char *dir, const char *rest)
{
	return g_strdup_printf("%s=%s%s", key, dir, rest ? rest : "");
}

static void test_metadata(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	g_autoptr(xmlDoc) doc = NULL;
	const char *names[] = { "name",	   "path",	      "type",	    "source",	 "options",
				"uuid",	   "host_id",	      "monitor_timeout", "force_stop", NULL };

	assert_int_equal(agent(f, "meta-data", NULL, &res), OCF_SUCCESS);
	doc = ics_xml_parse_string(res.out, -1, "meta-data", NULL);
	assert_non_null(doc);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree char *xp = g_strdup_printf("//parameter[@name='%s']", names[i]);

		assert_int_equal(ics_xml_xpath_count(doc, xp, NULL), 1);
	}
	assert_non_null(strstr(res.out, "Soft unmount"));
	assert_non_null(strstr(res.out, "block pools are not supported yet"));
	assert_non_null(strstr(res.out, "migration-threshold=1"));
	if (g_file_test(RA_DTD, G_FILE_TEST_EXISTS)) {
		xmlDtd *dtd = xmlParseDTD(NULL, BAD_CAST RA_DTD);
		xmlValidCtxt *ctxt = xmlNewValidCtxt();
		int ok = xmlValidateDtd(ctxt, doc, dtd);

		xmlFreeValidCtxt(ctxt);
		xmlFreeDtd(dtd);
		assert_int_equal(ok, 1);
	}
}

static void test_dispatch(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	g_auto(IcsExecResult) res2 = { 0 };

	assert_int_equal(agent(f, "promote", NULL, &res), OCF_ERR_UNIMPLEMENTED);
	assert_int_equal(agent(f, NULL, NULL, &res2), OCF_ERR_ARGS);
	assert_non_null(strstr(res2.err, "usage: pool {start|stop|monitor|validate-all"));
}

static void test_bad_params(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) a = { 0 };
	g_auto(IcsExecResult) b = { 0 };
	const char *no_name[] = { "OCF_RESKEY_path=/srv/x", NULL };
	const char *bad_id[] = { "OCF_RESKEY_name=p", "OCF_RESKEY_path=/srv/x",
				 "OCF_RESKEY_host_id=2001", NULL };

	assert_int_equal(agent(f, "validate-all", no_name, &a), OCF_ERR_CONFIGURED);
	assert_non_null(strstr(a.err, "ocf-exit-reason:required parameter name is not set"));
	assert_int_equal(agent(f, "start", bad_id, &b), OCF_ERR_CONFIGURED);
	assert_non_null(strstr(b.err, "ocf-exit-reason:parameter host_id='2001'"));
}

static void test_block_refused(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	const char *env[] = { "OCF_RESKEY_name=blk", "OCF_RESKEY_path=/srv/blk",
			      "OCF_RESKEY_type=block", "OCF_RESKEY_source=/dev/null", NULL };

	assert_int_equal(agent(f, "start", env, &res), OCF_ERR_CONFIGURED);
	assert_non_null(strstr(res.err, "ocf-exit-reason:pool blk: block pools are not "
					"supported yet"));
}

static void test_not_started(void **state)
{
	Fixture *f = *state;
	g_autofree char *path = env_kv("OCF_RESKEY_path", f->dir, "/missing");
	const char *env[] = { "OCF_RESKEY_name=p", path, "OCF_RESKEY_CRM_meta_interval=0",
			      NULL };
	g_auto(IcsExecResult) probe = { 0 };
	g_auto(IcsExecResult) stop = { 0 };
	g_auto(IcsExecResult) validate = { 0 };

	assert_int_equal(agent(f, "monitor", env, &probe), OCF_NOT_RUNNING);
	assert_null(strstr(probe.err, "ocf-exit-reason"));
	assert_int_equal(agent(f, "stop", env, &stop), OCF_SUCCESS);
	assert_int_equal(agent(f, "validate-all", env, &validate), OCF_ERR_INSTALLED);
	assert_non_null(strstr(validate.err, "is not a directory on this node"));
}

static void test_start_without_pool(void **state)
{
	Fixture *f = *state;
	g_autofree char *path = env_kv("OCF_RESKEY_path", f->dir, NULL);
	const char *env[] = { "OCF_RESKEY_name=p", path, NULL };
	g_auto(IcsExecResult) res = { 0 };

	assert_int_equal(agent(f, "start", env, &res), OCF_ERR_INSTALLED);
	assert_non_null(strstr(res.err, "no .ics/pool.json"));
}

static void test_started_pool_lost_storage(void **state)
{
	Fixture *f = *state;
	g_autofree char *state_dir = g_build_filename(f->dir, "state", NULL);
	g_autofree char *marker = g_build_filename(state_dir, "p.started", NULL);
	g_autofree char *path = env_kv("OCF_RESKEY_path", f->dir, "/gone");
	const char *env[] = { "OCF_RESKEY_name=p", path, NULL };
	g_auto(IcsExecResult) mon = { 0 };
	g_auto(IcsExecResult) stop = { 0 };
	g_auto(IcsExecResult) after = { 0 };

	/* As if start had run and the storage then vanished. */
	assert_int_equal(g_mkdir_with_parents(state_dir, 0755), 0);
	assert_true(g_file_set_contents(marker, "1\n", -1, NULL));
	assert_int_equal(agent(f, "monitor", env, &mon), OCF_ERR_GENERIC);
	assert_non_null(strstr(mon.err, "ocf-exit-reason:pool p: host 1 cannot renew its "
					"heartbeat: storage unreachable"));
	/* Soft unmount: the stop succeeds, the marker is gone. */
	assert_int_equal(agent(f, "stop", env, &stop), OCF_SUCCESS);
	assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
	assert_int_equal(agent(f, "monitor", env, &after), OCF_NOT_RUNNING);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_metadata),	   T(test_dispatch),	     T(test_bad_params),
		T(test_block_refused),	   T(test_not_started),	     T(test_start_without_pool),
		T(test_started_pool_lost_storage),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
