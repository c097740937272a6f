/*
 * plan.c: full or incremental, and why (see backup_internal.h).
 *
 * An incremental backup is right only when every write since the last
 * backup is in a bitmap that was tracking all along.  The checks, in the
 * order they are reported: asked for full; no earlier backup; a disk that
 * cannot have a bitmap (raw); the last backup made no checkpoint; the
 * VM's disks differ from the last backup's; the last backup's checkpoint
 * is not defined on the running domain -- with the reason its redefinition
 * failed when the agent recorded one.  Every refusal is a sentence for the
 * task and the manifest: a full backup never happens silently.
 */
#include "config.h"

#include <string.h>

#include "backup_internal.h"

char *backup_checkpoint_name(const IcsBackupRepo *repo, const char *backup_id)
{
	return g_strdup_printf(ICS_BACKUP_CHECKPOINT_PREFIX "%s-%s", ics_backup_repo_id(repo),
			       backup_id);
}

gboolean backup_disk_included(const IcsVmDisk *d)
{
	return !d->readonly;
}

gboolean backup_disks_tracked(const IcsVmMeta *vm)
{
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);

		if (backup_disk_included(d) && strcmp(d->format, "qcow2") != 0)
			return FALSE;
	}
	return TRUE;
}

char *backup_full_reason(const BackupPlanInput *in)
{
	const IcsBackupManifest *last = in->last;
	guint n = 0;

	if (in->force_full)
		return g_strdup("a full backup was asked for");
	if (last == NULL)
		return g_strdup("the first backup of this VM in this repository");
	for (guint i = 0; i < in->vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(in->vm->disks, i);

		if (!backup_disk_included(d))
			continue;
		if (strcmp(d->format, "qcow2") != 0)
			return g_strdup_printf("disk %s is %s: changed-block tracking needs qcow2",
					       d->target, d->format);
		if (ics_backup_manifest_disk(last, d->target) == NULL)
			return g_strdup_printf("disk %s is not in the last backup (%s)", d->target,
					       last->id);
		n++;
	}
	if (last->checkpoint != NULL && in->repo != NULL) {
		g_autofree char *ours = backup_checkpoint_name(in->repo, last->id);

		if (strcmp(ours, last->checkpoint) != 0)
			return g_strdup_printf("the last backup (%s) names checkpoint %s, not this "
					       "repository's (copied from another repository?)",
					       last->id, last->checkpoint);
	}
	if (last->checkpoint == NULL)
		return g_strdup_printf("the last backup (%s) made no checkpoint: it was %s",
				       last->id,
				       g_strcmp0(last->consistency, "stopped") == 0
					       ? "of the stopped VM, without its lease, a directory "
						 "on its pool or disks that can hold bitmaps (qcow2 "
						 "v3)"
					       : "of disks without changed-block tracking");
	if (n != last->disks->len)
		return g_strdup_printf("the VM's disks changed since the last backup (%s)",
				       last->id);
	if (in->checkpoint_defined)
		return NULL;
	if (in->broken != NULL)
		return g_strdup_printf("the changed-block bitmap of the last backup (%s) did not "
				       "survive: %s (QEMU stopped without closing the disk, e.g. "
				       "the VM or its host crashed, or the disk was changed "
				       "outside ICS)",
				       last->id, in->broken);
	if (in->checkpoint_recorded)
		return g_strdup_printf("checkpoint %s of the last backup (%s) is recorded on the "
				       "pool but not defined on the running domain (started "
				       "without the ICS agent?)",
				       last->checkpoint, last->id);
	return g_strdup_printf("checkpoint %s of the last backup (%s) is neither defined on the "
			       "domain nor recorded on the pool",
			       last->checkpoint, last->id);
}
