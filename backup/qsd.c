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
 * the next line that is not an event.  Its monitor socket and its stderr
 * are in a private directory of this process.  The daemon is started by
 * us, dies with the thread that started it (PR_SET_PDEATHSIG), quits when
 * told, gets SIGTERM (it then closes its images cleanly) and at last
 * SIGKILL when it does not, and is reaped, so nothing outlives the
 * session.  Every answer is awaited with a deadline.  Writes to a daemon
 * that died fail (EPIPE), they do not raise SIGPIPE in the caller.
 *
 * Asked to, the daemon is started under `ics-lease hold POOL OWNER`: it
 * then holds the VM's sanlock lease for as long as it has the images
 * open, as the VM's QEMU would, so the VM cannot start on any host
 * meanwhile, and a lease held elsewhere (the VM runs) refuses the session
 * (BUSY) before any image is opened.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

/* An answer (opening images, a command) within a minute; the daemon's
 * socket within 10 s of its start, a minute when ics-lease first takes
 * the lease (it reads the pool's lease area). */
#define ANSWER_TIMEOUT_MS 60000
#define START_TIMEOUT_MS 10000
#define LEASE_START_TIMEOUT_MS 60000
#define QUIT_TIMEOUT_MS 30000
#define TERM_TIMEOUT_MS 10000
/* a target's flush at its close: as long as a qemu-img copy may take */
#define SLOW_TIMEOUT_MS (G_GINT64_CONSTANT(12) * 3600 * 1000)

struct BackupQsd {
	GPid pid;    /* 0: none (any more) */
	int status;  /* its wait status once reaped */
	char *dir;   /* private: holds the monitor socket and its stderr */
	int fd;      /* the monitor */
	GString *in; /* bytes read, not yet a whole line */
};

static char *private_file(const BackupQsd *q, const char *name)
{
	return g_build_filename(q->dir, name, NULL);
}

/* The daemon's (or ics-lease's) error, for a message: the last line of
 * its stderr that is not a warning. */
static char *daemon_stderr(const BackupQsd *q)
{
	g_autofree char *path = private_file(q, "stderr");
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	lines = g_strsplit(g_strstrip(text), "\n", -1);
	for (guint i = g_strv_length(lines); i > 0; i--)
		if (lines[i - 1][0] && strstr(lines[i - 1], "warning") == NULL)
			return g_strdup(lines[i - 1]);
	return g_strdup(lines[0] ? lines[0] : "");
}

/* Reaps the daemon when it has ended. */
static gboolean alive(BackupQsd *q)
{
	if (q->pid > 0 && waitpid(q->pid, &q->status, WNOHANG) == q->pid)
		q->pid = 0;
	return q->pid > 0;
}

/* Send @sig (0: none), then wait up to @ms for the daemon to end. */
static void end_within(BackupQsd *q, int sig, int ms)
{
	if (sig && q->pid > 0)
		kill(q->pid, sig);
	for (int i = 0; i < ms / 10 && alive(q); i++)
		g_usleep(10 * 1000);
}

static gboolean connect_monitor(BackupQsd *q, const char *path, gint64 timeout_ms,
				GError **error)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

	if (strlen(path) >= sizeof sa.sun_path) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s: too long for a socket path (TMPDIR?)", path);
		return FALSE;
	}
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

			if (q->pid == 0 && WIFEXITED(q->status) &&
			    WEXITSTATUS(q->status) == BACKUP_LEASE_BUSY)
				g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
					    "its lease is held: the VM runs, or a restore or a "
					    "backup of it holds it (%s)",
					    why);
			else
				g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
					    "qemu-storage-daemon did not start: %s",
					    why[0] ? why : "its monitor socket never appeared");
			return FALSE;
		}
		g_usleep(10 * 1000);
	}
}

/* The next line from the daemon, NUL-terminated, within @timeout_ms. */
static char *read_line(BackupQsd *q, gint64 timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

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
				    "qemu-storage-daemon did not answer within %" G_GINT64_FORMAT
				    " s",
				    timeout_ms / 1000);
			return NULL;
		}
		if (poll(&p, 1, (int)MIN(left, G_MAXINT)) < 0 && errno != EINTR) {
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

static json_t *execute(BackupQsd *q, const char *command, json_t *args, gint64 timeout_ms,
		       GError **error)
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
		/* a daemon that died is EPIPE here, not SIGPIPE */
		ssize_t n = send(q->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ics_error_set_errno(error, errno, "qemu-storage-daemon monitor");
			return NULL;
		}
		off += (gsize)n;
	}
	for (;;) {
		g_autofree char *line = read_line(q, timeout_ms, error);
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

json_t *backup_qsd_execute(BackupQsd *q, const char *command, json_t *args, GError **error)
{
	return execute(q, command, args, ANSWER_TIMEOUT_MS, error);
}

gboolean backup_qsd_run(BackupQsd *q, const char *command, json_t *args, GError **error)
{
	g_autoptr(json_t) r = execute(q, command, args, ANSWER_TIMEOUT_MS, error);

	return r != NULL;
}

gboolean backup_qsd_run_slow(BackupQsd *q, const char *command, json_t *args, GError **error)
{
	g_autoptr(json_t) r = execute(q, command, args, SLOW_TIMEOUT_MS, error);

	return r != NULL;
}

/* In the child, before exec: die with the thread that started it, stderr
 * into the private file (async-signal-safe calls only). */
static void child_setup(gpointer errfile)
{
	int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

BackupQsd *backup_qsd_start(GPtrArray *blockdevs, const char *lease_pool,
			    const char *lease_owner, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *sock = NULL;
	g_autofree char *errfile = NULL;
	g_autofree char *greeting = NULL;
	BackupQsd *q = g_new0(BackupQsd, 1);

	q->fd = -1;
	q->in = g_string_new(NULL);
	q->dir = g_dir_make_tmp("ics-qsd-XXXXXX", NULL);
	if (q->dir == NULL) {
		ics_error_set_errno(error, errno,
				    "cannot make a private directory for qemu-storage-daemon");
		backup_qsd_stop(q);
		return NULL;
	}
	sock = private_file(q, "qmp");
	errfile = private_file(q, "stderr");
	if (lease_pool != NULL) {
		g_ptr_array_add(argv, g_strdup(backup_ics_lease_program()));
		g_ptr_array_add(argv, g_strdup("hold"));
		g_ptr_array_add(argv, g_strdup(lease_pool));
		g_ptr_array_add(argv, g_strdup(lease_owner));
		g_ptr_array_add(argv, g_strdup("--"));
	}
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
	if (!g_spawn_async(NULL, (char **)argv->pdata, NULL,
			   G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
				   G_SPAWN_STDOUT_TO_DEV_NULL,
			   child_setup, errfile, &q->pid, error)) {
		q->pid = 0;
		g_prefix_error(error, "cannot run %s: ", (char *)argv->pdata[0]);
		backup_qsd_stop(q);
		return NULL;
	}
	if (!connect_monitor(q, sock, lease_pool ? LEASE_START_TIMEOUT_MS : START_TIMEOUT_MS,
			     error) ||
	    (greeting = read_line(q, ANSWER_TIMEOUT_MS, error)) == NULL ||
	    !backup_qsd_run(q, "qmp_capabilities", NULL, error)) {
		backup_qsd_stop(q);
		return NULL;
	}
	return q;
}

void backup_qsd_stop(BackupQsd *q)
{
	if (q == NULL)
		return;
	if (alive(q)) {
		g_autoptr(GError) err = NULL;

		/* quit closes the images: persistent bitmaps are written then;
		 * one never reached (still starting, or ics-lease still
		 * acquiring) is only told to end */
		if (q->fd >= 0 && backup_qsd_run(q, "quit", NULL, &err))
			end_within(q, 0, QUIT_TIMEOUT_MS);
		else if (err != NULL)
			g_debug("qemu-storage-daemon quit: %s", err->message);
		end_within(q, SIGTERM, TERM_TIMEOUT_MS);
		if (q->pid > 0) {
			g_warning("qemu-storage-daemon did not end within %d s: killed",
				  (QUIT_TIMEOUT_MS + TERM_TIMEOUT_MS) / 1000);
			kill(q->pid, SIGKILL);
			waitpid(q->pid, NULL, 0);
		}
	}
	if (q->fd >= 0)
		close(q->fd);
	if (q->dir != NULL) {
		g_autofree char *sock = private_file(q, "qmp");
		g_autofree char *errfile = private_file(q, "stderr");

		g_unlink(sock);
		g_unlink(errfile);
		g_rmdir(q->dir);
		g_free(q->dir);
	}
	g_string_free(q->in, TRUE);
	g_free(q);
}
