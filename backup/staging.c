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
 * never opened for writing.  Checksums are nettle's sha256 (its assembly
 * uses the CPU's SHA instructions: ~5x GLib's on these machines, and the
 * checksum pass is a whole read of the backup).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <nettle/sha2.h>

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
	g_auto(IcsExecResult) res = { 0 };
	IcsExecOptions opts = { .argv = argv, .timeout_ms = QEMU_IMG_TIMEOUT_MS };

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

char *backup_file_sha256(const char *path, guint64 *size, gboolean sync,
			 IcsBackupProgressFn progress, gpointer data, const char *phase,
			 guint64 base, guint64 total, const volatile gint *cancel, GError **error)
{
	struct sha256_ctx sum;
	guint8 digest[SHA256_DIGEST_SIZE];
	g_autofree guchar *buf = g_malloc(SHA_BLOCK);
	gint64 next = 0;
	guint64 n_total = 0;
	int fd = backup_open_regular(path, error);

	if (fd < 0)
		return NULL;
	sha256_init(&sum);
	/* what QEMU or qemu-img wrote reaches the disk before the manifest
	 * that vouches for it */
	if (sync && fdatasync(fd) < 0) {
		ics_error_set_errno(error, errno, "cannot sync %s", path);
		close(fd);
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
		sha256_update(&sum, (size_t)n, buf);
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
	sha256_digest(&sum, sizeof(digest), digest);
	{
		char *hex = g_malloc(2 * sizeof(digest) + 1);

		for (gsize i = 0; i < sizeof(digest); i++)
			g_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
		return hex;
	}
}

/* Remove @name, a .partial directory of @parent_fd, and the files in it:
 * never through a symbolic link (a link named like a partial directory is
 * left alone), never below it (it holds files only). */
/* The directory @name of @parent_fd (AT_FDCWD: a path), never through a
 * symbolic link; NULL when it is not one. */
static DIR *open_dir_at(int parent_fd, const char *name)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL)
		close(fd);
	return d;
}

static void remove_partial_at(int parent_fd, const char *name)
{
	DIR *d = open_dir_at(parent_fd, name);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	unlinkat(parent_fd, name, AT_REMOVEDIR);
}

static void remove_stale_partials(const char *vm_dir)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = open_dir_at(AT_FDCWD, vm_dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] == '.' && g_str_has_suffix(e->d_name, ".partial"))
			g_ptr_array_add(names, g_strdup(e->d_name));
	for (guint i = 0; i < names->len; i++)
		remove_partial_at(dirfd(d), g_ptr_array_index(names, i));
	closedir(d);
}

int backup_vm_lock(const char *vm_dir, const char *vm_name, GError **error)
{
	g_autofree char *path = g_build_filename(vm_dir, ".backup.lock", NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "vm %s: cannot open %s", vm_name, path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
				    "another backup of vm %s runs now (one at a time, whatever "
				    "the repository)",
				    vm_name);
		else
			ics_error_set_errno(error, errno, "vm %s: cannot lock %s", vm_name, path);
		close(fd);
		return -1;
	}
	return fd;
}

int backup_repo_vm_lock(IcsBackupRepo *repo, const char *vm_uuid, GError **error)
{
	return backup_repo_vm_lock_mode(repo, vm_uuid, FALSE, error);
}

int backup_repo_vm_lock_mode(IcsBackupRepo *repo, const char *vm_uuid, gboolean shared,
			     GError **error)
{
	g_autofree char *vm_dir = backup_vm_dir(repo, vm_uuid);
	g_autofree char *lock = g_build_filename(vm_dir, ".lock", NULL);
	int fd;

	/* 0711: QEMU, when it does not run as root, reaches its target */
	if (g_mkdir_with_parents(vm_dir, 0711) < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", vm_dir);
		return -1;
	}
	if (!backup_dir_trusted(vm_dir, error))
		return -1;
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open %s", lock);
		return -1;
	}
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
				    shared ? "a prune or a backup of vm %s in %s runs now: restore "
					     "when it has finished"
					   : "another backup, a restore or a prune of vm %s in %s "
					     "runs now",
				    vm_uuid, ics_backup_repo_path(repo));
		else
			ics_error_set_errno(error, errno, "cannot lock %s", lock);
		close(fd);
		return -1;
	}
	return fd;
}

IcsBackupDisk *backup_staging_add_disk(BackupStaging *s, IcsBackupManifest *m, const IcsVmDisk *d,
				       guint64 size, const IcsBackupManifest *parent,
				       GError **error)
{
	g_autofree char *file = g_strdup_printf("%s.qcow2", d->target);
	g_autofree char *path = g_build_filename(s->dir, file, NULL);
	g_autofree char *vsize = g_strdup_printf("%" G_GUINT64_FORMAT, size);
	g_autofree char *backing = NULL;
	IcsBackupDisk *bd;

	if (parent) {
		const IcsBackupDisk *pd = ics_backup_manifest_disk(parent, d->target);

		backing = g_strdup_printf("../%s/%s", parent->id, pd->file);
	}
	{
		const char *full[] = { "qemu-img", "create", "-q", "-f", "qcow2", path, vsize, NULL };
		const char *incr[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b",
				       backing,	   "-F",     "qcow2", path, vsize, NULL };

		if (!backup_qemu_img(backing ? incr : full, NULL, error)) {
			ics_error_prefix(error, "disk %s: ", d->target);
			return NULL;
		}
	}
	bd = g_new0(IcsBackupDisk, 1);
	bd->target = g_strdup(d->target);
	bd->source = g_strdup(d->path);
	bd->source_format = g_strdup(d->format);
	bd->virtual_size = size;
	bd->file = g_steal_pointer(&file);
	g_ptr_array_add(m->disks, bd);
	return bd;
}

BackupStaging *backup_staging_begin(IcsBackupRepo *repo, const char *vm_uuid, GError **error)
{
	g_autoptr(BackupStaging) s = g_new0(BackupStaging, 1);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	s->lock_fd = -1;
	s->repo = repo;
	s->started_us = g_get_monotonic_time();
	s->vm_dir = backup_vm_dir(repo, vm_uuid);
	s->lock_fd = backup_repo_vm_lock(repo, vm_uuid, error);
	if (s->lock_fd < 0)
		return NULL;
	remove_stale_partials(s->vm_dir);
	s->created = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	/* sorts by time (to the microsecond: the VM's lock orders its
	 * backups), unique across VMs (64 random bits) */
	{
		g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");

		s->id = g_strdup_printf("%s.%06dZ-%08x%08x", stamp,
					g_date_time_get_microsecond(now), g_random_int(),
					g_random_int());
	}
	s->dir = g_strdup_printf("%s/.%s.partial", s->vm_dir, s->id);
	if (g_mkdir(s->dir, 0711) < 0) {
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

		if (g_stat(p, &st) < 0 || g_chmod(p, 0600) < 0) {
			ics_error_set_errno(error, errno, "backup of disk %s: %s", d->target, p);
			return FALSE;
		}
		total += (guint64)st.st_size;
	}
	for (guint i = 0; i < m->disks->len; i++) {
		IcsBackupDisk *d = g_ptr_array_index(m->disks, i);
		g_autofree char *p = g_build_filename(s->dir, d->file, NULL);

		g_free(d->sha256);
		d->sha256 = backup_file_sha256(p, &d->file_size, TRUE, progress, data,
					       "checksumming", done, total, cancel, error);
		if (d->sha256 == NULL)
			return FALSE;
		done += d->file_size;
	}
	g_free(m->id);
	m->id = g_strdup(s->id);
	if (m->created == NULL)
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
	{
		g_autoptr(GError) err = NULL;

		/* listed from now on: a failed sync of the directory is not a
		 * failed backup */
		if (!ics_fsync_dir(s->vm_dir, &err))
			g_warning("backup %s: %s", s->id, err->message);
	}
	g_free(m->dir);
	m->dir = g_steal_pointer(&final);
	return TRUE;
}

gboolean ics_backup_discard(IcsBackupRepo *repo, const IcsBackupManifest *m, GError **error)
{
	g_autofree char *vm_dir = backup_vm_dir(repo, m->vm_uuid);
	g_autofree char *partial = g_strdup_printf(".%s.partial", m->id);
	int fd;

	if (!backup_dir_trusted(vm_dir, error))
		return FALSE;
	fd = open(vm_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open %s", vm_dir);
		return FALSE;
	}
	/* unlisted first (one rename), then removed like any partial */
	if (renameat(fd, m->id, fd, partial) < 0) {
		ics_error_set_errno(error, errno, "cannot remove backup %s", m->id);
		close(fd);
		return FALSE;
	}
	remove_partial_at(fd, partial);
	close(fd);
	return TRUE;
}

void backup_staging_end(BackupStaging *s)
{
	if (s == NULL)
		return;
	if (s->dir != NULL) {
		g_autofree char *base = g_path_get_basename(s->dir);
		int fd = open(s->vm_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			remove_partial_at(fd, base);
			close(fd);
		}
	}
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	g_free(s->vm_dir);
	g_free(s->id);
	g_free(s->dir);
	g_free(s->created);
	g_free(s);
}
