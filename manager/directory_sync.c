/*
 * directory_sync.c: directory users in the users table -- the sync of a
 * domain, the per-user sync of a login, the password check by bind, the
 * periodic sync thread.
 *
 * A sync reads everything it needs from the directory first, with no lock
 * held (a directory may be slow), then applies the difference in one
 * write transaction; a failure anywhere before the commit changes
 * nothing.  The one rule that can make an otherwise valid sync fail is
 * the manager's own: there is always an enabled administrator.
 *
 * Group membership is matched both ways LDAP schemas say it: a member
 * value that is a DN is compared with the users' DNs (groupOfNames,
 * groupOfUniqueNames), any other value with their login names (posixGroup
 * memberUid).
 *
 * The periodic thread only queues tasks; the task runner's threads do the
 * work, so a sync is a task wherever it came from (visible and recorded;
 * a sync is not cancelled half-way: it reads, then applies in one
 * transaction).  The thread (an IcsPeriodic) wakes every check_ms and is
 * stopped (and joined) before the task runner.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/apikey.h"
#include "ics/manager/authz.h"
#include "ics/manager/directory.h"
#include "ics/manager/directory_ldap.h"
#include "ics/manager/directory_sync.h"
#include "ics/manager/periodic.h"
#include "ics/manager/request_schema.h"
#include "ics/manager/session.h"
#include "ics/manager/task.h"
#include "ics/manager/timestamp.h"

#define MAX_USERS 100000
#define MAX_GROUP_ENTRIES 10000
#define NO_PASSWORD "!"

/* A user as the directory has it. */
typedef struct {
	char *name;
	char *dn;
	char *dn_norm;
	gboolean disabled;
	GPtrArray *roles; /* char*, distinct */
} DirUser;

static void dir_user_free(DirUser *u)
{
	g_free(u->name);
	g_free(u->dn);
	g_free(u->dn_norm);
	g_ptr_array_unref(u->roles);
	g_free(u);
}

typedef struct {
	GHashTable *users; /* name -> DirUser* */
	GHashTable *by_dn; /* normalised DN -> DirUser* (borrowed) */
	GPtrArray *warnings;
	gint64 created, removed, updated;
} Gathered;

static void gathered_clear(Gathered *g)
{
	g_clear_pointer(&g->by_dn, g_hash_table_unref);
	g_clear_pointer(&g->users, g_hash_table_unref);
	g_clear_pointer(&g->warnings, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Gathered, gathered_clear)

static void warn(Gathered *g, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void warn(Gathered *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(g->warnings, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* The user filter, restricted to login @only when not NULL, and to
 * @extra when not NULL. */
static char *user_filter(const IcsDirectoryConfig *cfg, const char *only, const char *extra)
{
	g_autofree char *esc = only ? ics_ldap_filter_escape(only) : NULL;
	g_autofree char *one = esc ? g_strdup_printf("(%s=%s)", cfg->login_attribute, esc) : NULL;

	if (one == NULL && extra == NULL)
		return g_strdup(cfg->user_filter);
	return g_strdup_printf("(&%s%s%s)", cfg->user_filter, one ? one : "", extra ? extra : "");
}

/* Read the users (all, or only @only) and their grants from @l. */
static gboolean gather(IcsLdap *l, const IcsDirectoryConfig *cfg, const char *only, Gathered *g,
		       GError **error)
{
	g_autofree char *filter = user_filter(cfg, only, NULL);
	g_autoptr(GPtrArray) entries = NULL;

	g->users =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)dir_user_free);
	g->by_dn = g_hash_table_new(g_str_hash, g_str_equal);
	g->warnings = g_ptr_array_new_with_free_func(g_free);
	entries =
		ics_ldap_search(l, cfg->user_base, filter, cfg->login_attribute, MAX_USERS, error);
	if (entries == NULL)
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		IcsLdapEntry *e = g_ptr_array_index(entries, i);
		const char *login = e->values[0];
		DirUser *u;

		if (login == NULL) {
			warn(g, "%s has no %s: skipped", e->dn, cfg->login_attribute);
			continue;
		}
		if (!ics_name_valid(login)) {
			g_autofree char *shown = g_utf8_make_valid(login, MIN(strlen(login), 64));

			warn(g, "%s: login \"%s\" is not a valid ICS user name: skipped", e->dn,
			     shown);
			continue;
		}
		if (g_hash_table_contains(g->users, login)) {
			warn(g, "%s: login \"%s\" is used by two entries: the first is kept", e->dn,
			     login);
			continue;
		}
		u = g_new0(DirUser, 1);
		u->name = g_strdup(login);
		u->dn = g_strdup(e->dn);
		u->dn_norm = ics_ldap_dn_normalize(e->dn);
		u->roles = g_ptr_array_new_with_free_func(g_free);
		g_hash_table_insert(g->users, u->name, u);
		if (u->dn_norm)
			g_hash_table_insert(g->by_dn, u->dn_norm, u);
	}
	if (cfg->disabled_filter && g_hash_table_size(g->users) > 0) {
		g_autofree char *df = user_filter(cfg, only, cfg->disabled_filter);
		g_autoptr(GPtrArray) dis =
			ics_ldap_search(l, cfg->user_base, df, NULL, MAX_USERS, error);

		if (dis == NULL)
			return FALSE;
		for (guint i = 0; i < dis->len; i++) {
			g_autofree char *norm = ics_ldap_dn_normalize(
				((IcsLdapEntry *)g_ptr_array_index(dis, i))->dn);
			DirUser *u = norm ? g_hash_table_lookup(g->by_dn, norm) : NULL;

			if (u)
				u->disabled = TRUE;
		}
	}
	if (cfg->group_base && cfg->grants->len > 0 && g_hash_table_size(g->users) > 0) {
		g_autofree char *gf = NULL;
		g_autoptr(GPtrArray) groups = NULL;

		if (only) {
			DirUser *u = g_hash_table_lookup(g->users, only);
			g_autofree char *edn = u ? ics_ldap_filter_escape(u->dn) : NULL;
			g_autofree char *elogin = ics_ldap_filter_escape(only);

			gf = g_strdup_printf("(&%s(|(%s=%s)(%s=%s)))", cfg->group_filter,
					     cfg->member_attribute, edn ? edn : elogin,
					     cfg->member_attribute, elogin);
		} else {
			gf = g_strdup(cfg->group_filter);
		}
		groups = ics_ldap_search(l, cfg->group_base, gf, cfg->member_attribute,
					 MAX_GROUP_ENTRIES, error);
		if (groups == NULL)
			return FALSE;
		for (guint i = 0; i < groups->len; i++) {
			IcsLdapEntry *e = g_ptr_array_index(groups, i);
			g_autofree char *gdn = ics_ldap_dn_normalize(e->dn);

			for (guint k = 0; gdn && k < cfg->grants->len; k++) {
				IcsDirectoryGrant *gr = g_ptr_array_index(cfg->grants, k);

				if (!g_str_equal(gr->group_dn, gdn))
					continue;
				for (guint v = 0; e->values[v]; v++) {
					g_autofree char *mdn = ics_ldap_dn_normalize(e->values[v]);
					DirUser *u = NULL;

					if (mdn && strchr(e->values[v], '='))
						u = g_hash_table_lookup(g->by_dn, mdn);
					if (u == NULL)
						u = g_hash_table_lookup(g->users, e->values[v]);
					if (u && !g_ptr_array_find_with_equal_func(
							 u->roles, gr->role, g_str_equal, NULL))
						g_ptr_array_add(u->roles, g_strdup(gr->role));
				}
			}
		}
	}
	return TRUE;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The role names of @user_id, sorted. */
static GPtrArray *roles_of(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store,
			       "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
			       " WHERE ur.user_id = ? ORDER BY r.name",
			       error);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, user_id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		g_ptr_array_add(out, g_strdup(ics_stmt_text(st, 0)));
	if (rc < 0)
		return NULL;
	return g_steal_pointer(&out);
}

static gboolean same_roles(GPtrArray *a, GPtrArray *b)
{
	if (a->len != b->len)
		return FALSE;
	for (guint i = 0; i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), g_ptr_array_index(b, i)) != 0)
			return FALSE;
	return TRUE;
}

/* Give @u's roles to @user_id; two builtin roles: neither (a warning). */
static gboolean set_roles(IcsStore *store, Gathered *g, const DirUser *u, gint64 user_id,
			  gboolean *changed, GError **error)
{
	g_autoptr(GPtrArray) have = roles_of(store, user_id, error);
	g_autoptr(GPtrArray) want = g_ptr_array_new();
	g_autoptr(GError) err = NULL;

	if (have == NULL)
		return FALSE;
	for (guint i = 0; i < u->roles->len; i++)
		g_ptr_array_add(want, g_ptr_array_index(u->roles, i));
	g_ptr_array_sort(want, cmp_str);
	*changed = FALSE;
	if (same_roles(have, want))
		return TRUE;
	g_ptr_array_add(want, NULL);
	if (ics_user_set_roles(store, user_id, (const char *const *)want->pdata, &err)) {
		*changed = TRUE;
		return TRUE;
	}
	if (!g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT)) {
		g_propagate_error(error, g_steal_pointer(&err));
		return FALSE;
	}
	warn(g, "user \"%s\": its groups grant %s; it gets none of them", u->name, err->message);
	{
		static const char *const builtin[] = { "administrator", "readonly", "vm_manager",
						       NULL };
		g_autoptr(GPtrArray) custom = g_ptr_array_new();

		for (guint i = 0; want->pdata[i]; i++)
			if (!g_strv_contains(builtin, want->pdata[i]))
				g_ptr_array_add(custom, want->pdata[i]);
		g_ptr_array_add(custom, NULL);
		*changed = TRUE;
		return ics_user_set_roles(store, user_id, (const char *const *)custom->pdata,
					  error);
	}
}

static gboolean revoke_credentials(IcsStore *store, gint64 user_id, GError **error)
{
	return ics_session_delete_user(store, user_id, 0, error) &&
	       ics_apikey_delete_user(store, user_id, error);
}

/* Apply @g to domain @cfg's users, removing the ones it lacks when @full;
 * in the caller's write transaction. */
static gboolean apply(IcsStore *store, const IcsDirectoryConfig *cfg, Gathered *g, gboolean full,
		      GError **error)
{
	GHashTableIter it;
	gpointer k, v;
	gint64 admins;

	if (full) {
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store, "SELECT id, name FROM users WHERE directory_id = ?", error);
		g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(gint64));
		int rc;

		if (st == NULL)
			return FALSE;
		ics_stmt_bind_int(st, 1, cfg->id);
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			gint64 id = sqlite3_column_int64(st, 0);

			if (!g_hash_table_contains(g->users, ics_stmt_text(st, 1)))
				g_array_append_val(gone, id);
		}
		if (rc < 0)
			return FALSE;
		ics_stmt_release(g_steal_pointer(&st));
		for (guint i = 0; i < gone->len; i++)
			if (!ics_user_delete(store, g_array_index(gone, gint64, i), error))
				return FALSE;
		g->removed = gone->len;
	}
	g_hash_table_iter_init(&it, g->users);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		DirUser *u = v;
		g_autoptr(IcsUser) user = NULL;
		g_autoptr(GError) err = NULL;
		gboolean roles_changed, changed = FALSE;
		gint64 id;

		user = ics_user_get(store, u->name, &err);
		if (user == NULL && !g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&err));
			return FALSE;
		}
		if (user && user->directory_id != cfg->id) {
			warn(g,
			     "user \"%s\" exists already (%s): the directory's entry %s is "
			     "skipped",
			     u->name,
			     user->directory_id ? "from another directory" : "a local user", u->dn);
			continue;
		}
		if (user == NULL) {
			id = ics_user_insert(store, u->name, NO_PASSWORD, !u->disabled, error);
			if (id < 0 || !ics_user_set_directory(store, id, cfg->id, u->dn, error))
				return FALSE;
			g->created++;
		} else {
			id = user->id;
			if (g_strcmp0(user->directory_dn, u->dn) != 0) {
				if (!ics_user_set_directory(store, id, cfg->id, u->dn, error))
					return FALSE;
				changed = TRUE;
			}
			if (user->enabled == u->disabled) {
				if (!ics_user_set_enabled(store, id, !u->disabled, error) ||
				    (u->disabled && !revoke_credentials(store, id, error)))
					return FALSE;
				changed = TRUE;
			}
		}
		if (!set_roles(store, g, u, id, &roles_changed, error))
			return FALSE;
		if (user && (changed || roles_changed))
			g->updated++;
	}
	admins = ics_user_admin_count(store, error);
	if (admins < 0)
		return FALSE;
	if (admins == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "directory \"%s\": this sync would leave no enabled administrator; "
			    "nothing was changed (grant administrator to a group, or keep a local "
			    "administrator)",
			    cfg->name);
		return FALSE;
	}
	return TRUE;
}

static IcsDirectoryConfig *load(IcsManager *m, const char *name, gint64 id, GError **error)
{
	IcsDirectoryConfig *cfg;

	ics_store_read_begin(m->store);
	cfg = ics_directory_load(m->sealer, m->store, name, id, error);
	ics_store_read_end(m->store);
	return cfg;
}

static void record_failure(IcsManager *m, gint64 id, const GError *failure)
{
	g_autoptr(GError) err = NULL;

	if (!ics_store_begin(m->store, &err) ||
	    !ics_directory_record_sync(m->store, id, 0, failure->message, &err) ||
	    !ics_store_commit(m->store, &err)) {
		if (ics_store_locked(m->store))
			ics_store_rollback(m->store);
		ics_error("directory sync: cannot record the failure: %s", err->message);
	}
}

json_t *ics_directory_sync_run(IcsManager *m, const char *name, GError **error)
{
	g_autoptr(IcsDirectoryConfig) cfg = load(m, name, 0, error);
	g_autoptr(IcsLdap) l = NULL;
	g_auto(Gathered) g = { 0 };
	g_autoptr(GError) err = NULL;
	json_t *warnings;

	if (cfg == NULL)
		return NULL;
	l = ics_ldap_connect(cfg, &err);
	if (l == NULL || !gather(l, cfg, NULL, &g, &err))
		goto fail;
	g_clear_pointer(&l, ics_ldap_close);
	if (!ics_store_begin(m->store, &err))
		goto fail;
	if (!apply(m->store, cfg, &g, TRUE, &err) ||
	    !ics_directory_record_sync(m->store, cfg->id, g_hash_table_size(g.users), NULL, &err)) {
		ics_store_rollback(m->store);
		goto fail;
	}
	if (!ics_store_commit(m->store, &err))
		goto fail;
	ics_manager_credentials_revoked(m);
	warnings = json_array();
	for (guint i = 0; i < g.warnings->len; i++) {
		ics_warning("directory \"%s\": %s", name, (char *)g_ptr_array_index(g.warnings, i));
		json_array_append_new(warnings, json_string(g_ptr_array_index(g.warnings, i)));
	}
	ics_info("directory \"%s\": synced %u users (%" G_GINT64_FORMAT
		 " created, %" G_GINT64_FORMAT " updated, %" G_GINT64_FORMAT " removed)",
		 name, g_hash_table_size(g.users), g.created, g.updated, g.removed);
	return json_pack("{s:i, s:I, s:I, s:I, s:o}", "users", g_hash_table_size(g.users),
			 "created", (json_int_t)g.created, "updated", (json_int_t)g.updated,
			 "removed", (json_int_t)g.removed, "warnings", warnings);
fail:
	record_failure(m, cfg->id, err);
	g_propagate_error(error, g_steal_pointer(&err));
	return NULL;
}

json_t *ics_directory_test(IcsManager *m, const char *name, GError **error)
{
	g_autoptr(IcsDirectoryConfig) cfg = load(m, name, 0, error);
	g_autoptr(IcsLdap) l = NULL;
	g_autoptr(GPtrArray) users = NULL, groups = NULL;
	g_autoptr(GError) err = NULL;

	if (cfg == NULL)
		return NULL;
	l = ics_ldap_connect(cfg, &err);
	if (l)
		users = ics_ldap_search(l, cfg->user_base, cfg->user_filter, NULL, MAX_USERS, &err);
	if (users && cfg->group_base)
		groups = ics_ldap_search(l, cfg->group_base, cfg->group_filter, NULL,
					 MAX_GROUP_ENTRIES, &err);
	if (err)
		return json_pack("{s:b, s:s}", "ok", 0, "error", err->message);
	return json_pack("{s:b, s:i, s:i}", "ok", 1, "users", users->len, "groups",
			 groups ? groups->len : 0);
}

/* Read login @name from @cfg and apply it (created, updated, disabled);
 * @check_password: then bind as it with @password. */
static gboolean sync_one(IcsManager *m, const IcsDirectoryConfig *cfg, const char *name,
			 const char *password, gboolean *found, gboolean *ok, GError **error)
{
	g_autoptr(IcsLdap) l = ics_ldap_connect(cfg, error);
	g_auto(Gathered) g = { 0 };
	DirUser *u;

	*found = *ok = FALSE;
	if (l == NULL || !gather(l, cfg, name, &g, error))
		return FALSE;
	u = g_hash_table_lookup(g.users, name);
	if (u == NULL)
		return TRUE;
	*found = TRUE;
	if (password && !u->disabled && !ics_ldap_check_password(l, u->dn, password, ok, error))
		return FALSE;
	/* Applied when the password was right (fresh roles for the new
	 * session), or when the directory disabled the user (its sessions
	 * end now, not at the next sync).  A wrong password changes
	 * nothing. */
	if (password && !*ok && !u->disabled)
		return TRUE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!apply(m->store, cfg, &g, FALSE, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	for (guint i = 0; i < g.warnings->len; i++)
		ics_warning("directory \"%s\": %s", cfg->name,
			    (char *)g_ptr_array_index(g.warnings, i));
	return TRUE;
}

gboolean ics_directory_authenticate(IcsManager *m, const IcsUser *user, const char *password,
				    gboolean *ok, GError **error)
{
	g_autoptr(IcsDirectoryConfig) cfg = load(m, NULL, user->directory_id, error);
	gboolean found;

	*ok = FALSE;
	if (cfg == NULL)
		return FALSE;
	return sync_one(m, cfg, user->name, password, &found, ok, error);
}

gboolean ics_directory_provision(IcsManager *m, const char *name, gboolean *created, GError **error)
{
	g_auto(GStrv) names = NULL;

	*created = FALSE;
	ics_store_read_begin(m->store);
	names = ics_directory_names(m->store, error);
	ics_store_read_end(m->store);
	if (names == NULL)
		return FALSE;
	for (guint i = 0; names[i]; i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsDirectoryConfig) cfg = load(m, names[i], 0, &err);
		gboolean found, ok;

		if (cfg == NULL || !sync_one(m, cfg, name, NULL, &found, &ok, &err)) {
			ics_warning("login of \"%s\": directory \"%s\" not searched: %s", name,
				    names[i], err->message);
			continue;
		}
		if (found) {
			*created = TRUE;
			return TRUE;
		}
	}
	return TRUE;
}

/* ---- the task and the period ------------------------------------------ */

static json_t *run_task(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsManager *m = ics_task_data(ctx);
	const char *name = json_string_value(json_object_get(params, "directory"));

	ics_task_progress(ctx, 10, "reading the directory");
	return ics_directory_sync_run(m, name, error);
}

/* Queue a sync of every domain whose period has passed and that has none
 * queued or running. */
static void tick(gpointer data)
{
	IcsManager *m = data;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func(g_free);
	gint64 now = ics_now_us();

	ics_store_read_begin(m->store);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			m->store,
			"SELECT d.name FROM directories d WHERE d.sync_period_s > 0"
			" AND coalesce(d.last_sync_us, 0) + d.sync_period_s * 1000000 <= ?"
			" AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.kind = 'directory.sync'"
			" AND t.object_id = d.name AND t.state IN ('queued', 'running'))",
			&err);
		int rc = -1;

		if (st) {
			ics_stmt_bind_int(st, 1, now);
			while ((rc = ics_stmt_step(st, &err)) == SQLITE_ROW)
				g_ptr_array_add(due, g_strdup(ics_stmt_text(st, 0)));
		}
		if (rc < 0 && err)
			ics_error("directory sync: cannot list the domains due: %s", err->message);
	}
	ics_store_read_end(m->store);
	for (guint i = 0; i < due->len; i++) {
		const char *name = g_ptr_array_index(due, i);
		g_autoptr(json_t) params = json_pack("{s:s}", "directory", name);

		if (!ics_store_begin(m->store, &err))
			break;
		if (ics_task_create(m->tasks, "directory.sync", "directory", name, 0, params,
				    &err) < 0) {
			ics_store_rollback(m->store);
			break;
		}
		if (!ics_store_commit(m->store, &err))
			break;
		ics_debug("directory \"%s\": periodic sync queued", name);
	}
	if (err)
		ics_error("directory sync: cannot queue a periodic sync: %s", err->message);
}

void ics_directory_sync_register(IcsManager *m)
{
	m->directory_sync_kind = (IcsTaskKind){
		.name = "directory.sync",
		.run = run_task,
		.idempotent = TRUE,
		.data = m,
	};
	ics_task_runner_register(m->tasks, &m->directory_sync_kind);
}

IcsPeriodic *ics_directory_sync_start(IcsManager *m, guint check_ms)
{
	return ics_periodic_start("ics-dir-sync", check_ms, tick, m);
}
