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

/* @text as valid UTF-8: as is, or a repaired copy kept in @keep.  A path
 * parameter or header that is not UTF-8 must neither lose its audit record
 * (json_pack refuses it when the record is read) nor reach a client raw. */
static const char *utf8(const char *text, GPtrArray *keep)
{
	if (text == NULL || g_utf8_validate(text, -1, NULL))
		return text;
	g_ptr_array_add(keep, g_utf8_make_valid(text, -1));
	return g_ptr_array_index(keep, keep->len - 1);
}

gboolean ics_audit_append(IcsStore *store, const IcsAuditRecord *in, GError **error)
{
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
	IcsAuditRecord r = *in;
	const IcsAuditRecord *rec = &r;
	gboolean ok;

	r.user = utf8(in->user, keep);
	r.action = utf8(in->action, keep);
	r.object_type = utf8(in->object_type, keep);
	r.object_id = utf8(in->object_id, keep);
	r.reason = utf8(in->reason, keep);
	r.client = utf8(in->client, keep);
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

gboolean ics_audit_apply_retention(IcsStore *store, guint max_age_days, guint max_rows,
				   gint64 *purged, GError **error)
{
	gint64 now = ics_now_us(), cutoff = now - (gint64)max_age_days * 86400 * G_USEC_PER_SEC;
	gint64 n = 0;
	IcsAuditRecord rec = {
		.user = "-",
		.action = "audit.retention",
		.object_type = "audit",
		.http_status = 200,
		.started_us = now,
	};
	g_autofree char *what = NULL;

	*purged = 0;
	if (!ics_store_begin(store, error))
		return FALSE;
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(store,
						       "DELETE FROM audit WHERE started_us < ?1"
						       " OR id <= (SELECT max(id) FROM audit) - ?2",
						       error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, cutoff);
		ics_stmt_bind_int(st, 2, max_rows);
		if (!ics_stmt_run(st, error))
			goto fail;
		n = ics_store_changes(store);
	}
	if (!ics_store_commit(store, error))
		return FALSE;
	*purged = n;
	if (n == 0)
		return TRUE;
	/* The purge is itself on the record, after what it kept. */
	what = g_strdup_printf("%" G_GINT64_FORMAT " records older than %u days or beyond "
			       "the newest %u",
			       n, max_age_days, max_rows);
	rec.object_id = what;
	rec.ended_us = ics_now_us();
	return ics_audit_append(store, &rec, error);
fail:
	ics_store_rollback(store);
	return FALSE;
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
