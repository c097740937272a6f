/*
 * backup_repos.c: the backup repositories the manager knows (see
 * ics/manager/backup_repos.h).
 *
 * A repository is a host path, so registering one is an administrator's
 * act (backup.admin) and the path is checked with the VMs' never-path rule
 * (vm_paths.c): the kernel's and the runtime's file systems, the manager's
 * own state, a pool's lease area and another repository are refused
 * however they are spelled (the real path, symbolic links followed, is
 * checked and stored).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ics/backup.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/backup_repos.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/vm_paths.h"

static gboolean path_check(const char *path, const char *state_dir, char **real, GError **error)
{
	IcsVmPathPolicy never = { .state_dir = state_dir };
	g_autofree char *r = NULL;

	if (path == NULL || !g_path_is_absolute(path))
		return ics_error_invalid(error, "a repository path must be absolute");
	r = realpath(path, NULL);
	if (r == NULL) {
		if (errno == ENOENT)
			return ics_error_invalid(error,
						 "%s does not exist: create (or mount) the "
						 "directory first",
						 path);
		ics_error_set_errno(error, errno, "cannot resolve %s", path);
		return FALSE;
	}
	if (!g_file_test(r, G_FILE_TEST_IS_DIR))
		return ics_error_invalid(error, "%s is not a directory", path);
	/* where no VM may point, no repository goes (and the other way round) */
	if (ics_vm_path_never(&never, r) || ics_vm_path_never(&never, path))
		return ics_error_invalid(error,
					 "%s: a repository may not be under /dev, /proc, /sys, /run, "
					 "the manager's state directory, a pool's .ics directory or "
					 "another repository",
					 path);
	if (g_str_equal(r, "/") || (state_dir && ics_path_within(state_dir, r)))
		return ics_error_invalid(error,
					 "%s: a repository may not hold the manager's state directory",
					 path);
	*real = g_steal_pointer(&r);
	return TRUE;
}

gboolean ics_backup_repos_prepare(const char *path, const char *state_dir, char **real,
				  char **id, GError **error)
{
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(GError) err = NULL;

	if (!path_check(path, state_dir, real, error))
		return FALSE;
	repo = ics_backup_repo_init(*real, &err);
	if (repo == NULL) {
		/* the administrator's directory: EROFS, ENOSPC, a foreign
		 * repository file -- all bad input */
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "%s", err->message);
		g_clear_pointer(real, g_free);
		return FALSE;
	}
	*id = g_strdup(ics_backup_repo_id(repo));
	return TRUE;
}

gboolean ics_backup_repos_add(IcsStore *store, const char *name, const char *real,
			      const char *id, const char *user, GError **error)
{
	g_autoptr(IcsStmt) st = NULL;
	g_autoptr(GError) err = NULL;

	st = ics_store_stmt(store,
			    "INSERT INTO backup_repositories (name, path, repo_id, created_by,"
			    " created_us) VALUES (?, ?, ?, ?, ?)",
			    error);
	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	ics_stmt_bind_text(st, 2, real);
	ics_stmt_bind_text(st, 3, id);
	ics_stmt_bind_text(st, 4, user ? user : "");
	ics_stmt_bind_int(st, 5, ics_now_us());
	if (!ics_stmt_run(st, &err)) {
		if (g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT))
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "a repository named %s, or one at %s, is registered already",
				    name, real);
		else
			g_propagate_error(error, g_steal_pointer(&err));
		return FALSE;
	}
	return TRUE;
}

#define PENDING_SQL(filter)                                                                  \
	"SELECT kind, id FROM tasks WHERE object_id = ?1 AND state IN ('queued', 'running')" \
	" AND (" filter ") LIMIT 1"

/* The first task that @sql (a PENDING_SQL: a static string, which the
 * store's statement cache keeps) selects for VM @uuid, ?2 bound to @kind:
 * 1 with its kind and id, 0 when none, -1 on error. */
static int pending_task(IcsStore *store, const char *sql, const char *uuid, const char *kind,
			char **found_kind, gint64 *id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, sql, error);
	int rc;

	if (st == NULL)
		return -1;
	ics_stmt_bind_text(st, 1, uuid);
	if (kind)
		ics_stmt_bind_text(st, 2, kind);
	rc = ics_stmt_step(st, error);
	if (rc != SQLITE_ROW)
		return rc < 0 ? -1 : 0;
	*found_kind = g_strdup(ics_stmt_text(st, 0));
	*id = sqlite3_column_int64(st, 1);
	return 1;
}

gboolean ics_backup_none_pending(IcsStore *store, const char *uuid, const char *why,
				 GError **error)
{
	g_autofree char *kind = NULL;
	gint64 id = 0;
	int rc = pending_task(store, PENDING_SQL("kind IN ('vm.backup', 'vm.restore')"), uuid,
			      NULL, &kind, &id, error);

	if (rc > 0)
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "a %s of VM %s is queued or running (task %" G_GINT64_FORMAT "): %s",
			    g_str_equal(kind, "vm.restore") ? "restore" : "backup", uuid, id, why);
	return rc == 0;
}

gboolean ics_backup_task_none(IcsStore *store, const char *kind, const char *uuid,
			      const char *why, GError **error)
{
	g_autofree char *found = NULL;
	gint64 id = 0;
	int rc = pending_task(store,
			      PENDING_SQL("kind = ?2 AND (kind <> 'vm.restore'"
					  " OR json_extract(params, '$.to') = 'in-place')"),
			      uuid, kind, &found, &id, error);

	if (rc > 0)
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "%s of VM %s is queued or running (task %" G_GINT64_FORMAT "): %s",
			    g_str_equal(kind, "vm.restore") ? "an in-place restore"
							    : "a power operation",
			    uuid, id, why);
	return rc == 0;
}

gboolean ics_backup_repos_remove(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "DELETE FROM backup_repositories WHERE name = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	if (!ics_stmt_run(st, error))
		return FALSE;
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "backup repository %s does not exist", name);
		return FALSE;
	}
	return TRUE;
}

static json_t *row_json(IcsStmt *st)
{
	g_autofree char *created = ics_timestamp_format(sqlite3_column_int64(st, 4));

	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", ics_stmt_text(st, 0), "path",
			 ics_stmt_text(st, 1), "id", ics_stmt_text(st, 2), "created", created,
			 "created_by", ics_stmt_text(st, 3));
}

json_t *ics_backup_repos_get(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store,
					       "SELECT name, path, repo_id, created_by, created_us"
					       " FROM backup_repositories WHERE name = ?",
					       error);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc != SQLITE_ROW) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "backup repository %s does not exist", name);
		return NULL;
	}
	return row_json(st);
}

json_t *ics_backup_repos_list(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store,
					       "SELECT name, path, repo_id, created_by, created_us"
					       " FROM backup_repositories ORDER BY name",
					       error);
	g_autoptr(json_t) out = json_array();
	int rc;

	if (st == NULL)
		return NULL;
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		json_array_append_new(out, row_json(st));
	if (rc < 0)
		return NULL;
	return g_steal_pointer(&out);
}
