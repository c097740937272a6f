/*
 * stopped_backup.c: a backup of a stopped VM (see ics/backup.h).
 *
 * Without a running QEMU, a private qemu-storage-daemon (qsd.c) opens the
 * VM's images and runs the backup job QEMU runs for a running VM: a full
 * copy, or, when the last backup's checkpoint bitmap is in every qcow2
 * image and was closed cleanly, only the clusters that bitmap marks dirty,
 * into an image backed by the last backup's.  The daemon holds the
 * images' write locks (read locks only, for disks without changed-block
 * tracking), so a QEMU starting on them meanwhile is refused; the caller
 * sees to it that the VM is not started (the manager's start waits for a
 * pending backup).
 *
 * Changed-block tracking goes on as for a running VM: in the same
 * transaction as the copy, a new persistent bitmap named after the new
 * checkpoint is added to each qcow2 image, and the checkpoint is recorded
 * on the pool in libvirt's XML, so the vm agent redefines it when the VM
 * next starts and a backup, running or stopped, is incremental from it.
 * The last backup's bitmap is only read (bitmap mode "never"): should the
 * backup fail after the copy, it is still whole.  On failure the new
 * bitmap and its record go; after the backup is committed, this
 * repository's older bitmaps and records go.  The bitmaps reach the images
 * when the daemon closes them; were it killed first, the new bitmap is
 * missing and the next backup is full and says why -- never wrong.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

#define POLL_FIRST_MS 10
#define POLL_MS 250

/* A disk as qemu-img sees it. */
typedef struct {
	guint64 size;
	json_t *bitmaps; /* [{name, flags}], maybe NULL */
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
	gint64 v = 0;

	if (!backup_qemu_img(argv, &out, error))
		return FALSE;
	root = ics_json_load_string(out, "qemu-img info", error);
	if (root == NULL || !ics_json_get_int(root, "virtual-size", &v, error))
		return FALSE;
	di->size = (guint64)v;
	di->bitmaps = json_incref(json_object_get(
		json_object_get(json_object_get(root, "format-specific"), "data"), "bitmaps"));
	return TRUE;
}

/* NULL when bitmap @name is in the image and was closed cleanly;
 * otherwise what is wrong with it. */
static char *bitmap_problem(const IcsVmDisk *d, const DiskInfo *di, const char *name)
{
	size_t i;
	json_t *b;

	json_array_foreach(di->bitmaps, i, b)
	{
		size_t j;
		json_t *f;

		if (g_strcmp0(json_string_value(json_object_get(b, "name")), name) != 0)
			continue;
		json_array_foreach(
			json_object_get(b, "flags"), j,
			f) if (g_strcmp0(json_string_value(f), "in-use") ==
			       0) return g_strdup_printf("disk %s: bitmap %s is marked in use",
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
		g_usleep(poll_ms * 1000);
		poll_ms = MIN(poll_ms * 2, POLL_MS);
	}
}

/* Remove bitmap @name from each image that has it. */
static void remove_bitmap(BackupQsd *q, const GArray *tracked, const char *name)
{
	for (guint i = 0; i < tracked->len; i++) {
		g_autoptr(GError) err = NULL;

		if (!backup_qsd_run(q, "block-dirty-bitmap-remove",
				    json_pack("{s:o,s:s}", "node",
					      node("src", g_array_index(tracked, guint, i)), "name",
					      name),
				    &err))
			g_debug("bitmap %s: %s", name, err->message);
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
			g_autoptr(GError) err = NULL;

			if (name && g_str_has_prefix(name, prefix) && strcmp(name, keep) != 0 &&
			    !backup_qsd_run(
				    q, "block-dirty-bitmap-remove",
				    json_pack("{s:o,s:s}", "node", node("src", d), "name", name),
				    &err))
				g_warning("cannot remove bitmap %s: %s", name, err->message);
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
	return json_pack("{s:s,s:o,s:b,s:{s:s,s:s}}", "driver", d->format, "node-name",
			 node("src", i), "read-only", !writable, "file", "driver", "file",
			 "filename", d->path);
}

static json_t *target_blockdev(const char *path, guint i)
{
	return json_pack("{s:s,s:o,s:n,s:{s:s,s:s}}", "driver", "qcow2", "node-name",
			 node("dst", i), "backing", "file", "driver", "file", "filename", path);
}

static IcsBackupManifest *run(IcsBackupRepo *repo, const IcsVmMeta *vm, const char *vm_dir,
			      const IcsBackupRunOptions *opts, GError **error)
{
	g_autoptr(BackupStaging) s = backup_staging_begin(repo, vm->uuid, error);
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autoptr(GPtrArray) backups = NULL;
	g_autoptr(GPtrArray) blockdevs =
		g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
	g_autoptr(GArray) tracked = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autoptr(json_t) actions = json_array();
	g_autoptr(BackupQsd) q = NULL;
	g_autoptr(GArray) info_array = g_array_new(FALSE, TRUE, sizeof(DiskInfo));
	DiskInfo *infos;
	g_autofree char *problem = NULL;
	g_autofree char *broken = NULL;
	g_autofree char *name = NULL;
	const IcsBackupManifest *last = NULL;
	BackupPlanInput in = { .repo = repo, .vm = vm, .force_full = opts->force_full };
	guint ndisks = 0;
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
	ok = TRUE;
	for (guint i = 0; ok && i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);

		if (!backup_disk_included(d))
			continue;
		if (!disk_info(d, &infos[i], error)) {
			ics_error_prefix(error, "disk %s: ", d->target);
			ok = FALSE;
		} else if (last && last->checkpoint && problem == NULL) {
			problem = bitmap_problem(d, &infos[i], last->checkpoint);
		}
	}
	if (ok && last && last->checkpoint) {
		if (vm_dir != NULL)
			broken = backup_checkpoint_state(vm_dir, last->checkpoint,
							 &in.checkpoint_recorded);
		in.checkpoint_defined = problem == NULL;
		in.broken = problem ? problem : broken;
	}
	in.last = last;
	m = ok ? backup_manifest_new(vm) : NULL;
	if (m != NULL) {
		char *reason = backup_full_reason(&in);

		m->incremental = reason == NULL;
		m->parent = reason ? NULL : g_strdup(last->id);
		m->full_reason = reason;
		m->consistency = g_strdup("stopped");
		m->policy = g_strdup(opts->policy);
		/* a checkpoint needs bitmaps (qcow2) and a place for its record */
		if (backup_disks_tracked(vm) && vm_dir != NULL)
			name = backup_checkpoint_name(repo, s->id);
	}
	for (guint i = 0; ok && i < vm->disks->len; i++) {
		const IcsVmDisk *d = g_ptr_array_index(vm->disks, i);
		IcsBackupDisk *bd;
		g_autofree char *dst = NULL;

		if (!backup_disk_included(d))
			continue;
		bd = backup_staging_add_disk(s, m, d, infos[i].size, m->incremental ? last : NULL,
					     error);
		if (bd == NULL) {
			ok = FALSE;
			break;
		}
		dst = g_build_filename(s->dir, bd->file, NULL);
		g_ptr_array_add(blockdevs, source_blockdev(d, i, name != NULL));
		g_ptr_array_add(blockdevs, target_blockdev(dst, i));
		if (name != NULL) {
			g_array_append_val(tracked, i);
			json_array_append_new(actions, json_pack("{s:s,s:{s:o,s:s,s:b}}", "type",
								 "block-dirty-bitmap-add", "data",
								 "node", node("src", i), "name",
								 name, "persistent", 1));
		}
		{
			g_autofree char *job = g_strdup_printf("b%u", ndisks++);
			json_t *data =
				json_pack("{s:s,s:o,s:o,s:s,s:b}", "job-id", job, "device",
					  node("src", i), "target", node("dst", i), "sync",
					  m->incremental ? "bitmap" : "full", "auto-dismiss", 0);

			if (m->incremental) {
				/* read only: whole again should this backup fail */
				json_object_set_new(data, "bitmap", json_string(last->checkpoint));
				json_object_set_new(data, "bitmap-mode", json_string("never"));
			}
			json_array_append_new(actions, json_pack("{s:s,s:o}", "type",
								 "blockdev-backup", "data", data));
		}
	}
	if (!ok)
		return NULL;
	if (ndisks == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm %s has no writable disk to back up", vm->name);
		return NULL;
	}
	if (opts->cancel && g_atomic_int_get(opts->cancel)) {
		backup_set_cancelled(error);
		return NULL;
	}
	q = backup_qsd_start(blockdevs, error);
	if (q == NULL)
		return NULL;
	if (name != NULL) {
		g_autofree char *xml = checkpoint_xml(vm, name, s->id, repo);

		/* recorded first: its bitmap is never one nobody knows about */
		if (!backup_checkpoint_save(vm_dir, name, xml, error))
			return NULL;
	}
	{
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();

		m->created = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	}
	m->checkpoint = g_strdup(name);
	ok = backup_qsd_run(q, "transaction", json_pack("{s:O}", "actions", actions), error);
	ok = ok && wait_jobs(q, ndisks, opts, error);
	/* the targets closed (and flushed) before they are checksummed */
	for (guint i = 0; ok && i < vm->disks->len; i++)
		if (backup_disk_included(g_ptr_array_index(vm->disks, i)))
			ok = backup_qsd_run(q, "blockdev-del",
					    json_pack("{s:o}", "node-name", node("dst", i)), error);
	ok = ok &&
	     backup_staging_commit(s, m, opts->progress, opts->progress_data, opts->cancel, error);
	if (name != NULL && !ok) {
		remove_bitmap(q, tracked, name);
		backup_checkpoint_forget(vm_dir, name);
	} else if (name != NULL) {
		prune_checkpoints(q, repo, vm_dir, infos, tracked, name);
	}
	if (!ok)
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
	 * pool is known: a VM outside any pool has no directory there, and no
	 * checkpoint record either) */
	if (vm_dir && !g_file_test(vm_dir, G_FILE_TEST_IS_DIR))
		g_clear_pointer(&vm_dir, g_free);
	if (vm_dir && (lock = backup_vm_lock(vm_dir, vm->name, error)) == -1)
		return NULL;
	m = run(repo, vm, vm_dir, opts, error);
	if (lock >= 0)
		close(lock);
	return m;
}
