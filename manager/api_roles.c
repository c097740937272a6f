/*
 * api_roles.c: /api/v1/roles -- builtin and custom roles, and whether a
 * role's holders must use a second factor (the only thing PATCH changes:
 * permissions of a role are fixed at creation).
 *
 * Creating or deleting a role needs every permission it grants
 * (authz_rules.c, "grant"): role.admin does not make its holder able to
 * mint a role with powers it lacks.
 */
#include "config.h"

#include "ics/error.h"

#include "api.h"

static gboolean list_roles(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *out;

	ics_store_read_begin(m->store);
	out = ics_role_list(m->store, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean create_role(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_role_create, error);
	json_t *perms, *out;
	const char *name;

	if (body == NULL)
		return FALSE;
	name = json_string_value(json_object_get(body, "name"));
	req->audit_object_id = g_strdup(name);
	perms = json_object_get(body, "permissions");
	g_autofree const char **v = ics_api_strv(perms);
	{
		g_autoptr(IcsPrincipal) want = g_new0(IcsPrincipal, 1);
		g_autofree char *what = g_strdup_printf("create role \"%s\"", name);

		want->permissions = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; v[i]; i++)
			g_hash_table_replace(want->permissions, (gpointer)v[i],
					     GINT_TO_POINTER(ICS_SCOPE_ALL));
		if (!ics_principal_check_covers(req->principal, want, what, error))
			return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_role_create(
		    m->store, name, json_string_value(json_object_get(body, "description")), v,
		    json_is_true(json_object_get(body, "second_factor_required")), error) ||
	    (out = ics_role_get(m->store, name, error)) == NULL) {
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

static gboolean get_role(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "role");
	json_t *out;

	if (!ics_name_check("role name", name, error))
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_role_get(m->store, name, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean update_role(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "role");
	g_autoptr(json_t) body = NULL;
	json_t *sf, *out;

	if (!ics_name_check("role name", name, error))
		return FALSE;
	body = ics_api_body(req, &ics_schema_role_update, error);
	if (body == NULL)
		return FALSE;
	sf = json_object_get(body, "second_factor_required");
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if ((sf && !ics_role_set_second_factor(m->store, name, json_is_true(sf), error)) ||
	    (out = ics_role_get(m->store, name, error)) == NULL) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean delete_role(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "role");

	if (!ics_name_check("role name", name, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	{
		const char *const roles[] = { name, NULL };
		g_autoptr(IcsPrincipal) want = ics_principal_of_roles(m->store, roles, error);
		g_autofree char *what = g_strdup_printf("delete role \"%s\"", name);

		if (want == NULL ||
		    !ics_principal_check_covers(req->principal, want, what, error)) {
			if (want == NULL &&
			    g_error_matches(*error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT))
				(*error)->code = ICS_ERROR_NOT_FOUND;
			ics_store_rollback(m->store);
			return FALSE;
		}
	}
	if (!ics_role_delete(m->store, name, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	resp->status = 204;
	return TRUE;
}

const IcsApiRoute ics_api_role_routes[] = {
	{ "GET", "/api/v1/roles", list_roles, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/roles", create_role, ICS_API_MUTATING, "role.create", "role", NULL },
	{ "GET", "/api/v1/roles/{role}", get_role, 0, NULL, NULL, NULL },
	{ "PATCH", "/api/v1/roles/{role}", update_role, ICS_API_MUTATING, "role.update", "role",
	  "role" },
	{ "DELETE", "/api/v1/roles/{role}", delete_role, ICS_API_MUTATING, "role.delete", "role",
	  "role" },
	{ 0 },
};
