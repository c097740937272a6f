/*
 * api_directories.c: /api/v1/directories -- LDAP directory domains, their
 * sync (a task) and a connectivity check.
 *
 * The bind password is write-only: no answer, log line or audit record
 * carries it.  Deleting a domain deletes its users in the same
 * transaction, refused when that would leave no enabled administrator.
 * The check ("test") answers 200 with ok false and the reason when the
 * directory cannot be reached or refuses the service account: the check
 * worked, the directory did not.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/directory.h"
#include "ics/manager/directory_sync.h"
#include "ics/manager/users.h"

#include "api.h"

static const char *directory_param(IcsRequest *req, GError **error)
{
	const char *name = ics_request_param(req, "directory");

	return ics_name_check("directory name", name, error) ? name : NULL;
}

static gboolean list_directories(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *out;

	ics_store_read_begin(m->store);
	out = ics_directory_list(m->store, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean get_directory(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = directory_param(req, error);
	json_t *out;

	if (name == NULL)
		return FALSE;
	ics_store_read_begin(m->store);
	out = ics_directory_get(m->store, name, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

/* Commit and answer @status with domain @name. */
static gboolean answer(IcsManager *m, IcsResponse *resp, guint status, const char *name,
		       GError **error)
{
	json_t *out = ics_directory_get(m->store, name, error);

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

/* authz_rules.c "grant": mapping a group to roles grants those roles to
 * the group's members, so the caller must hold everything they give.  In
 * the caller's transaction. */
static gboolean may_map(IcsManager *m, const IcsRequest *req, const json_t *body, GError **error)
{
	json_t *map = json_object_get(body, "group_roles"), *roles;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(IcsPrincipal) want = NULL;
	const char *group;
	size_t i;

	if (!json_is_object(map))
		return TRUE; /* absent, or refused by the schema */
	json_object_foreach(map, group, roles)
	{
		json_t *r;

		json_array_foreach(roles, i, r) if (json_is_string(r))
			g_ptr_array_add(names, (gpointer)json_string_value(r));
	}
	g_ptr_array_add(names, NULL);
	want = ics_principal_of_roles(m->store, (const char *const *)names->pdata, error);
	return want && ics_principal_check_covers(req->principal, want,
						  "map directory groups to these roles", error);
}

static gboolean create_directory(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_directory_create, error);
	const char *name;

	if (body == NULL)
		return FALSE;
	name = json_string_value(json_object_get(body, "name"));
	req->audit_object_id = g_strdup(name);
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!may_map(m, req, body, error) ||
	    !ics_directory_create(m->sealer, m->store, body, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	return answer(m, resp, 201, name, error);
}

static gboolean update_directory(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = directory_param(req, error);
	g_autoptr(json_t) body = NULL;

	if (name == NULL)
		return FALSE;
	body = ics_api_body(req, &ics_schema_directory_update, error);
	if (body == NULL)
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!may_map(m, req, body, error) ||
	    !ics_directory_update(m->sealer, m->store, name, body, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	return answer(m, resp, 200, name, error);
}

static gboolean delete_directory(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = directory_param(req, error);
	gint64 admins;

	if (name == NULL)
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_directory_delete(m->store, name, error) ||
	    (admins = ics_user_admin_count(m->store, error)) < 0)
		goto fail;
	if (admins == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "deleting directory \"%s\" would delete the last enabled "
			    "administrator; make a local one first",
			    name);
		goto fail;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	ics_manager_credentials_revoked(m);
	resp->status = 204;
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

static gboolean sync_directory(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = directory_param(req, error);
	g_autoptr(json_t) params = NULL;
	json_t *d;

	if (name == NULL)
		return FALSE;
	params = json_pack("{s:s}", "directory", name);
	if (!ics_store_begin(m->store, error))
		return FALSE;
	d = ics_directory_get(m->store, name, error);
	if (d == NULL) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	json_decref(d);
	return ics_api_task_accepted(m, resp, "directory.sync", "directory", name,
				     req->principal->user_id, params, error);
}

static gboolean test_directory(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = directory_param(req, error);
	json_t *out;

	if (name == NULL)
		return FALSE;
	out = ics_directory_test(m, name, error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

const IcsApiRoute ics_api_directory_routes[] = {
	{ "GET", "/api/v1/directories", list_directories, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/directories", create_directory, ICS_API_MUTATING, "directory.create",
	  "directory", NULL },
	{ "GET", "/api/v1/directories/{directory}", get_directory, 0, NULL, NULL, NULL },
	{ "PATCH", "/api/v1/directories/{directory}", update_directory, ICS_API_MUTATING,
	  "directory.update", "directory", "directory" },
	{ "DELETE", "/api/v1/directories/{directory}", delete_directory, ICS_API_MUTATING,
	  "directory.delete", "directory", "directory" },
	{ "POST", "/api/v1/directories/{directory}/sync", sync_directory, ICS_API_MUTATING,
	  "directory.sync", "directory", "directory" },
	{ "POST", "/api/v1/directories/{directory}/test", test_directory, ICS_API_MUTATING,
	  "directory.test", "directory", "directory" },
	{ 0 },
};
