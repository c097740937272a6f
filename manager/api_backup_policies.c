/*
 * api_backup_policies.c: /api/v1/backup-policies -- scheduled backups
 * (the rows and the scheduler are backup_policies.c).
 *
 * A policy may back up any VM (or all of them, or those on some pools or
 * hosts: names the cluster must have) into a repository on a schedule, so creating, changing, deleting and running one needs
 * backup.admin; backup.read lists them -- held for every VM: a caller who
 * reads only the backups of its own VMs (vm_manager) sees no policy, as
 * a policy names other owners' VMs.  "Run now" makes the policy's VMs
 * due at once: the scheduler queues their backups at its next pass, within
 * the policy's concurrency limit.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/backup_policies.h"

#include "api.h"

static const char *policy_param(IcsRequest *req, GError **error)
{
	const char *name = ics_request_param(req, "policy");

	return ics_name_check("policy name", name, error) ? name : NULL;
}

/* Does the caller read every VM's backups (not only its own VMs')? */
static gboolean reads_all(const IcsRequest *req)
{
	return ics_api_owner_filter(req->principal, "backup.read") == 0;
}

static gboolean list_policies(IcsManager *m, IcsRequest *req, IcsResponse *resp,
			      GError **error)
{
	json_t *out;

	if (!reads_all(req)) {
		ics_response_json(resp, 200, json_array());
		return TRUE;
	}
	ics_store_read_begin(m->store);
	out = ics_backup_policy_list(m->store, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean get_policy(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = policy_param(req, error);
	json_t *out;

	if (name == NULL)
		return FALSE;
	if (!reads_all(req)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "backup policy %s does not exist",
			    name);
		return FALSE;
	}
	ics_store_read_begin(m->store);
	out = ics_backup_policy_get(m->store, name, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

/* Run @fn in a write transaction and answer @status with what it made. */
static gboolean in_transaction(IcsManager *m, IcsResponse *resp, guint status, json_t *(*fn)(
	IcsManager *m, IcsRequest *req, const json_t *body, GError **error), IcsRequest *req,
			       const json_t *body, GError **error)
{
	json_t *out;

	if (!ics_store_begin(m->store, error))
		return FALSE;
	out = fn(m, req, body, error);
	if (out == NULL) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	ics_response_json(resp, status, out);
	return TRUE;
}

/* Each name of @body's @field ("pools", "hosts") is one the cluster's
 * list @all ({"name"} objects) has: a typo would select nothing. */
static gboolean names_known(const json_t *body, const char *field, json_t *(*list)(
	void *self, GError **error), IcsManager *m, GError **error)
{
	const json_t *names = json_object_get(body, field);
	g_autoptr(json_t) all = NULL;
	size_t i, k;
	json_t *n, *e;

	if (json_array_size(names) == 0)
		return TRUE;
	if (m->cluster == NULL || list == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "%s: no cluster adapter: this manager knows no %s", field, field);
		return FALSE;
	}
	all = list(m->cluster->self, error);
	if (all == NULL)
		return FALSE;
	json_array_foreach(names, i, n)
	{
		gboolean found = FALSE;

		json_array_foreach(all, k, e)
			found |= g_strcmp0(json_string_value(json_object_get(e, "name")),
					   json_string_value(n)) == 0;
		if (!found)
			return ics_error_invalid(error, "%s: the cluster has no %s %s", field,
						 g_str_equal(field, "pools") ? "pool" : "host",
						 json_string_value(n));
	}
	return TRUE;
}

static gboolean selectors_known(IcsManager *m, const json_t *body, GError **error)
{
	return names_known(body, "pools", m->cluster ? m->cluster->pools : NULL, m, error) &&
	       names_known(body, "hosts", m->cluster ? m->cluster->hosts : NULL, m, error);
}

static json_t *do_create(IcsManager *m, IcsRequest *req, const json_t *body, GError **error)
{
	return ics_backup_policy_create(m->store, body, req->principal->name, error);
}

static json_t *do_update(IcsManager *m, IcsRequest *req, const json_t *body, GError **error)
{
	return ics_backup_policy_update(m->store, ics_request_param(req, "policy"), body, error);
}

static json_t *do_run(IcsManager *m, IcsRequest *req, const json_t *body, GError **error)
{
	(void)body;
	return ics_backup_policy_run_now(m, ics_request_param(req, "policy"), error);
}

static gboolean create_policy(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_backup_policy_create, error);

	return body && selectors_known(m, body, error) &&
	       in_transaction(m, resp, 201, do_create, req, body, error);
}

static gboolean update_policy(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_backup_policy_update, error);

	return body && policy_param(req, error) && selectors_known(m, body, error) &&
	       in_transaction(m, resp, 200, do_update, req, body, error);
}

static gboolean run_policy(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	return policy_param(req, error) && in_transaction(m, resp, 202, do_run, req, NULL, error);
}

static gboolean delete_policy(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = policy_param(req, error);

	if (name == NULL || !ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_backup_policy_delete(m->store, name, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	resp->status = 204;
	return TRUE;
}

const IcsApiRoute ics_api_backup_policy_routes[] = {
	{ "GET", "/api/v1/backup-policies", list_policies, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/backup-policies", create_policy, ICS_API_MUTATING,
	  "backup.policy.create", "backup-policy", NULL },
	{ "GET", "/api/v1/backup-policies/{policy}", get_policy, 0, NULL, NULL, NULL },
	{ "PATCH", "/api/v1/backup-policies/{policy}", update_policy, ICS_API_MUTATING,
	  "backup.policy.update", "backup-policy", "policy" },
	{ "DELETE", "/api/v1/backup-policies/{policy}", delete_policy, ICS_API_MUTATING,
	  "backup.policy.delete", "backup-policy", "policy" },
	{ "POST", "/api/v1/backup-policies/{policy}/run", run_policy, ICS_API_MUTATING,
	  "backup.policy.run", "backup-policy", "policy" },
	{ 0 },
};
