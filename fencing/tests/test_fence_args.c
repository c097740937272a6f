/*
 * test_fence_args.c: the fence-agents option parser: stdin lines, aliases,
 * weak aliases, argv over stdin, malformed and overlong input, actions.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fence_args.h"
#include "ics/error.h"
#include "ics/log.h"

static const FenceParam params[] = {
	{ "action", NULL, FALSE, 'o', "action", FALSE },
	{ "option", "action", FALSE, 0, NULL, FALSE },
	{ "port", NULL, FALSE, 'n', "plug", FALSE },
	{ "plug", "port", FALSE, 0, NULL, FALSE },
	{ "nodename", "port", TRUE, 0, NULL, FALSE },
	{ "lab_dir", NULL, FALSE, 0, "lab-dir", FALSE },
	{ "verbose", NULL, FALSE, 'v', "verbose", TRUE },
	{ NULL, NULL, FALSE, 0, NULL, FALSE },
};

static gboolean parse(FenceArgs *a, const char *text, GError **error)
{
	return fence_args_parse_text(a, text, strlen(text), error);
}

static int quiet(void **state)
{
	/* Warnings about ignored lines are expected here; keep the TAP stream clean. */
	ics_log_init("test_fence_args", ICS_LOG_STDERR, ICS_LOG_ERROR);
	return 0;
}

static void test_stdin_basic(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	FenceAction act;

	assert_true(parse(a, "# from fenced\n\naction=off\n  port = node2  \nlab_dir=/tmp/lab\n",
			  NULL));
	assert_true(fence_args_action(a, &act, NULL));
	assert_int_equal(act, FENCE_ACTION_OFF);
	assert_string_equal(fence_args_get(a, "port"), "node2");
	assert_string_equal(fence_args_get(a, "lab_dir"), "/tmp/lab");
	assert_null(fence_args_get(a, "verbose"));
	assert_false(fence_args_get_bool(a, "verbose"));
	assert_string_equal(fence_args_get_or(a, "missing", "dflt"), "dflt");
}

static void test_aliases(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(FenceArgs) b = fence_args_new(params);
	FenceAction act;

	assert_true(parse(a, "option=status\nplug=node3\n", NULL));
	assert_true(fence_args_action(a, &act, NULL));
	assert_int_equal(act, FENCE_ACTION_STATUS);
	assert_string_equal(fence_args_get(a, "port"), "node3");

	/* Last line wins between strong aliases. */
	assert_true(parse(b, "port=node1\nplug=node2\n", NULL));
	assert_string_equal(fence_args_get(b, "port"), "node2");
}

static void test_nodename_only_when_port_absent(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(FenceArgs) b = fence_args_new(params);

	/* Pacemaker passes nodename alongside port; port must win in any order. */
	assert_true(parse(a, "nodename=node9\nport=node1\n", NULL));
	assert_string_equal(fence_args_get(a, "port"), "node1");
	assert_true(parse(a, "nodename=node8\n", NULL));
	assert_string_equal(fence_args_get(a, "port"), "node1");

	assert_true(parse(b, "nodename=node9\n", NULL));
	assert_string_equal(fence_args_get(b, "port"), "node9");
}

static void test_argv_over_stdin(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	char *argv[] = { "agent", "-o", "on", "--plug=node3", "--lab-dir", "/l", "-v", NULL };
	FenceAction act;

	assert_true(parse(a, "action=off\nport=node1\nlab_dir=/stdin\n", NULL));
	assert_true(fence_args_parse_argv(a, 7, argv, NULL));
	assert_true(fence_args_action(a, &act, NULL));
	assert_int_equal(act, FENCE_ACTION_ON);
	assert_string_equal(fence_args_get(a, "port"), "node3");
	assert_string_equal(fence_args_get(a, "lab_dir"), "/l");
	assert_true(fence_args_get_bool(a, "verbose"));
	assert_false(fence_args_help(a));
}

static void test_argv_short_attached_and_help(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	char *argv[] = { "agent", "-oreboot", "-nnode2", "--action=list", "-h", NULL };
	FenceAction act;

	assert_true(fence_args_parse_argv(a, 5, argv, NULL));
	assert_true(fence_args_action(a, &act, NULL));
	assert_int_equal(act, FENCE_ACTION_LIST); /* later option wins */
	assert_string_equal(fence_args_get(a, "port"), "node2");
	assert_true(fence_args_help(a));
}

static void test_argv_errors(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(FenceArgs) b = fence_args_new(params);
	g_autoptr(FenceArgs) c = fence_args_new(params);
	char *unknown[] = { "agent", "--bogus", NULL };
	char *missing[] = { "agent", "-o", NULL };
	char *positional[] = { "agent", "-o", "off", "node1", NULL };
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;

	assert_false(fence_args_parse_argv(a, 2, unknown, &e1));
	assert_true(g_error_matches(e1, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_string_equal(e1->message, "unknown option '--bogus'");
	assert_false(fence_args_parse_argv(b, 2, missing, &e2));
	assert_string_equal(e2->message, "option '-o' needs a value");
	assert_false(fence_args_parse_argv(c, 4, positional, &e3));
	assert_string_equal(e3->message, "unexpected argument 'node1'");
}

static void test_malformed_and_unknown_lines_skipped(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);

	assert_true(parse(a,
			  "garbage without equals\n=novalue\nfrobnicate=1\n"
			  "port=node1\r\n\t# indented comment\n",
			  NULL));
	assert_string_equal(fence_args_get(a, "port"), "node1");
	assert_null(fence_args_get(a, "frobnicate"));
	assert_null(fence_args_get(a, "garbage without equals"));
}

static void test_value_may_contain_equals_and_be_empty(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);

	assert_true(parse(a, "lab_dir=/a=b\nverbose=\nport=", NULL));
	assert_string_equal(fence_args_get(a, "lab_dir"), "/a=b");
	assert_true(fence_args_get_bool(a, "verbose"));
	assert_string_equal(fence_args_get(a, "port"), "");
}

static void test_overlong_line(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(GError) err = NULL;
	g_autofree char *big = g_strnfill(FENCE_ARGS_MAX_LINE + 1, 'x');
	g_autofree char *text = g_strdup_printf("port=node1\nlab_dir=%s\n", big);

	assert_false(parse(a, text, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_string_equal(err->message, "line 2 on stdin is longer than 4096 bytes");
}

static void test_overlong_input(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(GError) err = NULL;
	g_autoptr(GString) text = g_string_new(NULL);

	while (text->len <= FENCE_ARGS_MAX_INPUT)
		g_string_append(text, "# padding padding padding padding padding\n");
	assert_false(fence_args_parse_text(a, text->str, text->len, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static void test_nul_byte(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(GError) err = NULL;
	static const char text[] = "port=node1\0action=off\n";

	assert_false(fence_args_parse_text(a, text, sizeof(text) - 1, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static void test_stream_bounded(void **state)
{
	g_autoptr(FenceArgs) a = fence_args_new(params);
	g_autoptr(FenceArgs) b = fence_args_new(params);
	g_autoptr(GError) err = NULL;
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs("action=monitor\n", f);
	rewind(f);
	assert_true(fence_args_parse_stream(a, f, NULL));
	assert_string_equal(fence_args_get(a, "action"), "monitor");
	rewind(f);
	for (int i = 0; i < FENCE_ARGS_MAX_INPUT / 8 + 1; i++)
		fputs("#1234567", f);
	rewind(f);
	assert_false(fence_args_parse_stream(b, f, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	fclose(f);
}

static void test_actions(void **state)
{
	static const char *names[] = { "on",   "off",	  "reboot",   "status",
				       "list", "monitor", "metadata", "validate-all" };
	g_autoptr(FenceArgs) dflt = fence_args_new(params);
	g_autoptr(FenceArgs) bad = fence_args_new(params);
	g_autoptr(GError) err = NULL;
	FenceAction act;

	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		assert_true(fence_action_parse(names[i], &act));
		assert_int_equal(act, (FenceAction)i);
		assert_string_equal(fence_action_name(act), names[i]);
	}
	assert_true(fence_action_parse("meta-data", &act));
	assert_int_equal(act, FENCE_ACTION_METADATA);
	assert_false(fence_action_parse("ON", &act));
	assert_false(fence_action_parse(NULL, &act));

	assert_true(fence_args_action(dflt, &act, NULL));
	assert_int_equal(act, FENCE_ACTION_REBOOT);

	assert_true(parse(bad, "action=explode\n", NULL));
	assert_false(fence_args_action(bad, &act, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_string_equal(err->message, "unknown action 'explode' (valid: on off reboot status "
					  "list monitor metadata validate-all)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_basic),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_nodename_only_when_port_absent),
		cmocka_unit_test(test_argv_over_stdin),
		cmocka_unit_test(test_argv_short_attached_and_help),
		cmocka_unit_test(test_argv_errors),
		cmocka_unit_test(test_malformed_and_unknown_lines_skipped),
		cmocka_unit_test(test_value_may_contain_equals_and_be_empty),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_overlong_input),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_stream_bounded),
		cmocka_unit_test(test_actions),
	};

	return cmocka_run_group_tests_name("fence_args", tests, quiet, NULL);
}
