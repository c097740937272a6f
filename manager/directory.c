/*
 * directory.c: the directories table -- validating a domain's settings,
 * storing them, answering them as JSON.
 *
 * The settings that are not secret are kept as one JSON document (they
 * are read together, by one sync or one login, and never searched), the
 * bind password sealed in its own column (seal.c, bound to the domain's
 * name), and the group grants as rows referencing their roles, so a role
 * cannot be deleted while a directory grants it.  Everything is validated
 * before anything is written: the URL and its TLS rule, DNs, filters,
 * attribute names, the CA certificate (GnuTLS must parse it), the roles of
 * each group (they exist; one group grants at most one builtin role).
 */
#include "config.h"

#include <string.h>

#include <gnutls/x509.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/directory.h"
#include "ics/manager/directory_ldap.h"
#include "ics/manager/request_schema.h"
#include "ics/manager/timestamp.h"

#define MAX_GROUPS 64

static const char *const setting_keys[] = {
	"url",	      "insecure",     "ca_certificate",	  "bind_dn",
	"user_base",  "user_filter",  "login_attribute",  "disabled_filter",
	"group_base", "group_filter", "member_attribute", NULL,
};

void ics_directory_config_free(IcsDirectoryConfig *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->name);
	g_free(cfg->url);
	g_free(cfg->ca_certificate);
	g_free(cfg->bind_dn);
	if (cfg->bind_password) {
		explicit_bzero(cfg->bind_password, strlen(cfg->bind_password));
		g_free(cfg->bind_password);
	}
	g_free(cfg->user_base);
	g_free(cfg->user_filter);
	g_free(cfg->login_attribute);
	g_free(cfg->disabled_filter);
	g_free(cfg->group_base);
	g_free(cfg->group_filter);
	g_free(cfg->member_attribute);
	if (cfg->grants)
		g_ptr_array_unref(cfg->grants);
	g_free(cfg);
}

static void grant_free(IcsDirectoryGrant *g)
{
	g_free(g->group_dn);
	g_free(g->role);
	g_free(g);
}

static char *aad_for(const char *name)
{
	return g_strdup_printf("directory:%s", name);
}

static gboolean attribute_check(const char *what, const char *v, GError **error)
{
	gsize n = strlen(v);

	if (n == 0 || n > 64 || !g_ascii_isalpha(v[0]))
		goto bad;
	for (const char *p = v; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-')
			goto bad;
	return TRUE;
bad:
	return ics_error_invalid(error,
				 "%s must be an attribute name (a letter, then letters, "
				 "digits or '-'), like uid or member",
				 what);
}

static gboolean dn_check(const char *what, const char *v, GError **error)
{
	g_autofree char *norm = ics_ldap_dn_normalize(v);

	if (norm == NULL || norm[0] == '\0')
		return ics_error_invalid(error,
					 "%s \"%.80s\" is not a distinguished name (RFC 4514), "
					 "like ou=people,dc=example,dc=com",
					 what, v);
	return TRUE;
}

static gboolean ca_check(const char *pem, GError **error)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0;
	gnutls_datum_t d = { (unsigned char *)pem, strlen(pem) };
	int rc = gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0);

	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	if (rc < 0 || n == 0)
		return ics_error_invalid(error, "ca_certificate is not a PEM certificate: %s",
					 rc < 0 ? gnutls_strerror(rc) : "none found");
	return TRUE;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Fill @cfg's settings from @s (the stored document merged with a request)
 * and check them all. */
static gboolean settings_parse(const json_t *s, IcsDirectoryConfig *cfg, GError **error)
{
	cfg->url = g_strdup(str(s, "url"));
	cfg->insecure = json_is_true(json_object_get(s, "insecure"));
	cfg->ca_certificate = g_strdup(str(s, "ca_certificate"));
	cfg->bind_dn = g_strdup(str(s, "bind_dn"));
	cfg->user_base = g_strdup(str(s, "user_base"));
	cfg->user_filter = g_strdup(str(s, "user_filter"));
	cfg->login_attribute = g_strdup(str(s, "login_attribute"));
	cfg->disabled_filter = g_strdup(str(s, "disabled_filter"));
	cfg->group_base = g_strdup(str(s, "group_base"));
	cfg->group_filter = g_strdup(str(s, "group_filter"));
	cfg->member_attribute = g_strdup(str(s, "member_attribute"));
	if (cfg->url == NULL || !ics_ldap_url_check(cfg->url, cfg->insecure, error))
		return cfg->url ? FALSE : ics_error_invalid(error, "url is required");
	if (cfg->ca_certificate && !ca_check(cfg->ca_certificate, error))
		return FALSE;
	if (cfg->insecure && cfg->ca_certificate)
		return ics_error_invalid(error, "an insecure domain uses no TLS: a "
						"ca_certificate makes no sense with it");
	if (!dn_check("bind_dn", cfg->bind_dn, error) ||
	    !dn_check("user_base", cfg->user_base, error) ||
	    !ics_ldap_filter_check(cfg->user_filter, error) ||
	    !attribute_check("login_attribute", cfg->login_attribute, error) ||
	    (cfg->disabled_filter && !ics_ldap_filter_check(cfg->disabled_filter, error)) ||
	    (cfg->group_base && !dn_check("group_base", cfg->group_base, error)) ||
	    !ics_ldap_filter_check(cfg->group_filter, error) ||
	    !attribute_check("member_attribute", cfg->member_attribute, error))
		return FALSE;
	return TRUE;
}

static gboolean role_find(IcsStore *store, const char *name, gint64 *id, gboolean *builtin,
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
	if (rc == SQLITE_DONE)
		return ics_error_invalid(error, "group_roles: role \"%s\" does not exist", name);
	*id = sqlite3_column_int64(st, 0);
	*builtin = sqlite3_column_int(st, 1) != 0;
	return TRUE;
}

/* Replace the grants of domain @id with @map ({group DN: [role...]}). */
static gboolean grants_set(IcsStore *store, gint64 id, const json_t *map, GError **error)
{
	const char *dn;
	json_t *roles;

	if (!json_is_object(map))
		return ics_error_invalid(error,
					 "group_roles must be an object {group DN: [roles]}");
	if (json_object_size(map) > MAX_GROUPS)
		return ics_error_invalid(error, "group_roles maps more than %d groups", MAX_GROUPS);
	{
		g_autoptr(IcsStmt) del = ics_store_stmt(
			store, "DELETE FROM directory_grants WHERE directory_id = ?", error);

		if (del == NULL)
			return FALSE;
		ics_stmt_bind_int(del, 1, id);
		if (!ics_stmt_run(del, error))
			return FALSE;
	}
	json_object_foreach((json_t *)map, dn, roles)
	{
		g_autofree char *norm = ics_ldap_dn_normalize(dn);
		const char *builtin_seen = NULL;
		size_t i;
		json_t *r;

		if (norm == NULL || norm[0] == '\0')
			return ics_error_invalid(error, "group_roles: \"%.80s\" is not a group DN",
						 dn);
		if (!json_is_array(roles) || json_array_size(roles) == 0 ||
		    json_array_size(roles) > 16)
			return ics_error_invalid(error,
						 "group_roles: the roles of \"%.80s\" must be an "
						 "array of 1 to 16 role names",
						 dn);
		json_array_foreach(roles, i, r)
		{
			const char *role = json_string_value(r);
			gboolean builtin = FALSE;
			gint64 role_id = 0;

			if (role == NULL || !ics_name_valid(role))
				return ics_error_invalid(error,
							 "group_roles: \"%.80s\" lists a bad "
							 "role name",
							 dn);
			if (!role_find(store, role, &role_id, &builtin, error))
				return FALSE;
			if (builtin && builtin_seen) {
				g_set_error(
					error, ICS_ERROR, ICS_ERROR_CONFLICT,
					"group_roles: \"%.80s\" grants \"%s\" and \"%s\", which "
					"are mutually exclusive builtin roles",
					dn, builtin_seen, role);
				return FALSE;
			}
			if (builtin)
				builtin_seen = role;
			g_autoptr(IcsStmt) ins = ics_store_stmt(
				store,
				"INSERT OR IGNORE INTO directory_grants (directory_id, group_dn, "
				"role_id) VALUES (?, ?, ?)",
				error);
			if (ins == NULL)
				return FALSE;
			ics_stmt_bind_int(ins, 1, id);
			ics_stmt_bind_text(ins, 2, norm);
			ics_stmt_bind_int(ins, 3, role_id);
			if (!ics_stmt_run(ins, error))
				return FALSE;
		}
	}
	return TRUE;
}

static gboolean period_check(const json_t *v, GError **error)
{
	json_int_t p = json_integer_value(v);

	if (v && p != 0 && (p < 60 || p > 7 * 86400))
		return ics_error_invalid(error,
					 "sync_period_seconds must be 0 (no periodic sync) or "
					 "60 to 604800");
	return TRUE;
}

/* Seal @password for domain @name and store it with @settings. */
static gboolean write_row(IcsSealer *sealer, IcsStore *store, gint64 id, const char *name,
			  const json_t *settings, const char *password, const json_t *period,
			  GError **error)
{
	g_autofree char *aad = aad_for(name);
	g_autofree char *text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
	g_autofree guint8 *sealed = NULL;
	gsize sealed_len = 0;
	gint64 now = ics_now_us();

	if (password) {
		sealed = ics_seal(sealer, aad, password, strlen(password), &sealed_len, error);
		if (sealed == NULL)
			return FALSE;
	}
	if (id == 0) {
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"INSERT INTO directories (name, settings, sealed_bind_password,"
			" sync_period_s, created_us, updated_us) VALUES (?, ?, ?, ?, ?, ?)",
			error);

		if (st == NULL)
			return FALSE;
		ics_stmt_bind_text(st, 1, name);
		ics_stmt_bind_text(st, 2, text);
		sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_TRANSIENT);
		ics_stmt_bind_int(st, 4, period ? json_integer_value(period) : 3600);
		ics_stmt_bind_int(st, 5, now);
		ics_stmt_bind_int(st, 6, now);
		if (!ics_stmt_run(st, error)) {
			if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_CONFLICT)) {
				g_clear_error(error);
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "directory \"%s\" already exists", name);
			}
			return FALSE;
		}
		return TRUE;
	}
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"UPDATE directories SET settings = ?1,"
		" sealed_bind_password = coalesce(?2, sealed_bind_password),"
		" sync_period_s = coalesce(?3, sync_period_s), updated_us = ?4 WHERE id = ?5",
		error);
	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, text);
	if (sealed)
		sqlite3_bind_blob(st, 2, sealed, (int)sealed_len, SQLITE_TRANSIENT);
	if (period)
		ics_stmt_bind_int(st, 3, json_integer_value(period));
	ics_stmt_bind_int(st, 4, now);
	ics_stmt_bind_int(st, 5, id);
	return ics_stmt_run(st, error);
}

/* The settings document of @body over @base (NULL: the defaults). */
static json_t *merge_settings(const json_t *base, const json_t *body)
{
	json_t *s = base ? json_deep_copy(base)
			 : json_pack("{s:b, s:s, s:s, s:s, s:s}", "insecure", 0, "user_filter",
				     "(objectClass=inetOrgPerson)", "login_attribute", "uid",
				     "group_filter", "(objectClass=groupOfNames)",
				     "member_attribute", "member");

	for (guint i = 0; setting_keys[i]; i++) {
		json_t *v = json_object_get(body, setting_keys[i]);

		/* An empty string clears an optional setting. */
		if (json_is_string(v) && json_string_length(v) == 0)
			json_object_del(s, setting_keys[i]);
		else if (v)
			json_object_set(s, setting_keys[i], v);
	}
	return s;
}

gboolean ics_directory_create(IcsSealer *sealer, IcsStore *store, const json_t *body,
			      GError **error)
{
	g_autoptr(IcsDirectoryConfig) cfg = g_new0(IcsDirectoryConfig, 1);
	g_autoptr(json_t) settings = merge_settings(NULL, body);
	const char *name = str(body, "name");
	json_t *period = json_object_get(body, "sync_period_seconds");

	if (!settings_parse(settings, cfg, error) || !period_check(period, error))
		return FALSE;
	if (!write_row(sealer, store, 0, name, settings, str(body, "bind_password"), period, error))
		return FALSE;
	{
		g_autoptr(json_t) none = json_object();
		json_t *map = json_object_get(body, "group_roles");

		return grants_set(store, ics_store_last_insert_id(store), map ? map : none, error);
	}
}

/* The id and settings document of domain @name; NOT_FOUND. */
static json_t *row_settings(IcsStore *store, const char *name, gint64 *id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT id, settings FROM directories WHERE name = ?", error);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "directory \"%s\" does not exist", name);
		return NULL;
	}
	*id = sqlite3_column_int64(st, 0);
	return json_loads(ics_stmt_text(st, 1), 0, NULL);
}

gboolean ics_directory_update(IcsSealer *sealer, IcsStore *store, const char *name,
			      const json_t *body, GError **error)
{
	g_autoptr(IcsDirectoryConfig) cfg = g_new0(IcsDirectoryConfig, 1);
	g_autoptr(json_t) old = NULL, settings = NULL;
	json_t *period = json_object_get(body, "sync_period_seconds");
	json_t *grants = json_object_get(body, "group_roles");
	gint64 id;

	old = row_settings(store, name, &id, error);
	if (old == NULL)
		return FALSE;
	settings = merge_settings(old, body);
	if (!settings_parse(settings, cfg, error) || !period_check(period, error))
		return FALSE;
	return write_row(sealer, store, id, name, settings, str(body, "bind_password"), period,
			 error) &&
	       (grants == NULL || grants_set(store, id, grants, error));
}

gboolean ics_directory_delete(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "DELETE FROM directories WHERE name = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	if (!ics_stmt_run(st, error))
		return FALSE;
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "directory \"%s\" does not exist", name);
		return FALSE;
	}
	return TRUE;
}

static json_t *grants_json(IcsStore *store, gint64 id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT g.group_dn, r.name FROM directory_grants g JOIN roles r ON r.id = g.role_id"
		" WHERE g.directory_id = ? ORDER BY g.group_dn, r.name",
		error);
	g_autoptr(json_t) map = json_object();
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		const char *dn = ics_stmt_text(st, 0);
		json_t *a = json_object_get(map, dn);

		if (a == NULL) {
			a = json_array();
			json_object_set_new(map, dn, a);
		}
		json_array_append_new(a, json_string(ics_stmt_text(st, 1)));
	}
	if (rc < 0)
		return NULL;
	return g_steal_pointer(&map);
}

static json_t *query(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT d.id, d.name, d.settings, d.sync_period_s, d.last_sync_us,"
		" d.last_sync_users, d.last_sync_error, d.created_us, d.updated_us,"
		" (SELECT count(*) FROM users u WHERE u.directory_id = d.id)"
		" FROM directories d WHERE ?1 IS NULL OR d.name = ?1 ORDER BY d.name",
		error);
	g_autoptr(json_t) items = json_array();
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		json_t *d = json_loads(ics_stmt_text(st, 2), 0, NULL);
		gint64 id = sqlite3_column_int64(st, 0);
		g_autofree char *created = ics_timestamp_format(sqlite3_column_int64(st, 7));
		g_autofree char *updated = ics_timestamp_format(sqlite3_column_int64(st, 8));

		if (d == NULL)
			d = json_object();
		for (guint i = 0; setting_keys[i]; i++)
			if (json_object_get(d, setting_keys[i]) == NULL)
				json_object_set_new(d, setting_keys[i], json_null());
		json_object_set_new(d, "name", json_string(ics_stmt_text(st, 1)));
		json_object_set_new(d, "sync_period_seconds",
				    json_integer(sqlite3_column_int64(st, 3)));
		json_object_set_new(d, "users", json_integer(sqlite3_column_int64(st, 9)));
		json_object_set_new(d, "created_at", json_string(created));
		json_object_set_new(d, "updated_at", json_string(updated));
		if (sqlite3_column_type(st, 4) == SQLITE_NULL) {
			json_object_set_new(d, "last_sync", json_null());
		} else {
			g_autofree char *at = ics_timestamp_format(sqlite3_column_int64(st, 4));
			const char *err = ics_stmt_text(st, 6);

			json_object_set_new(d, "last_sync",
					    json_pack("{s:s, s:s, s:I, s:s?}", "at", at, "result",
						      err ? "failed" : "succeeded", "users",
						      (json_int_t)sqlite3_column_int64(st, 5),
						      "error", err));
		}
		json_array_append_new(items, d);
		g_array_append_val(ids, id);
	}
	if (rc < 0)
		return NULL;
	ics_stmt_release(g_steal_pointer(&st));
	for (guint i = 0; i < ids->len; i++) {
		json_t *g = grants_json(store, g_array_index(ids, gint64, i), error);

		if (g == NULL)
			return NULL;
		json_object_set_new(json_array_get(items, i), "group_roles", g);
	}
	return g_steal_pointer(&items);
}

json_t *ics_directory_get(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(json_t) items = query(store, name, error);

	if (items == NULL)
		return NULL;
	if (json_array_size(items) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "directory \"%s\" does not exist", name);
		return NULL;
	}
	return json_incref(json_array_get(items, 0));
}

json_t *ics_directory_list(IcsStore *store, GError **error)
{
	json_t *items = query(store, NULL, error);

	return items ? json_pack("{s:o}", "items", items) : NULL;
}

IcsDirectoryConfig *ics_directory_load(IcsSealer *sealer, IcsStore *store, const char *name,
				       gint64 id, GError **error)
{
	g_autoptr(IcsDirectoryConfig) cfg = g_new0(IcsDirectoryConfig, 1);
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT id, name, settings, sealed_bind_password, sync_period_s FROM directories"
		" WHERE name = ?1 OR (?1 IS NULL AND id = ?2)",
		error);
	g_autoptr(json_t) settings = NULL;
	g_autofree char *aad = NULL;
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	ics_stmt_bind_int(st, 2, id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc == SQLITE_DONE) {
		if (name)
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "directory \"%s\" does not exist", name);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "directory #%" G_GINT64_FORMAT " does not exist", id);
		return NULL;
	}
	cfg->id = sqlite3_column_int64(st, 0);
	cfg->name = g_strdup(ics_stmt_text(st, 1));
	cfg->sync_period_s = (guint)sqlite3_column_int64(st, 4);
	settings = json_loads(ics_stmt_text(st, 2), 0, NULL);
	aad = aad_for(cfg->name);
	cfg->bind_password = ics_unseal(sealer, aad, sqlite3_column_blob(st, 3),
					sqlite3_column_bytes(st, 3), NULL, error);
	if (cfg->bind_password == NULL)
		return NULL;
	if (settings == NULL || !settings_parse(settings, cfg, error)) {
		ics_error_prefix(error, "directory \"%s\": stored settings: ", cfg->name);
		return NULL;
	}
	ics_stmt_release(g_steal_pointer(&st));
	cfg->grants = g_ptr_array_new_with_free_func((GDestroyNotify)grant_free);
	{
		g_autoptr(IcsStmt) g =
			ics_store_stmt(store,
				       "SELECT g.group_dn, r.name FROM directory_grants g"
				       " JOIN roles r ON r.id = g.role_id WHERE g.directory_id = ?",
				       error);

		if (g == NULL)
			return NULL;
		ics_stmt_bind_int(g, 1, cfg->id);
		while ((rc = ics_stmt_step(g, error)) == SQLITE_ROW) {
			IcsDirectoryGrant *gr = g_new0(IcsDirectoryGrant, 1);

			gr->group_dn = g_strdup(ics_stmt_text(g, 0));
			gr->role = g_strdup(ics_stmt_text(g, 1));
			g_ptr_array_add(cfg->grants, gr);
		}
		if (rc < 0)
			return NULL;
	}
	return g_steal_pointer(&cfg);
}

GStrv ics_directory_names(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT name FROM directories ORDER BY name", error);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	int rc;

	if (st == NULL)
		return NULL;
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		g_ptr_array_add(names, g_strdup(ics_stmt_text(st, 0)));
	if (rc < 0)
		return NULL;
	g_ptr_array_add(names, NULL);
	return (GStrv)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

gboolean ics_directory_record_sync(IcsStore *store, gint64 id, gint64 users, const char *error_text,
				   GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"UPDATE directories SET last_sync_us = ?, last_sync_users = ?, last_sync_error = ?"
		" WHERE id = ?",
		error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, ics_now_us());
	ics_stmt_bind_int(st, 2, users);
	ics_stmt_bind_text(st, 3, error_text);
	ics_stmt_bind_int(st, 4, id);
	return ics_stmt_run(st, error);
}
