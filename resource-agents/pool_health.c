/*
 * pool_health.c: monitor and stop decisions of ocf:ics:pool, and the
 * bounded storage probe (see pool_health.h for the design).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ics/error.h"
#include "ocf.h"
#include "pool_health.h"

guint pool_heartbeat_limit_s(guint io_timeout)
{
	return 4 * MAX(io_timeout, 1u) + 2;
}

guint pool_join_grace_s(guint io_timeout)
{
	/* A join takes ~3 x io_timeout; the daemon reads the other hosts
	 * within one more renewal period or two. */
	return 8 * MAX(io_timeout, 1u) + 10;
}

static void set_reason(char **reason, char *text)
{
	if (reason != NULL)
		*reason = text;
	else
		g_free(text);
}

static char *heartbeat_reason(const PoolFacts *f)
{
	if (f->self_age_s >= 0)
		return g_strdup_printf("pool %s: heartbeat of host %" G_GUINT64_FORMAT
				       " not renewed for %" G_GINT64_FORMAT
				       "s (storage unreachable?); sanlock reports it %s",
				       f->pool, f->host_id, f->self_age_s,
				       ics_host_state_name(f->self_state));
	return g_strdup_printf("pool %s: heartbeat of host %" G_GUINT64_FORMAT
			       " not renewed (storage unreachable?); sanlock reports it %s",
			       f->pool, f->host_id, ics_host_state_name(f->self_state));
}

int pool_monitor_decide(const PoolFacts *f, char **reason)
{
	set_reason(reason, NULL);
	if (!f->started && f->joined != 1)
		return OCF_NOT_RUNNING;
	if (!f->reachable) {
		set_reason(reason,
			   g_strdup_printf("pool %s: host %" G_GUINT64_FORMAT
					   " cannot renew its heartbeat: %s",
					   f->pool, f->host_id,
					   f->unreachable ? f->unreachable : "storage unreachable"));
		return OCF_ERR_GENERIC;
	}
	if (f->joined < 0) {
		set_reason(reason, g_strdup_printf("pool %s: the local sanlock daemon does not "
						   "answer; is sanlock running?",
						   f->pool));
		return OCF_ERR_GENERIC;
	}
	if (f->joined == 0) {
		set_reason(reason, g_strdup_printf("pool %s: host %" G_GUINT64_FORMAT
						   " is no longer in the lockspace",
						   f->pool, f->host_id));
		return OCF_NOT_RUNNING;
	}
	if (f->hosts_busy || !f->self_seen) {
		if (f->started_age_s >= 0 &&
		    f->started_age_s <= (gint64)pool_join_grace_s(f->io_timeout))
			return OCF_SUCCESS;
		set_reason(reason, g_strdup_printf("pool %s: the sanlock daemon does not report "
						   "the heartbeat of host %" G_GUINT64_FORMAT,
						   f->pool, f->host_id));
		return OCF_ERR_GENERIC;
	}
	if (f->self_state == ICS_HOST_ALIVE &&
	    (f->self_age_s < 0 || f->self_age_s <= (gint64)pool_heartbeat_limit_s(f->io_timeout)))
		return OCF_SUCCESS;
	set_reason(reason, heartbeat_reason(f));
	return OCF_ERR_GENERIC;
}

gboolean pool_heartbeat_lost(const PoolFacts *f)
{
	if (!f->reachable)
		return TRUE;
	if (f->joined != 1 || f->hosts_busy || !f->self_seen)
		return FALSE;
	return pool_monitor_decide(f, NULL) == OCF_ERR_GENERIC;
}

PoolStopPlan pool_stop_plan(const PoolFacts *f, gboolean force_stop)
{
	if (pool_heartbeat_lost(f))
		return POOL_STOP_SOFT_UNMOUNT;
	if (f->joined == 0)
		return POOL_STOP_NOTHING;
	return force_stop ? POOL_STOP_LEAVE_FORCE : POOL_STOP_LEAVE;
}

const char *pool_stop_plan_name(PoolStopPlan plan)
{
	switch (plan) {
	case POOL_STOP_NOTHING:
		return "nothing";
	case POOL_STOP_LEAVE:
		return "leave";
	case POOL_STOP_LEAVE_FORCE:
		return "leave-force";
	case POOL_STOP_SOFT_UNMOUNT:
		return "soft-unmount";
	}
	return "?";
}

int pool_stop_outcome(const PoolFacts *f, PoolStopPlan plan, const GError *leave_error,
		      char **reason)
{
	set_reason(reason, NULL);
	if (plan == POOL_STOP_NOTHING || plan == POOL_STOP_SOFT_UNMOUNT || leave_error == NULL)
		return OCF_SUCCESS;
	if (plan == POOL_STOP_LEAVE && g_error_matches(leave_error, ICS_ERROR, ICS_ERROR_BUSY))
		set_reason(reason,
			   g_strdup_printf("pool %s: host %" G_GUINT64_FORMAT
					   " still holds leases (%s); stop the VMs on this pool "
					   "first, or set force_stop=true to kill them",
					   f->pool, f->host_id, leave_error->message));
	else
		set_reason(reason, g_strdup_printf("pool %s: cannot leave the lockspace: %s",
						   f->pool, leave_error->message));
	return OCF_ERR_GENERIC;
}

/* ---- storage probe ---------------------------------------------------- */

enum { PROBE_OK, PROBE_NO_PATH, PROBE_NOT_DIR, PROBE_NO_META, PROBE_READ };

/* Runs in the child: only system calls, no allocation. */
static void probe_child(const char *path, const char *meta, int fd) G_GNUC_NORETURN;
static void probe_child(const char *path, const char *meta, int fd)
{
	struct stat st;
	char buf[4096];
	int r[2] = { PROBE_OK, 0 };
	int mfd;
	ssize_t n;

	if (stat(path, &st) < 0) {
		r[0] = errno == ENOENT ? PROBE_NO_PATH : PROBE_READ;
		r[1] = errno;
	} else if (!S_ISDIR(st.st_mode)) {
		r[0] = PROBE_NOT_DIR;
	} else if ((mfd = open(meta, O_RDONLY | O_CLOEXEC)) < 0) {
		r[0] = errno == ENOENT ? PROBE_NO_META : PROBE_READ;
		r[1] = errno;
	} else {
		while ((n = read(mfd, buf, sizeof(buf))) > 0)
			;
		if (n < 0) {
			r[0] = PROBE_READ;
			r[1] = errno;
		}
		close(mfd);
	}
	if (write(fd, r, sizeof(r)) < 0)
		_exit(3);
	_exit(0);
}

static gint64 now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

gboolean pool_probe_storage(const char *path, guint timeout_ms, GError **error)
{
	g_autofree char *meta = g_build_filename(path, ".ics", "pool.json", NULL);
	gint64 deadline = now_ms() + timeout_ms;
	int r[2] = { -1, 0 };
	gsize got = 0;
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		ics_error_set_errno(error, errno, "cannot probe %s: pipe", path);
		return FALSE;
	}
	pid = fork();
	if (pid < 0) {
		ics_error_set_errno(error, errno, "cannot probe %s: fork", path);
		close(fds[0]);
		close(fds[1]);
		return FALSE;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(path, meta, fds[1]);
	}
	close(fds[1]);
	while (got < sizeof(r)) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		gint64 left = deadline - now_ms();
		ssize_t n;
		int pr;

		if (left <= 0)
			break;
		pr = poll(&pfd, 1, (int)MIN(left, G_MAXINT));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		n = read(fds[0], (char *)r + got, sizeof(r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (gsize)n;
	}
	close(fds[0]);
	if (got < sizeof(r)) {
		/* Hung (or died): kill it, reap it if it goes quickly, else leave it. */
		kill(pid, SIGKILL);
		for (int i = 0; i < 20 && waitpid(pid, NULL, WNOHANG) == 0; i++)
			g_usleep(5000);
		if (now_ms() >= deadline)
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "reading %s took longer than %u ms (hung storage?)", meta,
				    timeout_ms);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "the probe of %s ended without an answer", meta);
		return FALSE;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	switch (r[0]) {
	case PROBE_OK:
		return TRUE;
	case PROBE_NO_PATH:
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "%s does not exist", path);
		return FALSE;
	case PROBE_NOT_DIR:
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "%s is not a directory", path);
		return FALSE;
	case PROBE_NO_META:
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "%s holds no pool (no .ics/pool.json): wrong path, not mounted, or "
			    "not initialized with 'ics-lease init'",
			    path);
		return FALSE;
	default:
		ics_error_set_errno(error, r[1], "cannot read %s", meta);
		return FALSE;
	}
}
