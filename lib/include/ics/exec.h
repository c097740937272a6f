/*
 * ics/exec.h: run a helper program with a deadline and capture its output.
 *
 * Agents shell out to tools (nsenter, the lab CLI, virsh, crm_*), and an
 * agent that hangs is worse than one that fails: Pacemaker would time the
 * whole action out.  ics_exec_run() therefore always has a deadline.  The
 * child runs in its own process group; when the deadline passes, the whole
 * group gets SIGTERM, then SIGKILL after a grace period, and is reaped
 * before the call returns, so nothing it started is left behind.
 */
#ifndef ICS_EXEC_H
#define ICS_EXEC_H

#include <glib.h>

typedef struct {
	/* NULL-terminated; argv[0] is looked up in PATH when it has no '/'. */
	const char *const *argv;
	/* Written to the child's stdin, then stdin is closed.  NULL: the
	 * child's stdin is /dev/null. */
	const char *stdin_data;
	/* Extra "KEY=VALUE" entries added to (or replacing in) the caller's
	 * environment; NULL-terminated, may be NULL. */
	const char *const *env;
	/* Working directory of the child; NULL keeps the caller's. */
	const char *cwd;
	/* Deadline in milliseconds; 0 means the default of 60 s. */
	guint timeout_ms;
	/* Time between SIGTERM and SIGKILL on timeout; 0 means 2 s. */
	guint kill_grace_ms;
} IcsExecOptions;

typedef struct {
	char *out; /* captured stdout, NUL-terminated (may contain NULs) */
	gsize out_len;
	char *err; /* captured stderr, NUL-terminated */
	gsize err_len;
	int exit_status; /* exit code, or -1 when killed by a signal */
	int term_signal; /* signal that ended the child, 0 if it exited */
} IcsExecResult;

#define ICS_EXEC_DEFAULT_TIMEOUT_MS 60000u
#define ICS_EXEC_DEFAULT_GRACE_MS 2000u

/*
 * Run the program described by @opts and wait for it to exit and for its
 * stdout and stderr to reach end of file.  Returns TRUE when the child ran
 * to completion, whatever its exit status: the caller decides what a
 * status means.  Returns FALSE with:
 *   ICS_ERROR_NOT_FOUND  the program does not exist,
 *   ICS_ERROR_EXEC       it could not be started (permissions, ...),
 *   ICS_ERROR_TIMEOUT    the deadline passed; the process group was killed
 *                        and reaped, @result holds what was captured so far,
 *   ICS_ERROR_IO         a pipe failed.
 * @result is always initialised and must be released with
 * ics_exec_result_clear().
 */
gboolean ics_exec_run(const IcsExecOptions *opts, IcsExecResult *result, GError **error);

/* Free the buffers in @result and reset it. */
void ics_exec_result_clear(IcsExecResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsExecResult, ics_exec_result_clear)

/*
 * After a successful ics_exec_run(): TRUE when the child exited with 0,
 * otherwise set ICS_ERROR_EXEC "'<argv0>' exited with status N: <first line
 * of stderr>" (or "was killed by signal N").
 */
gboolean ics_exec_check_exit(const IcsExecResult *result, const char *what, GError **error);

/* Run @argv with defaults, TRUE iff it exited 0; convenience for tests and
 * simple helpers.  @out, when not NULL, receives stdout. */
gboolean ics_exec_simple(const char *const *argv, guint timeout_ms, char **out, GError **error);

#endif /* ICS_EXEC_H */
