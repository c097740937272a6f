/*
 * test_exec.c: ics_exec_run() exit statuses, output capture without
 * deadlock, stdin, environment, timeouts that kill and reap the whole
 * process group, and clear errors for programs that cannot run.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/exec.h"

#define MIB (1024 * 1024)

static int run(const char *const *argv, const char *in, guint timeout_ms, IcsExecResult *res,
	       GError **error)
{
	IcsExecOptions opts = { .argv = argv, .stdin_data = in, .timeout_ms = timeout_ms };

	return ics_exec_run(&opts, res, error);
}

static void test_exit_codes(void **state)
{
	const char *t[] = { "true", NULL };
	const char *f[] = { "false", NULL };
	const char *s[] = { "sh", "-c", "exit 42", NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(run(t, NULL, 5000, &res, &err));
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(res.term_signal, 0);
	assert_true(ics_exec_check_exit(&res, "true", NULL));
	ics_exec_result_clear(&res);

	assert_true(run(f, NULL, 5000, &res, &err));
	assert_int_equal(res.exit_status, 1);
	ics_exec_result_clear(&res);

	assert_true(run(s, NULL, 5000, &res, &err));
	assert_int_equal(res.exit_status, 42);
	ics_exec_result_clear(&res);
	assert_null(err);
}

static void test_check_exit_message(void **state)
{
	const char *argv[] = { "sh", "-c", "echo 'disk on fire' >&2; echo more >&2; exit 3", NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(run(argv, NULL, 5000, &res, NULL));
	assert_false(ics_exec_check_exit(&res, "burn", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_EXEC));
	assert_string_equal(err->message, "'burn' exited with status 3: disk on fire");
	ics_exec_result_clear(&res);
}

static void test_killed_by_signal(void **state)
{
	const char *argv[] = { "sh", "-c", "kill -USR1 $$", NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(run(argv, NULL, 5000, &res, NULL));
	assert_int_equal(res.exit_status, -1);
	assert_int_equal(res.term_signal, SIGUSR1);
	assert_false(ics_exec_check_exit(&res, "sh", &err));
	assert_non_null(strstr(err->message, "killed by signal"));
	ics_exec_result_clear(&res);
}

static void test_large_output_both_streams(void **state)
{
	/* Far more than a pipe buffer on both streams, interleaved. */
	const char *argv[] = { "sh", "-c",
			       "head -c 2097152 /dev/zero | tr '\\0' o & "
			       "head -c 1572864 /dev/zero | tr '\\0' e >&2; wait",
			       NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(run(argv, NULL, 20000, &res, &err));
	assert_null(err);
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(res.out_len, 2 * MIB);
	assert_int_equal(res.err_len, 3 * MIB / 2);
	assert_int_equal(res.out[0], 'o');
	assert_int_equal(res.out[res.out_len - 1], 'o');
	assert_int_equal(res.out[res.out_len], '\0');
	assert_int_equal(res.err[res.err_len - 1], 'e');
	ics_exec_result_clear(&res);
}

static void test_stdin_roundtrip_large(void **state)
{
	/* cat writes while we still write: needs concurrent stdin/stdout. */
	const char *argv[] = { "cat", NULL };
	g_autofree char *input = g_strnfill(3 * MIB / 2, 'i');
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(run(argv, input, 20000, &res, &err));
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(res.out_len, strlen(input));
	assert_memory_equal(res.out, input, res.out_len);
	ics_exec_result_clear(&res);
}

static void test_stdin_key_value(void **state)
{
	const char *argv[] = { "sh", "-c", "read a; read b; echo \"$b/$a\"", NULL };
	IcsExecResult res;

	assert_true(run(argv, "action=off\nport=node2\n", 5000, &res, NULL));
	assert_string_equal(res.out, "port=node2/action=off\n");
	ics_exec_result_clear(&res);
}

static void test_stdin_not_read(void **state)
{
	/* The child exits without reading: no SIGPIPE for us, no hang. */
	const char *argv[] = { "true", NULL };
	g_autofree char *input = g_strnfill(4 * MIB, 'x');
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(run(argv, input, 10000, &res, &err));
	assert_int_equal(res.exit_status, 0);
	ics_exec_result_clear(&res);
}

static void test_no_stdin_is_dev_null(void **state)
{
	const char *argv[] = { "cat", NULL };
	IcsExecResult res;

	assert_true(run(argv, NULL, 5000, &res, NULL));
	assert_int_equal(res.out_len, 0);
	assert_string_equal(res.out, "");
	ics_exec_result_clear(&res);
}

static gboolean process_gone(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *stat = NULL;
	const char *paren;

	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return TRUE;
	/* A zombie waiting for a non-reaping init is gone for our purpose. */
	paren = strrchr(stat, ')');
	return paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

static void test_timeout_kills_group(void **state)
{
	/* sleep runs as a grandchild; it must die with the group. */
	const char *argv[] = { "sh", "-c", "sleep 30 & echo $!; wait", NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;
	gint64 start = g_get_monotonic_time();
	gint64 elapsed_ms;
	pid_t sleeper;

	assert_false(run(argv, NULL, 300, &res, &err));
	elapsed_ms = (g_get_monotonic_time() - start) / 1000;
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_TIMEOUT));
	assert_non_null(strstr(err->message, "'sh' did not finish within 0.300 s"));
	assert_true(elapsed_ms >= 300);
	assert_true(elapsed_ms < 20000); /* killed, not waited for: sleep would take 30 s */
	assert_int_equal(res.term_signal, SIGTERM);
	sleeper = (pid_t)atoi(res.out);
	assert_true(sleeper > 1);
	for (int i = 0; i < 200 && !process_gone(sleeper); i++)
		g_usleep(10000);
	assert_true(process_gone(sleeper));
	ics_exec_result_clear(&res);
}

static void test_timeout_escalates_to_sigkill(void **state)
{
	const char *argv[] = { "sh", "-c", "trap '' TERM; echo ready; sleep 30", NULL };
	IcsExecOptions opts = { .argv = argv, .timeout_ms = 300, .kill_grace_ms = 200 };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;
	gint64 start = g_get_monotonic_time();

	assert_false(ics_exec_run(&opts, &res, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_TIMEOUT));
	assert_int_equal(res.term_signal, SIGKILL);
	assert_string_equal(res.out, "ready\n");
	assert_true((g_get_monotonic_time() - start) / 1000 < 3000);
	ics_exec_result_clear(&res);
}

static void test_not_found(void **state)
{
	const char *abs_argv[] = { "/nonexistent/ics-no-such-tool", NULL };
	const char *path_argv[] = { "ics-no-such-tool", "x", NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;
	g_autoptr(GError) err2 = NULL;

	assert_false(run(abs_argv, NULL, 5000, &res, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(err->message, "cannot run '/nonexistent/ics-no-such-tool'"));
	ics_exec_result_clear(&res);

	assert_false(run(path_argv, NULL, 5000, &res, &err2));
	assert_true(g_error_matches(err2, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(err2->message, "ics-no-such-tool"));
	ics_exec_result_clear(&res);
}

static void test_not_executable(void **state)
{
	g_autofree char *path = NULL;
	const char *argv[2] = { NULL, NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;
	int fd = g_file_open_tmp("test_exec-XXXXXX", &path, NULL);

	assert_true(fd >= 0);
	close(fd);
	argv[0] = path;
	if (geteuid() == 0)
		chmod(path, 0644); /* root still cannot exec without any x bit */
	assert_false(run(argv, NULL, 5000, &res, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_EXEC));
	ics_exec_result_clear(&res);
	unlink(path);
}

static void test_empty_argv(void **state)
{
	const char *argv[] = { NULL };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_false(run(argv, NULL, 5000, &res, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	ics_exec_result_clear(&res);
}

static void test_env_additions(void **state)
{
	const char *argv[] = { "sh", "-c", "printf '%s|%s' \"$ICS_A\" \"$HOME\"", NULL };
	const char *env[] = { "ICS_A=x=y", "HOME=/ics-home", NULL };
	const char *bad[] = { "NOEQUALS", NULL };
	IcsExecOptions opts = { .argv = argv, .env = env, .timeout_ms = 5000 };
	IcsExecResult res;
	g_autoptr(GError) err = NULL;

	assert_true(ics_exec_run(&opts, &res, NULL));
	assert_string_equal(res.out, "x=y|/ics-home");
	ics_exec_result_clear(&res);

	opts.env = bad;
	assert_false(ics_exec_run(&opts, &res, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	ics_exec_result_clear(&res);
}

static void test_cwd(void **state)
{
	const char *argv[] = { "pwd", NULL };
	IcsExecOptions opts = { .argv = argv, .cwd = "/", .timeout_ms = 5000 };
	IcsExecResult res;

	assert_true(ics_exec_run(&opts, &res, NULL));
	assert_string_equal(res.out, "/\n");
	ics_exec_result_clear(&res);
}

static void test_simple(void **state)
{
	const char *echo[] = { "echo", "hello", NULL };
	const char *fail[] = { "false", NULL };
	g_autofree char *out = NULL;
	g_autoptr(GError) err = NULL;

	assert_true(ics_exec_simple(echo, 5000, &out, NULL));
	assert_string_equal(out, "hello\n");
	assert_false(ics_exec_simple(fail, 5000, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_EXEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_check_exit_message),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_large_output_both_streams),
		cmocka_unit_test(test_stdin_roundtrip_large),
		cmocka_unit_test(test_stdin_key_value),
		cmocka_unit_test(test_stdin_not_read),
		cmocka_unit_test(test_no_stdin_is_dev_null),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_escalates_to_sigkill),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_empty_argv),
		cmocka_unit_test(test_env_additions),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_simple),
	};

	return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
