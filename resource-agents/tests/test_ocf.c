/*
 * test_ocf.c: the OCF calling convention of ICS agents: parameters from
 * the environment, probes, timeouts, exit reasons, the dispatcher and the
 * meta-data, which is validated against Pacemaker's ra-api-1.dtd when the
 * resource-agents package provides it (skipped otherwise).
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/xml.h"
#include <libxml/valid.h>
#include "ocf.h"

#define RA_DTD "/usr/share/resource-agents/ra-api-1.dtd"

static int runs;

static int run_ok(const OcfAgent *agent)
{
	runs++;
	return OCF_SUCCESS;
}

static int run_fail(const OcfAgent *agent)
{
	ocf_exit_reason("thing %s broke\nbadly", "x");
	return OCF_ERR_GENERIC;
}

static const OcfParam params[] = {
	{ "name", OCF_TYPE_STRING, NULL, TRUE, TRUE, "Name", "The <name> & more" },
	{ "count", OCF_TYPE_INTEGER, "3", FALSE, FALSE, "Count", NULL },
	{ "flag", OCF_TYPE_BOOLEAN, "false", FALSE, FALSE, "Flag", "A flag" },
	{ "wait", OCF_TYPE_TIME, "10s", FALSE, FALSE, "Wait", "How long" },
	{ NULL, 0, NULL, FALSE, FALSE, NULL, NULL },
};

static const OcfAction actions[] = {
	{ "start", run_ok, 60, 0, -1 },
	{ "stop", run_fail, 60, 0, -1 },
	{ "monitor", run_ok, 30, 5, 0 },
	{ "validate-all", run_ok, 20, 0, -1 },
	{ "meta-data", NULL, 5, 0, -1 },
	{ NULL, NULL, 0, 0, 0 },
};

static const OcfAgent agent = {
	.name = "test",
	.version = "1.0",
	.shortdesc = "Test agent",
	.longdesc = "An agent for tests",
	.params = params,
	.actions = actions,
};

static int clean_env(void **state)
{
	g_unsetenv("OCF_RESKEY_name");
	g_unsetenv("OCF_RESKEY_count");
	g_unsetenv("OCF_RESKEY_CRM_meta_interval");
	g_unsetenv("OCF_RESKEY_CRM_meta_timeout");
	g_unsetenv("OCF_RESOURCE_INSTANCE");
	runs = 0;
	return 0;
}

/* Run @fn-like dispatch with stdout and stderr captured into files. */
typedef struct {
	char *out;
	char *err;
	int rc;
} Captured;

static void captured_clear(Captured *c)
{
	g_free(c->out);
	g_free(c->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Captured, captured_clear)

static void dispatch(Captured *c, int argc, char **argv)
{
	char out_tmpl[] = "/tmp/test-ocf-out-XXXXXX";
	char err_tmpl[] = "/tmp/test-ocf-err-XXXXXX";
	int ofd = mkstemp(out_tmpl), efd = mkstemp(err_tmpl);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);

	assert_true(ofd >= 0 && efd >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(ofd, STDOUT_FILENO);
	dup2(efd, STDERR_FILENO);
	c->rc = ocf_main(&agent, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	close(ofd);
	close(efd);
	assert_true(g_file_get_contents(out_tmpl, &c->out, NULL, NULL));
	assert_true(g_file_get_contents(err_tmpl, &c->err, NULL, NULL));
	g_unlink(out_tmpl);
	g_unlink(err_tmpl);
}

static void test_rc_names(void **state)
{
	assert_string_equal(ocf_rc_name(OCF_SUCCESS), "OCF_SUCCESS");
	assert_string_equal(ocf_rc_name(OCF_NOT_RUNNING), "OCF_NOT_RUNNING");
	assert_string_equal(ocf_rc_name(OCF_FAILED_PROMOTED), "OCF_FAILED_PROMOTED");
	assert_string_equal(ocf_rc_name(42), "OCF_UNKNOWN");
	assert_int_equal(OCF_ERR_CONFIGURED, 6);
	assert_int_equal(OCF_RUNNING_PROMOTED, 8);
}

static void test_params_and_defaults(void **state)
{
	assert_null(ocf_param_raw("name"));
	assert_null(ocf_param(&agent, "name"));
	assert_string_equal(ocf_param(&agent, "count"), "3");
	g_setenv("OCF_RESKEY_count", "", TRUE);
	assert_string_equal(ocf_param(&agent, "count"), "3"); /* empty = unset */
	g_setenv("OCF_RESKEY_count", "7", TRUE);
	assert_string_equal(ocf_param(&agent, "count"), "7");
	assert_null(ocf_param(&agent, "nosuch"));
}

static void test_required(void **state)
{
	g_autoptr(GError) error = NULL;

	assert_false(ocf_check_required(&agent, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(error->message, "name"));
	g_setenv("OCF_RESKEY_name", "x", TRUE);
	assert_true(ocf_check_required(&agent, NULL));
}

static void test_bool(void **state)
{
	const char *yes[] = { "1", "yes", "TRUE", "on", "Yes" };
	const char *no[] = { "0", "no", "false", "OFF" };
	g_autoptr(GError) error = NULL;
	gboolean b;

	for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
		b = FALSE;
		assert_true(ocf_parse_bool("f", yes[i], &b, NULL));
		assert_true(b);
	}
	for (guint i = 0; i < G_N_ELEMENTS(no); i++) {
		b = TRUE;
		assert_true(ocf_parse_bool("f", no[i], &b, NULL));
		assert_false(b);
	}
	assert_false(ocf_parse_bool("force_stop", "maybe", &b, &error));
	assert_non_null(strstr(error->message, "force_stop='maybe'"));
}

static void test_uint(void **state)
{
	guint64 v = 0;

	assert_true(ocf_parse_uint("n", "2000", 1, 2000, &v, NULL));
	assert_int_equal(v, 2000);
	assert_false(ocf_parse_uint("n", "2001", 1, 2000, &v, NULL));
	assert_false(ocf_parse_uint("n", "0", 1, 2000, &v, NULL));
	assert_false(ocf_parse_uint("n", "-1", 0, 2000, &v, NULL));
	assert_false(ocf_parse_uint("n", "12x", 0, 2000, &v, NULL));
	assert_false(ocf_parse_uint("n", "", 0, 2000, &v, NULL));
	assert_false(ocf_parse_uint("n", NULL, 0, 2000, &v, NULL));
	assert_false(ocf_parse_uint("n", "99999999999999999999999", 0, G_MAXUINT64, &v, NULL));
}

static void test_timeout(void **state)
{
	assert_int_equal(ocf_timeout_ms(1234), 1234);
	g_setenv("OCF_RESKEY_CRM_meta_timeout", "30000", TRUE);
	assert_int_equal(ocf_timeout_ms(1234), 30000);
	g_setenv("OCF_RESKEY_CRM_meta_timeout", "junk", TRUE);
	assert_int_equal(ocf_timeout_ms(1234), 1234);
}

static void test_instance(void **state)
{
	assert_string_equal(ocf_resource_instance(&agent), "test");
	g_setenv("OCF_RESOURCE_INSTANCE", "ics-pool-shared:1", TRUE);
	assert_string_equal(ocf_resource_instance(&agent), "ics-pool-shared:1");
}

static void test_probe_detection(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "monitor", NULL };

	dispatch(&c, 2, argv);
	assert_false(ocf_is_probe()); /* no interval: a manual run */
	g_setenv("OCF_RESKEY_CRM_meta_interval", "0", TRUE);
	assert_true(ocf_is_probe());
	g_setenv("OCF_RESKEY_CRM_meta_interval", "5000", TRUE);
	assert_false(ocf_is_probe());
}

static void test_probe_only_for_monitor(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "start", NULL };

	g_setenv("OCF_RESKEY_CRM_meta_interval", "0", TRUE);
	dispatch(&c, 2, argv);
	assert_string_equal(ocf_current_action(), "start");
	assert_false(ocf_is_probe());
}

static void test_dispatch_runs_action(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "start", NULL };

	dispatch(&c, 2, argv);
	assert_int_equal(c.rc, OCF_SUCCESS);
	assert_int_equal(runs, 1);
}

static void test_dispatch_no_action(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", NULL };

	dispatch(&c, 1, argv);
	assert_int_equal(c.rc, OCF_ERR_ARGS);
	assert_non_null(strstr(c.err, "usage: test {start|stop|monitor|validate-all|meta-data}"));
	assert_int_equal(runs, 0);
}

static void test_dispatch_unknown_action(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "promote", NULL };

	dispatch(&c, 2, argv);
	assert_int_equal(c.rc, OCF_ERR_UNIMPLEMENTED);
	assert_int_equal(runs, 0);
}

static void test_dispatch_usage(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "usage", NULL };

	dispatch(&c, 2, argv);
	assert_int_equal(c.rc, OCF_SUCCESS);
	assert_non_null(strstr(c.out, "name"));
	assert_non_null(strstr(c.out, "(required)"));
}

static void test_exit_reason(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "stop", NULL };

	dispatch(&c, 2, argv);
	assert_int_equal(c.rc, OCF_ERR_GENERIC);
	/* One line, prefix exactly as Pacemaker parses it. */
	assert_non_null(strstr(c.err, "ocf-exit-reason:thing x broke badly\n"));
}

static void test_metadata_dispatch(void **state)
{
	g_auto(Captured) c = { 0 };
	char *argv[] = { "test", "meta-data", NULL };

	dispatch(&c, 2, argv);
	assert_int_equal(c.rc, OCF_SUCCESS);
	assert_non_null(strstr(c.out, "<resource-agent name=\"test\""));
	assert_string_equal(c.err, "");
}

static void test_metadata_content(void **state)
{
	g_autofree char *xml = ocf_metadata_xml(&agent);
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(xml, -1, "meta-data", NULL);
	g_autofree char *v = NULL;

	assert_non_null(doc);
	assert_int_equal(ics_xml_xpath_count(doc, "/resource-agent/parameters/parameter", NULL),
			 4);
	v = ics_xml_xpath_string(doc, "//parameter[@name='name']/@required", NULL);
	assert_string_equal(v, "1");
	g_free(v);
	v = ics_xml_xpath_string(doc, "//parameter[@name='name']/longdesc", NULL);
	assert_string_equal(v, "The <name> & more"); /* escaped, round-trips */
	g_free(v);
	v = ics_xml_xpath_string(doc, "//parameter[@name='count']/content/@default", NULL);
	assert_string_equal(v, "3");
	g_free(v);
	v = ics_xml_xpath_string(doc, "//parameter[@name='flag']/content/@type", NULL);
	assert_string_equal(v, "boolean");
	g_free(v);
	v = ics_xml_xpath_string(doc, "//action[@name='monitor']/@interval", NULL);
	assert_string_equal(v, "5s");
	g_free(v);
	v = ics_xml_xpath_string(doc, "//action[@name='monitor']/@timeout", NULL);
	assert_string_equal(v, "30s");
	g_free(v);
	v = ics_xml_xpath_string(doc, "//action[@name='monitor']/@depth", NULL);
	assert_string_equal(v, "0");
	assert_int_equal(ics_xml_xpath_count(doc, "//action[@name='start']/@depth", NULL), 0);
	assert_int_equal(ics_xml_xpath_count(doc, "//action", NULL), 5);
}

static void test_metadata_valid_against_dtd(void **state)
{
	g_autofree char *xml = ocf_metadata_xml(&agent);
	g_autoptr(xmlDoc) doc = NULL;
	xmlDtd *dtd;
	xmlValidCtxt *ctxt;
	int ok;

	if (!g_file_test(RA_DTD, G_FILE_TEST_EXISTS)) {
		skip();
		return;
	}
	doc = ics_xml_parse_string(xml, -1, "meta-data", NULL);
	assert_non_null(doc);
	dtd = xmlParseDTD(NULL, BAD_CAST RA_DTD);
	assert_non_null(dtd);
	ctxt = xmlNewValidCtxt();
	ok = xmlValidateDtd(ctxt, doc, dtd);
	xmlFreeValidCtxt(ctxt);
	xmlFreeDtd(dtd);
	assert_int_equal(ok, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rc_names, clean_env),
		cmocka_unit_test_setup(test_params_and_defaults, clean_env),
		cmocka_unit_test_setup(test_required, clean_env),
		cmocka_unit_test_setup(test_bool, clean_env),
		cmocka_unit_test_setup(test_uint, clean_env),
		cmocka_unit_test_setup(test_timeout, clean_env),
		cmocka_unit_test_setup(test_instance, clean_env),
		cmocka_unit_test_setup(test_probe_detection, clean_env),
		cmocka_unit_test_setup(test_probe_only_for_monitor, clean_env),
		cmocka_unit_test_setup(test_dispatch_runs_action, clean_env),
		cmocka_unit_test_setup(test_dispatch_no_action, clean_env),
		cmocka_unit_test_setup(test_dispatch_unknown_action, clean_env),
		cmocka_unit_test_setup(test_dispatch_usage, clean_env),
		cmocka_unit_test_setup(test_exit_reason, clean_env),
		cmocka_unit_test_setup(test_metadata_dispatch, clean_env),
		cmocka_unit_test_setup(test_metadata_content, clean_env),
		cmocka_unit_test_setup(test_metadata_valid_against_dtd, clean_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
