/*
 * verify.c: recompute a backup's checksums, and its chain's (see
 * ics/backup.h).
 *
 * Each file of each backup in the chain is read whole and its sha256
 * compared with the manifest's; the links are checked too (a parent of the
 * same VM, the same disks, an incremental's qcow2 backing file naming its
 * parent's file), so a chain whose middle was replaced by hand is not
 * restored.  The backing file is read from the qcow2 header by qemu-img,
 * never guessed.
 */
#include "config.h"

#include <string.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

/* The backing file an image names, as written in its header (NULL: none). */
static gboolean backing_of(const char *path, char **backing, GError **error)
{
	const char *argv[] = { "qemu-img", "info", "--output=json", "-U", path, NULL };
	g_autofree char *out = NULL;
	g_autoptr(json_t) root = NULL;

	*backing = NULL;
	if (!backup_qemu_img(argv, &out, error))
		return FALSE;
	root = ics_json_load_string(out, "qemu-img info", error);
	if (root == NULL)
		return FALSE;
	*backing = g_strdup(ics_json_get_string_or(root, "backing-filename", NULL, NULL));
	return TRUE;
}

static gboolean check_link(const IcsBackupManifest *child, const IcsBackupManifest *parent,
			   GError **error)
{
	if (g_ascii_strcasecmp(child->vm_uuid, parent->vm_uuid) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "backup %s: its parent %s is of another VM (%s)", child->id,
			    parent->id, parent->vm_uuid);
		return FALSE;
	}
	for (guint i = 0; i < child->disks->len; i++) {
		const IcsBackupDisk *d = g_ptr_array_index(child->disks, i);
		const IcsBackupDisk *pd = ics_backup_manifest_disk(parent, d->target);
		g_autofree char *path = NULL;
		g_autofree char *backing = NULL;
		g_autofree char *want = NULL;

		if (pd == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "backup %s: disk %s is not in its parent %s", child->id,
				    d->target, parent->id);
			return FALSE;
		}
		path = g_build_filename(child->dir, d->file, NULL);
		if (!backing_of(path, &backing, error))
			return FALSE;
		want = g_strdup_printf("../%s/%s", parent->id, pd->file);
		if (g_strcmp0(backing, want) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "backup %s: disk %s's image is backed by \"%s\", not its "
				    "parent's \"%s\"",
				    child->id, d->target, backing ? backing : "(nothing)", want);
			return FALSE;
		}
	}
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

		if (i > 0 && !check_link(b, g_ptr_array_index(chain, i - 1), error))
			return FALSE;
		for (guint k = 0; k < b->disks->len; k++) {
			const IcsBackupDisk *d = g_ptr_array_index(b->disks, k);
			g_autofree char *path = g_build_filename(b->dir, d->file, NULL);
			g_autofree char *sum = NULL;
			guint64 size = 0;

			sum = backup_file_sha256(path, &size, progress, data, "verifying", done,
						 total, NULL, error);
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
