/*
 * api_session.c: log in, who am I, log out.
 *
 * Login first counts the attempt (login_policy.c: in one write
 * transaction, refusing disabled and locked accounts), then hashes the
 * candidate password outside any lock (yescrypt takes tens of milliseconds
 * on purpose), and on success opens the one write transaction that resets
 * the count and creates the session.  Every refusal looks the same to the client
 * -- unknown user, wrong password, disabled or locked account -- so the
 * answer does not tell an attacker which names exist or which accounts
 * are locked; the audit record keeps the real reason.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/password.h"
#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/users.h"

#include "api.h"

#define LOGIN_REFUSED "invalid user name or password"

static gboolean refuse(IcsRequest *req, IcsResponse *resp, const char *reason)
{
	g_free(req->audit_reason);
	req->audit_reason = g_strdup(reason);
	ics_response_error(resp, 401, "unauthenticated", LOGIN_REFUSED);
	return TRUE;
}

const char *ics_login_gate_reason(IcsLoginGate gate)
{
	switch (gate) {
	case ICS_LOGIN_NO_USER:
		return "no such user";
	case ICS_LOGIN_DISABLED:
		return "account disabled";
	case ICS_LOGIN_LOCKED:
		return "account locked";
	case ICS_LOGIN_OPEN:
		break;
	}
	return "refused";
}

static gboolean post_session(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_login, error);
	g_autoptr(IcsUser) user = NULL;
	g_autofree char *token = NULL, *expires_text = NULL;
	const char *name, *password;
	IcsLoginGate gate;
	gint64 expires;

	if (body == NULL)
		return FALSE;
	name = json_string_value(json_object_get(body, "username"));
	password = json_string_value(json_object_get(body, "password"));
	req->audit_user = g_strdup(name);
	req->audit_object_id = g_strdup(name);

	user = ics_login_attempt(m->store, &m->cfg.policy, name, &gate, error);
	if (user == NULL) {
		if (gate == ICS_LOGIN_OPEN)
			return FALSE;
		ics_password_verify_dummy(password);
		return refuse(req, resp, ics_login_gate_reason(gate));
	}
	if (!ics_password_verify(password, user->password_hash))
		return refuse(req, resp, "wrong password");

	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_login_record_success(m->store, user->id, error))
		goto fail;
	token = ics_session_create(m->store, &m->cfg.policy, user->id, req->client, &expires,
				   error);
	if (token == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error))
		return FALSE;
	expires_text = ics_timestamp_format(expires);
	ics_response_json(resp, 201,
			  json_pack("{s:s, s:s, s:s}", "token", token, "user", user->name,
				    "expires_at", expires_text));
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
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
			  json_pack("{s:s, s:O, s:O, s:O, s:s}", "user", p->name, "roles",
				    json_object_get(uj, "roles"), "permissions", perms,
				    "owned_only", owned, "auth", p->auth));
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
	{ 0 },
};
