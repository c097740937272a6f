/*
 * api_system.c: /api/v1/system/backups -- the manager's own backups:
 * listing them and taking one now (the work is in system_backup.c, the
 * task and the period in system_backup_service.c).
 *
 * A system backup holds every password hash and the key to every sealed
 * secret, so both routes need system.backup (administrators).  Taking one
 * is a task (202), one at a time (409).  The listing names no host path.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/system_backup.h"
#include "ics/manager/system_backup_service.h"

#include "api.h"

static gboolean list_backups(IcsManager *m, IcsRequest *req, IcsResponse *resp,
			     GError **error)
{
	g_autofree char *dir = ics_system_backup_dir(m);
	json_t *out;

	(void)req;
	out = ics_system_backup_list(dir, error);
	if (out == NULL)
		return FALSE;
	json_object_set_new(out, "keep", json_integer(m->cfg.system_backup_keep));
	json_object_set_new(out, "period_seconds", json_integer(m->cfg.system_backup_period_s));
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean backup_now(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!ics_system_backup_none_pending(m->store, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	return ics_api_task_accepted(m, resp, "manager.backup", "system", "manager",
				     req->principal->user_id, NULL, error);
}

const IcsApiRoute ics_api_system_routes[] = {
	{ "GET", "/api/v1/system/backups", list_backups, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/system/backups", backup_now, ICS_API_MUTATING, "system.backup",
	  "system", NULL },
	{ 0 },
};
