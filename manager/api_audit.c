/*
 * api_audit.c: /api/v1/audit -- search and export the audit trail.
 *
 * Filters: user, action, object_type, object_id, result, since, until
 * (RFC 3339); search pages with ?limit= and ?before=<id> (newest first),
 * export (?format=csv|jsonl) returns every match, oldest first.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/audit.h"
#include "ics/manager/timestamp.h"

#include "api.h"

static gboolean parse_query(const IcsRequest *req, IcsAuditQuery *q, GError **error)
{
	const char *since = ics_request_query(req, "since");
	const char *until = ics_request_query(req, "until");
	const char *before = ics_request_query(req, "before");

	q->user = ics_request_query(req, "user");
	q->action = ics_request_query(req, "action");
	q->object_type = ics_request_query(req, "object_type");
	q->object_id = ics_request_query(req, "object_id");
	q->result = ics_request_query(req, "result");
	if (q->result && !g_str_equal(q->result, "success") && !g_str_equal(q->result, "failure"))
		return ics_error_invalid(error, "result must be \"success\" or \"failure\"");
	if (since && !ics_timestamp_parse(since, "since", &q->since_us, error))
		return FALSE;
	if (until && !ics_timestamp_parse(until, "until", &q->until_us, error))
		return FALSE;
	if (before && !ics_api_int(before, "before", &q->before_id, error))
		return FALSE;
	return ics_api_limit(req, &q->limit, error);
}

static gboolean search(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	IcsAuditQuery q = { 0 };
	json_t *out;

	if (!parse_query(req, &q, error))
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_audit_search(m->store, &q, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean export(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *format = ics_request_query(req, "format");
	IcsAuditQuery q = { 0 };
	IcsAuditFormat f;
	GString *out;

	if (format == NULL || g_str_equal(format, "csv"))
		f = ICS_AUDIT_CSV;
	else if (g_str_equal(format, "jsonl"))
		f = ICS_AUDIT_JSONL;
	else
		return ics_error_invalid(error, "format must be \"csv\" or \"jsonl\"");
	if (!parse_query(req, &q, error))
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_audit_export(m->store, &q, f, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	resp->status = 200;
	resp->content_type =
		g_strdup(f == ICS_AUDIT_CSV ? "text/csv; charset=utf-8" : "application/x-ndjson");
	resp->text_len = out->len;
	resp->text = g_string_free(out, FALSE);
	ics_response_header(resp, "Content-Disposition",
			    f == ICS_AUDIT_CSV ? "attachment; filename=\"audit.csv\""
					       : "attachment; filename=\"audit.jsonl\"");
	return TRUE;
}

const IcsApiRoute ics_api_audit_routes[] = {
	{ "GET", "/api/v1/audit", search, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/audit/export", export, 0, NULL, NULL, NULL },
	{ 0 },
};
