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

/* @path is a directory (not a link) of this process's user that nobody
 * else can write: PERMISSION otherwise.  Every directory of a repository
 * is checked before it is used (repository.c). */
gboolean backup_dir_trusted(const char *path, GError **error);

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

/* One backup of a VM at a time, whatever the repository (libvirt runs one
 * job per domain, and its checkpoints are shared): a flock on
 * <vm_dir>/.backup.lock on the VM's pool; the fd to close, or -1 with
 * BUSY. */
int backup_vm_lock(const char *vm_dir, const char *vm_name, GError **error);

/* The VM's lock in the repository: a flock on REPO/vms/<uuid>/.lock (the
 * directory made if needed, and checked); the fd to close, or -1 with BUSY
 * when a backup of the VM into the repository, a restore from it or a
 * prune holds it. */
int backup_repo_vm_lock(IcsBackupRepo *repo, const char *vm_uuid, GError **error);
/* The same lock, shared when @shared: restores read a chain side by side,
 * and neither a backup nor a prune of the VM runs meanwhile (BUSY). */
int backup_repo_vm_lock_mode(IcsBackupRepo *repo, const char *vm_uuid, gboolean shared,
			     GError **error);

/* Take the VM's lock in the repository (BUSY when another backup of it
 * into the repository runs), remove what
 * failed backups left, make a new id and its .partial directory. */
BackupStaging *backup_staging_begin(IcsBackupRepo *repo, const char *vm_uuid, GError **error);
/* Sync and checksum each disk file of @m in the staging directory
 * (filling file_size, sha256, bytes_written), write the manifest, and
 * rename the directory to its id: from then on the backup is listed.
 * @m->id is taken from @s, and created too unless set (the live path sets
 * it to the backup's point in time). */
gboolean backup_staging_commit(BackupStaging *s, IcsBackupManifest *m,
			       IcsBackupProgressFn progress, gpointer data,
			       const volatile gint *cancel, GError **error);
/* Create the image of disk @d (@size bytes) in the staging directory --
 * standalone, or backed by @parent's image of the disk -- and list it in
 * @m; the new entry, or NULL. */
IcsBackupDisk *backup_staging_add_disk(BackupStaging *s, IcsBackupManifest *m,
				       const IcsVmDisk *d, guint64 size,
				       const IcsBackupManifest *parent, GError **error);
/* Remove the .partial directory (if not committed) and release the lock. */
void backup_staging_end(BackupStaging *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BackupStaging, backup_staging_end)

/* sha256 of a regular file (not through a link), lower-case hex, synced
 * to disk first when @sync; progress reports bytes as they go. */
char *backup_file_sha256(const char *path, guint64 *size, gboolean sync,
			 IcsBackupProgressFn progress, gpointer data, const char *phase,
			 guint64 base, guint64 total, const volatile gint *cancel, GError **error);

/* Open @path for reading: a regular file, not through a symbolic link;
 * -1 with @error otherwise (qcow2_header.c). */
int backup_open_regular(const char *path, GError **error);
/* @path is a qcow2 image (version 2 or 3, no external data file) whose
 * backing file is exactly @backing with format qcow2, or none when
 * @backing is NULL; IO naming what is wrong otherwise. */
gboolean backup_qcow2_check(const char *path, const char *backing, GError **error);

/* The chain of @m and what its images refer to (no checksums): what
 * qemu-img may open (verify.c). */
gboolean backup_chain_check_images(IcsBackupRepo *repo, const IcsBackupManifest *m,
				   GError **error);

/* Run @argv ({"qemu-img", ...}) with a long deadline; EXEC with its stderr
 * on failure. */
gboolean backup_qemu_img(const char *const *argv, char **out, GError **error);

/* A new manifest for @vm with its definition, no disks yet. */
IcsBackupManifest *backup_manifest_new(const IcsVmMeta *vm);

/* Record checkpoint @name (libvirt's XML, no domain) in @vm_dir, clearing
 * a .broken mark. */
gboolean backup_checkpoint_save(const char *vm_dir, const char *name, const char *xml,
				GError **error);
/* Checkpoint @name is gone (its bitmap refused): remove its record, keep
 * @why in its .broken mark for the next backup's reason. */
void backup_checkpoint_mark_broken(const char *vm_dir, const char *name, const char *why);
/* Remove the record of @name and its .broken mark. */
void backup_checkpoint_forget(const char *vm_dir, const char *name);
/* Whether @name is recorded, and why its redefinition failed (NULL: it
 * did not, or was not tried). */
char *backup_checkpoint_state(const char *vm_dir, const char *name, gboolean *recorded);
/* Delete checkpoint @cp (named @name) with its bitmap, or, when QEMU
 * refuses, its metadata at least: it is never left defined.  What went
 * wrong is appended to @report (may be NULL). */
void backup_checkpoint_undefine(virDomainCheckpointPtr cp, const char *name, GString *report);
/* Names of the recorded checkpoints (and of those only marked broken),
 * sorted. */
GPtrArray *backup_checkpoint_records(const char *vm_dir);

/* A private qemu-storage-daemon with the images @blockdevs (json_t*,
 * its --blockdev options) open, driven over QMP (qsd.c): block jobs on a
 * stopped VM's disks.  With @lease_pool, it holds the sanlock lease
 * @lease_owner (the VM's uuid) of that pool while it runs (ics-lease
 * hold); BUSY when another host holds it. */
typedef struct BackupQsd BackupQsd;
BackupQsd *backup_qsd_start(GPtrArray *blockdevs, const char *lease_pool,
			    const char *lease_owner, GError **error);
/* Run QMP @command with @args (stolen; may be NULL): its "return" value,
 * or NULL with IO and the daemon's reason, or TIMEOUT. */
json_t *backup_qsd_execute(BackupQsd *q, const char *command, json_t *args, GError **error);
/* The same, for a command whose answer does not matter; _slow waits as
 * long as a copy may take (closing a target flushes it). */
gboolean backup_qsd_run(BackupQsd *q, const char *command, json_t *args, GError **error);
gboolean backup_qsd_run_slow(BackupQsd *q, const char *command, json_t *args, GError **error);
/* Quit (the images are closed, their persistent bitmaps written), killed
 * if it does not within 30 s, and reaped. */
void backup_qsd_stop(BackupQsd *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BackupQsd, backup_qsd_stop)

/* ics-lease where this build installs it, else as PATH finds it
 * (lease_hold.c); its exit status for a lease another host holds. */
const char *backup_ics_lease_program(void);
#define BACKUP_LEASE_BUSY 3

/* What decides between a full and an incremental backup (plan.c). */
typedef struct {
	const IcsBackupRepo *repo; /* whose checkpoints are named after it (may be NULL) */
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
/* Every disk a backup copies is qcow2: it can have a bitmap, and the
 * backup makes a checkpoint. */
gboolean backup_disks_tracked(const IcsVmMeta *vm);
/* The checkpoint a backup @backup_id into @repo makes. */
char *backup_checkpoint_name(const IcsBackupRepo *repo, const char *backup_id);

/* "2026-12-07T14:29:33Z" now. */
char *backup_now_rfc3339(void);

#endif /* ICS_BACKUP_INTERNAL_H */
