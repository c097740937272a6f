/*
 * ics/manager/backup_policies.h: backup policies -- which VMs are backed up
 * into which repository on what cron schedule, and what a retention keeps
 * of them afterwards (backup_policies.c).
 *
 * A policy JSON: {"name", "schedule" (crontab(5), UTC), "repository",
 * "all_vms": true, or what it backs up: "vms" [uuid...], "pools" [name...]
 * (the VMs on them), "hosts" [name...] (the VMs running there) -- read
 * when its time comes --, "retention" ("last=7,daily=7", or
 * null: keep everything), "max_concurrent" (its backups running at once),
 * "enabled", "next_run", "last_run", "due" (VMs whose backup is waiting
 * or running),
 * "created", "created_by"}.
 */
#ifndef ICS_MANAGER_BACKUP_POLICIES_H
#define ICS_MANAGER_BACKUP_POLICIES_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/manager.h"
#include "ics/manager/periodic.h"
#include "ics/manager/request_schema.h"

/* The request bodies: create, and update (every field optional). */
extern const IcsSchema ics_schema_backup_policy_create;
extern const IcsSchema ics_schema_backup_policy_update;

/* In the caller's write transaction.  Create from a checked body (the
 * schedule, the retention, the repository and each VM, given by name or
 * uuid, are checked here: INVALID_ARGUMENT naming what is wrong; CONFLICT
 * for a taken name); update the fields given (enabling it or changing its
 * schedule starts it from now; VMs taken out are no longer due); delete
 * (its due VMs go too).  NOT_FOUND for an unknown policy. */
json_t *ics_backup_policy_create(IcsStore *store, const json_t *body, const char *by,
				 GError **error);
json_t *ics_backup_policy_update(IcsStore *store, const char *name, const json_t *body,
				 GError **error);
gboolean ics_backup_policy_delete(IcsStore *store, const char *name, GError **error);
/* Make every VM of the policy due now (run it now); CONFLICT when it is
 * disabled.  Those it selects by pool or host: where @m's cluster has
 * them now. */
json_t *ics_backup_policy_run_now(IcsManager *m, const char *name, GError **error);

/* In a read or a transaction. */
json_t *ics_backup_policy_get(IcsStore *store, const char *name, GError **error);
json_t *ics_backup_policy_list(IcsStore *store, GError **error);
/* CONFLICT naming a policy that uses repository @name. */
gboolean ics_backup_policy_repo_unused(IcsStore *store, const char *name, GError **error);

/* One pass of the scheduler (takes the lock itself): every enabled
 * policy whose next schedule time has come makes its VMs due (once, however
 * many times were missed while no manager ran), then a backup task is
 * queued for each due VM that has none queued or running, while fewer
 * than max_concurrent of the policy's backups are queued or running; a
 * VM's row ends with its task (or comes due again if a restart ended
 * it). */
void ics_backup_policies_tick(IcsManager *m);
/* The scheduler's thread, every @check_ms; stop it (ics_periodic_stop)
 * before the tasks. */
IcsPeriodic *ics_backup_policies_start(IcsManager *m, guint check_ms);

#endif /* ICS_MANAGER_BACKUP_POLICIES_H */
