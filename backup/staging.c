/*
 * staging.c: a backup while it is written, and the step that makes it a
 * backup (see backup_internal.h).
 *
 * Every backup is written into REPO/vms/<uuid>/.<id>.partial/ under the
 * VM's lock (flock on REPO/vms/<uuid>/.lock, so two writers of the same VM
 * in the same repository cannot interleave; a dead writer's lock goes with
 * its process).  Commit checksums the files, writes the manifest
 * atomically, then renames the directory to <id>: a crash or an error at
 * any earlier point leaves only a .partial directory, which is never
 * listed and which the next backup of the VM removes.  Older backups are
 * never opened for writing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/file.h"
#include "ics/json.h"

#define SHA_BLOCK (1024 * 1024)
/* qemu-img on a large disk: hours, not the 60 s default. */
#define QEMU_IMG_TIMEOUT_MS (12u * 3600u * 1000u)

gboolean backup_qemu_img(const char *const *argv, char **out, GError **error)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_auto(IcsExecResult) res = { 0 };
	IcsExecOptions opts = { 0 };

	g_ptr_array_add(args, (gpointer) "qemu-img");
	for (guint i = 1; argv[i] != NULL; i++)
		g_ptr_array_add(args, (gpointer)argv[i]);
	g_ptr_array_add(args, NULL);
	opts.argv = (const char *const *)args->pdata;
	opts.timeout_ms = QEMU_IMG_TIMEOUT_MS;
	if (!ics_exec_run(&opts, &res, error) || !ics_exec_check_exit(&res, "qemu-img", error))
		return FALSE;
	if (out)
		*out = g_strdup(res.out);
	return TRUE;
}

void backup_set_cancelled(GError **error)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "cancelled");
}

IcsBackupManifest *backup_manifest_new(const IcsVmMeta *vm)
{
	IcsBackupManifest *m = g_new0(IcsBackupManifest, 1);

	m->format = ICS_BACKUP_FORMAT;
	m->ics_version = g_strdup(PACKAGE_VERSION);
	m->vm_uuid = g_strdup(vm->uuid);
	m->vm_name = g_strdup(vm->name);
	m->definition = ics_vm_meta_to_json(vm);
	m->disks = g_ptr_array_new_with_free_func(backup_disk_free);
	return m;
}

char *backup_file_sha256(const char *path, guint64 *size, IcsBackupProgressFn progress,
			 gpointer data, const char *phase, guint64 base, guint64 total,
			 const volatile gint *cancel, GError **error)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guchar *buf = g_malloc(SHA_BLOCK);
	gint64 next = 0;
	guint64 n_total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open %s", path);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, buf, SHA_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ics_error_set_errno(error, errno, "cannot read %s", path);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		g_checksum_update(sum, buf, (gssize)n);
		n_total += (guint64)n;
		if (cancel && g_atomic_int_get(cancel)) {
			backup_set_cancelled(error);
			close(fd);
			return NULL;
		}
		if (progress && g_get_monotonic_time() >= next) {
			IcsBackupProgress p = { phase, base + n_total, total };

			progress(&p, data);
			next = g_get_monotonic_time() + G_TIME_SPAN_SECOND / 2;
		}
	}
	close(fd);
	if (size)
		*size = n_total;
	return g_strdup(g_checksum_get_string(sum));
}

/* Remove a .partial directory: it holds files only. */
static void remove_partial(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d != NULL)
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *p = g_build_filename(dir, name, NULL);

			g_unlink(p);
		}
	g_rmdir(dir);
}

static void remove_stale_partials(const char *vm_dir)
{
	g_autoptr(GDir) d = g_dir_open(vm_dir, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL)
		if (name[0] == '.' && g_str_has_suffix(name, ".partial")) {
			g_autofree char *p = g_build_filename(vm_dir, name, NULL);

			remove_partial(p);
		}
}

BackupStaging *backup_staging_begin(IcsBackupRepo *repo, const char *vm_uuid, GError **error)
{
	g_autoptr(BackupStaging) s = g_new0(BackupStaging, 1);
	g_autofree char *lock = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	s->lock_fd = -1;
	s->repo = repo;
	s->started_us = g_get_monotonic_time();
	s->vm_dir = backup_vm_dir(repo, vm_uuid);
	if (g_mkdir_with_parents(s->vm_dir, 0700) < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", s->vm_dir);
		return NULL;
	}
	lock = g_build_filename(s->vm_dir, ".lock", NULL);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		ics_error_set_errno(error, errno, "cannot open %s", lock);
		return NULL;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
				    "another backup of vm %s into %s runs now", vm_uuid,
				    ics_backup_repo_path(repo));
		else
			ics_error_set_errno(error, errno, "cannot lock %s", lock);
		return NULL;
	}
	remove_stale_partials(s->vm_dir);
	s->created = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	for (int tries = 0;; tries++) {
		g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
		g_autofree char *final = NULL;

		g_free(s->id);
		s->id = g_strdup_printf("%s-%04x", stamp, g_random_int_range(0, 0x10000));
		final = g_build_filename(s->vm_dir, s->id, NULL);
		if (!g_file_test(final, G_FILE_TEST_EXISTS) || tries > 20)
			break;
	}
	s->dir = g_strdup_printf("%s/.%s.partial", s->vm_dir, s->id);
	if (g_mkdir(s->dir, 0700) < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", s->dir);
		return NULL;
	}
	return g_steal_pointer(&s);
}

gboolean backup_staging_commit(BackupStaging *s, IcsBackupManifest *m,
			       IcsBackupProgressFn progress, gpointer data,
			       const volatile gint *cancel, GError **error)
{
	g_autofree char *text = NULL;
	g_autofree char *final = g_build_filename(s->vm_dir, s->id, NULL);
	guint64 total = 0, done = 0;

	for (guint i = 0; i < m->disks->len; i++) {
		IcsBackupDisk *d = g_ptr_array_index(m->disks, i);
		g_autofree char *p = g_build_filename(s->dir, d->file, NULL);
		GStatBuf st;

		if (g_stat(p, &st) < 0) {
			ics_error_set_errno(error, errno, "backup of disk %s: %s", d->target, p);
			return FALSE;
		}
		total += (guint64)st.st_size;
	}
	for (guint i = 0; i < m->disks->len; i++) {
		IcsBackupDisk *d = g_ptr_array_index(m->disks, i);
		g_autofree char *p = g_build_filename(s->dir, d->file, NULL);

		g_free(d->sha256);
		d->sha256 = backup_file_sha256(p, &d->file_size, progress, data, "checksumming",
					       done, total, cancel, error);
		if (d->sha256 == NULL)
			return FALSE;
		done += d->file_size;
	}
	g_free(m->id);
	m->id = g_strdup(s->id);
	g_free(m->created);
	m->created = g_strdup(s->created);
	g_free(m->completed);
	m->completed = backup_now_rfc3339();
	m->bytes_written = done;
	m->duration_ms = (guint64)((g_get_monotonic_time() - s->started_us) / 1000);
	text = ics_backup_manifest_serialize(m);
	if (!ics_file_write_atomic(s->dir, ICS_BACKUP_MANIFEST, text, error))
		return FALSE;
	if (g_rename(s->dir, final) < 0) {
		ics_error_set_errno(error, errno, "cannot rename %s to %s", s->dir, final);
		return FALSE;
	}
	g_clear_pointer(&s->dir, g_free);
	if (!ics_fsync_dir(s->vm_dir, error))
		return FALSE;
	g_free(m->dir);
	m->dir = g_steal_pointer(&final);
	return TRUE;
}

void backup_staging_end(BackupStaging *s)
{
	if (s == NULL)
		return;
	if (s->dir != NULL)
		remove_partial(s->dir);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	g_free(s->vm_dir);
	g_free(s->id);
	g_free(s->dir);
	g_free(s->created);
	g_free(s);
}
