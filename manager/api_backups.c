/*
 * api_backups.c: /api/v1/backup-repositories and /api/v1/vms/{uuid}/backups
 * -- where backups go, what a VM has, and taking one (the work is in
 * backup_service.c and libicsbackup; the format in docs/backup-format.md).
 *
 * A repository is a host path, so registering one needs backup.admin
 * (administrators) and the path is checked (backup_repos.c); unregistering
 * leaves the backups on disk, and is refused while a policy uses it.  A backup is a task (202) whose object is
 * the VM and whose owner is the VM's owner; the repository must exist when
 * it is asked for, and a VM has one backup task queued or running at a
 * time (409: the task runner's threads are everyone's).  Listing a VM's
 * backups reads every repository now: a repository that cannot be read is
 * reported in "problems", not hidden.  Repository paths are shown to
 * backup.admin only, in lists and in problems.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/backup_policies.h"
#include "ics/manager/backup_repos.h"
#include "ics/manager/backup_restore.h"
#include "ics/manager/backup_service.h"

#include "api.h"

static const IcsField repo_create_fields[] = {
	{ "name", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "path", ICS_FIELD_STRING, TRUE, 1, 4096 },
	{ 0 },
};
static const IcsSchema repo_create_schema = { "backup repository", repo_create_fields };

/* why a second backup or restore of a VM is refused */
#define ONE_AT_A_TIME "one backup or restore at a time"

static const IcsField backup_fields[] = {
	{ "repository", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "full", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
static const IcsSchema backup_schema = { "backup request", backup_fields };

static const IcsField restore_fields[] = {
	{ "repository", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "to", ICS_FIELD_STRING, FALSE, 1, 16 },
	{ "name", ICS_FIELD_NAME, FALSE, 0, 0 },
	{ "pool", ICS_FIELD_NAME, FALSE, 0, 0 },
	{ "disks", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ 0 },
};
static const IcsSchema restore_schema = { "restore request", restore_fields };

/* Host paths are an administrator's business: shown to backup.admin. */
static gboolean sees_paths(const IcsRequest *req)
{
	return ics_principal_can_on(req->principal, "backup.admin", 0);
}

static gboolean list_repos(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	json_t *out, *r;
	size_t i;

	ics_store_read_begin(m->store);
	out = ics_backup_repos_list(m->store, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	if (!sees_paths(req))
		json_array_foreach(out, i, r)
		{
			json_object_del(r, "path");
			json_object_del(r, "created_by");
		}
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean create_repo(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &repo_create_schema, error);
	g_autofree char *real = NULL, *id = NULL;
	g_autoptr(json_t) taken = NULL;
	const char *name, *path;
	json_t *out;

	if (body == NULL)
		return FALSE;
	name = json_string_value(json_object_get(body, "name"));
	path = json_string_value(json_object_get(body, "path"));
	req->audit_object_id = g_strdup(name);
	/* a taken name first: nothing is made of the directory then */
	ics_store_read_begin(m->store);
	taken = ics_backup_repos_get(m->store, name, NULL);
	ics_store_read_end(m->store);
	if (taken) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "a repository named %s is registered already", name);
		return FALSE;
	}
	/* the directory is checked and made a repository before the write
	 * transaction: a slow file system holds no lock */
	if (!ics_backup_repos_prepare(path, m->cfg.state_dir, &real, &id, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_backup_repos_add(m->store, name, real, id, req->principal->name, error) ||
	    (out = ics_backup_repos_get(m->store, name, error)) == NULL) {
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

static gboolean delete_repo(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "repository");

	if (!ics_name_check("repository name", name, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_backup_policy_repo_unused(m->store, name, error) ||
	    !ics_backup_repos_remove(m->store, name, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	resp->status = 204;
	return TRUE;
}

/* The route's object permission on VM @uuid, also when the VM is gone
 * (deleted, its backups kept): then to callers who hold the permission on
 * every VM only, and *@owner is 0. */
static gboolean backed_vm_access(IcsManager *m, const IcsRequest *req, const char *uuid,
				 gint64 *owner, GError **error)
{
	g_autoptr(GError) err = NULL;

	ics_store_read_begin(m->store);
	if (ics_api_vm_access(m, req, uuid, owner, &err)) {
		ics_store_read_end(m->store);
		return TRUE;
	}
	ics_store_read_end(m->store);
	if (g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND) &&
	    ics_principal_scope(req->principal, ics_api_object_permission(req)) == ICS_SCOPE_ALL) {
		*owner = 0;
		return TRUE;
	}
	g_propagate_error(error, g_steal_pointer(&err));
	return FALSE;
}

static gboolean list_vm_backups(IcsManager *m, IcsRequest *req, IcsResponse *resp,
				GError **error)
{
	const char *uuid;
	gint64 owner;
	json_t *out;

	if (!ics_api_vm_uuid(req, &uuid, error) || !backed_vm_access(m, req, uuid, &owner, error))
		return FALSE;
	out = ics_backup_catalogue_vm(m, uuid, sees_paths(req), error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean backup_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &backup_schema, error);
	g_autoptr(json_t) params = NULL;
	g_autoptr(json_t) repo = NULL;
	const char *uuid, *name;
	gint64 owner;

	if (body == NULL || !ics_api_vm_uuid(req, &uuid, error))
		return FALSE;
	if (m->cluster == NULL || m->cluster->vm_backup == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only and cannot "
			    "back up VMs");
		return FALSE;
	}
	name = json_string_value(json_object_get(body, "repository"));
	params = json_pack("{s:s, s:b}", "repository", name, "full",
			   json_is_true(json_object_get(body, "full")));
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_api_vm_access(m, req, uuid, &owner, error) ||
	    (repo = ics_backup_repos_get(m->store, name, error)) == NULL ||
	    !ics_backup_none_pending(m->store, uuid, ONE_AT_A_TIME, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	return ics_api_task_accepted(m, resp, "vm.backup", "vm", uuid, owner, params, error);
}

static gboolean restore_backup(IcsManager *m, IcsRequest *req, IcsResponse *resp,
			       GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &restore_schema, error);
	g_autoptr(json_t) params = NULL;
	const char *uuid, *backup = ics_request_param(req, "backup");
	gint64 vm_owner, owner;

	if (body == NULL || !ics_api_vm_uuid(req, &uuid, error) ||
	    !backed_vm_access(m, req, uuid, &vm_owner, error))
		return FALSE;
	params = ics_backup_restore_plan(m, req->principal, uuid, vm_owner, backup, body, &owner,
					 error);
	if (params == NULL) {
		/* host paths are an administrator's business */
		if (!sees_paths(req) && error && *error &&
		    ((*error)->code == ICS_ERROR_UNAVAILABLE || (*error)->code == ICS_ERROR_IO ||
		     (*error)->code == ICS_ERROR_BUSY)) {
			int code = (*error)->code;

			g_clear_error(error);
			g_set_error(error, ICS_ERROR, code,
				    "the restore cannot be done now: repository or pool not usable "
				    "(its details: ask an administrator)");
		}
		return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_backup_none_pending(m->store, uuid, ONE_AT_A_TIME, error) ||
	    (g_strcmp0(json_string_value(json_object_get(params, "to")), "in-place") == 0 &&
	     !ics_backup_task_none(m->store, "vm.power", uuid,
				   "restore in place when the VM has settled", error))) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	return ics_api_task_accepted(m, resp, "vm.restore", "vm", uuid, owner, params, error);
}

const IcsApiRoute ics_api_backup_routes[] = {
	{ "GET", "/api/v1/backup-repositories", list_repos, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/backup-repositories", create_repo, ICS_API_MUTATING,
	  "backup.repository.create", "backup-repository", NULL },
	{ "DELETE", "/api/v1/backup-repositories/{repository}", delete_repo, ICS_API_MUTATING,
	  "backup.repository.delete", "backup-repository", "repository" },
	{ "GET", "/api/v1/vms/{uuid}/backups", list_vm_backups, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/vms/{uuid}/backups", backup_vm, ICS_API_MUTATING, "vm.backup", "vm",
	  "uuid" },
	{ "POST", "/api/v1/vms/{uuid}/backups/{backup}/restore", restore_backup, ICS_API_MUTATING,
	  "vm.restore", "vm", "uuid" },
	{ 0 },
};
