/*
 * lease_hold.c: files renamed over a stopped VM's disks by the holder of
 * the VM's sanlock lease (see ics/backup.h).
 *
 * sanlock guards a lease by killing the process that holds it when this
 * host loses the pool's lockspace (and by the watchdog when that process
 * does not die): the guard is only worth something when the process that
 * holds the lease is the one that writes.  So the renames are done by the
 * holder itself: `ics-lease hold POOL OWNER -- sh -c SCRIPT`, where
 * ics-lease acquires the lease and execs the shell, which says "ready" on
 * its stdout (only a shell that runs under the lease can), waits for "go"
 * on its stdin, then renames each file over its disk, syncing the
 * directory, and says "renamed" after each.  Between "ready" and "go" the
 * caller checks what it must (the VM still stopped, its disks where they
 * were): nothing can start the VM meanwhile.  A caller that does not say
 * "go" (its check failed, or it died) closes the pipe: the shell exits
 * without renaming.  A lease another host holds is ics-lease's exit 3:
 * BUSY, with its sentence naming the holder.
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

/* set by the build (backup/local.mk); a build that compiles this file on
 * its own (the manager's fuzz target) gets the packaged place */
#ifndef ICS_SBINDIR
#define ICS_SBINDIR "/usr/sbin"
#endif

/* acquiring reads the pool's lease area: slow storage is slow here */
#define ACQUIRE_TIMEOUT_MS 60000
/* each rename and directory sync; a hung file system is sanlock's to end */
#define RENAME_TIMEOUT_MS 600000

static const char script[] = "echo ready || exit 9\n"
			     "read go || exit 9\n"
			     "[ \"$go\" = go ] || exit 9\n"
			     "while [ $# -ge 2 ]; do\n"
			     "  mv -T -- \"$1\" \"$2\" || exit 10\n"
			     "  sync -- \"$(dirname -- \"$2\")\" || exit 11\n"
			     "  echo renamed || exit 9\n"
			     "  shift 2\n"
			     "done\n";

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

/* The next line on @fd within @ms, without its newline; NULL at its end
 * or when the time is up. */
static char *next_line(int fd, GString *buf, int ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

	for (;;) {
		char *nl = memchr(buf->str, '\n', buf->len);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		char chunk[256];
		ssize_t n;
		int rc;

		if (nl != NULL) {
			char *line = g_strndup(buf->str, (gsize)(nl - buf->str));

			g_string_erase(buf, 0, nl - buf->str + 1);
			return line;
		}
		if (left <= 0)
			return NULL;
		rc = poll(&p, 1, (int)MIN(left, G_MAXINT));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return NULL;
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		g_string_append_len(buf, chunk, n);
	}
}

/* What the helper said on its stderr (ics-lease's reason), one line. */
static char *said(int err)
{
	char buf[1024];
	ssize_t n = read(err, buf, sizeof buf - 1);
	char *s;

	buf[n > 0 ? n : 0] = '\0';
	s = g_strstrip(g_strdup(buf));
	for (char *c = s; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return s;
}

gboolean ics_backup_lease_rename(const char *pool, const char *owner, GPtrArray *from,
				 GPtrArray *to, IcsBackupLeaseCheck check, gpointer data,
				 guint *renamed, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *line = NULL;
	int in = -1, outfd = -1, err = -1, status = 0;
	GPid pid = 0;
	gboolean ok = FALSE;

	g_return_val_if_fail(from->len == to->len, FALSE);
	*renamed = 0;
	g_ptr_array_add(argv, (gpointer)backup_ics_lease_program());
	g_ptr_array_add(argv, "hold");
	g_ptr_array_add(argv, (gpointer)pool);
	g_ptr_array_add(argv, (gpointer)owner);
	g_ptr_array_add(argv, "--");
	g_ptr_array_add(argv, "/bin/sh");
	g_ptr_array_add(argv, "-c");
	g_ptr_array_add(argv, (gpointer)script);
	g_ptr_array_add(argv, "sh");
	for (guint i = 0; i < from->len; i++) {
		g_ptr_array_add(argv, from->pdata[i]);
		g_ptr_array_add(argv, to->pdata[i]);
	}
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
				      NULL, &pid, &in, &outfd, &err, error)) {
		g_prefix_error(error, "cannot take the lease of %s: ", owner);
		return FALSE;
	}
	line = next_line(outfd, out, ACQUIRE_TIMEOUT_MS);
	if (g_strcmp0(line, "ready") == 0) {
		if (check == NULL || check(data, error)) {
			/* from here the shell renames: each one it reports */
			ok = write(in, "go\n", 3) == 3;
			while (ok && *renamed < from->len) {
				g_autofree char *r = next_line(outfd, out, RENAME_TIMEOUT_MS);

				if (g_strcmp0(r, "renamed") != 0)
					break;
				(*renamed)++;
			}
			ok = *renamed == from->len;
		}
	}
	close(in);
	if (!ok && (error == NULL || *error == NULL))
		kill(pid, SIGTERM); /* a helper that hangs (it holds the lease) */
	waitpid(pid, &status, 0);
	if (!ok && (error == NULL || *error == NULL)) {
		g_autofree char *why = said(err);

		if (WIFEXITED(status) && WEXITSTATUS(status) == BACKUP_LEASE_BUSY && line == NULL)
			g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY, "%s", why);
		else if (line == NULL)
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "cannot take the lease of %s: %s", owner,
				    why[0] ? why : "ics-lease did not answer");
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%u of %u files renamed under the lease of %s: %s", *renamed,
				    from->len, owner, why[0] ? why : "the renaming stopped");
	}
	close(outfd);
	close(err);
	return ok;
}
