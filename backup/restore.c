/*
 * restore.c: a disk of a backup, as of that backup, written to a new file
 * (see ics/backup.h).
 *
 * qemu-img reads the chain through the incremental images' backing files
 * (each names its parent's, relatively) and writes the disk as it was at
 * the backup's point in time.  It writes to a temporary name beside the
 * destination, which is renamed into place without replacing anything
 * (RENAME_NOREPLACE) once synced: an existing file is never overwritten,
 * also when it appears while the restore runs, and a failed restore
 * leaves nothing.  Before qemu-img opens the chain, its images are checked
 * to refer to nothing but each other (qcow2_header.c), with the checksums
 * unless asked not to.  The VM's lock in the repository is held, shared,
 * from the check to the end: restores run side by side, a prune or a
 * backup of that VM into the repository waits (BUSY) for them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/file.h"

static gboolean restore_locked(IcsBackupRepo *repo, const IcsBackupManifest *m,
			       const IcsBackupDisk *d, const char *dest, const char *format,
			       gboolean skip_verify, GError **error);

gboolean ics_backup_restore_disk(IcsBackupRepo *repo, const IcsBackupManifest *m,
				 const char *target, const char *dest, const char *format,
				 gboolean skip_verify, GError **error)
{
	const IcsBackupDisk *d = ics_backup_manifest_disk(m, target);
	g_autofree char *dir = NULL;
	gboolean ok;
	int lock;

	if (d == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "backup %s has no disk %s", m->id, target);
		return FALSE;
	}
	if (g_strcmp0(format, "qcow2") != 0 && g_strcmp0(format, "raw") != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "restore format must be qcow2 or raw, not \"%s\"",
			    format ? format : "");
		return FALSE;
	}
	if (dest == NULL || !g_path_is_absolute(dest)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "restore destination must be an absolute path");
		return FALSE;
	}
	if (g_file_test(dest, G_FILE_TEST_EXISTS)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "%s exists: restore writes a new file, never over one", dest);
		return FALSE;
	}
	dir = g_path_get_dirname(dest);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "%s is not a directory", dir);
		return FALSE;
	}
	lock = backup_repo_vm_lock_mode(repo, m->vm_uuid, TRUE, error);
	if (lock < 0)
		return FALSE;
	ok = restore_locked(repo, m, d, dest, format, skip_verify, error);
	close(lock);
	return ok;
}

/* The work of ics_backup_restore_disk(), under the VM's shared lock in the
 * repository: no prune removes the chain while it is read. */
static gboolean restore_locked(IcsBackupRepo *repo, const IcsBackupManifest *m,
			       const IcsBackupDisk *d, const char *dest, const char *format,
			       gboolean skip_verify, GError **error)
{
	const char *target = d->target;
	g_autofree char *top = NULL;
	g_autofree char *dir = g_path_get_dirname(dest);
	g_autofree char *base = NULL;
	g_autofree char *tmp = NULL;

	/* without the checksums, still what qemu-img will follow */
	if (skip_verify ? !backup_chain_check_images(repo, m, error)
			: !ics_backup_verify(repo, m, NULL, NULL, error))
		return FALSE;
	top = g_build_filename(m->dir, d->file, NULL);
	base = g_path_get_basename(dest);
	tmp = g_strdup_printf("%s/.%s.restore-%08x", dir, base, g_random_int());
	{
		const char *argv[] = { "qemu-img", "convert", "-f", "qcow2", "-O", format,
				       top, tmp, NULL };

		if (!backup_qemu_img(argv, NULL, error)) {
			g_unlink(tmp);
			ics_error_prefix(error, "restore of disk %s of backup %s: ", target, m->id);
			return FALSE;
		}
	}
	{
		/* qemu-img convert does not sync what it wrote */
		int fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0 || fdatasync(fd) < 0) {
			ics_error_set_errno(error, errno, "cannot sync the restored disk %s", tmp);
			if (fd >= 0)
				close(fd);
			g_unlink(tmp);
			return FALSE;
		}
		close(fd);
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) < 0) {
		int e = errno;

		g_unlink(tmp);
		if (e == EEXIST)
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "%s appeared during the restore: left as it is", dest);
		else
			ics_error_set_errno(error, e, "cannot rename the restored disk to %s",
					    dest);
		return FALSE;
	}
	return ics_fsync_dir(dir, error);
}
