/*
 * audit.c: writing, searching and exporting the audit trail.
 *
 * The record is written in its own transaction after the call's own
 * transaction ended, so a failed call (rolled back) is audited too.  The
 * search is one prepared statement whose optional filters are written as
 * "(?n IS NULL OR column = ?n)": SQLite folds the unused ones away, and no
 * SQL text is ever built from input.  Exports quote every CSV field, and
 * fields that a spreadsheet would run as a formula ('=', '+', '-', '@')
 * get a leading apostrophe.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/audit.h"
#include "ics/manager/timestamp.h"

gboolean ics_audit_append(IcsStore *store, const IcsAuditRecord *rec, GError **error)
{
	gboolean ok;

	ics_store_lock(store);
	{
		g_autoptr(IcsStmt) st =
			ics_store_stmt(store,
				       "INSERT INTO audit (user, action, object_type, object_id, "
				       "result, http_status,"
				       " reason, client, started_us, ended_us) VALUES (?, ?, ?, ?, "
				       "?, ?, ?, ?, ?, ?)",
				       error);

		ok = st != NULL;
		if (ok) {
			ics_stmt_bind_text(st, 1, rec->user ? rec->user : "-");
			ics_stmt_bind_text(st, 2, rec->action);
			ics_stmt_bind_text(st, 3, rec->object_type);
			ics_stmt_bind_text(st, 4, rec->object_id);
			ics_stmt_bind_text(st, 5, rec->http_status < 400 ? "success" : "failure");
			ics_stmt_bind_int(st, 6, rec->http_status);
			ics_stmt_bind_text(st, 7, rec->reason);
			ics_stmt_bind_text(st, 8, rec->client);
			ics_stmt_bind_int(st, 9, rec->started_us);
			ics_stmt_bind_int(st, 10, rec->ended_us);
			ok = ics_stmt_run(st, error);
		}
	}
	ics_store_unlock(store);
	return ok;
}

#define SEARCH_SQL(order)                                                                          \
	"SELECT id, user, action, object_type, object_id, result, http_status, reason, client,"    \
	" started_us, ended_us FROM audit WHERE"                                                   \
	" (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR action = ?2)"                               \
	" AND (?3 IS NULL OR object_type = ?3) AND (?4 IS NULL OR object_id = ?4)"                 \
	" AND (?5 IS NULL OR result = ?5) AND (?6 = 0 OR started_us >= ?6)"                        \
	" AND (?7 = 0 OR started_us < ?7) AND (?8 = 0 OR id < ?8)"                                 \
	" ORDER BY id " order " LIMIT ?9"

static void bind_query(IcsStmt *st, const IcsAuditQuery *q, gint64 limit)
{
	ics_stmt_bind_text(st, 1, q->user);
	ics_stmt_bind_text(st, 2, q->action);
	ics_stmt_bind_text(st, 3, q->object_type);
	ics_stmt_bind_text(st, 4, q->object_id);
	ics_stmt_bind_text(st, 5, q->result);
	ics_stmt_bind_int(st, 6, q->since_us);
	ics_stmt_bind_int(st, 7, q->until_us);
	ics_stmt_bind_int(st, 8, q->before_id);
	ics_stmt_bind_int(st, 9, limit);
}

static json_t *row_json(IcsStmt *st)
{
	g_autofree char *started = ics_timestamp_format(sqlite3_column_int64(st, 9));
	g_autofree char *ended = ics_timestamp_format(sqlite3_column_int64(st, 10));
	json_t *o =
		json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s, s:i, s:s?, s:s?, s:s, s:s}", "id",
			  (json_int_t)sqlite3_column_int64(st, 0), "user", ics_stmt_text(st, 1),
			  "action", ics_stmt_text(st, 2), "object_type", ics_stmt_text(st, 3),
			  "object_id", ics_stmt_text(st, 4), "result", ics_stmt_text(st, 5),
			  "http_status", sqlite3_column_int(st, 6), "reason", ics_stmt_text(st, 7),
			  "client", ics_stmt_text(st, 8), "started_at", started, "ended_at", ended);
	return o;
}

json_t *ics_audit_search(IcsStore *store, const IcsAuditQuery *q, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, SEARCH_SQL("DESC"), error);
	g_autoptr(json_t) items = json_array();
	gint64 last_id = 0;
	int rc, n = 0;

	if (st == NULL)
		return NULL;
	bind_query(st, q, q->limit + 1);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		if (n++ == q->limit)
			break;
		last_id = sqlite3_column_int64(st, 0);
		json_array_append_new(items, row_json(st));
	}
	if (rc < 0)
		return NULL;
	return json_pack("{s:O, s:o}", "items", items, "next",
			 rc == SQLITE_ROW ? json_integer(last_id) : json_null());
}

static void csv_field(GString *out, const char *s, gboolean last)
{
	g_string_append_c(out, '"');
	if (s && strchr("=+-@", s[0]) && s[0])
		g_string_append_c(out, '\'');
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append(out, last ? "\"\r\n" : "\",");
}

GString *ics_audit_export(IcsStore *store, const IcsAuditQuery *q, IcsAuditFormat format,
			  GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, SEARCH_SQL("ASC"), error);
	g_autoptr(GString) out = g_string_new(NULL);
	static const char *const keys[] = { "id",	 "user",       "action",      "object_type",
					    "object_id", "result",     "http_status", "reason",
					    "client",	 "started_at", "ended_at" };
	int rc;

	if (st == NULL)
		return NULL;
	bind_query(st, q, G_MAXINT64);
	if (format == ICS_AUDIT_CSV)
		for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
			csv_field(out, keys[i], i + 1 == G_N_ELEMENTS(keys));
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		g_autoptr(json_t) o = row_json(st);

		if (format == ICS_AUDIT_JSONL) {
			g_autofree char *line = json_dumps(o, JSON_COMPACT);

			g_string_append(out, line);
			g_string_append_c(out, '\n');
			continue;
		}
		for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
			json_t *v = json_object_get(o, keys[i]);
			g_autofree char *num = json_is_integer(v)
						       ? g_strdup_printf("%" JSON_INTEGER_FORMAT,
									 json_integer_value(v))
						       : NULL;

			csv_field(out, num ? num : json_string_value(v),
				  i + 1 == G_N_ELEMENTS(keys));
		}
	}
	if (rc < 0)
		return NULL;
	return g_steal_pointer(&out);
}
