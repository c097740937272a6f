/*
 * stopped_backup.c: a backup of a stopped VM (see ics/backup.h).
 *
 * Without a running QEMU there is no bitmap to read (and writing a new one
 * into the image of a VM we hold no lease on is not ours to do), so each
 * disk is copied whole with qemu-img into a standalone qcow2 image, and the
 * manifest says why.  qemu-img opens the source without force-share: it
 * takes the image's read lock, so a QEMU starting on the same image while
 * the copy runs is refused instead of writing under it.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

static gboolean virtual_size(const char *path, const char *format, guint64 *size,
			     GError **error)
{
	const char *argv[] = { "qemu-img", "info", "--output=json", "-f", format, path, NULL };
	g_autofree char *out = NULL;
	g_autoptr(json_t) root = NULL;
	gint64 v = 0;

	if (!backup_qemu_img(argv, &out, error))
		return FALSE;
	root = ics_json_load_string(out, "qemu-img info", error);
	if (root == NULL || !ics_json_get_int(root, "virtual-size", &v, error))
		return FALSE;
	*size = (guint64)v;
	return TRUE;
}

/* The copy, under the VM's lock (if any). */
static IcsBackupManifest *run(IcsBackupRepo *repo, const IcsVmMeta *vm,
			      const IcsBackupRunOptions *opts, GError **error)
{
	g_autoptr(BackupStaging) s = backup_staging_begin(repo, vm->uuid, error);
	g_autoptr(IcsBackupManifest) m = NULL;
	guint64 total = 0, done = 0;

	if (s == NULL)
		return NULL;
	m = backup_manifest_new(vm);
	m->full_reason = g_strdup("the VM is stopped: its disks are copied whole");
	m->consistency = g_strdup("stopped");
	m->policy = g_strdup(opts->policy);
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);
		IcsBackupDisk *bd;

		if (!backup_disk_included(d))
			continue;
		bd = g_new0(IcsBackupDisk, 1);
		bd->target = g_strdup(d->target);
		bd->source = g_strdup(d->path);
		bd->source_format = g_strdup(d->format);
		bd->file = g_strdup_printf("%s.qcow2", d->target);
		g_ptr_array_add(m->disks, bd);
		if (!virtual_size(d->path, d->format, &bd->virtual_size, error)) {
			ics_error_prefix(error, "disk %s: ", d->target);
			return NULL;
		}
		total += bd->virtual_size;
	}
	if (m->disks->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm %s has no writable disk to back up", vm->name);
		return NULL;
	}
	for (guint i = 0; i < m->disks->len; i++) {
		IcsBackupDisk *bd = g_ptr_array_index(m->disks, i);
		g_autofree char *dst = g_build_filename(s->dir, bd->file, NULL);
		const char *argv[] = { "qemu-img",	   "convert", "-f", bd->source_format,
				       "-O",		   "qcow2",   bd->source, dst,
				       NULL };
		IcsBackupProgress p = { "copying", done, total };

		if (opts->cancel && g_atomic_int_get(opts->cancel)) {
			backup_set_cancelled(error);
			return NULL;
		}
		if (opts->progress)
			opts->progress(&p, opts->progress_data);
		if (!backup_qemu_img(argv, NULL, error)) {
			ics_error_prefix(error, "disk %s: ", bd->target);
			return NULL;
		}
		done += bd->virtual_size;
	}
	if (!backup_staging_commit(s, m, opts->progress, opts->progress_data, opts->cancel, error))
		return NULL;
	return g_steal_pointer(&m);
}

IcsBackupManifest *ics_backup_run_stopped(IcsBackupRepo *repo, const IcsVmMeta *vm,
					  const IcsBackupRunOptions *opts, GError **error)
{
	const char *pool = opts->pool_path ? opts->pool_path : vm->pool_path;
	g_autofree char *vm_dir = pool ? ics_vm_dir(pool, vm->uuid) : NULL;
	IcsBackupManifest *m;
	int lock = -2;

	/* one backup of the VM at a time, also across repositories (when its
	 * pool is known: a VM outside any pool has no directory there) */
	if (vm_dir && g_file_test(vm_dir, G_FILE_TEST_IS_DIR) &&
	    (lock = backup_vm_lock(vm_dir, vm->name, error)) == -1)
		return NULL;
	m = run(repo, vm, opts, error);
	if (lock >= 0)
		close(lock);
	return m;
}
