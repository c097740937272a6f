/*
 * ics/backup.h: VM backups -- the repository and its on-disk format, full
 * and incremental backups through libvirt's backup API, verification,
 * restore, and the checkpoint records that keep changed-block tracking
 * alive across stop/start and migration.
 *
 * A repository is a directory (on a pool or any mounted path) that
 * describes itself: everything needed to list, verify and restore a backup
 * is in it, so `ics-backup` works on a machine that has only the
 * repository.  The format is documented in docs/backup-format.md:
 *
 *   REPO/ics-backup-repository.json          {"format", "id", "created"}
 *   REPO/vms/<vm-uuid>/.lock                  one writer per VM (flock)
 *   REPO/vms/<vm-uuid>/<id>/manifest.json     written last: the backup is good
 *   REPO/vms/<vm-uuid>/<id>/<target>.qcow2    one per disk; an incremental's
 *                                             backing file is its parent's
 *                                             (relative: ../<parent>/<target>.qcow2)
 *   REPO/vms/<vm-uuid>/.<id>.partial/         a backup being written, or one
 *                                             that failed: never listed
 *
 * A backup's directory appears (rename of the .partial one) only after its
 * files and its manifest, with a sha256 of each file, are on disk.  So
 * "listed" means "complete", and nothing half-written is ever taken for a
 * backup.
 *
 * A repository's directories must belong to the user that runs ICS (root)
 * and be writable by it alone, and nothing in them is followed through a
 * symbolic link: whoever could write there could otherwise make root write
 * or delete elsewhere.
 *
 * Errors: ICS_ERROR_NOT_FOUND (no such repository, backup, disk),
 * ICS_ERROR_PARSE (a manifest that is not JSON or not ours),
 * ICS_ERROR_INVALID_ARGUMENT (bad input, including a manifest of a newer
 * format), ICS_ERROR_BUSY (another backup of the VM writes to the
 * repository), ICS_ERROR_CONFLICT (a restore target exists),
 * ICS_ERROR_IO (the disk said no: ENOSPC, EIO, a checksum that differs),
 * ICS_ERROR_UNAVAILABLE (libvirtd), ICS_ERROR_EXEC (qemu-img failed).
 */
#ifndef ICS_BACKUP_H
#define ICS_BACKUP_H

#include <glib.h>
#include <jansson.h>
#include <libvirt/libvirt.h>

#include "ics/vmdef.h"

#define ICS_BACKUP_FORMAT 1
#define ICS_BACKUP_REPO_FILE "ics-backup-repository.json"
#define ICS_BACKUP_MANIFEST "manifest.json"
/* Checkpoints ICS makes are named ICS_BACKUP_CHECKPOINT_PREFIX<repo id>-<id>:
 * each repository keeps its own (the newest of its chain), and checkpoints
 * someone else made are left alone. */
#define ICS_BACKUP_CHECKPOINT_PREFIX "ics-"

/* ---- repository ----------------------------------------------------- */

typedef struct IcsBackupRepo IcsBackupRepo;

/* Create the repository at @path (the directory may exist, empty or not,
 * but must not hold another format's repository file); an existing ICS
 * repository is opened as it is. */
IcsBackupRepo *ics_backup_repo_init(const char *path, GError **error);
/* Open an existing repository: NOT_FOUND when @path has no repository
 * file (not mounted?), INVALID_ARGUMENT when its format is newer. */
IcsBackupRepo *ics_backup_repo_open(const char *path, GError **error);
void ics_backup_repo_free(IcsBackupRepo *repo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsBackupRepo, ics_backup_repo_free)
const char *ics_backup_repo_path(const IcsBackupRepo *repo);
const char *ics_backup_repo_id(const IcsBackupRepo *repo);

/* ---- manifest ------------------------------------------------------- */

typedef struct {
	char *target;	     /* "vda" */
	char *source;	     /* the disk's path when it was backed up */
	char *source_format; /* "qcow2" | "raw" */
	guint64 virtual_size;
	char *file; /* "vda.qcow2", in the backup's directory */
	guint64 file_size;
	char *sha256; /* of the file, lower-case hex */
} IcsBackupDisk;

typedef struct {
	guint format; /* ICS_BACKUP_FORMAT */
	char *ics_version;
	char *id; /* "20261207T142933.123456Z-<16 hex>": sorts by time */
	char *vm_uuid;
	char *vm_name;
	json_t *definition; /* the VM's vm.json when it was backed up */
	char *created;	    /* RFC 3339 UTC: the point in time of the backup */
	char *completed;
	gboolean incremental;
	char *parent;	   /* id of the backup this one is relative to, or NULL */
	char *full_reason; /* why a full backup (NULL for an incremental) */
	char *checkpoint;  /* the libvirt checkpoint made at this backup, or NULL */
	char *policy;	   /* the manager's backup policy that took it, or NULL */
	char *consistency; /* "crash-consistent" | "filesystem-frozen" | "stopped" */
	GPtrArray *disks;  /* IcsBackupDisk* */
	guint64 bytes_written;
	guint64 duration_ms;
	/* Not serialised: the backup's directory when read from a repository. */
	char *dir;
} IcsBackupManifest;

void ics_backup_manifest_free(IcsBackupManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsBackupManifest, ics_backup_manifest_free)
/* @what names the text in messages (its path). */
IcsBackupManifest *ics_backup_manifest_parse(const char *text, const char *what, GError **error);
json_t *ics_backup_manifest_to_json(const IcsBackupManifest *m);
char *ics_backup_manifest_serialize(const IcsBackupManifest *m);
const IcsBackupDisk *ics_backup_manifest_disk(const IcsBackupManifest *m, const char *target);

/* ---- catalogue ------------------------------------------------------ */

/* The complete backups of @vm_uuid (NULL: of every VM), oldest first
 * (by VM, then id).  A backup whose manifest cannot be read is not listed;
 * its path and reason are appended to @problems when not NULL. */
GPtrArray *ics_backup_repo_list(IcsBackupRepo *repo, const char *vm_uuid, GPtrArray *problems,
				GError **error);
/* The backup @id (of any VM). */
IcsBackupManifest *ics_backup_repo_find(IcsBackupRepo *repo, const char *id, GError **error);
/* Remove backup @m from @repo (a backup that must not be kept): unlisted
 * at once, then its files.  Never through a symbolic link. */
gboolean ics_backup_discard(IcsBackupRepo *repo, const IcsBackupManifest *m, GError **error);
/* The chain that restores @m: its full backup first, @m last. */
GPtrArray *ics_backup_chain(IcsBackupRepo *repo, const IcsBackupManifest *m, GError **error);

/* ---- retention ------------------------------------------------------ */

/* Which backups of a VM to keep (retention.c).  Each count keeps, newest
 * first: @last the newest backups; @daily, @weekly, @monthly the newest
 * backup of each of that many days, ISO weeks, months (UTC) that have
 * one.  A backup an incremental that is kept depends on (its chain) is
 * kept too.  At least one count is above 0: a rule that keeps nothing is
 * refused rather than emptying a repository. */
typedef struct {
	guint last;
	guint daily;
	guint weekly;
	guint monthly;
} IcsBackupRetention;

/* "last=3,daily=7,weekly=4,monthly=12" (any subset, any order);
 * INVALID_ARGUMENT naming what is wrong. */
gboolean ics_backup_retention_parse(const char *text, IcsBackupRetention *r, GError **error);
gboolean ics_backup_retention_check(const IcsBackupRetention *r, GError **error);
/* Why each of @backups (one VM's, oldest first, as listed) is kept --
 * "last", "daily", "weekly", "monthly" joined with ", ", "needed by <id>",
 * or, when @policy is given, "not policy <name>'s" for a backup another
 * policy or a person took (the rules count only @policy's backups) -- or
 * NULL when it is to be pruned; one entry per backup. */
GPtrArray *ics_backup_retention_decide(GPtrArray *backups, const IcsBackupRetention *r,
				       const char *policy);
/* Apply @r to the backups of @vm_uuid (NULL: of every VM) in @repo, only
 * to @policy's when given: under the VM's lock in the repository, discard
 * what is not kept, newest first (an incremental goes before the backup
 * it depends on, so an interrupted prune leaves no listed backup whose
 * chain is broken).  @dry_run: decide only.  Returns {"vms": [{"vm_uuid",
 * "vm_name", "kept": [{"id", "why"}], "pruned": [id], "error"?}]}: a VM
 * that could not be pruned (BUSY while one of its backups runs, a discard
 * that failed) has its error there, with what was pruned before it, and
 * the others are still pruned.  NULL only for a bad argument. */
json_t *ics_backup_prune(IcsBackupRepo *repo, const char *vm_uuid, const IcsBackupRetention *r,
			 const char *policy, gboolean dry_run, GError **error);

/* ---- progress ------------------------------------------------------- */

typedef struct {
	const char *phase; /* "copying", "checksumming", "verifying", "restoring" */
	guint64 done;	   /* bytes */
	guint64 total;
} IcsBackupProgress;
typedef void (*IcsBackupProgressFn)(const IcsBackupProgress *p, gpointer data);

/* ---- verify and restore --------------------------------------------- */

/* Recompute the sha256 of every file of @m's chain and check the chain's
 * links; IO naming the backup and the disk on the first difference. */
gboolean ics_backup_verify(IcsBackupRepo *repo, const IcsBackupManifest *m,
			   IcsBackupProgressFn progress, gpointer data, GError **error);

/* Write disk @target of backup @m (with its chain) to the new file @dest
 * in @format ("qcow2" or "raw"): CONFLICT when @dest exists.  The chain is
 * verified first unless @skip_verify.  On failure @dest is removed. */
gboolean ics_backup_restore_disk(IcsBackupRepo *repo, const IcsBackupManifest *m,
				 const char *target, const char *dest, const char *format,
				 gboolean skip_verify, GError **error);

/* Rename each file of @from over the same place of @to (a stopped VM's
 * disks), done by a process that holds the VM's sanlock lease (ics-lease
 * hold): the VM cannot start on any host meanwhile, and sanlock ends the
 * writer should this host lose the pool.  Once the lease is held, @check
 * (may be NULL) says whether to go on (the VM still as the caller
 * expects); FALSE with its error renames nothing.  @pool is the pool's
 * path, @owner the VM's uuid.  BUSY (ics-lease's sentence naming the
 * holder) when another host holds the lease, UNAVAILABLE when it cannot
 * be taken otherwise, IO naming how many were renamed (*@renamed) when a
 * rename failed. */
typedef gboolean (*IcsBackupLeaseCheck)(gpointer data, GError **error);
gboolean ics_backup_lease_rename(const char *pool, const char *owner, GPtrArray *from,
				 GPtrArray *to, IcsBackupLeaseCheck check, gpointer data,
				 guint *renamed, GError **error);

/* ---- taking a backup ------------------------------------------------ */

typedef struct {
	IcsBackupProgressFn progress;
	gpointer progress_data;
	/* Set to non-zero by another thread to cancel. */
	const volatile gint *cancel;
	/* A full backup even when an incremental one is possible. */
	gboolean force_full;
	/* Try the guest agent's filesystem freeze (default on). */
	gboolean no_quiesce;
	/* The VM's pool path: where its checkpoint records are kept. */
	const char *pool_path;
	/* The backup policy taking it (recorded in the manifest), or NULL. */
	const char *policy;
} IcsBackupRunOptions;

/* Back up the running domain @dom of VM @vm into @repo: incremental from
 * the VM's last backup in @repo when that backup's checkpoint is defined
 * on @dom and every disk is qcow2, otherwise full, with the reason in the
 * manifest.  Returns the manifest of the new (complete) backup. */
IcsBackupManifest *ics_backup_run_live(IcsBackupRepo *repo, virDomainPtr dom, const IcsVmMeta *vm,
				       const IcsBackupRunOptions *opts, GError **error);
/* Back up VM @vm while it is stopped (the caller knows it is and that it
 * will not start meanwhile): a full copy of each disk with qemu-img. */
IcsBackupManifest *ics_backup_run_stopped(IcsBackupRepo *repo, const IcsVmMeta *vm,
					  const IcsBackupRunOptions *opts, GError **error);

/* ---- checkpoint records on the VM's pool ----------------------------- */

/* The directory of @vm_dir's checkpoint records: <vm_dir>/checkpoints. */
char *ics_backup_checkpoint_dir(const char *vm_dir);
/* Redefine on @dom (just started or migrated in) every checkpoint recorded
 * in @vm_dir, oldest first, validating its bitmaps.  A checkpoint whose
 * bitmap is missing or inconsistent (the VM crashed, its disk was changed
 * outside ICS) is not redefined; its record gets a ".broken" companion
 * with libvirt's reason, which the next backup reports as the reason it is
 * full.  Returns how many were redefined; @report gets a line per record
 * that was not. */
guint ics_backup_checkpoints_redefine(virDomainPtr dom, const char *vm_dir, GString *report);

/* Abort a backup job running on @dom, if one does, and wait (up to 10 s)
 * for it to end; *@aborted says whether there was one.  For the agent's
 * migrate_to: the migration goes first (a stop needs nothing: QEMU ends
 * the job when it exits). */
gboolean ics_backup_abort_job(virDomainPtr dom, gboolean *aborted, GError **error);

#endif /* ICS_BACKUP_H */
