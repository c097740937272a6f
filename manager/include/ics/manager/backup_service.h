/*
 * ics/manager/backup_service.h: VM backups in the manager -- the task that
 * takes one (kind vm.backup) and the catalogue of a VM's backups across
 * the registered repositories (backup_service.c).
 */
#ifndef ICS_MANAGER_BACKUP_SERVICE_H
#define ICS_MANAGER_BACKUP_SERVICE_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/manager.h"

/* Register the task kind vm.backup: params {"repository": NAME, "full":
 * bool}, object the VM's uuid; its result is the new backup
 * (ics_backup_manifest_to_json without the definition, plus
 * "repository"). */
void ics_backup_tasks_register(IcsManager *m);

/* The backups of VM @uuid in every registered repository, oldest first per
 * repository: {"backups": [...], "problems": [...]} -- a repository that
 * cannot be read (unmounted, another repository at its path) or a backup
 * whose manifest cannot be read is a problem, not an error; the problems
 * name paths only @with_paths (the caller holds backup.admin).  Takes a
 * reader itself. */
json_t *ics_backup_catalogue_vm(IcsManager *m, const char *uuid, gboolean with_paths,
				GError **error);

/* The repository registered as @name, opened, checked to be the one
 * registered there (its id); NOT_FOUND, or UNAVAILABLE when its path no
 * longer holds it.  Takes a reader itself. */
IcsBackupRepo *ics_backup_repo_named(IcsManager *m, const char *name, GError **error);

#endif /* ICS_MANAGER_BACKUP_SERVICE_H */
