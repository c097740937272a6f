/*
 * api_totp.c: /api/v1/users/{user}/totp -- a user's TOTP second factor.
 *
 * Enrolling, confirming, removing one's own factor and renewing recovery
 * codes are self-service only: nobody else ever sees a user's secret or
 * recovery codes.  Every change but the enrolment itself is guarded by a
 * code (login.c's proof: counted towards lockout).  An administrator
 * (user.admin) resets another user's factor -- a lost phone -- but only
 * for a user whose permissions the administrator holds, and the user's
 * sessions end with it.  A session limited to enrolment reaches only the
 * status, the enrolment and its confirmation, which makes it full.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/login.h"
#include "ics/manager/session.h"
#include "ics/manager/totp.h"
#include "ics/manager/users.h"

#include "api.h"

/* The {user} of the path, which must be the caller unless @other_perm is
 * held (NULL: never). */
static const char *self_or(IcsRequest *req, const char *other_perm, GError **error)
{
	const char *name = ics_request_param(req, "user");

	if (!ics_name_check("user name", name, error))
		return NULL;
	if (g_str_equal(name, req->principal->name))
		return name;
	if (other_perm && ics_principal_scope(req->principal, other_perm) == ICS_SCOPE_ALL)
		return name;
	g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
		    "users manage only their own second factor%s",
		    other_perm ? "" : "; an administrator resets another's with DELETE");
	return NULL;
}

static gboolean full_session(IcsRequest *req, GError **error)
{
	if (req->principal->stage == ICS_SESSION_FULL)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
		    "this session may only enrol a second factor");
	return FALSE;
}

static gboolean get_totp(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = self_or(req, "user.read", error);
	g_autoptr(IcsUser) user = NULL;
	json_t *out = NULL;

	if (name == NULL)
		return FALSE;
	ics_store_read_begin(m->store);
	user = ics_user_get(m->store, name, error);
	if (user)
		out = ics_totp_status(m->store, user->id, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean enrol(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = self_or(req, NULL, error);
	json_t *out;

	if (name == NULL)
		return FALSE;
	if (req->principal->stage == ICS_SESSION_SECOND_FACTOR) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "this session waits for a second factor");
		return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	out = ics_totp_enrol(m->sealer, m->store, req->principal->user_id, name, m->cfg.totp_issuer,
			     error);
	if (out == NULL) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	ics_response_json(resp, 201, out);
	return TRUE;
}

/* After a confirmed enrolment: a session limited to enrolment is full. */
static gboolean promote(IcsManager *m, gint64 user_id, void *data, json_t **out, GError **error)
{
	const IcsPrincipal *p = data;
	gint64 expires;

	*out = json_pack("{s:s}", "stage", "full");
	if (p->stage != ICS_SESSION_ENROL)
		return TRUE;
	return ics_session_promote(m->store, &m->cfg.policy, p->session_id, &expires, error);
}

static const char *body_code(IcsRequest *req, json_t **body, GError **error)
{
	*body = ics_api_body(req, &ics_schema_code, error);
	return *body ? json_string_value(json_object_get(*body, "code")) : NULL;
}

static gboolean confirm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = self_or(req, NULL, error);
	g_autoptr(json_t) body = NULL;
	const char *code;
	json_t *out;

	if (name == NULL || (code = body_code(req, &body, error)) == NULL)
		return FALSE;
	if (req->principal->stage == ICS_SESSION_SECOND_FACTOR) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "this session waits for a second factor");
		return FALSE;
	}
	if (!ics_login_prove_code(m, name, code, TRUE, promote, req->principal, &out, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	ics_response_json(resp, 200, out);
	return TRUE;
}

/* A user who must use a second factor cannot remove theirs. */
static gboolean remove_own(IcsManager *m, gint64 user_id, void *data, json_t **out, GError **error)
{
	gboolean required;

	if (!ics_totp_required(m->store, user_id, &required, error))
		return FALSE;
	if (required) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "user \"%s\" must use a second factor (its account or a role says so); "
			    "it cannot be removed, only reset by an administrator",
			    (const char *)data);
		return FALSE;
	}
	return ics_totp_remove(m->store, user_id, data, error);
}

static gboolean disable(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = self_or(req, NULL, error);
	g_autoptr(json_t) body = NULL;
	g_autoptr(json_t) out = NULL;
	const char *code;

	if (name == NULL || !full_session(req, error) ||
	    (code = body_code(req, &body, error)) == NULL)
		return FALSE;
	if (!ics_login_prove_code(m, name, code, FALSE, remove_own, (gpointer)name, &out, error))
		return FALSE;
	resp->status = 204;
	return TRUE;
}

static gboolean new_codes(IcsManager *m, gint64 user_id, void *data, json_t **out, GError **error)
{
	*out = ics_totp_new_recovery_codes(m->store, user_id, error);
	return *out != NULL;
}

static gboolean recovery_codes(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = self_or(req, NULL, error);
	g_autoptr(json_t) body = NULL;
	const char *code;
	json_t *out;

	if (name == NULL || !full_session(req, error) ||
	    (code = body_code(req, &body, error)) == NULL)
		return FALSE;
	if (!ics_login_prove_code(m, name, code, FALSE, new_codes, NULL, &out, error))
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean reset(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "user");
	g_autoptr(IcsUser) user = NULL;
	g_autoptr(IcsPrincipal) target = NULL;
	g_autofree char *what = NULL;

	if (!ics_name_check("user name", name, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	user = ics_user_get(m->store, name, error);
	if (user == NULL)
		goto fail;
	/* authz_rules.c "superior".  A disabled user holds nothing now but may
	 * be enabled again: judge by its roles as if it were enabled. */
	target = ics_principal_of_user(m->store, user->id, error);
	what = g_strdup_printf("reset the second factor of user \"%s\"", name);
	if (target == NULL || !ics_principal_check_covers(req->principal, target, what, error))
		goto fail;
	if (!ics_totp_remove(m->store, user->id, name, error) ||
	    !ics_session_delete_user(m->store, user->id, 0, error))
		goto fail;
	if (!ics_store_commit(m->store, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	resp->status = 204;
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

const IcsApiRoute ics_api_totp_routes[] = {
	{ "GET", "/api/v1/users/{user}/totp", get_totp, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/users/{user}/totp", enrol, ICS_API_MUTATING, "totp.enrol", "user",
	  "user" },
	{ "POST", "/api/v1/users/{user}/totp/confirm", confirm, ICS_API_MUTATING, "totp.confirm",
	  "user", "user" },
	{ "POST", "/api/v1/users/{user}/totp/disable", disable, ICS_API_MUTATING, "totp.disable",
	  "user", "user" },
	{ "POST", "/api/v1/users/{user}/totp/recovery-codes", recovery_codes, ICS_API_MUTATING,
	  "totp.recovery_codes", "user", "user" },
	{ "DELETE", "/api/v1/users/{user}/totp", reset, ICS_API_MUTATING, "totp.reset", "user",
	  "user" },
	{ 0 },
};
