/*
 * users.c: the users table.
 *
 * Users are addressed by name in the API and by id inside the database
 * (sessions, keys, roles and VM ownership reference the id, so a rename
 * would touch one row).  The password hash never leaves this file in a
 * JSON document.  A directory user (directory.h) has the hash "!", which
 * no password matches; its password is checked by the directory.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/totp.h"
#include "ics/manager/users.h"

#define USER_COLUMNS                                                                               \
	"id, name, password_hash, enabled, failed_logins, locked_until_us, created_us,"            \
	" updated_us, second_factor_required, directory_id, directory_dn,"                         \
	" (SELECT d.name FROM directories d WHERE d.id = users.directory_id)"

void ics_user_free(IcsUser *user)
{
	if (user == NULL)
		return;
	g_free(user->name);
	g_free(user->directory);
	g_free(user->directory_dn);
	if (user->password_hash)
		explicit_bzero(user->password_hash, strlen(user->password_hash));
	g_free(user->password_hash);
	g_free(user);
}

static IcsUser *user_from_row(IcsStmt *st)
{
	IcsUser *u = g_new0(IcsUser, 1);

	u->id = sqlite3_column_int64(st, 0);
	u->name = g_strdup(ics_stmt_text(st, 1));
	u->password_hash = g_strdup(ics_stmt_text(st, 2));
	u->enabled = sqlite3_column_int(st, 3) != 0;
	u->failed_logins = sqlite3_column_int64(st, 4);
	u->locked_until_us = sqlite3_column_int64(st, 5);
	u->created_us = sqlite3_column_int64(st, 6);
	u->updated_us = sqlite3_column_int64(st, 7);
	u->second_factor_required = sqlite3_column_int(st, 8) != 0;
	u->directory_id = sqlite3_column_int64(st, 9);
	u->directory_dn = g_strdup(ics_stmt_text(st, 10));
	u->directory = g_strdup(ics_stmt_text(st, 11));
	return u;
}

static IcsUser *user_fetch(IcsStmt *st, const char *what, GError **error)
{
	int rc = ics_stmt_step(st, error);

	if (rc == SQLITE_ROW)
		return user_from_row(st);
	if (rc == SQLITE_DONE)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "user %s does not exist", what);
	return NULL;
}

IcsUser *ics_user_get(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT " USER_COLUMNS " FROM users WHERE name = ?", error);
	g_autofree char *what = g_strdup_printf("\"%s\"", name);

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	return user_fetch(st, what, error);
}

IcsUser *ics_user_get_by_id(IcsStore *store, gint64 id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", error);
	g_autofree char *what = g_strdup_printf("#%" G_GINT64_FORMAT, id);

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, id);
	return user_fetch(st, what, error);
}

gint64 ics_user_insert(IcsStore *store, const char *name, const char *password_hash,
		       gboolean enabled, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"INSERT INTO users (name, password_hash, enabled, created_us, updated_us)"
		" VALUES (?, ?, ?, ?, ?)",
		error);
	gint64 now = ics_now_us();

	if (st == NULL)
		return -1;
	ics_stmt_bind_text(st, 1, name);
	ics_stmt_bind_text(st, 2, password_hash);
	ics_stmt_bind_int(st, 3, enabled);
	ics_stmt_bind_int(st, 4, now);
	ics_stmt_bind_int(st, 5, now);
	if (!ics_stmt_run(st, error)) {
		if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_CONFLICT)) {
			g_clear_error(error);
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "user \"%s\" already exists", name);
		}
		return -1;
	}
	return ics_store_last_insert_id(store);
}

static gboolean update_one(IcsStore *store, const char *sql, gint64 id, gboolean has_text,
			   const char *text, gint64 value, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, sql, error);

	if (st == NULL)
		return FALSE;
	if (has_text)
		ics_stmt_bind_text(st, 1, text);
	else
		ics_stmt_bind_int(st, 1, value);
	ics_stmt_bind_int(st, 2, ics_now_us());
	ics_stmt_bind_int(st, 3, id);
	return ics_stmt_run(st, error);
}

gboolean ics_user_set_password(IcsStore *store, gint64 id, const char *password_hash,
			       GError **error)
{
	return update_one(store, "UPDATE users SET password_hash = ?, updated_us = ? WHERE id = ?",
			  id, TRUE, password_hash, 0, error);
}

gboolean ics_user_set_enabled(IcsStore *store, gint64 id, gboolean enabled, GError **error)
{
	return update_one(store, "UPDATE users SET enabled = ?, updated_us = ? WHERE id = ?", id,
			  FALSE, NULL, enabled, error);
}

gboolean ics_user_set_second_factor_required(IcsStore *store, gint64 id, gboolean required,
					     GError **error)
{
	return update_one(
		store, "UPDATE users SET second_factor_required = ?, updated_us = ? WHERE id = ?",
		id, FALSE, NULL, required, error);
}

gboolean ics_user_delete(IcsStore *store, gint64 id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "DELETE FROM users WHERE id = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, id);
	return ics_stmt_run(st, error);
}

gint64 ics_user_count(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "SELECT count(*) FROM users", error);

	if (st == NULL || ics_stmt_step(st, error) != SQLITE_ROW)
		return -1;
	return sqlite3_column_int64(st, 0);
}

gint64 ics_user_admin_count(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT count(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id"
		" JOIN roles r ON r.id = ur.role_id WHERE r.name = 'administrator' AND u.enabled",
		error);

	if (st == NULL || ics_stmt_step(st, error) != SQLITE_ROW)
		return -1;
	return sqlite3_column_int64(st, 0);
}

gboolean ics_user_set_directory(IcsStore *store, gint64 id, gint64 directory_id, const char *dn,
				GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE users SET directory_id = ?, directory_dn = ? WHERE id = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, directory_id);
	ics_stmt_bind_text(st, 2, dn);
	ics_stmt_bind_int(st, 3, id);
	return ics_stmt_run(st, error);
}

gboolean ics_user_check_local(const IcsUser *user, const char *what, GError **error)
{
	if (user->directory_id == 0)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "user \"%s\" comes from directory \"%s\": its %s %s managed there (and "
		    "synced), not here",
		    user->name, user->directory ? user->directory : "?", what,
		    g_str_has_suffix(what, "s") ? "are" : "is");
	return FALSE;
}

json_t *ics_user_to_json(IcsStore *store, const IcsUser *user, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
			       " WHERE ur.user_id = ? ORDER BY r.name",
			       error);
	g_autoptr(json_t) roles = json_array();
	g_autofree char *created = ics_timestamp_format(user->created_us);
	g_autofree char *updated = ics_timestamp_format(user->updated_us);
	gboolean enrolled;
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, user->id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		json_array_append_new(roles, json_string(ics_stmt_text(st, 0)));
	if (rc < 0)
		return NULL;
	ics_stmt_release(g_steal_pointer(&st));
	if (!ics_totp_enrolled(store, user->id, &enrolled, error))
		return NULL;
	return json_pack("{s:s, s:b, s:O, s:b, s:s, s:s, s:b, s:b, s:s?}", "name", user->name,
			 "enabled", user->enabled, "roles", roles, "locked",
			 ics_now_us() < user->locked_until_us, "created_at", created, "updated_at",
			 updated, "second_factor_required", user->second_factor_required,
			 "second_factor_enrolled", enrolled, "directory", user->directory);
}

json_t *ics_user_list(IcsStore *store, const char *after, gint64 limit, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT " USER_COLUMNS " FROM users WHERE name > ? ORDER BY name LIMIT ?",
		error);
	g_autoptr(json_t) items = json_array();
	g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func((GDestroyNotify)ics_user_free);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, after ? after : "");
	ics_stmt_bind_int(st, 2, limit + 1);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		g_ptr_array_add(users, user_from_row(st));
	if (rc < 0)
		return NULL;
	ics_stmt_release(g_steal_pointer(&st));
	for (guint i = 0; i < users->len && i < (guint)limit; i++) {
		json_t *u = ics_user_to_json(store, g_ptr_array_index(users, i), error);

		if (u == NULL)
			return NULL;
		json_array_append_new(items, u);
	}
	return json_pack(
		"{s:O, s:o}", "items", items, "next",
		users->len > (guint)limit
			? json_string(((IcsUser *)g_ptr_array_index(users, limit - 1))->name)
			: json_null());
}
