/*
 * stopped_backup.c: a backup of a stopped VM (see ics/backup.h).
 *
 * Without a running QEMU, a private qemu-storage-daemon (qsd.c) opens the
 * VM's images and runs the backup job QEMU runs for a running VM: a full
 * copy, or, when the last backup's checkpoint bitmap is in every qcow2
 * image, recording and closed cleanly, and the disks kept their sizes,
 * only the clusters that bitmap marks dirty, into an image backed by the
 * last backup's.  The caller sees to it that the VM is not started (the
 * manager's start waits for a pending backup).
 *
 * Changed-block tracking goes on as for a running VM: in the same
 * transaction as the copy, a new persistent bitmap named after the new
 * checkpoint is added to each qcow2 image, and the checkpoint is recorded
 * on the pool in libvirt's XML, so the vm agent redefines it when the VM
 * next starts and a backup, running or stopped, is incremental from it.
 * That writes the images' metadata, which only the holder of the VM's
 * lease may do: the daemon runs under `ics-lease hold` (sanlock ends it,
 * the writer, should this host lose the pool), so the VM cannot start
 * anywhere while it has the images open, and a lease held elsewhere (the
 * VM runs after all) fails the backup before anything is opened.  When
 * the lease cannot be taken otherwise (no sanlock daemon on this machine),
 * the images are only read, without a checkpoint: no write without the
 * lease.  A VM without a lease, or whose lease area is not there (not an
 * ICS pool), has only the images' write locks, as its QEMU would.  Images that cannot hold
 * bitmaps (qcow2 v2), or a VM without a directory on its pool for the
 * checkpoint's record, are opened read only and the backup makes no
 * checkpoint: the next backup is full, and says why.  The last backup's bitmap is only read (bitmap mode "never"):
 * should the backup fail after the copy, it is still whole.  On failure
 * the new bitmap and its record go; after the backup is committed, this
 * repository's older bitmaps and records go.  The bitmaps reach the
 * images when the daemon closes them; were it killed first, the new
 * bitmap is missing and the next backup is full and says why -- never
 * wrong.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

#define POLL_FIRST_MS 10
#define POLL_MS 250
/* a copy that makes no progress this long (a hung mount) fails */
#define STALL_S 600

/* A disk as qemu-img sees it. */
typedef struct {
	guint64 size;
	gboolean no_bitmaps; /* qcow2 v2 (compat 0.10): it cannot store any */
	json_t *bitmaps;     /* [{name, flags}], maybe NULL */
} DiskInfo;

static void disk_info_clear(DiskInfo *di)
{
	json_decref(di->bitmaps);
}

static gboolean disk_info(const IcsVmDisk *d, DiskInfo *di, GError **error)
{
	const char *argv[] = { "qemu-img", "info",    "-U",    "--output=json",
			       "-f",	   d->format, d->path, NULL };
	g_autofree char *out = NULL;
	g_autoptr(json_t) root = NULL;
	json_t *data;
	gint64 v = 0;

	if (!backup_qemu_img(argv, &out, error))
		return FALSE;
	root = ics_json_load_string(out, "qemu-img info", error);
	if (root == NULL || !ics_json_get_int(root, "virtual-size", &v, error))
		return FALSE;
	di->size = (guint64)v;
	data = json_object_get(json_object_get(root, "format-specific"), "data");
	di->no_bitmaps = g_strcmp0(json_string_value(json_object_get(data, "compat")), "0.10") == 0;
	di->bitmaps = json_incref(json_object_get(data, "bitmaps"));
	return TRUE;
}

/* NULL when bitmap @name is in the image of disk @d, recording, and was
 * closed cleanly, and the disk has the size it had in the last backup
 * @last; otherwise what is wrong. */
static char *bitmap_problem(const IcsVmDisk *d, const DiskInfo *di, const char *name,
			    const IcsBackupManifest *last)
{
	const IcsBackupDisk *ld = ics_backup_manifest_disk(last, d->target);
	gboolean in_use = FALSE, recording = FALSE;
	size_t i, j;
	json_t *b, *f;

	if (ld != NULL && ld->virtual_size != di->size)
		return g_strdup_printf("disk %s was resized since the last backup", d->target);
	json_array_foreach(di->bitmaps, i, b)
	{
		if (g_strcmp0(json_string_value(json_object_get(b, "name")), name) != 0)
			continue;
		json_array_foreach(json_object_get(b, "flags"), j, f)
		{
			in_use |= g_strcmp0(json_string_value(f), "in-use") == 0;
			recording |= g_strcmp0(json_string_value(f), "auto") == 0;
		}
		if (in_use)
			return g_strdup_printf("disk %s: bitmap %s is marked in use", d->target,
					       name);
		if (!recording)
			return g_strdup_printf("disk %s: bitmap %s is disabled (not recording)",
					       d->target, name);
		return NULL;
	}
	return g_strdup_printf("disk %s: bitmap %s is not in the image", d->target, name);
}

static json_t *node(const char *prefix, guint i)
{
	g_autofree char *n = g_strdup_printf("%s%u", prefix, i);

	return json_string(n);
}

/* The checkpoint record, as libvirt writes one (no domain, no parent). */
static char *checkpoint_xml(const IcsVmMeta *vm, const char *name, const char *backup_id,
			    const IcsBackupRepo *repo)
{
	GString *x = g_string_new(NULL);
	g_autofree char *desc = g_markup_printf_escaped("ICS backup %s of the stopped VM into %s",
							backup_id, ics_backup_repo_path(repo));
	g_autofree char *esc = g_markup_escape_text(name, -1);

	g_string_append_printf(x,
			       "<domaincheckpoint><name>%s</name><description>%s</description>"
			       "<creationTime>%" G_GINT64_FORMAT "</creationTime><disks>",
			       esc, desc, g_get_real_time() / G_USEC_PER_SEC);
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);

		if (backup_disk_included(d))
			g_string_append_printf(x,
					       "<disk name='%s' checkpoint='bitmap' bitmap='%s'/>",
					       d->target, esc);
		else
			g_string_append_printf(x, "<disk name='%s' checkpoint='no'/>", d->target);
	}
	g_string_append(x, "</disks></domaincheckpoint>");
	return g_string_free(x, FALSE);
}

/* Wait for the copy jobs b0..b<n-1>; TRUE when each completed. */
static gboolean wait_jobs(BackupQsd *q, guint n, const IcsBackupRunOptions *opts, GError **error)
{
	guint poll_ms = POLL_FIRST_MS;
	guint64 seen = 0;
	gint64 moved = g_get_monotonic_time();

	for (;;) {
		g_autoptr(json_t) jobs = NULL;
		guint64 done = 0, total = 0;
		guint concluded = 0;
		size_t i;
		json_t *j;

		if (opts->cancel && g_atomic_int_get(opts->cancel)) {
			backup_set_cancelled(error);
			return FALSE; /* quitting the daemon ends its jobs */
		}
		jobs = backup_qsd_execute(q, "query-jobs", NULL, error);
		if (jobs == NULL)
			return FALSE;
		json_array_foreach(jobs, i, j)
		{
			const char *err = json_string_value(json_object_get(j, "error"));

			done += json_integer_value(json_object_get(j, "current-progress"));
			total += json_integer_value(json_object_get(j, "total-progress"));
			if (g_strcmp0(json_string_value(json_object_get(j, "status")), "concluded"))
				continue;
			if (err != NULL) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "copy job %s: %s",
					    json_string_value(json_object_get(j, "id")), err);
				return FALSE;
			}
			concluded++;
		}
		if (opts->progress) {
			IcsBackupProgress p = { "copying", done, total };

			opts->progress(&p, opts->progress_data);
		}
		if (concluded == n)
			return TRUE;
		if (done != seen) {
			seen = done;
			moved = g_get_monotonic_time();
		} else if (g_get_monotonic_time() - moved > STALL_S * G_USEC_PER_SEC) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "the copy made no progress for %d s (a repository or pool that "
				    "stopped answering?)",
				    STALL_S);
			return FALSE;
		}
		g_usleep(poll_ms * 1000);
		poll_ms = MIN(poll_ms * 2, POLL_MS);
	}
}

/* Remove bitmap @name from the image of disk @d; what went wrong, or
 * NULL. */
static char *remove_bitmap(BackupQsd *q, guint d, const char *name)
{
	g_autoptr(GError) err = NULL;

	if (backup_qsd_run(q, "block-dirty-bitmap-remove",
			   json_pack("{s:o,s:s}", "node", node("src", d), "name", name), &err))
		return NULL;
	return g_strdup(err->message);
}

/* Remove bitmap @name from each image that has it. */
static void remove_new_bitmap(BackupQsd *q, const GArray *tracked, const char *name)
{
	for (guint i = 0; i < tracked->len; i++) {
		g_autofree char *why = remove_bitmap(q, g_array_index(tracked, guint, i), name);

		if (why != NULL)
			g_debug("bitmap %s: %s", name, why);
	}
}

/* This repository's bitmaps other than @keep, from the images and their
 * records from the pool. */
static void prune_checkpoints(BackupQsd *q, const IcsBackupRepo *repo, const char *vm_dir,
			      const DiskInfo *infos, const GArray *tracked, const char *keep)
{
	g_autofree char *prefix = backup_checkpoint_name(repo, "");
	g_autoptr(GPtrArray) records = backup_checkpoint_records(vm_dir);

	for (guint i = 0; i < tracked->len; i++) {
		guint d = g_array_index(tracked, guint, i);
		size_t k;
		json_t *b;

		json_array_foreach(infos[d].bitmaps, k, b)
		{
			const char *name = json_string_value(json_object_get(b, "name"));
			g_autofree char *why = NULL;

			if (name && g_str_has_prefix(name, prefix) && strcmp(name, keep) != 0 &&
			    (why = remove_bitmap(q, d, name)) != NULL)
				g_warning("cannot remove bitmap %s: %s", name, why);
		}
	}
	for (guint i = 0; i < records->len; i++) {
		const char *name = g_ptr_array_index(records, i);

		if (g_str_has_prefix(name, prefix) && strcmp(name, keep) != 0)
			backup_checkpoint_forget(vm_dir, name);
	}
}

static json_t *source_blockdev(const IcsVmDisk *d, guint i, gboolean writable)
{
	/* QEMU opens a block device only with the host_device driver */
	const char *proto = g_str_has_prefix(d->path, "/dev/") ? "host_device" : "file";

	return json_pack("{s:s,s:o,s:b,s:{s:s,s:s}}", "driver", d->format, "node-name",
			 node("src", i), "read-only", !writable, "file", "driver", proto,
			 "filename", d->path);
}

static json_t *target_blockdev(const char *path, guint i)
{
	return json_pack("{s:s,s:o,s:n,s:{s:s,s:s}}", "driver", "qcow2", "node-name",
			 node("dst", i), "backing", "file", "driver", "file", "filename", path);
}

/* The daemon with the disks @disks (indexes into @vm's) and their targets
 * open, writable when *@writable: then under the VM's lease when it has
 * one on a pool's lease area.  A lease held elsewhere (BUSY: the VM runs)
 * fails; one that cannot be taken otherwise (no sanlock daemon here) makes
 * it read only (*@writable cleared): no write without the lease. */
static BackupQsd *start_daemon(const IcsVmMeta *vm, const GArray *disks, GPtrArray *targets,
			       const char *pool, gboolean *writable, GError **error)
{
	for (;;) {
		g_autoptr(GPtrArray) blockdevs =
			g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
		gboolean lease = *writable && vm->has_lease && pool != NULL &&
				 g_file_test(vm->lease_path, G_FILE_TEST_EXISTS);
		g_autoptr(GError) err = NULL;
		BackupQsd *q;

		for (guint k = 0; k < disks->len; k++) {
			guint i = g_array_index(disks, guint, k);

			g_ptr_array_add(blockdevs, source_blockdev(g_ptr_array_index(vm->disks, i),
								   i, *writable));
			g_ptr_array_add(blockdevs,
					target_blockdev(g_ptr_array_index(targets, k), i));
		}
		q = backup_qsd_start(blockdevs, lease ? pool : NULL, lease ? vm->uuid : NULL, &err);
		if (q != NULL)
			return q;
		if (!lease || g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY)) {
			g_propagate_prefixed_error(error, g_steal_pointer(&err), "vm %s: ",
						   vm->name);
			return NULL;
		}
		g_warning("vm %s: its lease cannot be taken (%s): its disks are read without "
			  "it, and this backup makes no checkpoint",
			  vm->name, err->message);
		*writable = FALSE;
	}
}

static IcsBackupManifest *run(IcsBackupRepo *repo, const IcsVmMeta *vm, const char *pool,
			      const char *vm_dir, const IcsBackupRunOptions *opts, GError **error)
{
	g_autoptr(BackupStaging) s = backup_staging_begin(repo, vm->uuid, error);
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autoptr(GPtrArray) backups = NULL;
	g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) disks = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(GArray) info_array = g_array_new(FALSE, TRUE, sizeof(DiskInfo));
	g_autoptr(json_t) actions = json_array();
	g_autoptr(BackupQsd) q = NULL;
	g_autofree char *problem = NULL;
	g_autofree char *broken = NULL;
	g_autofree char *name = NULL;
	const IcsBackupManifest *last = NULL;
	BackupPlanInput in = { .repo = repo, .vm = vm, .force_full = opts->force_full };
	gboolean tracked;
	DiskInfo *infos;
	gboolean ok;

	if (s == NULL)
		return NULL;
	backups = ics_backup_repo_list(repo, vm->uuid, NULL, error);
	if (backups == NULL)
		return NULL;
	if (backups->len > 0)
		last = g_ptr_array_index(backups, backups->len - 1);
	g_array_set_clear_func(info_array, (GDestroyNotify)disk_info_clear);
	g_array_set_size(info_array, vm->disks->len);
	infos = (DiskInfo *)(void *)info_array->data;
	/* bitmaps need qcow2 v3 and a place for the checkpoint's record */
	tracked = backup_disks_tracked(vm) && vm_dir != NULL;
	for (guint i = 0; i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);

		if (!backup_disk_included(d))
			continue;
		g_array_append_val(disks, i);
		if (!disk_info(d, &infos[i], error)) {
			ics_error_prefix(error, "disk %s: ", d->target);
			return NULL;
		}
		tracked &= !infos[i].no_bitmaps;
		if (last && last->checkpoint && problem == NULL)
			problem = bitmap_problem(d, &infos[i], last->checkpoint, last);
	}
	if (disks->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm %s has no writable disk to back up", vm->name);
		return NULL;
	}
	if (last && last->checkpoint) {
		if (vm_dir != NULL)
			broken = backup_checkpoint_state(vm_dir, last->checkpoint,
							 &in.checkpoint_recorded);
		in.checkpoint_defined = problem == NULL && broken == NULL;
		in.broken = problem ? problem : broken;
	}
	in.last = last;
	m = backup_manifest_new(vm);
	m->full_reason = backup_full_reason(&in);
	m->incremental = m->full_reason == NULL;
	m->parent = m->incremental ? g_strdup(last->id) : NULL;
	m->consistency = g_strdup("stopped");
	m->policy = g_strdup(opts->policy);
	for (guint k = 0; k < disks->len; k++) {
		guint i = g_array_index(disks, guint, k);
		IcsBackupDisk *bd = backup_staging_add_disk(
			s, m, g_ptr_array_index(vm->disks, i), infos[i].size,
			m->incremental ? last : NULL, error);

		if (bd == NULL)
			return NULL;
		g_ptr_array_add(targets, g_build_filename(s->dir, bd->file, NULL));
	}
	if (opts->cancel && g_atomic_int_get(opts->cancel)) {
		backup_set_cancelled(error);
		return NULL;
	}
	q = start_daemon(vm, disks, targets, pool, &tracked, error);
	if (q == NULL)
		return NULL;
	if (tracked) {
		g_autofree char *xml = NULL;

		name = backup_checkpoint_name(repo, s->id);
		xml = checkpoint_xml(vm, name, s->id, repo);
		/* recorded first: its bitmap is never one nobody knows about */
		if (!backup_checkpoint_save(vm_dir, name, xml, error))
			return NULL;
	}
	for (guint k = 0; k < disks->len; k++) {
		guint i = g_array_index(disks, guint, k);
		g_autofree char *job = g_strdup_printf("b%u", k);
		json_t *data = json_pack("{s:s,s:o,s:o,s:s,s:b}", "job-id", job, "device",
					 node("src", i), "target", node("dst", i), "sync",
					 m->incremental ? "bitmap" : "full", "auto-dismiss", 0);

		if (m->incremental) {
			/* read only: whole again should this backup fail */
			json_object_set_new(data, "bitmap", json_string(last->checkpoint));
			json_object_set_new(data, "bitmap-mode", json_string("never"));
		}
		if (name != NULL)
			json_array_append_new(actions,
					      json_pack("{s:s,s:{s:o,s:s,s:b}}", "type",
							"block-dirty-bitmap-add", "data", "node",
							node("src", i), "name", name, "persistent", 1));
		json_array_append_new(actions,
				      json_pack("{s:s,s:o}", "type", "blockdev-backup", "data", data));
	}
	{
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();

		m->created = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	}
	m->checkpoint = g_strdup(name);
	ok = backup_qsd_run(q, "transaction", json_pack("{s:O}", "actions", actions), error) &&
	     wait_jobs(q, disks->len, opts, error);
	/* the targets closed (and flushed) before they are checksummed */
	for (guint k = 0; ok && k < disks->len; k++)
		ok = backup_qsd_run_slow(
			q, "blockdev-del",
			json_pack("{s:o}", "node-name", node("dst", g_array_index(disks, guint, k))),
			error);
	ok = ok && backup_staging_commit(s, m, opts->progress, opts->progress_data, opts->cancel,
					 error);
	if (name != NULL && !ok) {
		remove_new_bitmap(q, disks, name);
		backup_checkpoint_forget(vm_dir, name);
	} else if (name != NULL) {
		prune_checkpoints(q, repo, vm_dir, infos, disks, name);
	}
	return ok ? g_steal_pointer(&m) : NULL;
}

IcsBackupManifest *ics_backup_run_stopped(IcsBackupRepo *repo, const IcsVmMeta *vm,
					  const IcsBackupRunOptions *opts, GError **error)
{
	const char *pool = opts->pool_path ? opts->pool_path : vm->pool_path;
	g_autofree char *vm_dir = pool ? ics_vm_dir(pool, vm->uuid) : NULL;
	IcsBackupManifest *m;
	int lock = -2;

	/* one backup of the VM at a time, also across repositories (when its
	 * pool is known: a VM outside any pool has no directory there, and no
	 * checkpoint record either) */
	if (vm_dir && !g_file_test(vm_dir, G_FILE_TEST_IS_DIR))
		g_clear_pointer(&vm_dir, g_free);
	if (vm_dir && (lock = backup_vm_lock(vm_dir, vm->name, error)) == -1)
		return NULL;
	m = run(repo, vm, pool, vm_dir, opts, error);
	if (lock >= 0)
		close(lock);
	return m;
}
