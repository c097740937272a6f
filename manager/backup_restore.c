/*
 * backup_restore.c: restoring a VM's backup through the manager (see
 * ics/manager/backup_restore.h).
 *
 * One function, plan(), turns a request into what to write where -- the
 * backup and its disks, the pool, the destination files, the VM's current
 * definition for an in-place restore -- and checks the caller may.  It
 * runs twice on the same input: when the request is made (so a wrong
 * name, a missing pool or a running VM is answered at once, not in a
 * failed task) and when the task starts (minutes may have passed: the VM
 * may run now, a file may exist, the caller may have lost a role).  The
 * task's params are the request's fields plus the new VM's uuid and the
 * caller's user id; the caller's permissions are read again from the
 * store, never carried.
 *
 * The files are written by libicsbackup (ics_backup_restore_disk: a new
 * file, synced, renamed into place without replacing anything); this
 * module decides their names and, for a new VM, creates it through the
 * VM service like POST /api/v1/vms does, so the same checks, undo and
 * events apply.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "ics/backup.h"
#include "ics/error.h"
#include "ics/file.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/backup_restore.h"
#include "ics/manager/backup_service.h"
#include "ics/manager/task.h"
#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_paths.h"
#include "ics/manager/vm_service.h"
#include "ics/manager/volumes.h"

typedef enum {
	TO_NEW_VM,
	TO_IN_PLACE,
	TO_VOLUME,
} RestoreTo;

static const char *const to_names[] = { "new-vm", "in-place", "volume", NULL };

/* What a restore writes where. */
typedef struct {
	RestoreTo to;
	IcsBackupRepo *repo;
	IcsBackupManifest *mf;
	GPtrArray *targets; /* char*: the backup's disks to restore */
	GPtrArray *dests;   /* char*: where each goes (its final path) */
	GPtrArray *formats; /* char*: "qcow2" | "raw" */
	char *name;	    /* the new VM's or the volume's */
	char *pool;
	char *pool_path;
	IcsVmMeta *current; /* in place: the VM's definition now */
} Plan;

static void plan_clear(Plan *pl)
{
	ics_backup_repo_free(pl->repo);
	ics_backup_manifest_free(pl->mf);
	g_clear_pointer(&pl->targets, g_ptr_array_unref);
	g_clear_pointer(&pl->dests, g_ptr_array_unref);
	g_clear_pointer(&pl->formats, g_ptr_array_unref);
	g_free(pl->name);
	g_free(pl->pool);
	g_free(pl->pool_path);
	ics_vm_meta_free(pl->current);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Plan, plan_clear)

/* ---- the plan ------------------------------------------------------------ */

static gboolean parse_to(const char *text, RestoreTo *to, GError **error)
{
	for (guint i = 0; to_names[i]; i++)
		if (g_strcmp0(text, to_names[i]) == 0) {
			*to = (RestoreTo)i;
			return TRUE;
		}
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
		    "to: \"%s\" is not a kind of restore (new-vm, in-place or volume)", text);
	return FALSE;
}

/* The path of pool @name (NULL: the pool the backed-up VM's first disk was
 * on, else the cluster's only pool), mounted here. */
static gboolean resolve_pool(IcsManager *m, const char *name, const IcsBackupManifest *mf,
			     Plan *pl, GError **error)
{
	g_autoptr(json_t) pools = m->cluster->pools(m->cluster->self, error);
	const IcsBackupDisk *first = mf->disks->len ? mf->disks->pdata[0] : NULL;
	const json_t *found = NULL;
	size_t i;
	json_t *p;

	if (pools == NULL)
		return FALSE;
	json_array_foreach(pools, i, p)
	{
		const char *pname = json_string_value(json_object_get(p, "name"));
		const char *path = json_string_value(json_object_get(p, "path"));

		if (name ? g_strcmp0(pname, name) == 0
			 : (first && first->source && path && ics_path_within(first->source, path)))
			found = p;
	}
	if (found == NULL && name == NULL && json_array_size(pools) == 1)
		found = json_array_get(pools, 0);
	if (found == NULL) {
		if (name)
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "pool \"%s\" is not a pool of the cluster", name);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "the VM's disks were on no pool the cluster has now: name "
				    "the pool to restore to (pool)");
		return FALSE;
	}
	pl->pool = g_strdup(json_string_value(json_object_get(found, "name")));
	pl->pool_path = g_strdup(json_string_value(json_object_get(found, "path")));
	if (pl->pool_path == NULL || !g_file_test(pl->pool_path, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "pool \"%s\" is not mounted on the manager's node", pl->pool);
		return FALSE;
	}
	return TRUE;
}

/* The disks asked for (@disks, NULL: all of the backup), each checked to
 * be in the backup. */
static gboolean choose_disks(const IcsBackupManifest *mf, const json_t *disks, Plan *pl,
			     GError **error)
{
	size_t i;
	json_t *d;

	pl->targets = g_ptr_array_new_with_free_func(g_free);
	if (disks == NULL) {
		for (guint k = 0; k < mf->disks->len; k++)
			g_ptr_array_add(pl->targets,
					g_strdup(((IcsBackupDisk *)mf->disks->pdata[k])->target));
		return TRUE;
	}
	if (json_array_size(disks) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "disks: name at least one disk, or leave it out for all");
		return FALSE;
	}
	json_array_foreach(disks, i, d)
	{
		const char *t = json_string_value(d);

		if (ics_backup_manifest_disk(mf, t) == NULL) {
			g_autoptr(GString) have = g_string_new(NULL);

			for (guint k = 0; k < mf->disks->len; k++)
				g_string_append_printf(have, "%s%s", k ? ", " : "",
						       ((IcsBackupDisk *)mf->disks->pdata[k])->target);
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "disks: backup %s has no disk %s (it has %s)", mf->id, t,
				    have->str);
			return FALSE;
		}
		g_ptr_array_add(pl->targets, g_strdup(t));
	}
	return TRUE;
}

static const IcsVmDisk *current_disk(const IcsVmMeta *vm, const char *target)
{
	for (guint i = 0; vm->disks && i < vm->disks->len; i++) {
		const IcsVmDisk *d = vm->disks->pdata[i];

		if (g_strcmp0(d->target, target) == 0)
			return d;
	}
	return NULL;
}

static gboolean holds(const IcsPrincipal *p, const char *perm, const char *why, GError **error)
{
	if (ics_principal_scope(p, perm) != ICS_SCOPE_NONE)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "%s: needs permission %s", why, perm);
	return FALSE;
}

/* The format disk @d of a backup is restored in: the one it had. */
static const char *restored_format(const IcsBackupDisk *d)
{
	return g_strcmp0(d->source_format, "raw") == 0 ? "raw" : "qcow2";
}

/* A new file: CONFLICT when something is at @path. */
static gboolean free_path(const char *path, const char *what, GError **error)
{
	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "%s exists on the pool: a restore never writes over a file", what);
	return FALSE;
}

static gboolean plan_new_vm(IcsManager *m, const IcsPrincipal *p, Plan *pl, GError **error)
{
	g_autofree char *taken = NULL;
	g_autoptr(GError) err = NULL;

	if (!holds(p, "vm.write", "a restore to a new VM creates one", error))
		return FALSE;
	if (pl->name == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "name: the new VM needs a name");
		return FALSE;
	}
	ics_store_read_begin(m->store);
	taken = ics_vm_inventory_uuid_of(m->store, pl->name, &err);
	ics_store_read_end(m->store);
	if (taken != NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "the VM name \"%s\" is taken: restore to another name, or in place",
			    pl->name);
		return FALSE;
	}
	for (guint i = 0; i < pl->targets->len; i++) {
		const char *t = pl->targets->pdata[i];
		const char *fmt = restored_format(ics_backup_manifest_disk(pl->mf, t));
		g_autofree char *file = g_strdup_printf("%s-%s.%s", pl->name, t, fmt);
		char *path = g_build_filename(pl->pool_path, file, NULL);

		g_ptr_array_add(pl->dests, path);
		if (!free_path(path, file, error))
			return FALSE;
		g_ptr_array_add(pl->formats, g_strdup(fmt));
	}
	return TRUE;
}

/* Does another VM of the inventory have @path as a disk?  -1 on error. */
static int shared_with(IcsStore *store, const char *uuid, const char *path, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT 1 FROM vms v, json_each(v.definition, '$.disks') d"
			       " WHERE json_extract(d.value, '$.path') = ?1 AND v.uuid != ?2 LIMIT 1",
			       error);
	int rc;

	if (st == NULL)
		return -1;
	ics_stmt_bind_text(st, 1, path);
	ics_stmt_bind_text(st, 2, uuid);
	rc = ics_stmt_step(st, error);
	return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* No other VM has disk @target (@path) of VM @uuid: writing over it would
 * roll that VM back too. */
static gboolean disk_not_shared(IcsManager *m, const char *uuid, const char *target,
				const char *path, GError **error)
{
	int shared;

	ics_store_read_begin(m->store);
	shared = shared_with(m->store, uuid, path, error);
	ics_store_read_end(m->store);
	if (shared > 0)
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "disk %s is also a disk of another VM: writing over it would roll that "
			    "VM back too; restore it to a new VM or a volume",
			    target);
	return shared == 0;
}

static gboolean plan_in_place(IcsManager *m, const IcsPrincipal *p, const char *uuid,
			     gint64 vm_owner, Plan *pl, GError **error)
{
	g_autofree char *state = NULL, *host = NULL;

	ics_store_read_begin(m->store);
	pl->current = ics_vm_inventory_meta(m->store, uuid, error);
	ics_store_read_end(m->store);
	if (pl->current == NULL) {
		ics_error_prefix(error, "an in-place restore needs the VM: ");
		return FALSE;
	}
	if (!ics_principal_can_on(p, "vm.write", vm_owner)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "an in-place restore writes over the VM's disks: needs permission "
			    "vm.write on it");
		return FALSE;
	}
	for (guint i = 0; i < pl->targets->len; i++) {
		const char *t = pl->targets->pdata[i];
		const IcsVmDisk *d = current_disk(pl->current, t);

		if (d == NULL || d->readonly) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "VM %s has no %sdisk %s now: restore it to a new VM or a "
				    "volume",
				    pl->current->name, d ? "writable " : "", t);
			return FALSE;
		}
		if (!disk_not_shared(m, uuid, t, d->path, error))
			return FALSE;
		g_ptr_array_add(pl->dests, g_strdup(d->path));
		g_ptr_array_add(pl->formats, g_strdup(d->format));
	}
	if (!m->cluster->vm_status(m->cluster->self, uuid, &state, &host, error))
		return FALSE;
	if (g_strcmp0(state, "stopped") != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s is %s%s%s: stop it first, an in-place restore writes over its "
			    "disks",
			    pl->current->name, state, host ? " on " : "", host ? host : "");
		return FALSE;
	}
	return TRUE;
}

static gboolean plan_volume(const IcsPrincipal *p, Plan *pl, GError **error)
{
	char *path;

	if (!holds(p, "volume.write", "a restore to a volume creates one", error))
		return FALSE;
	if (pl->targets->len != 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "disks: a restore to a volume takes one disk (of %u)",
			    pl->targets->len);
		return FALSE;
	}
	if (pl->name == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "name: the new volume needs a name");
		return FALSE;
	}
	if (!ics_volume_name_check(pl->name, error))
		return FALSE;
	path = g_build_filename(pl->pool_path, pl->name, NULL);
	g_ptr_array_add(pl->dests, path);
	if (!free_path(path, pl->name, error))
		return FALSE;
	g_ptr_array_add(pl->formats, g_strdup(restored_format(
					     ics_backup_manifest_disk(pl->mf, pl->targets->pdata[0]))));
	return TRUE;
}

/* Backup @id of VM @uuid in @repo (named @repo_name). */
static IcsBackupManifest *find_backup(IcsBackupRepo *repo, const char *repo_name,
				      const char *uuid, const char *id, GError **error)
{
	g_autoptr(GPtrArray) list = ics_backup_repo_list(repo, uuid, NULL, error);

	if (list == NULL)
		return NULL;
	for (guint i = 0; i < list->len; i++)
		if (g_strcmp0(((IcsBackupManifest *)list->pdata[i])->id, id) == 0)
			return g_ptr_array_steal_index(list, i);
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "VM %s has no complete backup %s in repository %s", uuid, id, repo_name);
	return NULL;
}

/* Resolve @req (the request's fields) into @pl for @p (see the top). */
static gboolean plan(IcsManager *m, const IcsPrincipal *p, const char *uuid, gint64 vm_owner,
		     const char *backup_id, const json_t *req, Plan *pl, GError **error)
{
	const char *to = json_string_value(json_object_get(req, "to"));
	const char *pool = json_string_value(json_object_get(req, "pool"));
	const char *repository = json_string_value(json_object_get(req, "repository"));

	if (m->cluster == NULL || m->cluster->pools == NULL || m->cluster->vm_status == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager cannot reach the pools");
		return FALSE;
	}
	if (!parse_to(to ? to : "new-vm", &pl->to, error))
		return FALSE;
	pl->name = g_strdup(json_string_value(json_object_get(req, "name")));
	if (pl->to == TO_IN_PLACE && (pl->name || pool)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s: an in-place restore writes where the VM's disks are",
			    pl->name ? "name" : "pool");
		return FALSE;
	}
	pl->repo = ics_backup_repo_named(m, repository, error);
	if (pl->repo == NULL)
		return FALSE;
	pl->mf = find_backup(pl->repo, repository, uuid, backup_id, error);
	if (pl->mf == NULL)
		return FALSE;
	/* a restore hands over the VM's data and definition: the caller backs
	 * it up and reads it (on every VM when the VM is gone or has no owner) */
	if (!ics_principal_can_on(p, "backup.run", vm_owner) ||
	    !ics_principal_can_on(p, "vm.read", vm_owner)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "a restore copies the VM's disks and definition: needs permissions "
			    "backup.run and vm.read on it%s",
			    vm_owner ? "" : " (a VM that is gone: on every VM)");
		return FALSE;
	}
	if (!choose_disks(pl->mf, json_object_get(req, "disks"), pl, error))
		return FALSE;
	pl->dests = g_ptr_array_new_with_free_func(g_free);
	pl->formats = g_ptr_array_new_with_free_func(g_free);
	switch (pl->to) {
	case TO_NEW_VM:
		return resolve_pool(m, pool, pl->mf, pl, error) && plan_new_vm(m, p, pl, error);
	case TO_VOLUME:
		return resolve_pool(m, pool, pl->mf, pl, error) && plan_volume(p, pl, error);
	case TO_IN_PLACE:
	default:
		return plan_in_place(m, p, uuid, vm_owner, pl, error);
	}
}

json_t *ics_backup_restore_plan(IcsManager *m, const IcsPrincipal *p, const char *uuid,
				gint64 vm_owner, const char *backup_id, const json_t *body,
				gint64 *owner, GError **error)
{
	g_auto(Plan) pl = { 0 };
	json_t *params;

	if (!plan(m, p, uuid, vm_owner, backup_id, body, &pl, error))
		return NULL;
	params = json_deep_copy(body);
	json_object_set_new(params, "to", json_string(to_names[pl.to]));
	json_object_set_new(params, "backup", json_string(backup_id));
	json_object_set_new(params, "user_id", json_integer(p->user_id));
	if (pl.to == TO_NEW_VM) {
		g_autofree char *new_uuid = g_uuid_string_random();

		json_object_set_new(params, "new_uuid", json_string(new_uuid));
	}
	*owner = pl.to == TO_IN_PLACE ? vm_owner : p->user_id;
	return params;
}

/* ---- the task ------------------------------------------------------------ */

/* Verifying the backup is the task's first 40%. */
static void on_verify(const IcsBackupProgress *bp, gpointer data)
{
	g_autofree char *msg = g_strdup_printf(
		"verifying the backup: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " MiB",
		bp->done >> 20, bp->total >> 20);

	ics_task_progress(data, bp->total ? (guint)(bp->done * 40 / bp->total) : 0, msg);
}

/* The backed-up definition as the new VM: its name and uuid, MACs and
 * lease left for the manager to derive, the restored disks only. */
static IcsVmMeta *new_definition(const Plan *pl, const char *uuid, GError **error)
{
	g_autoptr(json_t) def = json_deep_copy(pl->mf->definition);
	json_t *disks = json_array(), *nics, *d;
	size_t i;

	if (!json_is_object(def)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "backup %s carries no VM definition", pl->mf->id);
		json_decref(disks);
		return NULL;
	}
	json_object_set_new(def, "uuid", json_string(uuid));
	json_object_set_new(def, "name", json_string(pl->name));
	json_object_del(def, "lease");
	nics = json_object_get(def, "nics");
	json_array_foreach(nics, i, d)
		json_object_del(d, "mac");
	json_array_foreach(json_object_get(def, "disks"), i, d)
	{
		const char *t = json_string_value(json_object_get(d, "target"));

		for (guint k = 0; k < pl->targets->len; k++)
			if (g_strcmp0(t, pl->targets->pdata[k]) == 0) {
				json_t *nd = json_deep_copy(d);

				json_object_set_new(nd, "path", json_string(pl->dests->pdata[k]));
				json_object_set_new(nd, "format", json_string(pl->formats->pdata[k]));
				json_object_del(nd, "shared_outside_pool");
				json_array_append_new(disks, nd);
			}
	}
	json_object_set_new(def, "disks", disks);
	return ics_vm_inventory_validate(def, error);
}

static void unlink_all(GPtrArray *paths)
{
	for (guint i = 0; i < paths->len; i++)
		if (g_unlink(paths->pdata[i]) < 0 && errno != ENOENT)
			ics_warning("restore: cannot remove %s: %s", (char *)paths->pdata[i],
				    g_strerror(errno));
}

/* Write each disk of @pl to @paths (new files); on failure none is left. */
static gboolean write_disks(IcsTaskContext *ctx, const Plan *pl, GPtrArray *paths,
			    GError **error)
{
	g_autoptr(GPtrArray) written = g_ptr_array_new();

	for (guint i = 0; i < pl->targets->len; i++) {
		const char *t = pl->targets->pdata[i];
		g_autofree char *msg = g_strdup_printf("restoring disk %s (%u of %u)", t, i + 1,
						       pl->targets->len);

		if (ics_task_cancelled(ctx)) {
			ics_task_set_cancelled_error(error);
			break;
		}
		ics_task_progress(ctx, 40 + 55 * i / pl->targets->len, msg);
		/* verified once, before the first disk */
		if (!ics_backup_restore_disk(pl->repo, pl->mf, t, paths->pdata[i],
					     pl->formats->pdata[i], TRUE, error))
			break;
		g_ptr_array_add(written, paths->pdata[i]);
	}
	if (written->len == pl->targets->len)
		return TRUE;
	unlink_all(written);
	return FALSE;
}

static gboolean finish_new_vm(IcsManager *m, const Plan *pl, const json_t *params,
			      const IcsPrincipal *p, json_t *out, GError **error)
{
	const char *uuid = json_string_value(json_object_get(params, "new_uuid"));
	g_autoptr(IcsVmMeta) vm = new_definition(pl, uuid, error);
	g_autoptr(json_t) created = NULL;

	if (vm != NULL)
		created = ics_vm_service_create(m->vms, p, vm, NULL, error);
	if (created == NULL) {
		unlink_all(pl->dests);
		return FALSE;
	}
	json_object_set_new(out, "vm", json_pack("{s:s, s:s}", "uuid", vm->uuid, "name", vm->name));
	return TRUE;
}

/* The VM as planned: still stopped, its disks still where they were when
 * the restore began, nothing cancelled. */
static gboolean still_as_planned(IcsTaskContext *ctx, IcsManager *m, const Plan *pl,
				 const char *uuid, GError **error)
{
	g_autofree char *state = NULL, *host = NULL;
	g_autoptr(IcsVmMeta) now = NULL;

	if (ics_task_cancelled(ctx)) {
		ics_task_set_cancelled_error(error);
		return FALSE;
	}
	if (!m->cluster->vm_status(m->cluster->self, uuid, &state, &host, error))
		return FALSE;
	if (g_strcmp0(state, "stopped") != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "VM %s is %s now",
			    pl->current->name, state);
		return FALSE;
	}
	ics_store_read_begin(m->store);
	now = ics_vm_inventory_meta(m->store, uuid, error);
	ics_store_read_end(m->store);
	if (now == NULL)
		return FALSE;
	for (guint i = 0; i < pl->targets->len; i++) {
		const IcsVmDisk *d = current_disk(now, pl->targets->pdata[i]);

		if (d == NULL || g_strcmp0(d->path, pl->dests->pdata[i]) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "VM %s: disk %s changed during the restore",
				    pl->current->name, (char *)pl->targets->pdata[i]);
			return FALSE;
		}
	}
	return TRUE;
}

typedef struct {
	IcsTaskContext *ctx;
	IcsManager *m;
	const Plan *pl;
	const char *uuid;
} Recheck;

static gboolean recheck(gpointer data, GError **error)
{
	const Recheck *r = data;

	return still_as_planned(r->ctx, r->m, r->pl, r->uuid, error);
}

/* The pool of a lease area <pool>/.ics/leases, or NULL. */
static char *lease_pool(const char *lease_path)
{
	g_autofree char *ics = g_path_get_dirname(lease_path);
	g_autofree char *leases = g_path_get_basename(lease_path);
	g_autofree char *dot_ics = g_path_get_basename(ics);

	if (g_strcmp0(leases, "leases") != 0 || g_strcmp0(dot_ics, ".ics") != 0)
		return NULL;
	return g_path_get_dirname(ics);
}

/* Rename each restored file (@tmps) over the VM's disk, the VM still as
 * planned.  A VM with a lease: the renames are done by the holder of its
 * lease (ics_backup_lease_rename), the check made once it is held, so the
 * VM cannot start anywhere in between, and a VM that runs after all (the
 * cluster's state lags) refuses the restore. */
static gboolean finish_in_place(IcsTaskContext *ctx, IcsManager *m, const Plan *pl,
				const char *uuid, GPtrArray *tmps, json_t *out, GError **error)
{
	Recheck r = { ctx, m, pl, uuid };
	guint done = 0;
	gboolean ok;

	if (pl->current->has_lease) {
		g_autofree char *pool = lease_pool(pl->current->lease_path);

		if (pool == NULL)
			ok = ics_error_invalid(error, "VM %s: its lease area %s is not a pool's",
					       pl->current->name, pl->current->lease_path);
		else
			ok = ics_backup_lease_rename(pool, uuid, tmps, pl->dests, recheck, &r, &done,
						     error);
	} else {
		ok = recheck(&r, error);
		for (guint i = 0; ok && i < tmps->len; i++) {
			g_autofree char *dir = g_path_get_dirname(pl->dests->pdata[i]);

			if (rename(tmps->pdata[i], pl->dests->pdata[i]) != 0) {
				ics_error_set_errno(error, errno,
						    "cannot put the restored disk %s in place",
						    (char *)pl->targets->pdata[i]);
				ok = FALSE;
			} else {
				done++;
				ok = ics_fsync_dir(dir, error);
			}
		}
	}
	if (!ok) {
		if (done == 0)
			ics_error_prefix(error, "its disks are left as they were: ");
		else
			ics_error_prefix(error, "%u of %u disks of VM %s restored: ", done,
					 tmps->len, pl->current->name);
		g_ptr_array_remove_range(tmps, 0, done);
		unlink_all(tmps);
		return FALSE;
	}
	json_object_set_new(out, "vm", json_pack("{s:s, s:s}", "uuid", uuid, "name",
						 pl->current->name));
	return TRUE;
}

static json_t *run_restore(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsManager *m = ics_task_data(ctx);
	const char *uuid = ics_task_object_id(ctx);
	const char *backup = json_string_value(json_object_get(params, "backup"));
	g_autoptr(IcsPrincipal) p = NULL;
	g_autoptr(json_t) req = json_deep_copy(params);
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_auto(Plan) pl = { 0 };
	gint64 vm_owner = 0;
	g_autoptr(json_t) out = NULL;
	json_t *disks, *not_restored;
	gboolean ok = TRUE;

	/* the request's fields: what plan() reads */
	json_object_del(req, "backup");
	json_object_del(req, "user_id");
	json_object_del(req, "new_uuid");
	ics_task_progress(ctx, 0, "checking the request");
	ics_store_read_begin(m->store);
	p = ics_principal_load(
		m->store, json_integer_value(json_object_get(params, "user_id")), error);
	if (p != NULL && !ics_vm_inventory_owner(m->store, uuid, &vm_owner, NULL))
		vm_owner = 0;
	ics_store_read_end(m->store);
	if (p == NULL || !plan(m, p, uuid, vm_owner, backup, req, &pl, error))
		return NULL;
	if (!ics_backup_verify(pl.repo, pl.mf, on_verify, ctx, error))
		return NULL;
	for (guint i = 0; i < pl.dests->len; i++) {
		const char *dest = pl.dests->pdata[i];
		g_autofree char *dir = g_path_get_dirname(dest);
		g_autofree char *base = g_path_get_basename(dest);

		g_ptr_array_add(paths, pl.to == TO_IN_PLACE
					       ? g_strdup_printf("%s/.%s.restore-%" G_GINT64_FORMAT,
								 dir, base, ics_task_id(ctx))
					       : g_strdup(dest));
	}
	if (!write_disks(ctx, &pl, paths, error))
		return NULL;
	ics_task_progress(ctx, 95, pl.to == TO_NEW_VM ? "creating the VM" : "finishing");
	disks = json_array();
	not_restored = json_array();
	for (guint i = 0; i < pl.targets->len; i++)
		json_array_append_new(disks, json_string(pl.targets->pdata[i]));
	for (guint i = 0; i < pl.mf->disks->len; i++) {
		const char *t = ((IcsBackupDisk *)pl.mf->disks->pdata[i])->target;

		if (!g_ptr_array_find_with_equal_func(pl.targets, t, g_str_equal, NULL))
			json_array_append_new(not_restored, json_string(t));
	}
	out = json_pack("{s:s, s:s, s:o, s:o}", "to", to_names[pl.to], "backup", pl.mf->id,
			"disks", disks, "not_restored", not_restored);
	switch (pl.to) {
	case TO_NEW_VM:
		ok = finish_new_vm(m, &pl, params, p, out, error);
		break;
	case TO_IN_PLACE:
		ok = finish_in_place(ctx, m, &pl, uuid, paths, out, error);
		break;
	case TO_VOLUME:
	default:
		json_object_set_new(out, "volume",
				    json_pack("{s:s, s:s}", "pool", pl.pool, "name", pl.name));
		break;
	}
	return ok ? g_steal_pointer(&out) : NULL;
}

void ics_backup_restore_tasks_register(IcsManager *m)
{
	m->vm_restore_kind = (IcsTaskKind){ "vm.restore", run_restore, FALSE, m };
	ics_task_runner_register(m->tasks, &m->vm_restore_kind);
}
