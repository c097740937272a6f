/*
 * api_users.c: /api/v1/users -- local accounts and their roles.
 *
 * Creating a user or setting a password checks the password rules and
 * hashes before the transaction.  A password set by an administrator ends
 * the user's sessions and lifts a lockout; a user changes their own
 * password through /users/{name}/password, proving the old one.  The last
 * administrator cannot be deleted, disabled or demoted, so the manager
 * never locks itself out.  Nobody grants what they do not hold
 * (authz_rules.c): granting roles needs every permission they give, and
 * changing or deleting a user needs every permission that user holds, so
 * user.admin alone cannot make anyone an administrator or take over one.
 * A directory user's password, roles, enabled flag and existence are its
 * directory's (409 here).
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/password.h"
#include "ics/manager/session.h"
#include "ics/manager/users.h"

#include "api.h"

/* CONFLICT when the change just made left no enabled administrator. */
static gboolean keep_an_admin(IcsStore *store, const char *name, GError **error)
{
	gint64 n = ics_user_admin_count(store, error);

	if (n < 0)
		return FALSE;
	if (n == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "user \"%s\" is the last enabled administrator; make another one first",
			    name);
		return FALSE;
	}
	return TRUE;
}

/* A password set or changed, or an account disabled: the sessions (but
 * @keep, the caller's own) and API keys issued under the old state end.
 * In the caller's write transaction. */
static gboolean revoke_credentials(IcsStore *store, gint64 user_id, gint64 keep, GError **error)
{
	return ics_session_delete_user(store, user_id, keep, error) &&
	       ics_apikey_delete_user(store, user_id, error);
}

/* authz_rules.c "grant": the caller holds everything @roles give. */
static gboolean may_grant(IcsManager *m, const IcsRequest *req, const char *const *roles,
			  GError **error)
{
	g_autoptr(IcsPrincipal) want = ics_principal_of_roles(m->store, roles, error);
	g_autofree char *joined = g_strjoinv(", ", (char **)roles);
	g_autofree char *what = g_strdup_printf("grant role(s) %s", joined);

	return want && ics_principal_check_covers(req->principal, want, what, error);
}

/* authz_rules.c "superior": the caller holds everything user @id holds. */
static gboolean may_change(IcsManager *m, const IcsRequest *req, const IcsUser *user,
			   GError **error)
{
	g_autoptr(IcsPrincipal) target = ics_principal_of_user(m->store, user->id, error);
	g_autofree char *what = g_strdup_printf("change user \"%s\"", user->name);

	return target && ics_principal_check_covers(req->principal, target, what, error);
}

static gboolean list_users(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *after = ics_request_query(req, "after");
	gint64 limit;
	json_t *out;

	if (!ics_api_limit(req, &limit, error))
		return FALSE;
	if (after && !ics_name_check("after", after, error))
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_user_list(m->store, after, limit, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean create_user(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_user_create, error);
	g_autofree const char **roles = NULL;
	g_autofree char *hash = NULL;
	g_autoptr(IcsUser) user = NULL;
	const char *name, *password;
	json_t *enabled;
	gint64 id;
	json_t *out;

	if (body == NULL)
		return FALSE;
	name = json_string_value(json_object_get(body, "name"));
	password = json_string_value(json_object_get(body, "password"));
	enabled = json_object_get(body, "enabled");
	req->audit_object_id = g_strdup(name);
	roles = ics_api_strv(json_object_get(body, "roles"));
	if (!ics_password_rules_check(&m->cfg.policy, name, password, error))
		return FALSE;
	hash = ics_password_hash(password, error);
	if (hash == NULL)
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!may_grant(m, req, roles, error))
		goto fail;
	id = ics_user_insert(m->store, name, hash, enabled == NULL || json_is_true(enabled), error);
	if (id < 0 || !ics_user_set_roles(m->store, id, roles, error))
		goto fail;
	if (json_is_true(json_object_get(body, "second_factor_required")) &&
	    !ics_user_set_second_factor_required(m->store, id, TRUE, error))
		goto fail;
	user = ics_user_get_by_id(m->store, id, error);
	out = user ? ics_user_to_json(m->store, user, error) : NULL;
	if (out == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	ics_response_json(resp, 201, out);
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

static gboolean get_user(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "user");
	g_autoptr(IcsUser) user = NULL;
	json_t *out = NULL;

	if (!ics_name_check("user name", name, error))
		return FALSE;
	ics_store_read_begin(m->store);
	user = ics_user_get(m->store, name, error);
	if (user)
		out = ics_user_to_json(m->store, user, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean update_user(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "user");
	g_autoptr(json_t) body = NULL;
	g_autofree char *hash = NULL;
	g_autoptr(IcsUser) user = NULL;
	json_t *password, *roles, *enabled, *sf, *out;

	if (!ics_name_check("user name", name, error))
		return FALSE;
	body = ics_api_body(req, &ics_schema_user_update, error);
	if (body == NULL)
		return FALSE;
	password = json_object_get(body, "password");
	roles = json_object_get(body, "roles");
	enabled = json_object_get(body, "enabled");
	sf = json_object_get(body, "second_factor_required");
	if (password) {
		if (!ics_password_rules_check(&m->cfg.policy, name, json_string_value(password),
					      error))
			return FALSE;
		hash = ics_password_hash(json_string_value(password), error);
		if (hash == NULL)
			return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	user = ics_user_get(m->store, name, error);
	if (user == NULL || !may_change(m, req, user, error))
		goto fail;
	if ((password || roles || enabled) && !ics_user_check_local(user,
								    password ? "password"
								    : roles  ? "roles"
									     : "enabled flag",
								    error))
		goto fail;
	if (roles) {
		g_autofree const char **v = ics_api_strv(roles);

		if (!may_grant(m, req, v, error))
			goto fail;
	}
	if (hash && (!ics_user_set_password(m->store, user->id, hash, error) ||
		     !ics_login_record_success(m->store, user->id, error) ||
		     !revoke_credentials(m->store, user->id, 0, error)))
		goto fail;
	if (enabled && !ics_user_set_enabled(m->store, user->id, json_is_true(enabled), error))
		goto fail;
	if (enabled && !json_is_true(enabled) && !revoke_credentials(m->store, user->id, 0, error))
		goto fail;
	if (sf && !ics_user_set_second_factor_required(m->store, user->id, json_is_true(sf), error))
		goto fail;
	if (roles) {
		g_autofree const char **v = ics_api_strv(roles);

		if (!ics_user_set_roles(m->store, user->id, v, error))
			goto fail;
	}
	if ((roles || enabled) && !keep_an_admin(m->store, name, error))
		goto fail;
	ics_user_free(user);
	user = ics_user_get(m->store, name, error);
	out = user ? ics_user_to_json(m->store, user, error) : NULL;
	if (out == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	ics_manager_credentials_revoked(m);
	ics_response_json(resp, 200, out);
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

static gboolean delete_user(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "user");
	g_autoptr(IcsUser) user = NULL;

	if (!ics_name_check("user name", name, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	user = ics_user_get(m->store, name, error);
	if (user == NULL || !ics_user_check_local(user, "existence", error) ||
	    !may_change(m, req, user, error) ||
	    !ics_user_delete(m->store, user->id, error) || !keep_an_admin(m->store, name, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	resp->status = 204;
	return TRUE;
}

static gboolean change_password(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "user");
	g_autoptr(json_t) body = NULL;
	g_autoptr(IcsUser) user = NULL;
	g_autofree char *hash = NULL;
	const char *old_pw, *new_pw;
	IcsLoginGate gate;

	if (!ics_name_check("user name", name, error))
		return FALSE;
	if (!g_str_equal(name, req->principal->name)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "users change only their own password; an administrator sets others' "
			    "with PATCH /api/v1/users/{user}");
		return FALSE;
	}
	body = ics_api_body(req, &ics_schema_password_change, error);
	if (body == NULL)
		return FALSE;
	old_pw = json_string_value(json_object_get(body, "old_password"));
	new_pw = json_string_value(json_object_get(body, "new_password"));
	if (!ics_password_rules_check(&m->cfg.policy, name, new_pw, error))
		return FALSE;
	/* The old password is a proof like a login's: counted, and refused
	 * on a locked account. */
	user = ics_login_attempt(m->store, &m->cfg.policy, name, &gate, error);
	if (user == NULL) {
		if (gate != ICS_LOGIN_OPEN)
			g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
				    "cannot change the password: %s", ics_login_gate_reason(gate));
		return FALSE;
	}
	if (!ics_user_check_local(user, "password", error))
		return FALSE;
	if (!ics_password_verify(old_pw, user->password_hash)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "the old password is wrong");
		return FALSE;
	}
	hash = ics_password_hash(new_pw, error);
	if (hash == NULL)
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_user_set_password(m->store, user->id, hash, error) ||
	    !ics_login_record_success(m->store, user->id, error) ||
	    !revoke_credentials(m->store, user->id, req->principal->session_id, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	resp->status = 204;
	return TRUE;
}

const IcsApiRoute ics_api_user_routes[] = {
	{ "GET", "/api/v1/users", list_users, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/users", create_user, ICS_API_MUTATING, "user.create", "user", NULL },
	{ "GET", "/api/v1/users/{user}", get_user, 0, NULL, NULL, NULL },
	{ "PATCH", "/api/v1/users/{user}", update_user, ICS_API_MUTATING, "user.update", "user",
	  "user" },
	{ "DELETE", "/api/v1/users/{user}", delete_user, ICS_API_MUTATING, "user.delete", "user",
	  "user" },
	{ "POST", "/api/v1/users/{user}/password", change_password, ICS_API_MUTATING,
	  "user.password", "user", "user" },
	{ 0 },
};
