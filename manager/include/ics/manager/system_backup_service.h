/*
 * ics/manager/system_backup_service.h: the manager's own backup as a task
 * (kind manager.backup) and its period (system_backup_service.c).
 */
#ifndef ICS_MANAGER_SYSTEM_BACKUP_SERVICE_H
#define ICS_MANAGER_SYSTEM_BACKUP_SERVICE_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/manager.h"
#include "ics/manager/periodic.h"

/* Where the manager's backups go: [system_backup] directory, or
 * <state_dir>/system-backups.  Free with g_free. */
char *ics_system_backup_dir(IcsManager *m);

/* Register the task kind manager.backup (no params; its result is the new
 * backup's summary, system_backup.h). */
void ics_system_backup_register(IcsManager *m);

/* No manager.backup task is queued or running (the caller holds a write
 * transaction, in which it then queues one): CONFLICT naming it
 * otherwise. */
gboolean ics_system_backup_none_pending(IcsStore *store, GError **error);

/* The period: a thread that queues a backup whenever the newest one is
 * older than [system_backup] period_seconds (none when 0).  Because the
 * decision is read from the backups on disk, a manager that failed over
 * neither skips nor doubles a day.  NULL when the period is 0; stopped
 * (ics_periodic_stop) before the tasks. */
IcsPeriodic *ics_system_backup_start(IcsManager *m);

#endif /* ICS_MANAGER_SYSTEM_BACKUP_SERVICE_H */
