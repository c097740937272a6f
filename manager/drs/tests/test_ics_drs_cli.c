/*
 * test_ics_drs_cli.c: the ics-drs command's contract, as the benchmark and
 * users' scripts rely on it: the plan as vm<TAB>from<TAB>to lines in
 * execution order followed by "# score" lines, exit status 1 with
 * "FILE:LINE: reason" on bad input, 2 on usage errors, 0 with an
 * explanation on an infeasible state, valid JSON with --json, stdin as -.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "drs_test_util.h"

static char *binary(void)
{
	const char *b = g_getenv("ICS_BUILDDIR");

	return g_build_filename(b ? b : "../../..", "manager", "drs", "ics-drs", NULL);
}

/* Run ics-drs with @args (NULL-terminated, after the program) and @input on
 * stdin; returns the exit status, output in *@out and *@err. */
static int run(const char *const *args, const char *input, char **out, char **err)
{
	g_autofree char *bin = binary();
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *in_path = NULL;
	g_autoptr(GError) e = NULL;
	int fd = g_file_open_tmp("ics-drs-cli-XXXXXX", &in_path, &e);
	int status = -1;

	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(in_path, input ? input : "", -1, NULL));
	g_ptr_array_add(argv, (gpointer) "/bin/sh");
	g_ptr_array_add(argv, (gpointer) "-c");
	g_ptr_array_add(argv, (gpointer) "exec \"$@\" < \"$0\"");
	g_ptr_array_add(argv, in_path);
	g_ptr_array_add(argv, bin);
	for (guint i = 0; args[i]; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
				 err, &status, &e));
	g_unlink(in_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *state = "# two hosts, one full\n"
			   "H\tn1\t8\t16384\nH\tn2\t8\t16384\n"
			   "V\ta\t4\t4096\t3500\t3000\tn1\nV\tb\t2\t4096\t500\t1000\tn1\n"
			   "V\tc\t2\t4096\t1000\t2000\tn1\n";

static void test_plan_text(void **unused)
{
	const char *args[] = { "plan", "-", NULL };
	g_autofree char *out = NULL, *err = NULL;
	guint moves = 0, scores = 0;

	assert_int_equal(run(args, state, &out, &err), 0);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] && *lines[i]; i++) {
		if (lines[i][0] == '#') {
			scores += g_str_has_prefix(lines[i], "# score initial hbal ") ||
				  g_str_has_prefix(lines[i], "# score final hbal ");
			continue;
		}
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
		assert_int_equal(g_strv_length(f), 3);
		assert_string_equal(f[1], "n1");
		assert_string_equal(f[2], "n2");
		assert_int_equal(scores, 0); /* moves come first */
		moves++;
	}
	assert_true(moves >= 1);
	assert_int_equal(scores, 2);
}

static void test_plan_json(void **unused)
{
	const char *args[] = { "plan", "--json", "-", NULL };
	g_autofree char *out = NULL, *err = NULL;
	json_error_t je;

	assert_int_equal(run(args, state, &out, &err), 0);
	json_t *j = json_loads(out, 0, &je);
	assert_non_null(j);
	assert_true(json_array_size(json_object_get(j, "moves")) >= 1);
	assert_true(json_is_real(
		json_object_get(json_object_get(json_object_get(j, "score"), "final"), "hbal")));
	json_decref(j);
}

static void test_score(void **unused)
{
	const char *args[] = { "score", "-", NULL };
	g_autofree char *out = NULL, *err = NULL;

	assert_int_equal(run(args, state, &out, &err), 0);
	assert_true(g_str_has_prefix(out, "# score hbal "));
	assert_non_null(strstr(out, "free_mem_sd\t"));
}

static void test_bad_input(void **unused)
{
	const char *args[] = { "plan", "-", NULL };
	g_autofree char *out = NULL, *err = NULL;

	assert_int_equal(run(args, "H\tn1\t8\t16384\nV\tv\t1\t1024\t0\t0\tghost\n", &out, &err), 1);
	assert_non_null(strstr(err, "stdin:2: VM \"v\" runs on unknown host \"ghost\""));
	assert_string_equal(out, "");
}

static void test_usage(void **unused)
{
	const char *none[] = { NULL };
	const char *level[] = { "plan", "--level", "7", "-", NULL };
	const char *cmd[] = { "frobnicate", "-", NULL };
	g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;

	assert_int_equal(run(none, state, &o1, &e1), 2);
	assert_int_equal(run(level, state, &o2, &e2), 2);
	assert_int_equal(run(cmd, state, &o3, &e3), 2);
}

static void test_infeasible(void **unused)
{
	const char *args[] = { "plan", "-", NULL };
	g_autofree char *out = NULL, *err = NULL;

	assert_int_equal(run(args,
			     "H\tn1\t8\t4096\nH\tn2\t8\t4096\tmaintenance\n"
			     "V\ta\t1\t3072\t0\t0\tn1\nV\tb\t1\t3072\t0\t0\tn2\n",
			     &out, &err),
			 0);
	assert_non_null(strstr(out, "# moves 0"));
	assert_non_null(strstr(out, "# explanation VMs need 6144 MiB"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_text), cmocka_unit_test(test_plan_json),
		cmocka_unit_test(test_score),	  cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_usage),	  cmocka_unit_test(test_infeasible),
	};
	return cmocka_run_group_tests_name("ics_drs_cli", tests, NULL, NULL);
}
