/*
 * test_fence_ics_lab.c: end-to-end runs of the built fence_ics_lab binary
 * against a fake lab.
 *
 * Each test makes a temporary LAB_DIR whose "ics-lab" is a shell script
 * that appends its arguments to LAB_DIR/calls and exits with the code found
 * in LAB_DIR/rc-<op> (0 when absent), after sleeping LAB_DIR/sleep seconds
 * when that exists.  anchor.pid holds this test's own PID: nsenter into our
 * own mount namespace is a no-op that works as root, so the whole delegation
 * path runs for real.  Tests that reach nsenter are skipped when not root or
 * when nsenter is missing; argument checks, list and metadata run anywhere.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/xml.h"

static const char fake_cli[] = "#!/bin/sh\n"
			       "d=$(dirname \"$0\")\n"
			       "echo \"$*\" >> \"$d/calls\"\n"
			       "if [ -f \"$d/sleep\" ]; then sleep \"$(cat \"$d/sleep\")\"; fi\n"
			       "if [ -f \"$d/rc-$2\" ]; then exit \"$(cat \"$d/rc-$2\")\"; fi\n"
			       "exit 0\n";

typedef struct {
	char *dir;
	char *agent;
} Fixture;

static void put(const Fixture *f, const char *name, const char *content)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);

	assert_true(g_file_set_contents(path, content, -1, NULL));
}

static char *get(const Fixture *f, const char *name)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
	g_autofree char *cli = NULL;
	const char *builddir = g_getenv("ICS_BUILDDIR");

	f->dir = g_dir_make_tmp("fence_ics_lab-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->agent = g_build_filename(builddir ? builddir : ".", "fencing", "fence_ics_lab", NULL);
	put(f, "nodes", "node1\nnode2\n\nnode3\n");
	put(f, "anchor.pid", pid);
	put(f, "ics-lab", fake_cli);
	cli = g_build_filename(f->dir, "ics-lab", NULL);
	assert_int_equal(chmod(cli, 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	const char *names[] = { "nodes", "anchor.pid", "ics-lab",   "calls", "sleep",
				"rc-on", "rc-off",     "rc-status", "rc-reboot", NULL };

	for (const char **n = names; *n != NULL; n++) {
		g_autofree char *p = g_build_filename(f->dir, *n, NULL);

		g_unlink(p);
	}
	g_rmdir(f->dir);
	g_free(f->dir);
	g_free(f->agent);
	g_free(f);
	return 0;
}

/* Skip unless nsenter into our own mount namespace can work. */
static void require_nsenter(void)
{
	if (geteuid() != 0 || !g_file_test(ICS_NSENTER, G_FILE_TEST_IS_EXECUTABLE))
		skip();
}

/* Run the agent with @input on stdin (options also appended: lab_dir). */
static void agent(const Fixture *f, const char *input, const char *const *extra_argv,
		  IcsExecResult *res)
{
	g_autofree char *full = input ? g_strdup_printf("%slab_dir=%s\n", input, f->dir) : NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) err = NULL;
	IcsExecOptions opts = { .timeout_ms = 30000 };

	g_ptr_array_add(argv, f->agent);
	for (const char *const *a = extra_argv; a != NULL && *a != NULL; a++)
		g_ptr_array_add(argv, (gpointer)*a);
	g_ptr_array_add(argv, NULL);
	opts.argv = (const char *const *)argv->pdata;
	opts.stdin_data = full;
	assert_true(ics_exec_run(&opts, res, &err));
	assert_null(err);
}

static void test_metadata(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree char *name = NULL;
	g_autofree char *def = NULL;
	g_autoptr(GError) err = NULL;

	agent(f, "action=metadata\n", NULL, &res);
	assert_int_equal(res.exit_status, 0);
	doc = ics_xml_parse_string(res.out, -1, "metadata", &err);
	assert_non_null(doc);
	name = ics_xml_xpath_string(doc, "string(/resource-agent/@name)", NULL);
	assert_string_equal(name, "fence_ics_lab");
	assert_int_equal(ics_xml_xpath_count(
				 doc, "/resource-agent/parameters/parameter[@name='port']", NULL),
			 1);
	assert_int_equal(ics_xml_xpath_count(
				 doc, "/resource-agent/parameters/parameter[@name='plug']", NULL),
			 1);
	def = ics_xml_xpath_string(doc, "string(//parameter[@name='lab_dir']/content/@default)",
				   NULL);
	assert_string_equal(def, "/var/tmp/ics-lab/ics");
	assert_int_equal(ics_xml_xpath_count(doc, "/resource-agent/actions/action", NULL), 8);
	assert_int_equal(ics_xml_xpath_count(doc, "//action[@name='validate-all']", NULL), 1);
	assert_int_equal(ics_xml_xpath_count(doc, "//shortdesc", NULL) >= 5, 1);
}

static void test_list(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };

	agent(f, "action=list\nbogus_key=1\n", NULL, &res);
	assert_int_equal(res.exit_status, 0);
	assert_string_equal(res.out, "node1\nnode2\nnode3\n");
	assert_non_null(strstr(res.err, "unknown option 'bogus_key'"));
}

static void test_unknown_node(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	g_autofree char *calls = NULL;

	agent(f, "action=off\nport=x\n", NULL, &res);
	assert_int_equal(res.exit_status, 1);
	assert_string_equal(res.err,
			    "fence_ics_lab: unknown node 'x' (lab has: node1 node2 node3)\n");
	calls = get(f, "calls");
	assert_string_equal(calls, "");
}

static void test_missing_port_and_bad_action(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) noport = { 0 };
	g_auto(IcsExecResult) badact = { 0 };

	agent(f, "action=on\n", NULL, &noport);
	assert_int_equal(noport.exit_status, 1);
	assert_non_null(strstr(noport.err, "no node given"));

	agent(f, "action=explode\nport=node1\n", NULL, &badact);
	assert_int_equal(badact.exit_status, 1);
	assert_string_equal(badact.err, "fence_ics_lab: unknown action 'explode' (valid: on off "
					"reboot status list monitor metadata validate-all)\n");
}

static void test_missing_lab(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	g_auto(IcsExecResult) dead = { 0 };

	{
		const char *argv[] = {
			"--lab-dir", "/nonexistent/lab", "-o", "status", "-n", "node1", NULL
		};

		agent(f, NULL, argv, &res);
	}
	assert_int_equal(res.exit_status, 1);
	assert_string_equal(res.err, "fence_ics_lab: lab directory /nonexistent/lab does not "
				     "exist (set lab_dir)\n");

	put(f, "anchor.pid", "2147483646\n");
	agent(f, "action=monitor\n", NULL, &dead);
	assert_int_equal(dead.exit_status, 1);
	assert_non_null(strstr(dead.err, "lab is not running: anchor process 2147483646"));
}

static void test_validate_all(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) ok = { 0 };
	g_auto(IcsExecResult) bad_timeout = { 0 };
	g_auto(IcsExecResult) bad_node = { 0 };

	agent(f, "action=validate-all\nport=node2\n", NULL, &ok);
	assert_int_equal(ok.exit_status, 0);
	agent(f, "action=validate-all\npower_timeout=soon\n", NULL, &bad_timeout);
	assert_int_equal(bad_timeout.exit_status, 1);
	assert_non_null(strstr(bad_timeout.err, "power_timeout 'soon'"));
	agent(f, "action=validate-all\nport=node7\n", NULL, &bad_node);
	assert_int_equal(bad_node.exit_status, 1);
}

static void test_status_on_and_off(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) on = { 0 };
	g_auto(IcsExecResult) off = { 0 };
	g_auto(IcsExecResult) broken = { 0 };
	g_autofree char *calls = NULL;

	require_nsenter();
	agent(f, "action=status\nport=node2\n", NULL, &on);
	assert_int_equal(on.exit_status, 0);
	assert_string_equal(on.out, "Status: ON\n");

	put(f, "rc-status", "2");
	agent(f, "action=status\nplug=node3\n", NULL, &off);
	assert_int_equal(off.exit_status, 2);
	assert_string_equal(off.out, "Status: OFF\n");

	put(f, "rc-status", "5");
	agent(f, "action=status\nport=node1\n", NULL, &broken);
	assert_int_equal(broken.exit_status, 1);
	assert_non_null(strstr(broken.err, "exited with status 5"));

	calls = get(f, "calls");
	assert_string_equal(calls, "power status node2\npower status node3\npower status node1\n");
}

static void test_off_on_via_nsenter(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) off = { 0 };
	g_auto(IcsExecResult) on = { 0 };
	g_autofree char *calls = NULL;

	require_nsenter();
	/* Pacemaker's way: nodename comes along and must not override port. */
	agent(f, "action=off\nnodename=node3\nport=node1\n", NULL, &off);
	assert_int_equal(off.exit_status, 0);
	put(f, "rc-on", "1");
	agent(f, "option=on\nport=node2\n", NULL, &on);
	assert_int_equal(on.exit_status, 1);
	assert_non_null(strstr(on.err, "power on of node 'node2' failed"));
	calls = get(f, "calls");
	assert_string_equal(calls, "power off node1\npower on node2\n");
}

static void test_reboot(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) ok = { 0 };
	g_auto(IcsExecResult) fail = { 0 };
	g_autofree char *calls = NULL;

	require_nsenter();
	/* one lab call, so a node fencing itself is still powered on again */
	agent(f, "action=reboot\nport=node3\n", NULL, &ok);
	assert_int_equal(ok.exit_status, 0);
	put(f, "rc-reboot", "1");
	agent(f, "action=reboot\nport=node2\n", NULL, &fail);
	assert_int_equal(fail.exit_status, 1);
	assert_non_null(strstr(fail.err, "power reboot of node 'node2' failed"));
	calls = get(f, "calls");
	assert_string_equal(calls, "power reboot node3\npower reboot node2\n");
}

static void test_argv_only(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	const char *argv[] = { "-o", "status", "-n", "node1", "--lab-dir", f->dir, NULL };
	g_autofree char *calls = NULL;

	require_nsenter();
	agent(f, NULL, argv, &res);
	assert_int_equal(res.exit_status, 0);
	assert_string_equal(res.out, "Status: ON\n");
	calls = get(f, "calls");
	assert_string_equal(calls, "power status node1\n");
}

static void test_monitor(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };

	require_nsenter();
	agent(f, "action=monitor\n", NULL, &res);
	assert_int_equal(res.exit_status, 0);
}

static void test_power_timeout(void **state)
{
	Fixture *f = *state;
	g_auto(IcsExecResult) res = { 0 };
	gint64 start;

	require_nsenter();
	put(f, "sleep", "30");
	start = g_get_monotonic_time();
	agent(f, "action=off\nport=node1\npower_timeout=0.5\n", NULL, &res);
	assert_true((g_get_monotonic_time() - start) / 1000 < 10000);
	assert_int_equal(res.exit_status, 1);
	assert_non_null(strstr(res.err, "did not finish within 0.500 s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_port_and_bad_action, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_lab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_on_and_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_on_via_nsenter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_timeout, setup, teardown),
	};

	return cmocka_run_group_tests_name("fence_ics_lab", tests, NULL, NULL);
}
