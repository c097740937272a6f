/*
 * api_session.c: log in (with a second factor when the account has one),
 * who am I, log out.
 *
 * The protocol is login.c's; this file maps its outcome to answers.  Every
 * refusal looks the same to the client -- unknown user, wrong password,
 * wrong code, disabled or locked account -- so the answer does not tell an
 * attacker which names exist, which accounts are locked or which factor
 * failed; the audit record keeps the real reason.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/login.h"
#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/users.h"

#include "api.h"

#define LOGIN_REFUSED "invalid user name, password or code"

static gboolean refuse(IcsRequest *req, IcsResponse *resp, const char *reason)
{
	g_free(req->audit_reason);
	req->audit_reason = g_strdup(reason);
	ics_response_error(resp, 401, "unauthenticated", LOGIN_REFUSED);
	return TRUE;
}

static void session_answer(IcsResponse *resp, guint status, const IcsLoginResult *res,
			   const char *token)
{
	g_autofree char *expires_text = ics_timestamp_format(res->expires_us);
	json_t *out = json_pack("{s:s, s:s, s:s}", "user", res->user, "expires_at", expires_text,
				"stage", ics_session_stage_name(res->stage));

	if (token)
		json_object_set_new(out, "token", json_string(token));
	ics_response_json(resp, status, out);
}

static gboolean post_session(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_login, error);
	g_auto(IcsLoginResult) res = { 0 };
	const char *name;

	if (body == NULL)
		return FALSE;
	name = json_string_value(json_object_get(body, "username"));
	req->audit_user = g_strdup(name);
	req->audit_object_id = g_strdup(name);
	if (!ics_login(m, name, json_string_value(json_object_get(body, "password")),
		       json_string_value(json_object_get(body, "code")), req->client, &res, error))
		return FALSE;
	if (res.refused)
		return refuse(req, resp, res.refused);
	session_answer(resp, 201, &res, res.token);
	return TRUE;
}

static gboolean second_factor(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_code, error);
	g_auto(IcsLoginResult) res = { 0 };

	if (body == NULL)
		return FALSE;
	if (!ics_login_second_factor(m, req->principal,
				     json_string_value(json_object_get(body, "code")), &res, error))
		return FALSE;
	if (res.refused)
		return refuse(req, resp, res.refused);
	ics_manager_credentials_revoked(m);
	session_answer(resp, 200, &res, NULL);
	return TRUE;
}

static gboolean get_current(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	IcsPrincipal *p = req->principal;
	g_autoptr(json_t) perms = json_array();
	g_autoptr(json_t) owned = json_array();
	g_autoptr(IcsUser) user = NULL;
	g_autoptr(json_t) uj = NULL;

	for (guint i = 0; ics_permissions[i]; i++) {
		IcsScope s = ics_principal_scope(p, ics_permissions[i]);

		if (s != ICS_SCOPE_NONE)
			json_array_append_new(perms, json_string(ics_permissions[i]));
		if (s == ICS_SCOPE_OWNED)
			json_array_append_new(owned, json_string(ics_permissions[i]));
	}
	ics_store_read_begin(m->store);
	user = ics_user_get_by_id(m->store, p->user_id, error);
	uj = user ? ics_user_to_json(m->store, user, error) : NULL;
	ics_store_read_end(m->store);
	if (uj == NULL)
		return FALSE;
	ics_response_json(resp, 200,
			  json_pack("{s:s, s:O, s:O, s:O, s:s, s:s}", "user", p->name, "roles",
				    json_object_get(uj, "roles"), "permissions", perms,
				    "owned_only", owned, "auth", p->auth, "stage",
				    ics_session_stage_name(p->stage)));
	return TRUE;
}

static gboolean delete_current(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	IcsPrincipal *p = req->principal;

	if (p->session_id == 0)
		return ics_error_invalid(error, "this request is signed with an API key; there is "
						"no session to end");
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_session_delete(m->store, p->session_id, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	resp->status = 204;
	return TRUE;
}

const IcsApiRoute ics_api_session_routes[] = {
	{ "POST", "/api/v1/sessions", post_session, ICS_API_MUTATING, "session.login", "user",
	  NULL },
	{ "GET", "/api/v1/sessions/current", get_current, 0, NULL, NULL, NULL },
	{ "DELETE", "/api/v1/sessions/current", delete_current, ICS_API_MUTATING, "session.logout",
	  "session", NULL },
	{ "POST", "/api/v1/sessions/current/second-factor", second_factor, ICS_API_MUTATING,
	  "session.second_factor", "user", NULL },
	{ 0 },
};
