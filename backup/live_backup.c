/*
 * live_backup.c: a backup of a running VM through libvirt's backup API
 * (see ics/backup.h).
 *
 * Push mode: libvirt has QEMU copy each disk into a qcow2 image we create
 * in the backup's .partial directory (VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL).
 * A full backup's image stands alone; an incremental's has the parent
 * backup's image as its backing file and receives only the clusters the
 * last checkpoint's bitmap marks dirty, so reading it gives the whole disk
 * as of this backup.  The point in time is the moment backup-begin
 * returns: the guest agent's freeze (when there is an agent) is held just
 * across it.  The same call creates the new checkpoint, whose bitmap
 * tracks the writes after that point.
 *
 * One backup of a VM at a time, whatever the repository (a flock on the
 * VM's pool directory).  The last backup's checkpoint is redefined from
 * the pool first when the domain lacks it (the agent does so after a start
 * or an incoming migration, but a backup may come first).  The new
 * checkpoint is recorded on the pool as soon as the backup begins, so its
 * bitmap is never one nobody knows about.  The job is watched by polling
 * (progress, the cancel flag); its outcome is read from the completed
 * job's statistics.  When anything fails, the job is aborted if it still
 * runs, the new checkpoint is deleted (and its record with it; when the
 * domain is gone, the record stays for the agent to redefine and the next
 * good backup to prune), the .partial directory goes, and the previous
 * backup and its checkpoint stay as they were: the next backup is
 * incremental from them.  A bitmap QEMU refuses only at backup-begin drops
 * its checkpoint and the backup is taken again, full, saying why.  After
 * success the backup is committed first; then the repository's older
 * checkpoints are deleted (their records too).
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "backup_internal.h"
#include "ics/error.h"

/* The job is polled every 10 ms at first (an incremental of a few MiB
 * ends within tens of ms), backing off to every 250 ms. */
#define POLL_FIRST_MS 10
#define POLL_MS 250
#define AGENT_TIMEOUT_S 5

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m && m[0] ? m : "unknown libvirt error";
}

static void report(const IcsBackupRunOptions *opts, const char *phase, guint64 done,
		   guint64 total)
{
	IcsBackupProgress p = { phase, done, total };

	if (opts->progress)
		opts->progress(&p, opts->progress_data);
}

static gboolean checkpoint_defined(virDomainPtr dom, const char *name)
{
	virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name, 0);

	if (cp == NULL)
		return FALSE;
	virDomainCheckpointFree(cp);
	return TRUE;
}

/* TRUE when @name is not (or no longer) defined on @dom. */
static gboolean delete_checkpoint(virDomainPtr dom, const char *name)
{
	virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name, 0);
	gboolean ok = TRUE;

	if (cp == NULL)
		return virDomainIsActive(dom) == 1;
	if (virDomainCheckpointDelete(cp, 0) < 0) {
		g_autoptr(GString) report = g_string_new(NULL);

		backup_checkpoint_undefine(cp, name, report);
		g_warning("%s", report->str);
		ok = FALSE;
	}
	virDomainCheckpointFree(cp);
	return ok;
}

/* Delete this repository's checkpoints other than @keep, on the domain and
 * on the pool. */
static void prune_checkpoints(virDomainPtr dom, const IcsBackupRepo *repo, const char *vm_dir,
			      const char *keep)
{
	g_autofree char *prefix = backup_checkpoint_name(repo, "");
	g_autoptr(GPtrArray) records = backup_checkpoint_records(vm_dir);
	virDomainCheckpointPtr *cps = NULL;
	int n = virDomainListAllCheckpoints(dom, &cps, 0);

	for (int i = 0; i < n; i++) {
		const char *name = virDomainCheckpointGetName(cps[i]);

		if (g_str_has_prefix(name, prefix) && strcmp(name, keep) != 0 &&
		    virDomainCheckpointDelete(cps[i], 0) < 0)
			g_warning("cannot delete checkpoint %s: %s", name, last_error());
		virDomainCheckpointFree(cps[i]);
	}
	free(cps);
	for (guint i = 0; i < records->len; i++) {
		const char *name = g_ptr_array_index(records, i);

		if (g_str_has_prefix(name, prefix) && strcmp(name, keep) != 0)
			backup_checkpoint_forget(vm_dir, name);
	}
}

static char *backup_xml(const IcsVmMeta *vm, const char *dir, const char *incremental)
{
	GString *x = g_string_new("<domainbackup mode='push'>");

	if (incremental) {
		g_autofree char *esc = g_markup_escape_text(incremental, -1);

		g_string_append_printf(x, "<incremental>%s</incremental>", esc);
	}
	g_string_append(x, "<disks>");
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);
		g_autofree char *file = NULL;
		g_autofree char *esc = NULL;

		if (!backup_disk_included(d)) {
			g_string_append_printf(x, "<disk name='%s' backup='no'/>", d->target);
			continue;
		}
		file = g_strdup_printf("%s/%s.qcow2", dir, d->target);
		esc = g_markup_escape_text(file, -1);
		g_string_append_printf(x,
				       "<disk name='%s' backup='yes' type='file'>"
				       "<target file='%s'/><driver type='qcow2'/></disk>",
				       d->target, esc);
	}
	g_string_append(x, "</disks></domainbackup>");
	return g_string_free(x, FALSE);
}

static char *checkpoint_xml(const IcsVmMeta *vm, const char *name, const char *backup_id,
			    const IcsBackupRepo *repo)
{
	GString *x = g_string_new(NULL);
	g_autofree char *desc = g_markup_printf_escaped("ICS backup %s into %s", backup_id,
							ics_backup_repo_path(repo));

	g_string_append_printf(x, "<domaincheckpoint><name>%s</name><description>%s</description>"
			       "<disks>", name, desc);
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);

		g_string_append_printf(x, "<disk name='%s' checkpoint='%s'/>", d->target,
				       backup_disk_included(d) ? "bitmap" : "no");
	}
	g_string_append(x, "</disks></domaincheckpoint>");
	return g_string_free(x, FALSE);
}

/* Create each target image in the staging directory and list the disks in
 * @m; the incremental's images are backed by the parent's. */
static gboolean create_targets(virDomainPtr dom, const IcsVmMeta *vm, BackupStaging *s,
			       const IcsBackupManifest *parent, IcsBackupManifest *m,
			       guint64 *total, GError **error)
{
	*total = 0;
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);
		virDomainBlockInfo info;

		if (!backup_disk_included(d))
			continue;
		if (virDomainGetBlockInfo(dom, d->target, &info, 0) < 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "cannot read the size of disk %s: %s", d->target, last_error());
			return FALSE;
		}
		if (backup_staging_add_disk(s, m, d, info.capacity, parent, error) == NULL)
			return FALSE;
		*total += info.capacity;
	}
	if (m->disks->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm %s has no writable disk to back up", vm->name);
		return FALSE;
	}
	return TRUE;
}

/* Wait for the backup job to end; TRUE when it completed. */
static gboolean wait_job(virDomainPtr dom, const IcsBackupRunOptions *opts, GError **error)
{
	virTypedParameterPtr params = NULL;
	int nparams = 0, type = VIR_DOMAIN_JOB_NONE, op = 0;
	gboolean cancelled = FALSE;
	const char *msg = NULL;
	guint poll_ms = POLL_FIRST_MS;
	gboolean ok;

	for (;;) {
		unsigned long long done = 0, total = 0;

		if (!cancelled && opts->cancel && g_atomic_int_get(opts->cancel)) {
			cancelled = TRUE;
			if (virDomainAbortJob(dom) < 0)
				g_warning("cannot abort the backup job: %s", last_error());
		}
		if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "the VM stopped or left this host (migrated), or the host "
				    "stopped answering, during the backup: %s",
				    last_error());
			/* if it still runs, QEMU must not write on into files that
			 * are about to be removed */
			virDomainAbortJob(dom);
			return FALSE;
		}
		if (type == VIR_DOMAIN_JOB_NONE) {
			virTypedParamsFree(params, nparams);
			break;
		}
		if (virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_PROCESSED,
					    &done) <= 0)
			virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED,
						&done);
		if (virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_TOTAL, &total) <=
		    0)
			virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL, &total);
		virTypedParamsFree(params, nparams);
		params = NULL;
		nparams = 0;
		report(opts, "copying", done, total);
		g_usleep(poll_ms * 1000);
		poll_ms = MIN(poll_ms * 2, POLL_MS);
	}
	params = NULL;
	nparams = 0;
	if (virDomainGetJobStats(dom, &type, &params, &nparams,
				 VIR_DOMAIN_JOB_STATS_COMPLETED) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read how the backup job ended: %s", last_error());
		return FALSE;
	}
	virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
	virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &msg);
	ok = type == VIR_DOMAIN_JOB_COMPLETED && op == VIR_DOMAIN_JOB_OPERATION_BACKUP;
	if (!ok) {
		if (cancelled)
			backup_set_cancelled(error);
		else if (type == VIR_DOMAIN_JOB_CANCELLED)
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "the backup job was aborted (a migration or a stop of the VM "
				    "goes first)");
		else if (op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "the backup job ended, how is unknown (libvirt reports "
				    "another job)");
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "the backup job failed: %s",
				    msg ? msg : "no reason given");
	}
	virTypedParamsFree(params, nparams);
	return ok;
}

/* Freeze the guest's file systems through its agent.  *@asked: a freeze
 * was sent to an agent (it may have taken effect even when the call timed
 * out: thaw then); TRUE when file systems were frozen. */
static gboolean freeze(virDomainPtr dom, const IcsBackupRunOptions *opts, gboolean *asked)
{
	virErrorPtr err;
	int n;

	*asked = FALSE;
	if (opts->no_quiesce)
		return FALSE;
	if (virDomainAgentSetResponseTimeout(dom, AGENT_TIMEOUT_S, 0) < 0)
		return FALSE;
	n = virDomainFSFreeze(dom, NULL, 0, 0);
	err = virGetLastError();
	*asked = n >= 0 || (err && (err->code == VIR_ERR_AGENT_UNRESPONSIVE ||
				    err->code == VIR_ERR_OPERATION_TIMEOUT));
	return n > 0;
}

/* Thaw after freeze() asked for one, a few times if need be; the agent's
 * timeout back to libvirt's default.  FALSE: the guest may stay frozen. */
static gboolean thaw(virDomainPtr dom, gboolean asked, GError **error)
{
	gboolean ok = !asked;

	for (int i = 0; asked && i < 3 && !ok; i++) {
		if (virDomainFSThaw(dom, NULL, 0, 0) >= 0)
			ok = TRUE;
		else
			g_usleep(G_USEC_PER_SEC);
	}
	virDomainAgentSetResponseTimeout(dom, VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_DEFAULT, 0);
	if (!ok)
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "the guest's file systems may stay frozen: thawing them through its "
			    "agent failed (%s); thaw them in the guest (fsfreeze -u) now",
			    last_error());
	return ok;
}

/* Record checkpoint @name of @dom on the pool (libvirt's XML without the
 * domain). */
static gboolean record_checkpoint(virDomainPtr dom, const char *vm_dir, const char *name,
				  GError **error)
{
	virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name, 0);
	g_autofree char *xml = NULL;

	if (cp != NULL) {
		xml = virDomainCheckpointGetXMLDesc(cp, VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN);
		virDomainCheckpointFree(cp);
	}
	if (xml == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read checkpoint %s: %s", name, last_error());
		return FALSE;
	}
	return backup_checkpoint_save(vm_dir, name, xml, error);
}

/* One attempt; *@retry_full: libvirt found the last checkpoint's bitmap
 * inconsistent only now (the checkpoint is dropped and marked broken):
 * try again, which is then full and says why. */
static IcsBackupManifest *run_once(IcsBackupRepo *repo, virDomainPtr dom, const IcsVmMeta *vm,
				   const IcsBackupRunOptions *opts, const char *vm_dir,
				   gboolean *retry_full, GError **error)
{
	g_autoptr(BackupStaging) s = NULL;
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autoptr(GPtrArray) backups = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *broken = NULL;
	g_autofree char *name = NULL;
	g_autofree char *bxml = NULL;
	g_autofree char *cxml = NULL;
	const IcsBackupManifest *last = NULL;
	BackupPlanInput in = { .repo = repo, .vm = vm, .force_full = opts->force_full };
	gboolean frozen, asked, recorded = FALSE;
	guint64 total = 0;
	int rc;

	*retry_full = FALSE;
	s = backup_staging_begin(repo, vm->uuid, error);
	if (s == NULL)
		return NULL;
	backups = ics_backup_repo_list(repo, vm->uuid, NULL, error);
	if (backups == NULL)
		return NULL;
	if (backups->len > 0)
		last = g_ptr_array_index(backups, backups->len - 1);
	in.last = last;
	if (last && last->checkpoint) {
		/* what the agent does after a start or a migration, in case it has
		 * not yet (a migration is seen running before migrate_from ends) */
		if (!checkpoint_defined(dom, last->checkpoint))
			ics_backup_checkpoints_redefine(dom, vm_dir, NULL);
		in.checkpoint_defined = checkpoint_defined(dom, last->checkpoint);
		broken = backup_checkpoint_state(vm_dir, last->checkpoint,
						 &in.checkpoint_recorded);
		in.broken = broken;
	}
	reason = backup_full_reason(&in);
	m = backup_manifest_new(vm);
	m->incremental = reason == NULL;
	m->parent = reason ? NULL : g_strdup(last->id);
	m->full_reason = g_steal_pointer(&reason);
	if (!create_targets(dom, vm, s, m->incremental ? last : NULL, m, &total, error))
		return NULL;
	name = backup_checkpoint_name(repo, s->id);
	bxml = backup_xml(vm, s->dir, m->incremental ? last->checkpoint : NULL);
	cxml = backup_disks_tracked(vm) ? checkpoint_xml(vm, name, s->id, repo) : NULL;
	report(opts, "copying", 0, total);
	frozen = freeze(dom, opts, &asked);
	rc = virDomainBackupBegin(dom, bxml, cxml, VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL);
	if (rc < 0) {
		virErrorPtr e = virGetLastError();

		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "libvirt refused the backup: %s",
			    last_error());
		if (e && e->code == VIR_ERR_CHECKPOINT_INCONSISTENT && m->incremental) {
			g_autofree char *why = g_strdup(last_error());

			/* drop the checkpoint whose bitmap QEMU refuses, and say why
			 * the next backup reads the whole disk */
			delete_checkpoint(dom, last->checkpoint);
			backup_checkpoint_mark_broken(vm_dir, last->checkpoint, why);
			*retry_full = TRUE;
		}
		thaw(dom, asked, NULL);
		return NULL;
	}
	{
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();

		m->created = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	}
	if (!thaw(dom, asked, error)) {
		virDomainAbortJob(dom);
		if (cxml)
			delete_checkpoint(dom, name);
		return NULL;
	}
	m->checkpoint = cxml ? g_strdup(name) : NULL;
	m->consistency = g_strdup(frozen ? "filesystem-frozen" : "crash-consistent");
	m->policy = g_strdup(opts->policy);
	/* recorded at once: whatever happens next, its bitmap is found and
	 * removed again (pruning, or the failure path below) */
	if (cxml && !(recorded = record_checkpoint(dom, vm_dir, name, &err)))
		g_warning("vm %s: checkpoint %s: %s", vm->name, name, err->message);
	if (!wait_job(dom, opts, error) ||
	    !backup_staging_commit(s, m, opts->progress, opts->progress_data, opts->cancel,
				   error)) {
		/* the domain gone (stopped, migrated): the record stays, the agent
		 * redefines it where the VM runs next, the next good backup
		 * prunes it */
		if (cxml && delete_checkpoint(dom, name))
			backup_checkpoint_forget(vm_dir, name);
		return NULL;
	}
	if (cxml) {
		prune_checkpoints(dom, repo, vm_dir, name);
		g_clear_error(&err);
		/* the record (its <parent> stripped) stands; again only if it
		 * could not be written at the start */
		if (!recorded && !record_checkpoint(dom, vm_dir, name, &err))
			g_warning("vm %s: backup %s is good, but its checkpoint %s is not recorded "
				  "on the pool (%s): after the VM's next start or migration the "
				  "next backup will be full",
				  vm->name, m->id, name, err->message);
	}
	return g_steal_pointer(&m);
}

IcsBackupManifest *ics_backup_run_live(IcsBackupRepo *repo, virDomainPtr dom, const IcsVmMeta *vm,
				       const IcsBackupRunOptions *opts, GError **error)
{
	g_autofree char *vm_dir = NULL;
	gboolean retry_full = FALSE;
	IcsBackupManifest *m;
	int lock;

	if (opts->pool_path == NULL && vm->pool_path == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm %s: its pool is unknown, and with it where its checkpoints are "
			    "recorded",
			    vm->name);
		return NULL;
	}
	vm_dir = ics_vm_dir(opts->pool_path ? opts->pool_path : vm->pool_path, vm->uuid);
	lock = backup_vm_lock(vm_dir, vm->name, error);
	if (lock == -1)
		return NULL;
	m = run_once(repo, dom, vm, opts, vm_dir, &retry_full, error);
	if (m == NULL && retry_full) {
		g_clear_error(error);
		m = run_once(repo, dom, vm, opts, vm_dir, &retry_full, error);
	}
	if (lock >= 0)
		close(lock);
	return m;
}
