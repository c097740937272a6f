/*
 * test_log.c: level threshold, ICS_LOG_LEVEL override, line format.
 *
 * stderr is redirected to a temporary file around each call so the exact
 * line written can be checked.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/log.h"

/* Run ics_log(level, "%s", msg) with stderr captured; return what was written. */
static char *capture(IcsLogLevel level, const char *msg)
{
	g_autofree char *path = NULL;
	char *text = NULL;
	int fd, saved;

	fd = g_file_open_tmp("test_log-XXXXXX", &path, NULL);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	ics_log(level, "%s", msg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	unlink(path);
	return text;
}

static int reset(void **state)
{
	g_unsetenv("ICS_LOG_LEVEL");
	ics_log_init("ics-test", ICS_LOG_STDERR, ICS_LOG_NOTICE);
	return 0;
}

static void test_line_format(void **state)
{
	g_autofree char *out = capture(ICS_LOG_ERROR, "disk gone");

	assert_string_equal(out, "ics-test: error: disk gone\n");
}

static void test_threshold(void **state)
{
	g_autofree char *notice = capture(ICS_LOG_NOTICE, "shown");
	g_autofree char *info = capture(ICS_LOG_INFO, "hidden");
	g_autofree char *debug = capture(ICS_LOG_DEBUG, "hidden");

	assert_string_equal(notice, "ics-test: notice: shown\n");
	assert_string_equal(info, "");
	assert_string_equal(debug, "");
	assert_true(ics_log_enabled(ICS_LOG_WARNING));
	assert_false(ics_log_enabled(ICS_LOG_INFO));
}

static void test_env_overrides_level(void **state)
{
	g_autofree char *debug = NULL;

	g_setenv("ICS_LOG_LEVEL", "debug", TRUE);
	ics_log_init("ics-test", ICS_LOG_STDERR, ICS_LOG_ERROR);
	assert_int_equal(ics_log_get_level(), ICS_LOG_DEBUG);
	debug = capture(ICS_LOG_DEBUG, "verbose");
	assert_string_equal(debug, "ics-test: debug: verbose\n");
}

static void test_env_invalid_is_ignored(void **state)
{
	g_setenv("ICS_LOG_LEVEL", "chatty", TRUE);
	ics_log_init("ics-test", ICS_LOG_STDERR, ICS_LOG_WARNING);
	assert_int_equal(ics_log_get_level(), ICS_LOG_WARNING);
}

static void test_progname_basename(void **state)
{
	ics_log_init("/usr/sbin/fence_ics_lab", ICS_LOG_STDERR, ICS_LOG_NOTICE);
	assert_string_equal(ics_log_progname(), "fence_ics_lab");
}

static void test_level_parse(void **state)
{
	IcsLogLevel l = ICS_LOG_NOTICE;

	assert_true(ics_log_level_parse("WARNING", &l));
	assert_int_equal(l, ICS_LOG_WARNING);
	assert_true(ics_log_level_parse("warn", &l));
	assert_int_equal(l, ICS_LOG_WARNING);
	assert_true(ics_log_level_parse("7", &l));
	assert_int_equal(l, ICS_LOG_DEBUG);
	assert_false(ics_log_level_parse("8", &l));
	assert_false(ics_log_level_parse("", &l));
	assert_false(ics_log_level_parse(NULL, &l));
	assert_int_equal(l, ICS_LOG_DEBUG);
	assert_string_equal(ics_log_level_name(ICS_LOG_INFO), "info");
	assert_string_equal(ics_log_level_name((IcsLogLevel)42), "unknown");
}

static void test_out_of_range_level_clamped(void **state)
{
	ics_log_init(NULL, ICS_LOG_STDERR, (IcsLogLevel)99);
	assert_int_equal(ics_log_get_level(), ICS_LOG_DEBUG);
	assert_string_equal(ics_log_progname(), "ics-test");
}

static void test_long_message_is_whole(void **state)
{
	g_autofree char *msg = g_strnfill(10000, 'x');
	g_autofree char *out = capture(ICS_LOG_ERROR, msg);

	assert_int_equal(strlen(out), strlen("ics-test: error: ") + 10000 + 1);
}

static void test_syslog_destination(void **state)
{
	ics_log_init("ics-test", ICS_LOG_SYSLOG, ICS_LOG_NOTICE);
	ics_log(ICS_LOG_DEBUG, "filtered, never sent");
	ics_log_init("ics-test", ICS_LOG_STDERR, ICS_LOG_NOTICE);
	assert_int_equal(ics_log_get_level(), ICS_LOG_NOTICE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_line_format, reset),
		cmocka_unit_test_setup(test_threshold, reset),
		cmocka_unit_test_setup(test_env_overrides_level, reset),
		cmocka_unit_test_setup(test_env_invalid_is_ignored, reset),
		cmocka_unit_test_setup(test_progname_basename, reset),
		cmocka_unit_test_setup(test_level_parse, reset),
		cmocka_unit_test_setup(test_out_of_range_level_clamped, reset),
		cmocka_unit_test_setup(test_long_message_is_whole, reset),
		cmocka_unit_test_setup(test_syslog_destination, reset),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
