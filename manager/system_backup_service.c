/*
 * system_backup_service.c: the manager's own backup as a task and its
 * period.
 *
 * A backup is a task of kind manager.backup, wherever it came from (the
 * API, ics-admin, the period), so it is visible, recorded and one at a
 * time: a second one while one is queued or running is refused.  The
 * work is system_backup.c's; it runs on a task thread and never holds the
 * store lock (the copy reads on a reader).
 *
 * The period thread wakes every check interval (a quarter of the period,
 * between 1 s and 10 min; the first time one interval after the start, so
 * a manager that restarts in a loop does not back up in a loop) and
 * queues a backup when the newest one on disk is a period old or there is
 * none.  Deciding from the disk rather than
 * from memory is what makes it survive a failover: the manager that
 * takes over sees the same backups.  The thread is an IcsPeriodic.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/system_backup.h"
#include "ics/manager/system_backup_service.h"
#include "ics/manager/periodic.h"
#include "ics/manager/task.h"

#define KIND "manager.backup"

char *ics_system_backup_dir(IcsManager *m)
{
	if (m->cfg.system_backup_dir)
		return g_strdup(m->cfg.system_backup_dir);
	return g_build_filename(m->cfg.state_dir, "system-backups", NULL);
}

gboolean ics_system_backup_none_pending(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT id FROM tasks WHERE kind = '" KIND "' AND state IN ('queued', 'running')",
		error);
	int rc;

	g_assert(ics_store_locked(store));
	if (st == NULL || (rc = ics_stmt_step(st, error)) < 0)
		return FALSE;
	if (rc == SQLITE_ROW) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "a system backup is already queued or running (task %lld)",
			    (long long)sqlite3_column_int64(st, 0));
		return FALSE;
	}
	return TRUE;
}

static json_t *run_task(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsManager *m = ics_task_data(ctx);
	g_autofree char *dir = ics_system_backup_dir(m);

	(void)params;
	ics_task_progress(ctx, 10, "copying the database");
	return ics_system_backup_write(m->store, m->cfg.state_dir, dir, m->cfg.system_backup_keep,
				       ics_task_cancel_flag(ctx), error);
}

void ics_system_backup_register(IcsManager *m)
{
	m->system_backup_kind = (IcsTaskKind){
		.name = KIND,
		.run = run_task,
		/* a new backup, not a resumed one: safe to run again */
		.idempotent = TRUE,
		.data = m,
	};
	ics_task_runner_register(m->tasks, &m->system_backup_kind);
}

static void tick(gpointer data)
{
	IcsManager *m = data;
	g_autofree char *dir = ics_system_backup_dir(m);
	g_autoptr(GError) err = NULL;
	gint64 age = ics_system_backup_newest_age_s(dir);

	if (age >= 0 && age < (gint64)m->cfg.system_backup_period_s)
		return;
	if (!ics_store_begin(m->store, &err))
		goto out;
	if (!ics_system_backup_none_pending(m->store, &err) ||
	    ics_task_create(m->tasks, KIND, "system", "manager", 0, NULL, &err) < 0) {
		ics_store_rollback(m->store);
		goto out;
	}
	if (ics_store_commit(m->store, &err))
		ics_info("system backup queued: the newest one is %s",
			 age < 0 ? "missing" : "a period old");
out:
	if (err && !g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT))
		ics_error("system backup: cannot queue the periodic backup: %s", err->message);
}

IcsPeriodic *ics_system_backup_start(IcsManager *m)
{
	guint check_s = CLAMP(m->cfg.system_backup_period_s / 4, 1, 600);

	if (m->cfg.system_backup_period_s == 0)
		return NULL;
	return ics_periodic_start("ics-sys-backup", check_s * 1000, tick, m);
}
