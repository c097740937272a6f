/*
 * backup_service.c: VM backups in the manager (see
 * ics/manager/backup_service.h).
 *
 * A backup is a task of kind vm.backup whose object is the VM: the work is
 * the cluster adapter's (vm_backup: on the node that runs the VM, or a
 * copy of a stopped VM's disks), the task reports its progress from
 * libicsbackup's (copying, then checksumming) and is cancelled through its
 * cancel flag.  A backup interrupted by a restart of the manager is not
 * resumed (it left at most a .partial directory the next backup removes):
 * the task fails and is run again by whoever asked.  The catalogue is
 * read from the repositories themselves at each request: a backup is
 * listed when its repository lists it, so nothing here can disagree with
 * the disk.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/backup_repos.h"
#include "ics/manager/backup_service.h"
#include "ics/manager/task.h"

/* The repository of a registry row {"name", "path", "id"}, checked to be
 * the one registered there. */
static IcsBackupRepo *open_registered(const json_t *row, GError **error)
{
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *path = json_string_value(json_object_get(row, "path"));
	const char *id = json_string_value(json_object_get(row, "id"));
	g_autoptr(GError) err = NULL;
	IcsBackupRepo *repo = ics_backup_repo_open(path, &err);

	if (repo == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "backup repository %s cannot be used: %s", name, err->message);
		return NULL;
	}
	if (g_strcmp0(ics_backup_repo_id(repo), id) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "backup repository %s: %s now holds another repository (id %s, "
			    "registered %s): is the right file system mounted?",
			    name, path, ics_backup_repo_id(repo), id);
		ics_backup_repo_free(repo);
		return NULL;
	}
	return repo;
}

IcsBackupRepo *ics_backup_repo_named(IcsManager *m, const char *name, GError **error)
{
	g_autoptr(json_t) row = NULL;

	ics_store_read_begin(m->store);
	row = ics_backup_repos_get(m->store, name, error);
	ics_store_read_end(m->store);
	return row ? open_registered(row, error) : NULL;
}

/* A backup's progress, with the rate and the time left of its phase. */
typedef struct {
	IcsTaskContext *ctx;
	const char *phase; /* the phase being timed */
	gint64 phase_start;  /* monotonic us */
} Progress;

static void on_progress(const IcsBackupProgress *p, gpointer data)
{
	Progress *pr = data;
	g_autofree char *msg = NULL, *eta = NULL;
	gint64 now = g_get_monotonic_time(), elapsed;
	double rate;
	guint pct;

	if (g_strcmp0(p->phase, pr->phase) != 0) {
		pr->phase = p->phase;
		pr->phase_start = now;
	}
	elapsed = now - pr->phase_start;
	rate = elapsed > 0 ? (double)p->done * G_USEC_PER_SEC / (double)elapsed : 0;
	/* copying is most of the work; the checksums read the backup again */
	if (g_strcmp0(p->phase, "copying") == 0)
		pct = p->total ? (guint)(p->done * 90 / p->total) : 0;
	else
		pct = 90 + (p->total ? (guint)(p->done * 9 / p->total) : 0);
	if (rate >= 1 << 20 && p->total > p->done && elapsed >= G_USEC_PER_SEC)
		eta = g_strdup_printf(", %.0f s left", (double)(p->total - p->done) / rate);
	msg = g_strdup_printf("%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " MiB, %.0f MiB/s%s",
			      p->phase, p->done >> 20, p->total >> 20, rate / (1 << 20),
			      eta ? eta : "");
	ics_task_progress(pr->ctx, MIN(pct, 99), msg);
}

/* A policy's backup: its retention prunes the VM's backups that policy
 * took in the repository once the new one is complete.  A prune that fails does not
 * fail the backup (which is good); the result says why. */
static void apply_retention(IcsTaskContext *ctx, IcsBackupRepo *repo, const char *uuid,
			    const json_t *params, json_t *out)
{
	const char *text = json_string_value(json_object_get(params, "retention"));
	const char *policy = json_string_value(json_object_get(params, "policy"));
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) done = NULL;
	json_t *vm;
	IcsBackupRetention r;

	if (text == NULL || *text == '\0')
		return;
	ics_task_progress(ctx, 99, "applying the retention");
	if (ics_backup_retention_parse(text, &r, &err))
		done = ics_backup_prune(repo, uuid, &r, policy, FALSE, &err);
	if (done == NULL) {
		json_object_set_new(out, "retention_error", json_string(err->message));
		return;
	}
	vm = json_array_get(json_object_get(done, "vms"), 0);
	json_object_set(out, "pruned", json_object_get(vm, "pruned"));
	if (json_object_get(vm, "error"))
		json_object_set(out, "retention_error", json_object_get(vm, "error"));
}

static json_t *run_backup(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	Progress progress = { ctx, NULL, 0 };
	IcsManager *m = ics_task_data(ctx);
	const char *uuid = ics_task_object_id(ctx);
	const char *name = json_string_value(json_object_get(params, "repository"));
	g_autoptr(IcsBackupRepo) repo = NULL;
	IcsBackupRunOptions opts = {
		.progress = on_progress,
		.progress_data = &progress,
		.cancel = ics_task_cancel_flag(ctx),
		.force_full = json_is_true(json_object_get(params, "full")),
		.policy = json_string_value(json_object_get(params, "policy")),
	};
	json_t *out;

	if (m->cluster == NULL || m->cluster->vm_backup == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager cannot reach the VMs");
		return NULL;
	}
	repo = ics_backup_repo_named(m, name, error);
	if (repo == NULL)
		return NULL;
	ics_task_progress(ctx, 0, "starting");
	out = m->cluster->vm_backup(m->cluster->self, uuid, repo, &opts, error);
	if (out == NULL) {
		if (ics_task_cancelled(ctx)) {
			g_clear_error(error);
			ics_task_set_cancelled_error(error);
		}
		return NULL;
	}
	json_object_set_new(out, "repository", json_string(name));
	apply_retention(ctx, repo, uuid, params, out);
	return out;
}

void ics_backup_tasks_register(IcsManager *m)
{
	m->vm_backup_kind = (IcsTaskKind){ "vm.backup", run_backup, FALSE, m };
	ics_task_runner_register(m->tasks, &m->vm_backup_kind);
}

json_t *ics_backup_catalogue_vm(IcsManager *m, const char *uuid, gboolean with_paths,
				GError **error)
{
	g_autoptr(json_t) repos = NULL;
	g_autoptr(json_t) backups = json_array();
	g_autoptr(json_t) problems = json_array();
	size_t i;
	json_t *r;

	ics_store_read_begin(m->store);
	repos = ics_backup_repos_list(m->store, error);
	ics_store_read_end(m->store);
	if (repos == NULL)
		return NULL;
	json_array_foreach(repos, i, r)
	{
		const char *name = json_string_value(json_object_get(r, "name"));
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsBackupRepo) repo = open_registered(r, &err);
		g_autoptr(GPtrArray) list = NULL;
		g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func(g_free);

		if (repo != NULL)
			list = ics_backup_repo_list(repo, uuid, bad, &err);
		if (list == NULL) {
			json_array_append_new(problems,
					      with_paths ? json_string(err->message)
							 : json_sprintf("repository %s cannot be read "
									"now (its details: ask an "
									"administrator)",
									name));
			continue;
		}
		for (guint k = 0; k < list->len; k++) {
			json_t *b = ics_backup_manifest_to_json(g_ptr_array_index(list, k));

			json_object_del(b, "definition");
			json_object_set_new(b, "repository", json_string(name));
			json_array_append_new(backups, b);
		}
		for (guint k = 0; k < bad->len; k++)
			json_array_append_new(
				problems,
				with_paths ? json_sprintf("repository %s: %s", name,
							  (char *)g_ptr_array_index(bad, k))
					   : json_sprintf("repository %s: a backup of this VM cannot "
							  "be read (its details: ask an "
							  "administrator)",
							  name));
	}
	return json_pack("{s:O, s:O}", "backups", backups, "problems", problems);
}
