/*
 * api_dispatch.c: from a request to a response -- route, authenticate,
 * authorize, handle, audit.
 *
 * Authentication accepts a session token ("Authorization: Bearer <hex>")
 * or an AK/SK signature ("Authorization: ICS-HMAC-SHA256 ...").  Missing
 * or bad credentials are 401 with a WWW-Authenticate header; a caller
 * without the route's permission gets 403, and so does a session that is
 * not full (waiting for a second factor, or limited to enrolling one) on
 * every route not flagged ICS_API_PARTIAL_SESSION.  Every mutating route is
 * audited whatever the outcome, including refusals before the handler
 * ran.  Internal errors are logged with their detail and answered with a
 * generic message, so database paths and SQL errors do not reach clients.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/audit.h"
#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/vm_inventory.h"

#include "api.h"

const IcsApiRoute *const *ics_api_route_tables(void)
{
	static const IcsApiRoute *const tables[] = {
		ics_api_health_routes,
		ics_api_session_routes,
		ics_api_user_routes,
		ics_api_totp_routes,
		ics_api_directory_routes,
		ics_api_role_routes,
		ics_api_apikey_routes,
		ics_api_audit_routes,
		ics_api_task_routes,
		ics_api_event_routes,
		ics_api_vm_routes,
		ics_api_cluster_routes,
		ics_api_host_routes,
		ics_api_pool_routes,
		ics_api_volume_routes,
		ics_api_backup_routes,
		ics_api_system_routes,
		ics_api_backup_policy_routes,
		ics_api_console_routes,
		ics_api_vm_console_routes,
		ics_api_drs_routes,
		NULL,
	};
	return tables;
}

void ics_api_register(IcsRouter *router, GPtrArray *bound)
{
	for (const IcsApiRoute *const *t = ics_api_route_tables(); *t; t++)
		for (const IcsApiRoute *r = *t; r->method; r++) {
			IcsBoundRoute *b = g_new0(IcsBoundRoute, 1);

			b->route = r;
			b->rule = ics_route_rule_find(r->method, r->pattern);
			if (b->rule == NULL)
				g_error("route %s %s has no row in the authorization table "
					"(manager/authz_rules.c)",
					r->method, r->pattern);
			g_ptr_array_add(bound, b);
			ics_router_add(router, r->method, r->pattern, b);
		}
}

const char *ics_api_object_permission(const IcsRequest *req)
{
	return req->rule ? req->rule->object_permission : NULL;
}

guint ics_api_status(const GError *error)
{
	if (error == NULL || error->domain != ICS_ERROR)
		return 500;
	switch ((IcsErrorCode)error->code) {
	case ICS_ERROR_INVALID_ARGUMENT:
	case ICS_ERROR_PARSE:
		return 400;
	case ICS_ERROR_NOT_FOUND:
		return 404;
	case ICS_ERROR_CONFLICT:
		return 409;
	case ICS_ERROR_PERMISSION:
		return 403;
	case ICS_ERROR_BUSY:
	case ICS_ERROR_UNAVAILABLE:
	case ICS_ERROR_UNREACHABLE:
		return 503;
	case ICS_ERROR_TIMEOUT:
		return 504;
	case ICS_ERROR_LIMIT:
		return 429;
	case ICS_ERROR_IO:
	case ICS_ERROR_EXEC:
		return 500;
	}
	return 500;
}

json_t *ics_api_body(const IcsRequest *req, const IcsSchema *schema, GError **error)
{
	return ics_request_parse_checked(schema, req->body, req->body_len, error);
}

const char **ics_api_strv(const json_t *array)
{
	const char **v = g_new0(const char *, json_array_size(array) + 1);

	for (size_t i = 0; i < json_array_size(array); i++)
		v[i] = json_string_value(json_array_get(array, i));
	return v;
}

gboolean ics_api_int(const char *text, const char *what, gint64 *out, GError **error)
{
	guint64 v;

	if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &v, NULL))
		return ics_error_invalid(error, "%s must be a positive integer", what);
	*out = (gint64)v;
	return TRUE;
}

gboolean ics_api_limit(const IcsRequest *req, gint64 *limit, GError **error)
{
	const char *text = ics_request_query(req, "limit");
	guint64 v;

	*limit = 100;
	if (text == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(text, 10, 1, 1000, &v, NULL))
		return ics_error_invalid(error, "limit must be an integer from 1 to 1000");
	*limit = (gint64)v;
	return TRUE;
}

gboolean ics_api_task_accepted(IcsManager *m, IcsResponse *resp, const char *kind,
			       const char *object_type, const char *object_id, gint64 owner_id,
			       const json_t *params, GError **error)
{
	json_t *task;
	gint64 id;

	id = ics_task_create(m->tasks, kind, object_type, object_id, owner_id, params, error);
	if (id < 0 || (task = ics_task_get(m->store, id, NULL, error)) == NULL) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error)) {
		json_decref(task);
		return FALSE;
	}
	ics_response_json(resp, 202, task);
	return TRUE;
}

gint64 ics_api_owner_filter(const IcsPrincipal *p, const char *perm)
{
	return ics_principal_scope(p, perm) == ICS_SCOPE_ALL ? 0 : p->user_id;
}

static void unauthenticated(IcsResponse *resp, const char *why)
{
	ics_response_error(resp, 401, "unauthenticated", "%s", why);
	ics_response_header(resp, "WWW-Authenticate", "Bearer realm=\"ics\", ICS-HMAC-SHA256");
}

/* Fill req->principal from the credentials, or answer 401. */
static gboolean authenticate(IcsManager *m, IcsRequest *req, IcsResponse *resp)
{
	const char *auth = ics_request_header(req, "Authorization");
	g_autoptr(GError) err = NULL;
	g_autofree char *key_id = NULL;
	gint64 user_id = 0, session_id = 0;
	IcsSessionStage stage = ICS_SESSION_FULL;
	gboolean ok;

	if (auth == NULL) {
		unauthenticated(resp,
				"authentication required: log in (POST /api/v1/sessions) and "
				"send \"Authorization: Bearer <token>\", or sign the request");
		return FALSE;
	}
	if (g_ascii_strncasecmp(auth, "Bearer ", 7) == 0)
		ok = ics_session_lookup(m->store, &m->cfg.policy, auth + 7, &user_id, &session_id,
					&stage, &err);
	else if (g_str_has_prefix(auth, "ICS-HMAC-SHA256 "))
		ok = ics_apikey_verify(m->apikeys, m->store, req, &user_id, &key_id, &err);
	else {
		unauthenticated(resp, "unsupported Authorization scheme");
		return FALSE;
	}
	if (ok) {
		ics_store_read_begin(m->store);
		req->principal = ics_principal_load(m->store, user_id, &err);
		ics_store_read_end(m->store);
		ok = req->principal != NULL;
	}
	if (!ok) {
		if (err->domain == ICS_ERROR && err->code == ICS_ERROR_PERMISSION)
			unauthenticated(resp, err->message);
		else {
			ics_error("authentication: %s", err->message);
			ics_response_error(resp, 500, "internal",
					   "internal error; see the manager log");
		}
		return FALSE;
	}
	req->principal->auth = g_strdup(key_id ? "apikey" : "session");
	req->principal->session_id = session_id;
	req->principal->apikey_id = g_steal_pointer(&key_id);
	req->principal->stage = stage;
	/* A session still short of its second factor holds no permission. */
	if (stage != ICS_SESSION_FULL)
		g_hash_table_remove_all(req->principal->permissions);
	return TRUE;
}

static void run_route(IcsManager *m, const IcsBoundRoute *b, IcsRequest *req, IcsResponse *resp)
{
	const IcsApiRoute *route = b->route;
	const IcsRouteRule *rule = b->rule;
	g_autoptr(GError) err = NULL;

	req->rule = rule;
	if (rule->access != ICS_ACCESS_PUBLIC) {
		if (!authenticate(m, req, resp))
			return;
		if (req->principal->stage != ICS_SESSION_FULL && !rule->partial_session) {
			ics_response_error(
				resp, 403, "second-factor-required", "%s",
				req->principal->stage == ICS_SESSION_ENROL
					? "this session may only enrol a second factor: POST "
					  "/api/v1/users/{user}/totp, then .../totp/confirm with a "
					  "code"
					: "this session waits for a second factor: POST "
					  "/api/v1/sessions/current/second-factor with a code");
			return;
		}
		if (rule->access == ICS_ACCESS_PERMISSION &&
		    ics_principal_scope(req->principal, rule->permission) == ICS_SCOPE_NONE) {
			ics_response_error(resp, 403, "forbidden",
					   "user \"%s\" lacks permission %s", req->principal->name,
					   rule->permission);
			return;
		}
	}
	if (route->handler(m, req, resp, &err))
		return;
	guint status = ics_api_status(err);
	if (status == 500) {
		ics_error("%s %s: %s", req->method, req->path, err->message);
		if (req->audit_reason == NULL)
			req->audit_reason = g_strdup(err->message);
		ics_response_error(resp, 500, "internal", "internal error; see the manager log");
		return;
	}
	ics_response_error(resp, status,
			   err->domain == ICS_ERROR ? ics_error_code_name(err->code) : "internal",
			   "%s", err->message);
}

#define AUDIT_RETENTION_EVERY 1000

static void audit(IcsManager *m, const IcsApiRoute *route, IcsRequest *req, IcsResponse *resp)
{
	g_autoptr(GError) err = NULL;
	const char *reason = req->audit_reason;
	IcsAuditRecord rec = {
		.user = req->principal ? req->principal->name : req->audit_user,
		.action = req->audit_action ? req->audit_action : route->action,
		.object_type = route->object_type,
		.object_id = req->audit_object_id,
		.http_status = resp->status,
		.client = req->client,
		.started_us = req->started_us,
		.ended_us = ics_now_us(),
	};

	if (rec.object_id == NULL && route->object_param)
		rec.object_id = ics_request_param(req, route->object_param);
	if (reason == NULL && resp->status >= 400 && resp->json)
		reason = json_string_value(
			json_object_get(json_object_get(resp->json, "error"), "message"));
	rec.reason = resp->status >= 400 ? (reason ? reason : "failed") : NULL;
	if (!ics_audit_append(m->store, &rec, &err))
		ics_error("audit: cannot record %s by %s: %s", rec.action,
			  rec.user ? rec.user : "-", err->message);
	/* Retention on the way, every so many records: the audit stays
	 * bounded even under a flood of refused calls. */
	if (g_atomic_int_add(&m->audit_appends, 1) % AUDIT_RETENTION_EVERY ==
	    AUDIT_RETENTION_EVERY - 1)
		ics_manager_audit_retention(m);
}

void ics_manager_handle(IcsManager *m, IcsRequest *req, IcsResponse *resp)
{
	const IcsBoundRoute *bound = NULL;
	const IcsApiRoute *route;
	g_autofree char *allow = NULL;

	req->started_us = ics_now_us();
	switch (ics_router_match(m->router, req, (const void **)&bound, &allow)) {
	case ICS_ROUTE_NOT_FOUND:
		ics_response_error(resp, 404, "not-found", "no such resource: %s", req->path);
		return;
	case ICS_ROUTE_METHOD_NOT_ALLOWED:
		ics_response_error(resp, 405, "method-not-allowed",
				   "%s is not allowed on %s; allowed: %s", req->method, req->path,
				   allow);
		ics_response_header(resp, "Allow", allow);
		return;
	case ICS_ROUTE_FOUND:
		break;
	}
	route = bound->route;
	run_route(m, bound, req, resp);
	if (route->flags & ICS_API_MUTATING)
		audit(m, route, req, resp);
	ics_debug("%s %s %s -> %u", req->client ? req->client : "-", req->method, req->path,
		  resp->status);
	g_clear_pointer(&req->principal, ics_principal_free);
}

/* ---- the VM a route names ------------------------------------------------ */

/* The {uuid} path parameter, checked and brought to the lower case every
 * stored uuid has (RFC 4122 text compares case-insensitively). */
gboolean ics_api_vm_uuid(IcsRequest *req, const char **uuid, GError **error)
{
	char *v = g_hash_table_lookup(req->params, "uuid");

	if (v == NULL || !g_uuid_string_is_valid(v))
		return ics_error_invalid(error, "VM id must be a UUID");
	for (char *c = v; *c; c++)
		*c = g_ascii_tolower(*c);
	*uuid = v;
	return TRUE;
}

/* In a read or a transaction (the caller's): NOT_FOUND unless the
 * principal holds the route's object permission (authz_rules.c) on the VM;
 * its owner in @owner (may be NULL). */
gboolean ics_api_vm_access(IcsManager *m, const IcsRequest *req, const char *uuid, gint64 *owner,
			   GError **error)
{
	const char *perm = ics_api_object_permission(req);
	gint64 o = 0;

	g_assert(perm != NULL);
	if (!ics_vm_inventory_owner(m->store, uuid, &o, error))
		return FALSE;
	if (!ics_principal_can_on(req->principal, perm, o)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
		return FALSE;
	}
	if (owner)
		*owner = o;
	return TRUE;
}

/* ics_api_vm_access() in a read of its own, for handlers that write nothing. */
gboolean ics_api_vm_access_read(IcsManager *m, const IcsRequest *req, const char *uuid,
				GError **error)
{
	gboolean ok;

	ics_store_read_begin(m->store);
	ok = ics_api_vm_access(m, req, uuid, NULL, error);
	ics_store_read_end(m->store);
	return ok;
}
