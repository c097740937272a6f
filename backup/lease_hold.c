/*
 * lease_hold.c: a VM's sanlock lease held while the manager writes its
 * disks (see ics/backup.h).
 *
 * A sanlock lease belongs to a registered process and ends with it.  The
 * lease is held by a helper, `ics-lease hold POOL OWNER -- cat`: ics-lease
 * acquires it, says so on its stderr, and execs cat, which keeps it until
 * its stdin closes.  So the caller holds the lease exactly as long as it
 * holds the pipe, and a caller that dies releases it (the pipe closes;
 * PR_SET_PDEATHSIG as well).  A lease another host holds is BUSY, with
 * ics-lease's sentence naming the holder.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup_internal.h"
#include "ics/error.h"

#define ACQUIRE_TIMEOUT_MS 30000
#define RELEASE_TIMEOUT_MS 10000
/* ics-lease's exit status for a lease held elsewhere */
#define LEASE_BUSY 3

struct IcsBackupLease {
	GPid pid;
	int in; /* the helper's stdin: closing it releases the lease */
};

const char *backup_ics_lease_program(void)
{
	static const char installed[] = ICS_SBINDIR "/ics-lease";

	return g_file_test(installed, G_FILE_TEST_IS_EXECUTABLE) ? installed : "ics-lease";
}

static void child_setup(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Read the helper's stderr until it says it holds the lease (TRUE) or
 * ends; @said gets what it said. */
static gboolean wait_held(int err, GString *said)
{
	gint64 deadline = g_get_monotonic_time() + ACQUIRE_TIMEOUT_MS * 1000;

	for (;;) {
		struct pollfd p = { .fd = err, .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		char buf[512];
		ssize_t n;

		if (strstr(said->str, "holding the lease") != NULL)
			return TRUE;
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return FALSE;
		n = read(err, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		g_string_append_len(said, buf, n);
	}
}

IcsBackupLease *ics_backup_lease_hold(const char *pool, const char *owner, GError **error)
{
	const char *argv[] = { backup_ics_lease_program(), "hold", pool, owner, "--", "cat", NULL };
	g_autoptr(GString) said = g_string_new(NULL);
	IcsBackupLease *l = g_new0(IcsBackupLease, 1);
	int err = -1, status = 0;
	gboolean held;

	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
					      G_SPAWN_STDOUT_TO_DEV_NULL,
				      child_setup, NULL, &l->pid, &l->in, NULL, &err, error)) {
		g_prefix_error(error, "cannot take the lease of %s: ", owner);
		g_free(l);
		return NULL;
	}
	held = wait_held(err, said);
	close(err); /* cat writes nothing to it */
	if (held)
		return l;
	close(l->in);
	kill(l->pid, SIGKILL);
	waitpid(l->pid, &status, 0);
	g_strstrip(said->str);
	if (WIFEXITED(status) && WEXITSTATUS(status) == LEASE_BUSY)
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY, "%s", said->str);
	else
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "cannot take the lease of %s: %s",
			    owner, said->len ? said->str : "ics-lease did not answer");
	g_free(l);
	return NULL;
}

void ics_backup_lease_release(IcsBackupLease *l)
{
	int status;

	if (l == NULL)
		return;
	close(l->in);
	for (int i = 0; i < RELEASE_TIMEOUT_MS / 10; i++) {
		if (waitpid(l->pid, &status, WNOHANG) == l->pid) {
			g_free(l);
			return;
		}
		g_usleep(10 * 1000);
	}
	kill(l->pid, SIGKILL);
	waitpid(l->pid, &status, 0);
	g_free(l);
}
