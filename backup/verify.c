/*
 * verify.c: recompute a backup's checksums, and its chain's (see
 * ics/backup.h).
 *
 * Each file of each backup in the chain is read whole and its sha256
 * compared with the manifest's; the links are checked too (a parent of the
 * same VM, the same disks, an incremental's qcow2 backing file naming
 * exactly its parent's file, a full backup's naming none), so a chain
 * whose middle was replaced by hand is not restored, and qemu-img never
 * follows an image to anything else (qcow2_header.c).
 */
#include "config.h"

#include <string.h>

#include "backup_internal.h"
#include "ics/error.h"

/* The links of @child to @parent: same VM, same disks, each image backed
 * by exactly its parent's (qcow2_header.c); @parent NULL: a full backup,
 * whose images stand alone. */
static gboolean check_images(const IcsBackupManifest *child, const IcsBackupManifest *parent,
			     GError **error)
{
	if (parent && g_ascii_strcasecmp(child->vm_uuid, parent->vm_uuid) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "backup %s: its parent %s is of another VM (%s)", child->id,
			    parent->id, parent->vm_uuid);
		return FALSE;
	}
	for (guint i = 0; i < child->disks->len; i++) {
		const IcsBackupDisk *d = g_ptr_array_index(child->disks, i);
		const IcsBackupDisk *pd = parent ? ics_backup_manifest_disk(parent, d->target) : NULL;
		g_autofree char *path = g_build_filename(child->dir, d->file, NULL);
		g_autofree char *want = NULL;

		if (parent && pd == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "backup %s: disk %s is not in its parent %s", child->id,
				    d->target, parent->id);
			return FALSE;
		}
		if (pd)
			want = g_strdup_printf("../%s/%s", parent->id, pd->file);
		if (!backup_qcow2_check(path, want, error)) {
			ics_error_prefix(error, "backup %s, disk %s: ", child->id, d->target);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean backup_chain_check_images(IcsBackupRepo *repo, const IcsBackupManifest *m,
				   GError **error)
{
	g_autoptr(GPtrArray) chain = ics_backup_chain(repo, m, error);

	if (chain == NULL)
		return FALSE;
	for (guint i = 0; i < chain->len; i++)
		if (!check_images(g_ptr_array_index(chain, i),
				  i ? g_ptr_array_index(chain, i - 1) : NULL, error))
			return FALSE;
	return TRUE;
}

gboolean ics_backup_verify(IcsBackupRepo *repo, const IcsBackupManifest *m,
			   IcsBackupProgressFn progress, gpointer data, GError **error)
{
	g_autoptr(GPtrArray) chain = ics_backup_chain(repo, m, error);
	guint64 total = 0, done = 0;

	if (chain == NULL)
		return FALSE;
	for (guint i = 0; i < chain->len; i++) {
		const IcsBackupManifest *b = g_ptr_array_index(chain, i);

		for (guint k = 0; k < b->disks->len; k++)
			total += ((const IcsBackupDisk *)g_ptr_array_index(b->disks, k))->file_size;
	}
	for (guint i = 0; i < chain->len; i++) {
		const IcsBackupManifest *b = g_ptr_array_index(chain, i);

		if (!check_images(b, i ? g_ptr_array_index(chain, i - 1) : NULL, error))
			return FALSE;
		for (guint k = 0; k < b->disks->len; k++) {
			const IcsBackupDisk *d = g_ptr_array_index(b->disks, k);
			g_autofree char *path = g_build_filename(b->dir, d->file, NULL);
			g_autofree char *sum = NULL;
			guint64 size = 0;

			sum = backup_file_sha256(path, &size, FALSE, progress, data, "verifying",
						 done, total, NULL, error);
			if (sum == NULL) {
				ics_error_prefix(error, "backup %s, disk %s: ", b->id, d->target);
				return FALSE;
			}
			if (size != d->file_size || strcmp(sum, d->sha256) != 0) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
					    "backup %s, disk %s: %s is damaged: sha256 %s, %" G_GUINT64_FORMAT
					    " bytes; the manifest says %s, %" G_GUINT64_FORMAT " bytes",
					    b->id, d->target, path, sum, size, d->sha256,
					    d->file_size);
				return FALSE;
			}
			done += size;
		}
	}
	return TRUE;
}
