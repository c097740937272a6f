/*
 * api_drs.c: /api/v1/drs -- DRS's configuration, its current plan, running
 * it now, applying a plan, and the history of runs and migrations.
 *
 * The service (drs_service.c) does the work; this file maps requests to
 * it.  Reading needs drs.read, changing the configuration, planning and
 * applying need drs.admin; the three are audited.  Planning and applying
 * need a cluster adapter that reports load: without one they answer 503,
 * while the configuration and the history stay readable.  Applying is a
 * task (202), as every migration is.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/drs_service.h"

#include "api.h"

static gboolean need_load(IcsManager *m, GError **error)
{
	if (m->cluster == NULL || m->cluster->load == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: DRS has no load to balance and no VM to move");
		return FALSE;
	}
	return TRUE;
}

static gboolean get_config(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *out;

	(void)req;
	out = ics_drs_service_config(m->drs, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static const IcsField config_fields[] = {
	{ "mode", ICS_FIELD_STRING, FALSE, 1, 16 },
	{ "level", ICS_FIELD_INT, FALSE, 1, 5 },
	{ "period_s", ICS_FIELD_INT, FALSE, 10, 86400 },
	{ "ha_reserve_pct", ICS_FIELD_INT, FALSE, 0, 90 },
	{ 0 },
};
static const IcsSchema config_schema = { "DRS configuration", config_fields };

static gboolean put_config(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &config_schema, error);
	json_t *out;

	if (body == NULL)
		return FALSE;
	out = ics_drs_service_configure(m->drs, body, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean get_plan(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *plan;

	(void)req;
	plan = ics_drs_service_plan(m->drs, error);
	if (plan == NULL)
		return FALSE;
	ics_response_json(resp, 200, json_pack("{s:o}", "plan", plan));
	return TRUE;
}

static const IcsField no_fields[] = { { 0 } };
static const IcsSchema plan_schema = { "DRS plan request", no_fields };

static gboolean post_plan(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *plan;

	if (req->body_len) {
		g_autoptr(json_t) body = ics_api_body(req, &plan_schema, error);

		if (body == NULL)
			return FALSE;
	}
	if (!need_load(m, error))
		return FALSE;
	plan = ics_drs_service_run(m->drs, "manual", error);
	if (plan == NULL)
		return FALSE;
	req->audit_object_id = g_strdup_printf("%" JSON_INTEGER_FORMAT,
					       json_integer_value(json_object_get(plan, "id")));
	ics_response_json(resp, 201, json_pack("{s:o}", "plan", plan));
	return TRUE;
}

static const IcsField apply_fields[] = {
	{ "run_id", ICS_FIELD_INT, FALSE, 1, G_MAXINT64 },
	{ 0 },
};
static const IcsSchema apply_schema = { "DRS apply request", apply_fields };

static gboolean post_apply(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	gint64 run = 0, id;
	json_t *task;

	if (req->body_len) {
		g_autoptr(json_t) body = ics_api_body(req, &apply_schema, error);

		if (body == NULL)
			return FALSE;
		run = json_integer_value(json_object_get(body, "run_id"));
	}
	if (!need_load(m, error))
		return FALSE;
	id = ics_drs_service_apply(m->drs, run, req->principal->user_id, error);
	if (id < 0)
		return FALSE;
	ics_store_lock(m->store);
	task = ics_task_get(m->store, id, NULL, error);
	ics_store_unlock(m->store);
	if (task == NULL)
		return FALSE;
	req->audit_object_id = g_strdup(json_string_value(json_object_get(task, "object_id")));
	ics_response_json(resp, 202, task);
	return TRUE;
}

static gboolean get_history(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *before_text = ics_request_query(req, "before");
	gint64 limit, before = 0;
	json_t *out;

	if (!ics_api_limit(req, &limit, error) ||
	    (before_text && !ics_api_int(before_text, "before", &before, error)))
		return FALSE;
	out = ics_drs_service_history(m->drs, before, limit, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

const IcsApiRoute ics_api_drs_routes[] = {
	{ "GET", "/api/v1/drs/config", get_config, 0, NULL, NULL, NULL },
	{ "PUT", "/api/v1/drs/config", put_config, ICS_API_MUTATING, "drs.config", "drs", NULL },
	{ "GET", "/api/v1/drs/plan", get_plan, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/drs/plan", post_plan, ICS_API_MUTATING, "drs.plan", "drs_run", NULL },
	{ "POST", "/api/v1/drs/apply", post_apply, ICS_API_MUTATING, "drs.apply", "drs_run", NULL },
	{ "GET", "/api/v1/drs/history", get_history, 0, NULL, NULL, NULL },
	{ 0 },
};
