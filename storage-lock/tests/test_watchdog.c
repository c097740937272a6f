/*
 * test_watchdog.c: reading use_watchdog from `sanlock client status -D`,
 * on the real output of sanlock 3.8.5 (captured from a lab node's daemon,
 * `sanlock daemon -w 0`, with one lockspace joined: data/), and on edits of
 * it: the key counts only in the daemon's block, a value that is neither 0
 * nor 1 or a missing key is an error, never "no watchdog" by default.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ics/lock.h"
#include "lock_internal.h"

static char *real_output(void)
{
	const char *top = g_getenv("ICS_SRCDIR") ? g_getenv("ICS_SRCDIR") : g_getenv("srcdir");
	g_autofree char *path = g_build_filename(top ? top : ".", "storage-lock", "tests", "data",
						 "sanlock-client-status-D-3.8.5.txt", NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	return text;
}

static gboolean parse(const char *text, gboolean *on, char **msg)
{
	g_autoptr(GError) err = NULL;
	gboolean ok = ics_sanlock_watchdog_parse(text, on, &err);

	if (msg)
		*msg = err ? g_strdup(err->message) : NULL;
	return ok;
}

static void test_real_3_8_5(void **state)
{
	g_autofree char *text = real_output();
	gboolean on = TRUE;

	(void)state;
	assert_non_null(strstr(text, "version_str=3.8.5"));
	assert_true(parse(text, &on, NULL));
	assert_false(on);
	/* the same daemon with a watchdog (wdmd): only the value differs */
	g_autofree char *with = NULL;
	{
		g_auto(GStrv) parts = g_strsplit(text, "use_watchdog=0", 2);

		assert_int_equal(g_strv_length(parts), 2);
		with = g_strjoinv("use_watchdog=1", parts);
	}
	assert_true(parse(with, &on, NULL));
	assert_true(on);
}

static void test_daemon_block_only(void **state)
{
	gboolean on = TRUE;
	g_autofree char *msg = NULL;

	(void)state;
	/* a key of another block (a client, a lockspace) does not count */
	assert_false(parse("daemon node1\n    our_host_name=node1\np 12 qemu\n"
			   "    use_watchdog=1\n",
			   &on, &msg));
	assert_non_null(strstr(msg, "did not report use_watchdog"));
	g_clear_pointer(&msg, g_free);
	assert_true(parse("p -1 helper\n    ci=0\ndaemon n\n\tuse_watchdog=1\ns ls:1:/p:0\n", &on,
			  NULL));
	assert_true(on);
	/* an unexpected value is an error, not "off" and not "on" */
	assert_false(parse("daemon n\n    use_watchdog=yes\n", &on, &msg));
	assert_non_null(strstr(msg, "neither 0 nor 1"));
	g_clear_pointer(&msg, g_free);
	assert_false(parse("", &on, NULL));
	assert_false(parse(NULL, &on, NULL));
	assert_false(on);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_3_8_5),
		cmocka_unit_test(test_daemon_block_only),
	};
	return cmocka_run_group_tests_name("watchdog", tests, NULL, NULL);
}
