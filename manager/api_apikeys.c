/*
 * api_apikeys.c: /api/v1/apikeys -- a user's AK/SK keys.
 *
 * Any authenticated user manages their own keys; apikey.admin sees and
 * deletes everyone's.  The secret is in the creation response only.
 */
#include "config.h"

#include "ics/error.h"

#include "api.h"

static gboolean list_keys(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *out;

	ics_store_read_begin(m->store);
	out = ics_apikey_list(m->store, ics_api_owner_filter(req->principal, "apikey.admin"),
			      error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean create_key(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_apikey_create, error);
	json_t *out;

	if (body == NULL)
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	out = ics_apikey_create(m->apikeys, m->store, req->principal->user_id,
				json_string_value(json_object_get(body, "description")), error);
	if (out == NULL) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	req->audit_object_id = g_strdup(json_string_value(json_object_get(out, "access_key_id")));
	ics_response_json(resp, 201, out);
	return TRUE;
}

static gboolean delete_key(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *id = ics_request_param(req, "key_id");
	gint64 owner;

	if (!ics_name_check("access key id", id, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_apikey_owner(m->store, id, &owner, error))
		goto fail;
	if (!ics_principal_can_on(req->principal, "apikey.admin", 0) &&
	    owner != req->principal->user_id) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "API key %s does not exist", id);
		goto fail;
	}
	if (!ics_apikey_delete(m->store, id, error))
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

const IcsApiRoute ics_api_apikey_routes[] = {
	{ "GET", "/api/v1/apikeys", list_keys, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/apikeys", create_key, ICS_API_MUTATING, "apikey.create", "apikey",
	  NULL },
	{ "DELETE", "/api/v1/apikeys/{key_id}", delete_key, ICS_API_MUTATING, "apikey.delete",
	  "apikey", "key_id" },
	{ 0 },
};
