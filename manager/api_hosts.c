/*
 * api_hosts.c: /api/v1/hosts -- the cluster's nodes and their maintenance.
 *
 * Hosts are not inventory: the manager stores nothing about them, every
 * answer is the cluster adapter's reading of the cluster at that moment.
 * Without an adapter (or one without host operations) the routes answer
 * 503.  Entering maintenance is a task (202): DRS first places the host's
 * VMs on the other hosts by their resources and migrates them
 * (drs_service.h), then the host goes to standby, Pacemaker evacuates
 * whatever is left by live migration and the task's progress is the share
 * of the host's VMs that have left; leaving is a task too, done as soon as
 * the cluster took the change.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/drs_service.h"

#include "api.h"

static gboolean need_hosts(IcsManager *m, GError **error)
{
	if (m->cluster == NULL || m->cluster->hosts == NULL || m->cluster->host == NULL ||
	    m->cluster->host_maintenance == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only and knows "
			    "no hosts");
		return FALSE;
	}
	return TRUE;
}

static gboolean name_param(const IcsRequest *req, const char **name, GError **error)
{
	*name = ics_request_param(req, "name");
	return ics_name_check("host name", *name, error);
}

static gboolean list_hosts(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *items;

	(void)req;
	if (!need_hosts(m, error))
		return FALSE;
	items = m->cluster->hosts(m->cluster->self, error);
	if (items == NULL)
		return FALSE;
	ics_response_json(resp, 200, json_pack("{s:o}", "items", items));
	return TRUE;
}

static gboolean get_host(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name;
	json_t *out;

	if (!need_hosts(m, error) || !name_param(req, &name, error))
		return FALSE;
	out = m->cluster->host(m->cluster->self, name, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static void task_progress(void *data, guint percent, const char *message)
{
	ics_task_progress(data, percent, message);
}

static json_t *run_maintenance(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsManager *m = ics_task_data(ctx);
	const char *name = ics_task_object_id(ctx);
	gboolean enter = json_is_true(json_object_get(params, "enter"));

	if (!need_hosts(m, error))
		return NULL;
	ics_task_progress(ctx, 0, enter ? "entering maintenance" : "leaving maintenance");
	if (enter && m->cluster->load) {
		g_autoptr(GError) e = NULL;

		/* DRS spreads the host's VMs by resources first; whatever it
		 * could not place, the standby below leaves to Pacemaker. */
		if (!ics_drs_service_evacuate(m->drs, name, task_progress, ctx,
					      ics_task_cancel_flag(ctx), &e)) {
			if (ics_task_cancelled(ctx)) {
				g_propagate_error(error, g_steal_pointer(&e));
				return NULL;
			}
			ics_warning("host %s: DRS evacuation: %s; Pacemaker places the rest", name,
				    e->message);
		}
	}
	if (!m->cluster->host_maintenance(m->cluster->self, name, enter, task_progress, ctx,
					  ics_task_cancel_flag(ctx), error))
		return NULL;
	return json_pack("{s:s, s:b}", "host", name, "maintenance", enter);
}

void ics_host_tasks_register(IcsManager *m)
{
	/* Idempotent: standby again and wait again is what a restart needs. */
	m->host_maintenance_kind = (IcsTaskKind){ "host.maintenance", run_maintenance, TRUE, m };
	ics_task_runner_register(m->tasks, &m->host_maintenance_kind);
}

static const IcsField maintenance_fields[] = {
	{ "enter", ICS_FIELD_BOOL, TRUE, 0, 0 },
	{ 0 },
};
static const IcsSchema maintenance_schema = { "maintenance request", maintenance_fields };

static gboolean maintenance(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = NULL;
	g_autoptr(json_t) hosts = NULL;
	const char *name;
	gboolean enter, known = FALSE;

	if (!name_param(req, &name, error))
		return FALSE;
	body = ics_api_body(req, &maintenance_schema, error);
	if (body == NULL)
		return FALSE;
	enter = json_is_true(json_object_get(body, "enter"));
	req->audit_action = g_strdup(enter ? "host.maintenance.enter" : "host.maintenance.exit");
	if (!need_hosts(m, error))
		return FALSE;
	/* An unknown host is refused now, not by a failed task (the list is
	 * the snapshot's; a host's detail would also ask its libvirtd). */
	hosts = m->cluster->hosts(m->cluster->self, error);
	if (hosts == NULL)
		return FALSE;
	for (size_t i = 0; i < json_array_size(hosts) && !known; i++)
		known = g_strcmp0(json_string_value(
					  json_object_get(json_array_get(hosts, i), "name")),
				  name) == 0;
	if (!known) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "host %s is not a node of the cluster", name);
		return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	return ics_api_task_accepted(m, resp, "host.maintenance", "host", name, 0, body, error);
}

const IcsApiRoute ics_api_host_routes[] = {
	{ "GET", "/api/v1/hosts", list_hosts, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/hosts/{name}", get_host, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/hosts/{name}/maintenance", maintenance, ICS_API_MUTATING,
	  "host.maintenance", "host", "name" },
	{ 0 },
};
