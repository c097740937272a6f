/*
 * backup_internal.h: what the files of backup/ share and nobody else uses.
 */
#ifndef ICS_BACKUP_INTERNAL_H
#define ICS_BACKUP_INTERNAL_H

#include "ics/backup.h"

/* Frees an IcsBackupDisk (the free function of a manifest's disks). */
void backup_disk_free(gpointer disk);

/* A cancelled operation: INVALID_ARGUMENT "cancelled", as the manager's
 * tasks report it. */
void backup_set_cancelled(GError **error);

/* REPO/vms/<uuid> */
char *backup_vm_dir(const IcsBackupRepo *repo, const char *vm_uuid);

/* A backup being written: its .partial directory under the VM's directory,
 * the VM's lock held until it is committed or abandoned. */
typedef struct {
	IcsBackupRepo *repo; /* borrowed */
	char *vm_dir;
	char *id;
	char *dir; /* REPO/vms/<uuid>/.<id>.partial */
	int lock_fd;
	gint64 started_us; /* monotonic */
	char *created;	   /* RFC 3339 */
} BackupStaging;

/* Take the VM's lock (BUSY when another backup of it runs), remove what
 * failed backups left, make a new id and its .partial directory. */
BackupStaging *backup_staging_begin(IcsBackupRepo *repo, const char *vm_uuid, GError **error);
/* Checksum each disk file of @m in the staging directory (filling
 * file_size, sha256, bytes_written), write the manifest, and rename the
 * directory to its id: from then on the backup is listed.  @m->id and
 * created are taken from @s. */
gboolean backup_staging_commit(BackupStaging *s, IcsBackupManifest *m,
			       IcsBackupProgressFn progress, gpointer data,
			       const volatile gint *cancel, GError **error);
/* Remove the .partial directory (if not committed) and release the lock. */
void backup_staging_end(BackupStaging *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BackupStaging, backup_staging_end)

/* sha256 of a file, lower-case hex; progress reports bytes as they go. */
char *backup_file_sha256(const char *path, guint64 *size, IcsBackupProgressFn progress,
			 gpointer data, const char *phase, guint64 base, guint64 total,
			 const volatile gint *cancel, GError **error);

/* Run qemu-img with @argv (argv[0] is ignored), a long deadline; EXEC with
 * its stderr on failure. */
gboolean backup_qemu_img(const char *const *argv, char **out, GError **error);

/* A new manifest for @vm with its definition, no disks yet. */
IcsBackupManifest *backup_manifest_new(const IcsVmMeta *vm);

/* Record checkpoint @name (libvirt's XML, no domain) in @vm_dir, clearing
 * a .broken mark. */
gboolean backup_checkpoint_save(const char *vm_dir, const char *name, const char *xml,
				GError **error);
/* Remove the record of @name and its .broken mark. */
void backup_checkpoint_forget(const char *vm_dir, const char *name);
/* Whether @name is recorded, and why its redefinition failed (NULL: it
 * did not, or was not tried). */
char *backup_checkpoint_state(const char *vm_dir, const char *name, gboolean *recorded);
/* Names of the recorded checkpoints, sorted. */
GPtrArray *backup_checkpoint_records(const char *vm_dir);

/* What decides between a full and an incremental backup (plan.c). */
typedef struct {
	const IcsVmMeta *vm;
	const IcsBackupManifest *last; /* the VM's newest backup in the repository, or NULL */
	gboolean force_full;
	gboolean checkpoint_defined;  /* last->checkpoint is defined on the domain */
	gboolean checkpoint_recorded; /* ... and recorded on the pool */
	const char *broken;	      /* why its redefinition failed, or NULL */
} BackupPlanInput;

/* NULL when an incremental backup from @in->last is right, otherwise the
 * reason for a full one, as a sentence. */
char *backup_full_reason(const BackupPlanInput *in);
/* Disks a backup copies: all but the read-only ones. */
gboolean backup_disk_included(const IcsVmDisk *d);
/* The checkpoint a backup @backup_id into @repo makes. */
char *backup_checkpoint_name(const IcsBackupRepo *repo, const char *backup_id);

/* "2026-12-07T14:29:33Z" now. */
char *backup_now_rfc3339(void);

#endif /* ICS_BACKUP_INTERNAL_H */
