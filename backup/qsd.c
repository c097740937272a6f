/*
 * qsd.c: block jobs on the disks of a stopped VM through a private
 * qemu-storage-daemon (see backup_internal.h).
 *
 * A stopped VM has no QEMU to run a backup job in, but its changed-block
 * bitmaps are in its qcow2 images.  qemu-storage-daemon is QEMU's block
 * layer without a machine: it opens the images it is given (taking their
 * write locks, so a QEMU starting on them meanwhile is refused) and runs
 * the same backup job libvirt has a running VM's QEMU run.  It is driven
 * over QMP: one JSON object per line each way, a command's answer being
 * the next line that is not an event.  Its monitor socket is in a private
 * directory of this process; the daemon is started by us, quits when
 * told, and is killed and reaped when it does not, so nothing outlives the
 * session.  Every answer is awaited with a deadline.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

/* An answer (opening images, flushing a target when it is closed) within
 * a minute; the daemon's socket within 10 s of its start. */
#define ANSWER_TIMEOUT_MS 60000
#define START_TIMEOUT_MS 10000
#define QUIT_TIMEOUT_MS 30000

struct BackupQsd {
	GPid pid;   /* 0: none (any more) */
	int err_fd; /* its stderr */
	char *dir;  /* private: holds the monitor socket */
	int fd;
	GString *in; /* bytes read, not yet a whole line */
};

/* The daemon's stderr, for an error message: its first line. */
static char *daemon_stderr(BackupQsd *q)
{
	char buf[512];
	ssize_t n;

	if (q->err_fd < 0)
		return g_strdup("");
	n = read(q->err_fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return g_strdup(buf);
}

/* Reaps the daemon when it has ended. */
static gboolean alive(BackupQsd *q)
{
	int status;

	if (q->pid > 0 && waitpid(q->pid, &status, WNOHANG) == q->pid)
		q->pid = 0;
	return q->pid > 0;
}

static gboolean connect_monitor(BackupQsd *q, const char *path, GError **error)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gint64 deadline = g_get_monotonic_time() + START_TIMEOUT_MS * 1000;

	g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0) {
			ics_error_set_errno(error, errno, "socket");
			return FALSE;
		}
		if (connect(q->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return TRUE;
		close(q->fd);
		q->fd = -1;
		if (!alive(q) || g_get_monotonic_time() > deadline) {
			g_autofree char *why = daemon_stderr(q);

			g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
				    "qemu-storage-daemon did not start: %s",
				    why[0] ? why : "its monitor socket never appeared");
			return FALSE;
		}
		g_usleep(10 * 1000);
	}
}

/* The next line from the daemon, NUL-terminated, within the deadline. */
static char *read_line(BackupQsd *q, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + ANSWER_TIMEOUT_MS * 1000;

	for (;;) {
		char *nl = memchr(q->in->str, '\n', q->in->len);
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		char buf[4096];
		gint64 left;
		ssize_t n;

		if (nl != NULL) {
			char *line = g_strndup(q->in->str, (gsize)(nl - q->in->str));

			g_string_erase(q->in, 0, nl - q->in->str + 1);
			return line;
		}
		left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "qemu-storage-daemon did not answer within %d s",
				    ANSWER_TIMEOUT_MS / 1000);
			return NULL;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			ics_error_set_errno(error, errno, "poll");
			return NULL;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(q->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "qemu-storage-daemon closed its monitor (it died?)");
			return NULL;
		}
		g_string_append_len(q->in, buf, n);
	}
}

json_t *backup_qsd_execute(BackupQsd *q, const char *command, json_t *args, GError **error)
{
	g_autoptr(json_t) msg = json_pack("{s:s}", "execute", command);
	g_autofree char *text = NULL;
	gsize off = 0, len;

	if (args != NULL)
		json_object_set_new(msg, "arguments", args);
	text = json_dumps(msg, JSON_COMPACT);
	len = strlen(text);
	text[len++] = '\n'; /* over the NUL: written by length */
	while (off < len) {
		ssize_t n = write(q->fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ics_error_set_errno(error, errno, "qemu-storage-daemon monitor");
			return NULL;
		}
		off += (gsize)n;
	}
	for (;;) {
		g_autofree char *line = read_line(q, error);
		g_autoptr(json_t) answer = NULL;
		json_t *v;

		if (line == NULL)
			return NULL;
		answer = ics_json_load_string(line, "qemu-storage-daemon answer", error);
		if (answer == NULL)
			return NULL;
		if (json_object_get(answer, "event") != NULL)
			continue;
		if ((v = json_object_get(answer, "return")) != NULL)
			return json_incref(v);
		v = json_object_get(json_object_get(answer, "error"), "desc");
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s: %s", command,
			    json_is_string(v) ? json_string_value(v) : "refused");
		return NULL;
	}
}

gboolean backup_qsd_run(BackupQsd *q, const char *command, json_t *args, GError **error)
{
	g_autoptr(json_t) r = backup_qsd_execute(q, command, args, error);

	return r != NULL;
}

BackupQsd *backup_qsd_start(GPtrArray *blockdevs, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *sock = NULL;
	g_autofree char *greeting = NULL;
	BackupQsd *q = g_new0(BackupQsd, 1);

	q->fd = -1;
	q->err_fd = -1;
	q->in = g_string_new(NULL);
	q->dir = g_dir_make_tmp("ics-qsd-XXXXXX", NULL);
	if (q->dir == NULL) {
		ics_error_set_errno(error, errno,
				    "cannot make a private directory for "
				    "qemu-storage-daemon");
		backup_qsd_stop(q);
		return NULL;
	}
	sock = g_build_filename(q->dir, "qmp", NULL);
	g_ptr_array_add(argv, g_strdup("qemu-storage-daemon"));
	g_ptr_array_add(argv, g_strdup("--chardev"));
	g_ptr_array_add(argv, g_strdup_printf("socket,id=qmp,path=%s,server=on,wait=off", sock));
	g_ptr_array_add(argv, g_strdup("--monitor"));
	g_ptr_array_add(argv, g_strdup("chardev=qmp"));
	for (guint i = 0; i < blockdevs->len; i++) {
		g_ptr_array_add(argv, g_strdup("--blockdev"));
		g_ptr_array_add(argv, json_dumps(g_ptr_array_index(blockdevs, i), JSON_COMPACT));
	}
	g_ptr_array_add(argv, NULL);
	/* its stdout is /dev/null; stderr is read only when it failed, and it
	 * writes a line or two at most */
	if (!g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
					      G_SPAWN_STDOUT_TO_DEV_NULL,
				      NULL, NULL, &q->pid, NULL, NULL, &q->err_fd, error)) {
		q->pid = 0;
		g_prefix_error(error, "cannot run qemu-storage-daemon: ");
		backup_qsd_stop(q);
		return NULL;
	}
	g_unix_set_fd_nonblocking(q->err_fd, TRUE, NULL);
	if (!connect_monitor(q, sock, error) || (greeting = read_line(q, error)) == NULL ||
	    !backup_qsd_run(q, "qmp_capabilities", NULL, error)) {
		ics_error_prefix(error, "the stopped VM's disks: ");
		backup_qsd_stop(q);
		return NULL;
	}
	return q;
}

void backup_qsd_stop(BackupQsd *q)
{
	if (q == NULL)
		return;
	if (q->pid > 0) {
		g_autoptr(GError) err = NULL;

		/* quit closes the images: persistent bitmaps are written then */
		if (q->fd >= 0 && !backup_qsd_run(q, "quit", NULL, &err))
			g_debug("qemu-storage-daemon quit: %s", err->message);
		for (int i = 0; i < QUIT_TIMEOUT_MS / 10 && alive(q); i++)
			g_usleep(10 * 1000);
		if (q->pid > 0) {
			g_warning("qemu-storage-daemon did not quit within %d s: killed",
				  QUIT_TIMEOUT_MS / 1000);
			kill(q->pid, SIGKILL);
			waitpid(q->pid, NULL, 0);
		}
	}
	if (q->err_fd >= 0)
		close(q->err_fd);
	if (q->fd >= 0)
		close(q->fd);
	if (q->dir != NULL) {
		g_autofree char *sock = g_build_filename(q->dir, "qmp", NULL);

		g_unlink(sock);
		g_rmdir(q->dir);
		g_free(q->dir);
	}
	g_string_free(q->in, TRUE);
	g_free(q);
}
