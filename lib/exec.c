/*
 * exec.c: run a child process with a deadline, capturing stdout and stderr.
 *
 * GLib's g_spawn_async_with_pipes() does the fork/exec and PATH search and
 * reports exec failures through a pipe, which is the hard part to get right.
 * What it does not do is a deadline, so the rest is a small poll(2) loop:
 *
 * - stdin is written and stdout/stderr are read concurrently through
 *   non-blocking pipes, so a child that writes megabytes before reading its
 *   input never deadlocks against us;
 * - the child calls setpgid(0, 0) before exec, so on timeout one kill() of
 *   the negative pid reaches every process it started (shell pipelines,
 *   nsenter's own child);
 * - on timeout: SIGTERM to the group, wait up to the grace period for the
 *   leader to exit, SIGKILL to the group, then reap.  The leader is observed
 *   with WNOWAIT before SIGKILL, so its zombie keeps the group id reserved
 *   and the signal cannot reach an unrelated process that reused the id;
 * - SIGPIPE is blocked around writes to stdin (a child may exit without
 *   reading its input) and a pending one is consumed, so the caller's
 *   signal disposition is left alone.
 *
 * The call returns only after the child was reaped and both output pipes
 * reached end of file or the deadline passed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/exec.h"

#define READ_CHUNK 65536

static void child_setup(gpointer data)
{
	sigset_t set;

	setpgid(0, 0);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static gint64 now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* Has @pid exited?  Leaves it unreaped (WNOWAIT). */
static gboolean child_exited(pid_t pid)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	return info.si_pid == pid;
}

static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Wait up to @ms for @pid to exit, without reaping it. */
static gboolean wait_exit(pid_t pid, guint ms)
{
	gint64 end = now_ms() + ms;

	while (!child_exited(pid)) {
		if (now_ms() >= end)
			return FALSE;
		g_usleep(5000);
	}
	return TRUE;
}

static void kill_group(pid_t pid, guint grace_ms)
{
	kill(-pid, SIGTERM);
	/* A stopped process does not act on SIGTERM until continued. */
	kill(-pid, SIGCONT);
	wait_exit(pid, grace_ms);
	kill(-pid, SIGKILL);
}

static ssize_t write_nopipe(int fd, const char *buf, size_t len)
{
	sigset_t pipe_set, old;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

/* Read what is available on @fd into @buf; returns FALSE at EOF or error. */
static gboolean drain(int fd, GByteArray *buf, GError **error)
{
	guint8 chunk[READ_CHUNK];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n > 0) {
			g_byte_array_append(buf, chunk, (guint)n);
			continue;
		}
		if (n == 0)
			return FALSE;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return TRUE;
		ics_error_set_errno(error, errno, "reading child output");
		return FALSE;
	}
}

static void set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static char *steal_buffer(GByteArray *buf, gsize *len)
{
	*len = buf->len;
	g_byte_array_append(buf, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(buf, FALSE);
}

void ics_exec_result_clear(IcsExecResult *result)
{
	g_free(result->out);
	g_free(result->err);
	memset(result, 0, sizeof(*result));
}

gboolean ics_exec_run(const IcsExecOptions *opts, IcsExecResult *result, GError **error)
{
	g_auto(GStrv) envp = NULL;
	g_autoptr(GError) spawn_error = NULL;
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GByteArray) err = g_byte_array_new();
	GError *io_error = NULL;
	const char *argv0;
	guint timeout_ms, grace_ms;
	GPid pid = 0;
	int in_fd = -1, out_fd = -1, err_fd = -1;
	gsize in_len = 0, in_off = 0;
	gint64 deadline;
	gboolean timed_out = FALSE;
	int status;

	memset(result, 0, sizeof(*result));
	result->exit_status = -1;
	g_return_val_if_fail(opts != NULL && opts->argv != NULL, FALSE);
	if (opts->argv[0] == NULL || opts->argv[0][0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "cannot run a program: empty command line");
		return FALSE;
	}
	argv0 = opts->argv[0];
	timeout_ms = opts->timeout_ms ? opts->timeout_ms : ICS_EXEC_DEFAULT_TIMEOUT_MS;
	grace_ms = opts->kill_grace_ms ? opts->kill_grace_ms : ICS_EXEC_DEFAULT_GRACE_MS;

	envp = g_get_environ();
	for (const char *const *e = opts->env; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		g_autofree char *key = NULL;

		if (eq == NULL || eq == *e) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "cannot run '%s': environment entry '%s' is not KEY=VALUE",
				    argv0, *e);
			return FALSE;
		}
		key = g_strndup(*e, (gsize)(eq - *e));
		envp = g_environ_setenv(envp, key, eq + 1, TRUE);
	}

	if (!g_spawn_async_with_pipes(opts->cwd, (char **)opts->argv, envp,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
					      G_SPAWN_CLOEXEC_PIPES |
					      (opts->stdin_data ? 0 : G_SPAWN_STDIN_FROM_DEV_NULL),
				      child_setup, NULL, &pid, opts->stdin_data ? &in_fd : NULL,
				      &out_fd, &err_fd, &spawn_error)) {
		gboolean noent = g_error_matches(spawn_error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);

		g_set_error(error, ICS_ERROR, noent ? ICS_ERROR_NOT_FOUND : ICS_ERROR_EXEC,
			    "cannot run '%s': %s", argv0, spawn_error->message);
		return FALSE;
	}
	/* Also from the parent: no window where a timeout kill misses the group. */
	setpgid(pid, pid);

	if (in_fd >= 0) {
		in_len = strlen(opts->stdin_data);
		set_nonblock(in_fd);
		if (in_len == 0)
			close_fd(&in_fd);
	}
	set_nonblock(out_fd);
	set_nonblock(err_fd);
	deadline = now_ms() + timeout_ms;

	while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0 || !child_exited(pid)) {
		struct pollfd pfd[3];
		nfds_t n = 0;
		gint64 left = deadline - now_ms();
		int wait_ms;

		if (left <= 0) {
			timed_out = TRUE;
			break;
		}
		if (in_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = in_fd, .events = POLLOUT };
		if (out_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = out_fd, .events = POLLIN };
		if (err_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = err_fd, .events = POLLIN };
		/* With the pipes closed, only the exit is left to see: poll briefly. */
		wait_ms = n == 0 ? (int)MIN(left, 5) : (int)MIN(left, G_MAXINT);
		if (poll(pfd, n, wait_ms) < 0 && errno != EINTR) {
			ics_error_set_errno(&io_error, errno, "waiting for '%s'", argv0);
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == in_fd) {
				ssize_t w;

				if (pfd[i].revents & (POLLERR | POLLHUP)) {
					close_fd(&in_fd); /* child closed its stdin */
					continue;
				}
				w = write_nopipe(in_fd, opts->stdin_data + in_off, in_len - in_off);
				if (w > 0)
					in_off += (gsize)w;
				else if (w < 0 && errno != EAGAIN && errno != EINTR)
					close_fd(&in_fd);
				if (in_off >= in_len)
					close_fd(&in_fd);
			} else if (pfd[i].fd == out_fd) {
				if (!drain(out_fd, out, &io_error))
					close_fd(&out_fd);
			} else if (pfd[i].fd == err_fd) {
				if (!drain(err_fd, err, &io_error))
					close_fd(&err_fd);
			}
		}
		if (io_error != NULL)
			break;
	}

	if (timed_out || io_error != NULL)
		kill_group(pid, grace_ms);
	close_fd(&in_fd);
	close_fd(&out_fd);
	close_fd(&err_fd);
	status = reap(pid);
	g_spawn_close_pid(pid);

	if (WIFEXITED(status)) {
		result->exit_status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		result->exit_status = -1;
		result->term_signal = WTERMSIG(status);
	}
	result->out = steal_buffer(g_steal_pointer(&out), &result->out_len);
	result->err = steal_buffer(g_steal_pointer(&err), &result->err_len);

	if (io_error != NULL) {
		g_propagate_error(error, io_error);
		return FALSE;
	}
	if (timed_out) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
			    "'%s' did not finish within %u.%03u s and was killed", argv0,
			    timeout_ms / 1000, timeout_ms % 1000);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_exec_check_exit(const IcsExecResult *result, const char *what, GError **error)
{
	g_autofree char *first = NULL;
	const char *nl;

	if (result->exit_status == 0 && result->term_signal == 0)
		return TRUE;
	if (result->err != NULL && result->err_len > 0) {
		nl = strchr(result->err, '\n');
		first = nl ? g_strndup(result->err, (gsize)(nl - result->err))
			   : g_strdup(result->err);
	}
	if (result->term_signal != 0)
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC, "'%s' was killed by signal %d%s%s",
			    what, result->term_signal, first ? ": " : "", first ? first : "");
	else
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC, "'%s' exited with status %d%s%s",
			    what, result->exit_status, first ? ": " : "", first ? first : "");
	return FALSE;
}

gboolean ics_exec_simple(const char *const *argv, guint timeout_ms, char **out, GError **error)
{
	IcsExecOptions opts = { .argv = argv, .timeout_ms = timeout_ms };
	IcsExecResult res;
	gboolean ok;

	ok = ics_exec_run(&opts, &res, error) && ics_exec_check_exit(&res, argv[0], error);
	if (ok && out != NULL) {
		*out = res.out;
		res.out = NULL;
	}
	ics_exec_result_clear(&res);
	return ok;
}
