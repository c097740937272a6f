/*
 * authz.c: permissions, builtin and custom roles, principals.
 *
 * The builtin roles' permissions are defined here rather than in the
 * database so a new permission reaches them without a migration; custom
 * roles' permissions are rows.  Mutual exclusion of the builtin roles is
 * checked where roles are assigned, the one place a user can come to hold
 * two of them.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/authz.h"

const char *const ics_permissions[] = {
	"vm.read",	"vm.write",	"vm.power",   "task.read",	  "task.cancel",
	"event.read",	"user.read",	"user.admin", "role.read",	  "role.admin",
	"audit.read",	"apikey.admin", "host.read",  "host.maintenance", "volume.read",
	"volume.write", "drs.read",	"drs.admin",  "vm.host_path",	  "directory.read",
	"directory.admin", "vm.console", "backup.read", "backup.run", "backup.admin",
	"system.backup", NULL,
};

static const char *const vm_manager_permissions[] = {
	"vm.read",    "vm.write",   "vm.power", "vm.console", "backup.read", "backup.run",
	"task.read", "task.cancel", "event.read", NULL,
};

gboolean ics_permission_known(const char *name)
{
	return g_strv_contains(ics_permissions, name);
}

static void grant(IcsPrincipal *p, const char *perm, IcsScope scope)
{
	IcsScope have = GPOINTER_TO_INT(g_hash_table_lookup(p->permissions, perm));

	if (scope > have)
		g_hash_table_replace(p->permissions, (gpointer)perm, GINT_TO_POINTER(scope));
}

static void grant_builtin(IcsPrincipal *p, const char *role)
{
	for (guint i = 0; ics_permissions[i]; i++) {
		const char *perm = ics_permissions[i];

		if (g_str_equal(role, "administrator"))
			grant(p, perm, ICS_SCOPE_ALL);
		else if (g_str_equal(role, "readonly") && g_str_has_suffix(perm, ".read") &&
			 !g_str_equal(perm, "audit.read") && !g_str_equal(perm, "directory.read"))
			grant(p, perm, ICS_SCOPE_ALL);
		else if (g_str_equal(role, "vm_manager") &&
			 g_strv_contains(vm_manager_permissions, perm))
			grant(p, perm, ICS_SCOPE_OWNED);
	}
}

void ics_principal_free(IcsPrincipal *p)
{
	if (p == NULL)
		return;
	g_free(p->name);
	g_hash_table_unref(p->permissions);
	g_free(p->auth);
	g_free(p->apikey_id);
	g_free(p);
}

IcsPrincipal *ics_principal_load(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsPrincipal) p = g_new0(IcsPrincipal, 1);
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT u.name, r.name, r.builtin, rp.permission FROM users u"
			       " LEFT JOIN user_roles ur ON ur.user_id = u.id"
			       " LEFT JOIN roles r ON r.id = ur.role_id"
			       " LEFT JOIN role_permissions rp ON rp.role_id = r.id"
			       " WHERE u.id = ?1 AND u.enabled",
			       error);
	int rc;

	if (st == NULL)
		return NULL;
	p->user_id = user_id;
	p->permissions = g_hash_table_new(g_str_hash, g_str_equal);
	ics_stmt_bind_int(st, 1, user_id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		const char *role = ics_stmt_text(st, 1);
		const char *perm = ics_stmt_text(st, 3);

		if (p->name == NULL)
			p->name = g_strdup(ics_stmt_text(st, 0));
		if (role && sqlite3_column_int(st, 2))
			grant_builtin(p, role);
		for (guint i = 0; perm && ics_permissions[i]; i++)
			if (g_str_equal(perm, ics_permissions[i]))
				grant(p, ics_permissions[i], ICS_SCOPE_ALL);
	}
	if (rc < 0)
		return NULL;
	if (p->name == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "user #%" G_GINT64_FORMAT " does not exist or is disabled", user_id);
		return NULL;
	}
	return g_steal_pointer(&p);
}

IcsScope ics_principal_scope(const IcsPrincipal *p, const char *permission)
{
	return GPOINTER_TO_INT(g_hash_table_lookup(p->permissions, permission));
}

gboolean ics_principal_can_on(const IcsPrincipal *p, const char *permission, gint64 owner_id)
{
	IcsScope s = ics_principal_scope(p, permission);

	return s == ICS_SCOPE_ALL || (s == ICS_SCOPE_OWNED && owner_id == p->user_id);
}

gboolean ics_principal_covers(const IcsPrincipal *p, const IcsPrincipal *other)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, other->permissions);
	while (g_hash_table_iter_next(&it, &key, &value))
		if (ics_principal_scope(p, key) < (IcsScope)GPOINTER_TO_INT(value))
			return FALSE;
	return TRUE;
}

gboolean ics_principal_check_covers(const IcsPrincipal *p, const IcsPrincipal *other,
				    const char *what, GError **error)
{
	g_autoptr(GString) missing = g_string_new(NULL);

	for (guint i = 0; ics_permissions[i]; i++) {
		IcsScope want = ics_principal_scope(other, ics_permissions[i]);
		IcsScope have = ics_principal_scope(p, ics_permissions[i]);

		if (have < want)
			g_string_append_printf(missing, "%s%s%s", missing->len ? ", " : "",
					       ics_permissions[i],
					       have == ICS_SCOPE_OWNED ? " (on every object)" : "");
	}
	if (missing->len == 0)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
		    "user \"%s\" may not %s: it needs %s, which \"%s\" does not hold; nobody "
		    "grants or overrides what they do not hold",
		    p->name, what, missing->str, p->name);
	return FALSE;
}

static IcsPrincipal *principal_empty(gint64 user_id)
{
	IcsPrincipal *p = g_new0(IcsPrincipal, 1);

	p->user_id = user_id;
	p->permissions = g_hash_table_new(g_str_hash, g_str_equal);
	return p;
}

/* Add what role @name grants (builtin or rows). */
static gboolean grant_role(IcsStore *store, IcsPrincipal *p, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT r.builtin, rp.permission FROM roles r"
		" LEFT JOIN role_permissions rp ON rp.role_id = r.id WHERE r.name = ?",
		error);
	gboolean found = FALSE;
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		const char *perm = ics_stmt_text(st, 1);

		found = TRUE;
		if (sqlite3_column_int(st, 0))
			grant_builtin(p, name);
		for (guint i = 0; perm && ics_permissions[i]; i++)
			if (g_str_equal(perm, ics_permissions[i]))
				grant(p, ics_permissions[i], ICS_SCOPE_ALL);
	}
	if (rc < 0)
		return FALSE;
	if (!found)
		return ics_error_invalid(error, "role \"%s\" does not exist", name);
	return TRUE;
}

IcsPrincipal *ics_principal_of_roles(IcsStore *store, const char *const *roles, GError **error)
{
	g_autoptr(IcsPrincipal) p = principal_empty(0);

	for (guint i = 0; roles[i]; i++)
		if (!grant_role(store, p, roles[i], error))
			return NULL;
	return g_steal_pointer(&p);
}

IcsPrincipal *ics_principal_of_user(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsPrincipal) p = principal_empty(user_id);
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT u.name, r.name FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id"
		" LEFT JOIN roles r ON r.id = ur.role_id WHERE u.id = ?",
		error);
	g_autoptr(GPtrArray) roles = g_ptr_array_new_with_free_func(g_free);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, user_id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		if (p->name == NULL)
			p->name = g_strdup(ics_stmt_text(st, 0));
		if (ics_stmt_text(st, 1))
			g_ptr_array_add(roles, g_strdup(ics_stmt_text(st, 1)));
	}
	if (rc < 0)
		return NULL;
	ics_stmt_release(g_steal_pointer(&st));
	if (p->name == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "user #%" G_GINT64_FORMAT " does not exist", user_id);
		return NULL;
	}
	for (guint i = 0; i < roles->len; i++)
		if (!grant_role(store, p, g_ptr_array_index(roles, i), error))
			return NULL;
	return g_steal_pointer(&p);
}

/* ---- roles ------------------------------------------------------------- */

static gboolean role_lookup(IcsStore *store, const char *name, gint64 *id, gboolean *builtin,
			    GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT id, builtin FROM roles WHERE name = ?", error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "role \"%s\" does not exist",
			    name);
		return FALSE;
	}
	*id = sqlite3_column_int64(st, 0);
	*builtin = sqlite3_column_int(st, 1) != 0;
	return TRUE;
}

gboolean ics_user_set_roles(IcsStore *store, gint64 user_id, const char *const *roles,
			    GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	const char *builtin_seen = NULL;

	for (guint i = 0; roles[i]; i++) {
		gint64 id;
		gboolean builtin;

		if (!role_lookup(store, roles[i], &id, &builtin, error)) {
			if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_NOT_FOUND))
				(*error)->code = ICS_ERROR_INVALID_ARGUMENT;
			return FALSE;
		}
		if (builtin && builtin_seen) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "roles \"%s\" and \"%s\" are mutually exclusive; a user holds "
				    "at most one builtin role",
				    builtin_seen, roles[i]);
			return FALSE;
		}
		if (builtin)
			builtin_seen = roles[i];
		g_array_append_val(ids, id);
	}

	g_autoptr(IcsStmt) del =
		ics_store_stmt(store, "DELETE FROM user_roles WHERE user_id = ?", error);
	if (del == NULL)
		return FALSE;
	ics_stmt_bind_int(del, 1, user_id);
	if (!ics_stmt_run(del, error))
		return FALSE;
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(IcsStmt) ins = ics_store_stmt(
			store, "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", error);

		if (ins == NULL)
			return FALSE;
		ics_stmt_bind_int(ins, 1, user_id);
		ics_stmt_bind_int(ins, 2, g_array_index(ids, gint64, i));
		if (!ics_stmt_run(ins, error))
			return FALSE;
	}
	return TRUE;
}

gboolean ics_role_create(IcsStore *store, const char *name, const char *description,
			 const char *const *permissions, gboolean second_factor, GError **error)
{
	gint64 id;

	for (guint i = 0; permissions[i]; i++)
		if (!ics_permission_known(permissions[i]))
			return ics_error_invalid(error, "role \"%s\": unknown permission \"%s\"",
						 name, permissions[i]);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"INSERT INTO roles (name, builtin, description, second_factor_required)"
			" VALUES (?, 0, ?, ?)",
			error);

		if (st == NULL)
			return FALSE;
		ics_stmt_bind_text(st, 1, name);
		ics_stmt_bind_text(st, 2, description ? description : "");
		ics_stmt_bind_int(st, 3, second_factor);
		if (!ics_stmt_run(st, error)) {
			if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_CONFLICT)) {
				g_clear_error(error);
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "role \"%s\" already exists", name);
			}
			return FALSE;
		}
		id = ics_store_last_insert_id(store);
	}
	for (guint i = 0; permissions[i]; i++) {
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store, "INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)",
			error);

		if (st == NULL)
			return FALSE;
		ics_stmt_bind_int(st, 1, id);
		ics_stmt_bind_text(st, 2, permissions[i]);
		if (!ics_stmt_run(st, error))
			return FALSE;
	}
	return TRUE;
}

gboolean ics_role_delete(IcsStore *store, const char *name, GError **error)
{
	gint64 id;
	gboolean builtin;

	if (!role_lookup(store, name, &id, &builtin, error))
		return FALSE;
	if (builtin) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "role \"%s\" is builtin and cannot be deleted", name);
		return FALSE;
	}
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "DELETE FROM roles WHERE id = ?", error);
	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, id);
	if (!ics_stmt_run(st, error)) {
		if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_CONFLICT)) {
			g_clear_error(error);
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "role \"%s\" is still held by users or granted by a "
				    "directory's group; take it from them first",
				    name);
		}
		return FALSE;
	}
	return TRUE;
}

gboolean ics_role_set_second_factor(IcsStore *store, const char *name, gboolean required,
				    GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE roles SET second_factor_required = ? WHERE name = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, required);
	ics_stmt_bind_text(st, 2, name);
	if (!ics_stmt_run(st, error))
		return FALSE;
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "role \"%s\" does not exist",
			    name);
		return FALSE;
	}
	return TRUE;
}

static json_t *role_json(const char *name, gboolean builtin, const char *description,
			 gboolean second_factor)
{
	g_autoptr(json_t) perms = json_array();

	if (builtin) {
		g_autoptr(IcsPrincipal) p = g_new0(IcsPrincipal, 1);

		p->permissions = g_hash_table_new(g_str_hash, g_str_equal);
		grant_builtin(p, name);
		for (guint i = 0; ics_permissions[i]; i++)
			if (ics_principal_scope(p, ics_permissions[i]) != ICS_SCOPE_NONE)
				json_array_append_new(perms, json_string(ics_permissions[i]));
	}
	return json_pack("{s:s, s:b, s:s, s:O, s:b}", "name", name, "builtin", builtin,
			 "description", description ? description : "", "permissions", perms,
			 "second_factor_required", second_factor);
}

static json_t *roles_query(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT r.name, r.builtin, r.description, rp.permission,"
			       " r.second_factor_required FROM roles r"
			       " LEFT JOIN role_permissions rp ON rp.role_id = r.id"
			       " WHERE ?1 IS NULL OR r.name = ?1 ORDER BY r.name, rp.permission",
			       error);
	g_autoptr(json_t) items = json_array();
	json_t *cur = NULL;
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		const char *rname = ics_stmt_text(st, 0);
		const char *perm = ics_stmt_text(st, 3);

		if (cur == NULL || strcmp(json_string_value(json_object_get(cur, "name")), rname)) {
			cur = role_json(rname, sqlite3_column_int(st, 1), ics_stmt_text(st, 2),
					sqlite3_column_int(st, 4));
			json_array_append_new(items, cur);
		}
		if (perm)
			json_array_append_new(json_object_get(cur, "permissions"),
					      json_string(perm));
	}
	if (rc < 0)
		return NULL;
	return g_steal_pointer(&items);
}

json_t *ics_role_get(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(json_t) items = roles_query(store, name, error);

	if (items == NULL)
		return NULL;
	if (json_array_size(items) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "role \"%s\" does not exist",
			    name);
		return NULL;
	}
	return json_incref(json_array_get(items, 0));
}

json_t *ics_role_list(IcsStore *store, GError **error)
{
	json_t *items = roles_query(store, NULL, error);

	return items ? json_pack("{s:o}", "items", items) : NULL;
}
