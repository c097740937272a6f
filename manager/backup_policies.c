/*
 * backup_policies.c: backup policies -- their rows, and the scheduler that
 * turns their cron schedules into vm.backup tasks.
 *
 * The scheduler works in two steps, both in the database.  When a
 * policy's next schedule time (after last_fired_us) has come, its VMs are
 * marked due (backup_policy_due) -- every VM, or those it lists, those
 * whose definition has one of its tags, those on its pools and those
 * running on its hosts at that moment (the cluster adapter's snapshot: no
 * I/O) -- and last_fired_us moves to the newest
 * time that has come: a manager down for three days runs a daily policy
 * once when it is back, not three times.  Then each due VM gets a backup
 * task when it has none queued or running and fewer than max_concurrent
 * of the policy's backups are queued or running; the others stay due for
 * the next pass -- as they do while [backup] max_per_repository backups
 * go into the policy's repository or max_per_host are of VMs on the VM's
 * host (any backup counts, a policy's or not, and a restore from the
 * repository; a stopped VM's disks are copied, and restores written, on
 * the manager's node) --, and so do those of a policy whose window ("HH:MM-HH:MM"
 * UTC, across midnight when the end comes first) is closed: the window
 * bounds when backups start, not when they end.  A due row keeps its task's id until the task ends: a
 * task that ended because the manager restarted (vm.backup is not run
 * again by the task runner) makes the VM due again, any other end
 * finishes the row (a failure is in the task).  A manager that fails over
 * reads the same rows: a fired time is neither lost nor fired twice, and
 * a VM due is backed up once.  Enabling a policy or changing its schedule
 * starts it afresh from now: times that passed while it was off are not
 * run.
 *
 * The task carries the policy's name and retention; backup_service.c
 * prunes the VM's backups in the repository after a backup succeeds.
 * Times are UTC.  Every pass runs in one write transaction, short: no I/O
 * but the database.
 */
#include "config.h"

#include <string.h>

#include "ics/backup.h"
#include "ics/cron.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/backup_policies.h"
#include "ics/manager/backup_repos.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/vm_inventory.h"

#define MAX_CONCURRENT 64

static const IcsField create_fields[] = {
	{ "name", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "schedule", ICS_FIELD_STRING, TRUE, 1, 256 },
	{ "repository", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "vms", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "all_vms", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ "pools", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "hosts", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "tags", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "retention", ICS_FIELD_STRING, FALSE, 0, 256 },
	{ "max_concurrent", ICS_FIELD_INT, FALSE, 1, MAX_CONCURRENT },
	{ "window", ICS_FIELD_STRING, FALSE, 0, 11 },
	{ "enabled", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_backup_policy_create = { "backup policy", create_fields };

static const IcsField update_fields[] = {
	{ "schedule", ICS_FIELD_STRING, FALSE, 1, 256 },
	{ "vms", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "all_vms", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ "pools", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "hosts", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "tags", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "retention", ICS_FIELD_STRING, FALSE, 0, 256 },
	{ "max_concurrent", ICS_FIELD_INT, FALSE, 1, MAX_CONCURRENT },
	{ "window", ICS_FIELD_STRING, FALSE, 0, 11 },
	{ "enabled", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_backup_policy_update = { "backup policy update", update_fields };

#define COLUMNS                                                                              \
	"name, schedule, repository, vms, all_vms, retention, max_concurrent, enabled,"      \
	" last_fired_us, created_by, created_us,"                                            \
	" (SELECT count(*) FROM backup_policy_due d WHERE d.policy = p.name), backup_window,"   \
	" pools, hosts, tags"

/* "HH:MM-HH:MM" (UTC; the end may be before the start: across midnight)
 * into minutes of the day. */
static gboolean window_parse(const char *text, guint *start, guint *end, GError **error)
{
	guint h1, m1, h2, m2;
	char tail;

	if (text == NULL || sscanf(text, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
	    h1 > 23 || m1 > 59 || h2 > 23 || m2 > 59 || (h1 == h2 && m1 == m2))
		return ics_error_invalid(error,
					 "window \"%s\": expected HH:MM-HH:MM (UTC), start and "
					 "end different",
					 text ? text : "");
	*start = h1 * 60 + m1;
	*end = h2 * 60 + m2;
	return TRUE;
}

/* Whether @now_us falls in @window (NULL: always). */
static gboolean window_open(const char *window, gint64 now_us)
{
	guint start, end, minute;

	if (window == NULL || !window_parse(window, &start, &end, NULL))
		return TRUE;
	minute = (guint)((now_us / G_USEC_PER_SEC / 60) % (24 * 60));
	return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/* The next time (us) of @schedule after @after_us; -1 when none. */
static gint64 next_us(const char *schedule, gint64 after_us)
{
	g_autoptr(IcsCron) c = ics_cron_parse(schedule, NULL);
	gint64 t = c ? ics_cron_next(c, after_us / G_USEC_PER_SEC) : -1;

	return t < 0 ? -1 : t * G_USEC_PER_SEC;
}

static json_t *row_json(IcsStmt *st)
{
	const char *schedule = ics_stmt_text(st, 1);
	gint64 fired = sqlite3_column_type(st, 8) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 8);
	gint64 created_us = sqlite3_column_int64(st, 10);
	gint64 next = next_us(schedule, MAX(fired, created_us));
	g_autofree char *created = ics_timestamp_format(created_us);
	g_autofree char *last = fired ? ics_timestamp_format(fired) : NULL;
	g_autofree char *nxt = next > 0 ? ics_timestamp_format(next) : NULL;
	json_t *vms = json_loads(ics_stmt_text(st, 3), 0, NULL);
	json_t *pools = json_loads(ics_stmt_text(st, 13), 0, NULL);
	json_t *hosts = json_loads(ics_stmt_text(st, 14), 0, NULL);
	json_t *tags = json_loads(ics_stmt_text(st, 15), 0, NULL);

	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:s?, s:i, s:s?, s:b, s:s?, s:s?,"
			 " s:I, s:s, s:s}",
			 "name", ics_stmt_text(st, 0), "schedule", schedule, "repository",
			 ics_stmt_text(st, 2), "vms", vms ? vms : json_array(), "all_vms",
			 sqlite3_column_int(st, 4), "pools", pools ? pools : json_array(), "hosts",
			 hosts ? hosts : json_array(), "tags", tags ? tags : json_array(),
			 "retention", ics_stmt_text(st, 5),
			 "max_concurrent", sqlite3_column_int(st, 6), "window", ics_stmt_text(st, 12),
			 "enabled",
			 sqlite3_column_int(st, 7), "last_run", last, "next_run", nxt, "due",
			 (json_int_t)sqlite3_column_int64(st, 11), "created", created, "created_by",
			 ics_stmt_text(st, 9));
}

json_t *ics_backup_policy_get(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT " COLUMNS " FROM backup_policies p WHERE name = ?", error);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc != SQLITE_ROW) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "backup policy %s does not exist",
			    name);
		return NULL;
	}
	return row_json(st);
}

json_t *ics_backup_policy_list(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT " COLUMNS " FROM backup_policies p ORDER BY name", error);
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

gboolean ics_backup_policy_repo_unused(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT name FROM backup_policies WHERE repository = ? LIMIT 1", error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_ROW) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "backup repository %s is used by backup policy %s: change or delete "
			    "the policy first",
			    name, ics_stmt_text(st, 0));
		return FALSE;
	}
	return TRUE;
}

/* The checks a body's fields need beyond the schema; @vms_out gets the
 * VMs as a JSON array text of uuids when "vms" is given. */
static gboolean check_fields(IcsStore *store, const json_t *body, char **vms_out, GError **error)
{
	const char *schedule = json_string_value(json_object_get(body, "schedule"));
	const char *retention = json_string_value(json_object_get(body, "retention"));
	json_t *vms = json_object_get(body, "vms"), *v;
	size_t i;

	if (schedule) {
		g_autoptr(IcsCron) c = ics_cron_parse(schedule, error);

		if (c == NULL)
			return FALSE;
		if (ics_cron_next(c, ics_now_us() / G_USEC_PER_SEC) < 0)
			return ics_error_invalid(error, "schedule \"%s\" never comes", schedule);
	}
	if (retention && *retention) {
		IcsBackupRetention r;

		if (!ics_backup_retention_parse(retention, &r, error))
			return FALSE;
	}
	{
		const char *window = json_string_value(json_object_get(body, "window"));
		guint a, b;

		if (window && *window && !window_parse(window, &a, &b, error))
			return FALSE;
	}
	if (vms) {
		g_autoptr(json_t) uuids = json_array();

		json_array_foreach(vms, i, v)
		{
			const char *ref = json_string_value(v);
			g_autofree char *uuid = NULL;
			gint64 owner;

			if (g_uuid_string_is_valid(ref) &&
			    ics_vm_inventory_owner(store, ref, &owner, NULL))
				uuid = g_ascii_strdown(ref, -1);
			else
				uuid = ics_vm_inventory_uuid_of(store, ref, NULL);
			if (uuid == NULL)
				return ics_error_invalid(error, "vms: VM %s does not exist", ref);
			json_array_append_new(uuids, json_string(uuid));
		}
		*vms_out = json_dumps(uuids, JSON_COMPACT);
	}
	return TRUE;
}

/* A JSON array's text, "[]" when absent. */
static char *array_text(const json_t *a)
{
	return a ? json_dumps(a, JSON_COMPACT) : g_strdup("[]");
}

/* all_vms, or at least one of the lists -- not both. */
static gboolean selection_check(gboolean all, const char *vms, const char *pools,
				const char *hosts, const char *tags, GError **error)
{
	gboolean some = strcmp(vms, "[]") != 0 || strcmp(pools, "[]") != 0 ||
			strcmp(hosts, "[]") != 0 || strcmp(tags, "[]") != 0;

	if (all != some)
		return TRUE;
	return ics_error_invalid(error, "give either \"all_vms\": true or what to back up: "
					"\"vms\", \"pools\", \"hosts\", \"tags\" (lists)");
}

json_t *ics_backup_policy_create(IcsStore *store, const json_t *body, const char *by,
				 GError **error)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *repo = json_string_value(json_object_get(body, "repository"));
	const char *retention = json_string_value(json_object_get(body, "retention"));
	gboolean all = json_is_true(json_object_get(body, "all_vms"));
	g_autofree char *vms = NULL;
	g_autofree char *pools = array_text(json_object_get(body, "pools"));
	g_autofree char *hosts = array_text(json_object_get(body, "hosts"));
	g_autofree char *tags = array_text(json_object_get(body, "tags"));
	g_autoptr(json_t) r = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsStmt) st = NULL;
	gint64 max = 2;

	g_assert(ics_store_locked(store));
	if (!check_fields(store, body, &vms, error) ||
	    !selection_check(all, vms ? vms : "[]", pools, hosts, tags, error))
		return NULL;
	r = ics_backup_repos_get(store, repo, &err);
	if (r == NULL) {
		ics_error_invalid(error, "repository: %s", err->message);
		return NULL;
	}
	ics_json_get_int_or(body, "max_concurrent", 2, &max, NULL);
	st = ics_store_stmt(store,
			    "INSERT INTO backup_policies (name, schedule, repository, vms, all_vms,"
			    " retention, max_concurrent, enabled, created_by, created_us, backup_window,"
			    " pools, hosts, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    error);
	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	ics_stmt_bind_text(st, 2, json_string_value(json_object_get(body, "schedule")));
	ics_stmt_bind_text(st, 3, repo);
	ics_stmt_bind_text(st, 4, vms ? vms : "[]");
	ics_stmt_bind_int(st, 5, all);
	ics_stmt_bind_text(st, 6, retention && *retention ? retention : NULL);
	ics_stmt_bind_int(st, 7, max);
	ics_stmt_bind_int(st, 8, !json_is_false(json_object_get(body, "enabled")));
	ics_stmt_bind_text(st, 9, by);
	ics_stmt_bind_int(st, 10, ics_now_us());
	{
		const char *window = json_string_value(json_object_get(body, "window"));

		ics_stmt_bind_text(st, 11, window && *window ? window : NULL);
	}
	ics_stmt_bind_text(st, 12, pools);
	ics_stmt_bind_text(st, 13, hosts);
	ics_stmt_bind_text(st, 14, tags);
	if (!ics_stmt_run(st, &err)) {
		if (g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT))
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "a backup policy named %s exists already", name);
		else
			g_propagate_error(error, g_steal_pointer(&err));
		return NULL;
	}
	return ics_backup_policy_get(store, name, error);
}

json_t *ics_backup_policy_update(IcsStore *store, const char *name, const json_t *body,
				 GError **error)
{
	g_autoptr(json_t) cur = ics_backup_policy_get(store, name, error);
	g_autofree char *vms = NULL, *pools = NULL, *hosts = NULL, *tags = NULL;
	g_autoptr(IcsStmt) st = NULL;
	json_t *v;
	const char *retention;
	gboolean all;
	gint64 max;

	g_assert(ics_store_locked(store));
	if (cur == NULL || !check_fields(store, body, &vms, error))
		return NULL;
	all = json_object_get(body, "all_vms") ? json_is_true(json_object_get(body, "all_vms"))
					       : json_is_true(json_object_get(cur, "all_vms"));
	if (vms == NULL)
		vms = json_dumps(json_object_get(cur, "vms"), JSON_COMPACT);
	pools = array_text(json_object_get(body, "pools") ?: json_object_get(cur, "pools"));
	hosts = array_text(json_object_get(body, "hosts") ?: json_object_get(cur, "hosts"));
	tags = array_text(json_object_get(body, "tags") ?: json_object_get(cur, "tags"));
	/* "all_vms": true alone replaces the lists */
	if (all && json_object_get(body, "all_vms") && !json_object_get(body, "vms") &&
	    !json_object_get(body, "pools") && !json_object_get(body, "hosts") &&
	    !json_object_get(body, "tags")) {
		g_free(vms), vms = g_strdup("[]");
		g_free(pools), pools = g_strdup("[]");
		g_free(hosts), hosts = g_strdup("[]");
		g_free(tags), tags = g_strdup("[]");
	}
	if (!selection_check(all, vms, pools, hosts, tags, error))
		return NULL;
	v = json_object_get(body, "retention");
	retention = v ? json_string_value(v) : json_string_value(json_object_get(cur, "retention"));
	ics_json_get_int_or(body, "max_concurrent",
			    json_integer_value(json_object_get(cur, "max_concurrent")), &max, NULL);
	st = ics_store_stmt(store,
			    "UPDATE backup_policies SET schedule = ?1, vms = ?2, all_vms = ?3,"
			    " retention = ?4, max_concurrent = ?5, enabled = ?6, backup_window = ?9,"
			    " pools = ?10, hosts = ?11, tags = ?12,"
			    " last_fired_us = CASE WHEN (?6 AND NOT enabled) OR schedule <> ?1"
			    "   THEN ?8 ELSE last_fired_us END WHERE name = ?7",
			    error);
	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 8, ics_now_us());
	{
		json_t *w = json_object_get(body, "window");
		const char *window = w ? json_string_value(w)
				       : json_string_value(json_object_get(cur, "window"));

		ics_stmt_bind_text(st, 9, window && *window ? window : NULL);
	}
	ics_stmt_bind_text(st, 1,
			   json_string_value(json_object_get(body, "schedule"))
				   ?: json_string_value(json_object_get(cur, "schedule")));
	ics_stmt_bind_text(st, 2, vms);
	ics_stmt_bind_int(st, 3, all);
	ics_stmt_bind_text(st, 4, retention && *retention ? retention : NULL);
	ics_stmt_bind_int(st, 5, max);
	ics_stmt_bind_int(st, 6,
			  json_object_get(body, "enabled")
				  ? json_is_true(json_object_get(body, "enabled"))
				  : json_is_true(json_object_get(cur, "enabled")));
	ics_stmt_bind_text(st, 7, name);
	ics_stmt_bind_text(st, 10, pools);
	ics_stmt_bind_text(st, 11, hosts);
	ics_stmt_bind_text(st, 12, tags);
	if (!ics_stmt_run(st, error))
		return NULL;
	/* VMs no longer in the policy are no longer due (a backup already
	 * queued for one runs); those a pool, a host or a tag selected stay due
	 * while the policy selects by either */
	{
		g_autoptr(IcsStmt) drop = ics_store_stmt(
			store,
			"DELETE FROM backup_policy_due WHERE policy = ?1 AND task_id IS NULL"
			" AND NOT EXISTS (SELECT 1 FROM backup_policies p WHERE p.name = ?1"
			"   AND (p.all_vms OR p.pools <> '[]' OR p.hosts <> '[]' OR p.tags <> '[]'"
			"     OR vm_uuid IN (SELECT value FROM json_each(p.vms))))",
			error);

		if (drop == NULL)
			return NULL;
		ics_stmt_bind_text(drop, 1, name);
		if (!ics_stmt_run(drop, error))
			return NULL;
	}
	return ics_backup_policy_get(store, name, error);
}

gboolean ics_backup_policy_delete(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "DELETE FROM backup_policies WHERE name = ?", error);

	g_assert(ics_store_locked(store));
	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	if (!ics_stmt_run(st, error))
		return FALSE;
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "backup policy %s does not exist",
			    name);
		return FALSE;
	}
	return TRUE;
}

/* Is @name in @list (a JSON array of strings)? */
static gboolean listed(const json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (g_strcmp0(json_string_value(v), name) == 0)
			return TRUE;
	return FALSE;
}

/* Mark due at @when the VMs policy @name selects by pool (@pools, names)
 * or host (@hosts): where the cluster has them now.  Without a cluster
 * adapter none is. */
static gboolean due_by_placement(IcsManager *m, const char *name, const json_t *pools,
				 const json_t *hosts, gint64 when, GError **error)
{
	const IcsClusterOps *c = m->cluster;
	g_autoptr(json_t) known = NULL;
	g_autoptr(json_t) paths = json_array();
	g_autoptr(IcsStmt) vms = NULL;
	g_autoptr(IcsStmt) ins = NULL;
	gpointer view;
	gboolean ok = TRUE;
	size_t i;
	json_t *p;
	int rc = SQLITE_DONE;

	if (json_array_size(pools) + json_array_size(hosts) == 0 || c == NULL ||
	    c->vm_view == NULL || c->pools == NULL)
		return TRUE;
	known = c->pools(c->self, error);
	view = c->vm_view(c->self);
	if (known == NULL || view == NULL) {
		/* not known yet (a manager just started): the pass is tried
		 * again, not the run skipped */
		if (view)
			c->vm_view_release(view);
		if (error && *error == NULL)
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "backup policy %s selects by pool or host and the cluster's "
				    "state is not known yet",
				    name);
		return FALSE;
	}
	json_array_foreach(known, i, p)
		if (listed(pools, json_string_value(json_object_get(p, "name"))))
			json_array_append(paths, json_object_get(p, "path"));
	vms = ics_store_stmt(m->store, "SELECT uuid FROM vms", error);
	ins = ics_store_stmt(m->store,
			     "INSERT OR IGNORE INTO backup_policy_due (policy, vm_uuid, due_us)"
			     " VALUES (?1, ?2, ?3)",
			     error);
	if (vms == NULL || ins == NULL) {
		c->vm_view_release(view);
		return FALSE;
	}
	while (ok && (rc = ics_stmt_step(vms, error)) == SQLITE_ROW) {
		const char *uuid = ics_stmt_text(vms, 0);
		IcsVmRuntime rt = { 0 };

		if (!c->vm_view_get(view, uuid, &rt))
			continue;
		if (!listed(paths, rt.pool) &&
		    !(rt.host && g_strcmp0(rt.state, "stopped") != 0 && listed(hosts, rt.host)))
			continue;
		sqlite3_reset(ins);
		ics_stmt_bind_text(ins, 1, name);
		ics_stmt_bind_text(ins, 2, uuid);
		ics_stmt_bind_int(ins, 3, when);
		ok = ics_stmt_run(ins, error);
	}
	c->vm_view_release(view);
	return ok && rc >= 0;
}

/* Mark the VMs of policy @name due at @when: every VM, or its list, those
 * with one of its tags and those on its pools and hosts now. */
static gboolean make_due(IcsManager *m, const char *name, gint64 when, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		m->store,
		"INSERT OR IGNORE INTO backup_policy_due (policy, vm_uuid, due_us)"
		" SELECT p.name, v.uuid, ?2 FROM backup_policies p, vms v WHERE p.name = ?1"
		" AND (p.all_vms OR v.uuid IN (SELECT value FROM json_each(p.vms))"
		"   OR EXISTS (SELECT 1 FROM json_each(v.definition, '$.tags') t"
		"     WHERE t.value IN (SELECT value FROM json_each(p.tags))))",
		error);
	g_autoptr(IcsStmt) sel = ics_store_stmt(
		m->store, "SELECT pools, hosts FROM backup_policies WHERE name = ?1", error);
	g_autoptr(json_t) pools = NULL, hosts = NULL;

	if (st == NULL || sel == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, name);
	ics_stmt_bind_int(st, 2, when);
	ics_stmt_bind_text(sel, 1, name);
	if (!ics_stmt_run(st, error) || ics_stmt_step(sel, error) != SQLITE_ROW)
		return FALSE;
	pools = json_loads(ics_stmt_text(sel, 0), 0, NULL);
	hosts = json_loads(ics_stmt_text(sel, 1), 0, NULL);
	return due_by_placement(m, name, pools, hosts, when, error);
}

json_t *ics_backup_policy_run_now(IcsManager *m, const char *name, GError **error)
{
	IcsStore *store = m->store;
	g_autoptr(json_t) p = ics_backup_policy_get(store, name, error);

	g_assert(ics_store_locked(store));
	if (p == NULL)
		return NULL;
	if (!json_is_true(json_object_get(p, "enabled"))) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "backup policy %s is disabled: enable it to run it", name);
		return NULL;
	}
	if (!make_due(m, name, ics_now_us(), error))
		return NULL;
	return ics_backup_policy_get(store, name, error);
}

/* Step 1: policies whose time has come make their VMs due. */
static gboolean fire(IcsManager *m, gint64 now, GError **error)
{
	IcsStore *store = m->store;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(gint64));

	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"SELECT name, schedule, coalesce(last_fired_us, created_us)"
			" FROM backup_policies WHERE enabled",
			error);
		int rc;

		if (st == NULL)
			return FALSE;
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			g_autoptr(IcsCron) c = ics_cron_parse(ics_stmt_text(st, 1), NULL);
			gint64 t = c ? ics_cron_next(c, sqlite3_column_int64(st, 2) / G_USEC_PER_SEC)
				     : -1;
			gint64 latest = -1;

			/* the newest time that has come: missed ones run once (past
			 * the bound -- more than a year of minutes -- now stands for
			 * it) */
			for (guint n = 0; t > 0 && t * G_USEC_PER_SEC <= now; n++) {
				if (n == 600000) {
					latest = now / G_USEC_PER_SEC;
					break;
				}
				latest = t;
				t = ics_cron_next(c, t);
			}
			if (latest > 0) {
				gint64 us = latest * G_USEC_PER_SEC;

				g_ptr_array_add(names, g_strdup(ics_stmt_text(st, 0)));
				g_array_append_val(times, us);
			}
		}
		if (rc < 0)
			return FALSE;
	}
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		gint64 when = g_array_index(times, gint64, i);
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store, "UPDATE backup_policies SET last_fired_us = ? WHERE name = ?", error);

		if (st == NULL || !make_due(m, name, when, error))
			return FALSE;
		ics_stmt_bind_int(st, 1, when);
		ics_stmt_bind_text(st, 2, name);
		if (!ics_stmt_run(st, error))
			return FALSE;
		{
			char at[ICS_TIMESTAMP_LEN];

			ics_timestamp_format_into(when, at);
			ics_info("backup policy %s: its time %s has come", name, at);
		}
	}
	return TRUE;
}

typedef struct {
	char *policy, *vm, *repository, *retention;
	gint64 owner;
} Due;

static void due_free(gpointer p)
{
	Due *d = p;

	g_free(d->policy);
	g_free(d->vm);
	g_free(d->repository);
	g_free(d->retention);
	g_free(d);
}

/* Step 2a: rows whose task ended.  A restart ended it: due again;
 * anything else: done (the outcome is the task's). */
static gboolean settle(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) again = ics_store_stmt(
		store,
		"UPDATE backup_policy_due SET task_id = NULL WHERE task_id IN (SELECT id FROM tasks"
		" WHERE state = 'failed' AND error LIKE 'manager restarted%')",
		error);
	g_autoptr(IcsStmt) done = ics_store_stmt(
		store,
		"DELETE FROM backup_policy_due WHERE task_id IS NOT NULL AND NOT EXISTS"
		" (SELECT 1 FROM tasks t WHERE t.id = task_id AND t.state IN ('queued', 'running'))",
		error);

	return again && done && ics_stmt_run(again, error) && ics_stmt_run(done, error);
}

/* Where a VM's backup runs: the host running it, "" (the manager's node)
 * for a stopped VM or without a cluster view. */
static char *backup_host(IcsManager *m, gpointer view, const char *uuid)
{
	IcsVmRuntime rt = { 0 };

	if (view && m->cluster->vm_view_get(view, uuid, &rt) && rt.host &&
	    g_strcmp0(rt.state, "stopped") != 0)
		return g_strdup(rt.host);
	return g_strdup("");
}

/* The backups queued or running now, per repository and per host (name
 * -> count). */
static gboolean count_load(IcsManager *m, gpointer view, GHashTable *per_repo,
			   GHashTable *per_host, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		m->store,
		"SELECT object_id, json_extract(params, '$.repository'), kind FROM tasks"
		" WHERE kind IN ('vm.backup', 'vm.restore') AND state IN ('queued', 'running')",
		error);
	int rc;

	if (st == NULL)
		return FALSE;
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		/* a restore writes on the manager's node */
		char *host = g_str_equal(ics_stmt_text(st, 2), "vm.restore")
				     ? g_strdup("")
				     : backup_host(m, view, ics_stmt_text(st, 0));
		const char *repo = ics_stmt_text(st, 1) ? ics_stmt_text(st, 1) : "";

		gint h = GPOINTER_TO_INT(g_hash_table_lookup(per_host, host));
		gint r = GPOINTER_TO_INT(g_hash_table_lookup(per_repo, repo));

		g_hash_table_replace(per_host, host, GINT_TO_POINTER(h + 1));
		g_hash_table_replace(per_repo, g_strdup(repo), GINT_TO_POINTER(r + 1));
	}
	return rc >= 0;
}

/* Room for a backup of @vm into @repo under [backup] max_per_repository
 * and max_per_host; taken in both counts when there is. */
static gboolean has_room(IcsManager *m, gpointer view, GHashTable *per_repo,
			 GHashTable *per_host, const char *vm, const char *repo)
{
	g_autofree char *host = backup_host(m, view, vm);
	gint r = GPOINTER_TO_INT(g_hash_table_lookup(per_repo, repo));
	gint h = GPOINTER_TO_INT(g_hash_table_lookup(per_host, host));
	guint max_r = m->cfg.backup_max_per_repository, max_h = m->cfg.backup_max_per_host;

	if ((max_r > 0 && r >= (gint)max_r) || (max_h > 0 && h >= (gint)max_h))
		return FALSE;
	g_hash_table_replace(per_repo, g_strdup(repo), GINT_TO_POINTER(r + 1));
	g_hash_table_replace(per_host, g_steal_pointer(&host), GINT_TO_POINTER(h + 1));
	return TRUE;
}

/* Step 2b's work: a task for each due VM that may start now; @per_repo
 * and @per_host count the backups queued or running. */
static gboolean queue_due(IcsManager *m, gint64 now, gpointer view, GHashTable *per_repo,
			  GHashTable *per_host, GError **error)
{
	g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func(due_free);
	g_autoptr(GHashTable) queued = g_hash_table_new(g_str_hash, g_str_equal);
	IcsStore *store = m->store;

	{
		/* oldest due first; the policy's backups queued or running,
		 * counted by the task's "policy" */
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"SELECT d.policy, d.vm_uuid, p.repository, p.retention, v.owner_id,"
			" p.max_concurrent - (SELECT count(*) FROM tasks t WHERE t.kind = 'vm.backup'"
			"   AND t.state IN ('queued', 'running')"
			"   AND json_extract(t.params, '$.policy') = p.name),"
			" EXISTS (SELECT 1 FROM tasks t WHERE t.kind IN ('vm.backup', 'vm.restore')"
			"   AND t.object_id = d.vm_uuid AND t.state IN ('queued', 'running')),"
			" v.uuid IS NULL, p.backup_window"
			" FROM backup_policy_due d JOIN backup_policies p ON p.name = d.policy"
			" LEFT JOIN vms v ON v.uuid = d.vm_uuid"
			" WHERE p.enabled AND d.task_id IS NULL ORDER BY d.due_us, d.policy, d.vm_uuid",
			error);
		g_autoptr(GHashTable) room = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
								   NULL);
		int rc;

		if (st == NULL)
			return FALSE;
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			const char *policy = ics_stmt_text(st, 0);
			/* a VM deleted since it became due is dropped below,
			 * whatever the window and the room */
			gboolean gone = sqlite3_column_int(st, 7);
			Due *d;

			if (!gone) {
				gpointer left;
				gint n;

				/* outside its window: stays due until it opens */
				if (!window_open(ics_stmt_text(st, 8), now))
					continue;
				if (!g_hash_table_lookup_extended(room, policy, NULL, &left))
					left = GINT_TO_POINTER((gint)sqlite3_column_int64(st, 5));
				n = GPOINTER_TO_INT(left);
				/* busy, or due under two policies: the second
				 * waits for the first */
				if (n <= 0 || sqlite3_column_int(st, 6) ||
				    g_hash_table_contains(queued, ics_stmt_text(st, 1)))
					continue; /* stays due */
				if (!has_room(m, view, per_repo, per_host, ics_stmt_text(st, 1),
					      ics_stmt_text(st, 2)))
					continue; /* stays due */
				g_hash_table_replace(room, g_strdup(policy), GINT_TO_POINTER(n - 1));
			}
			d = g_new0(Due, 1);
			d->policy = g_strdup(policy);
			d->vm = g_strdup(ics_stmt_text(st, 1));
			d->repository = g_strdup(ics_stmt_text(st, 2));
			d->retention = g_strdup(ics_stmt_text(st, 3));
			d->owner = gone ? -1 : sqlite3_column_int64(st, 4);
			g_ptr_array_add(due, d);
			if (!gone)
				g_hash_table_add(queued, d->vm);
		}
		if (rc < 0)
			return FALSE;
	}
	for (guint i = 0; i < due->len; i++) {
		Due *d = g_ptr_array_index(due, i);
		g_autoptr(json_t) params = json_pack("{s:s, s:b, s:s, s:s?}", "repository",
						     d->repository, "full", FALSE, "policy",
						     d->policy, "retention", d->retention);
		gint64 id = 0;

		/* a VM deleted since it became due: dropped, not backed up */
		if (d->owner >= 0) {
			id = ics_task_create(m->tasks, "vm.backup", "vm", d->vm, d->owner, params,
					     error);
			if (id < 0)
				return FALSE;
		}
		{
			/* the row waits for its task, or goes with its VM */
			g_autoptr(IcsStmt) st = ics_store_stmt(
				store,
				id ? "UPDATE backup_policy_due SET task_id = ?3 WHERE policy = ?1"
				     " AND vm_uuid = ?2"
				   : "DELETE FROM backup_policy_due WHERE policy = ?1 AND vm_uuid = ?2",
				error);

			if (st == NULL)
				return FALSE;
			ics_stmt_bind_text(st, 1, d->policy);
			ics_stmt_bind_text(st, 2, d->vm);
			if (id)
				ics_stmt_bind_int(st, 3, id);
			if (!ics_stmt_run(st, error))
				return FALSE;
		}
	}
	return TRUE;
}

/* Step 2b: a backup task for each due VM that may have one now. */
static gboolean queue(IcsManager *m, gint64 now, GError **error)
{
	g_autoptr(GHashTable) per_repo =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) per_host =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gpointer view = m->cluster && m->cluster->vm_view ? m->cluster->vm_view(m->cluster->self)
							  : NULL;
	gboolean ok;

	ok = settle(m->store, error) && count_load(m, view, per_repo, per_host, error) &&
	     queue_due(m, now, view, per_repo, per_host, error);
	if (view)
		m->cluster->vm_view_release(view);
	return ok;
}

void ics_backup_policies_tick(IcsManager *m)
{
	g_autoptr(GError) err = NULL;
	gint64 now = ics_now_us();

	if (!ics_store_begin(m->store, &err))
		goto out;
	if (!fire(m, now, &err) || !queue(m, now, &err)) {
		ics_store_rollback(m->store);
		goto out;
	}
	ics_store_commit(m->store, &err);
out:
	if (err)
		ics_error("backup policies: %s", err->message);
}

static void tick(gpointer data)
{
	ics_backup_policies_tick(data);
}

IcsPeriodic *ics_backup_policies_start(IcsManager *m, guint check_ms)
{
	return ics_periodic_start("ics-backup-policies", check_ms, tick, m);
}
