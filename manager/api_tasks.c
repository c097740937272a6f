/*
 * api_tasks.c: /api/v1/tasks -- follow and cancel long operations.
 *
 * A caller whose task.read is limited to owned objects (vm_manager) sees
 * only the tasks it owns; others are reported as absent.
 */
#include "config.h"

#include "ics/error.h"

#include "api.h"

static gboolean list_tasks(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *before_text = ics_request_query(req, "before");
	gint64 limit, before = 0;
	json_t *out;

	if (!ics_api_limit(req, &limit, error))
		return FALSE;
	if (before_text && !ics_api_int(before_text, "before", &before, error))
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_task_list(m->store, before, limit,
			    ics_api_owner_filter(req->principal, "task.read"), error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean get_task(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	gint64 id, owner = 0;
	json_t *out;

	if (!ics_api_int(ics_request_param(req, "task_id"), "task id", &id, error))
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_task_get(m->store, id, &owner, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	if (!ics_principal_can_on(req->principal, "task.read", owner)) {
		json_decref(out);
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "task %" G_GINT64_FORMAT " does not exist", id);
		return FALSE;
	}
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean cancel_task(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	gint64 id, owner = 0;
	json_t *t;

	if (!ics_api_int(ics_request_param(req, "task_id"), "task id", &id, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	t = ics_task_get(m->store, id, &owner, error);
	if (t == NULL)
		goto fail;
	json_decref(t);
	if (!ics_principal_can_on(req->principal, "task.cancel", owner)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "task %" G_GINT64_FORMAT " does not exist", id);
		goto fail;
	}
	if (!ics_task_cancel(m->tasks, id, error) ||
	    (t = ics_task_get(m->store, id, NULL, error)) == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error)) {
		json_decref(t);
		return FALSE;
	}
	ics_response_json(resp, 202, t);
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

const IcsApiRoute ics_api_task_routes[] = {
	{ "GET", "/api/v1/tasks", list_tasks, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/tasks/{task_id}", get_task, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/tasks/{task_id}/cancel", cancel_task, ICS_API_MUTATING, "task.cancel",
	  "task", "task_id" },
	{ 0 },
};
