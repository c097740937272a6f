/*
 * ics/manager/backup_repos.h: the backup repositories the manager knows --
 * a name for a directory that holds a repository (docs/backup-format.md).
 *
 * The manager keeps only the name, the path and the repository's id; the
 * backups are described by the repository itself, read when asked for, so
 * the catalogue can never disagree with the disk.  Registering a
 * directory that is not yet a repository makes it one.  All functions
 * run in the caller's store transaction or read (see store.h).
 */
#ifndef ICS_MANAGER_BACKUP_REPOS_H
#define ICS_MANAGER_BACKUP_REPOS_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/store.h"

/* Check @path (absolute, an existing directory, not where the VMs'
 * never-path rule forbids -- /dev, /proc, /sys, /run, @state_dir, a pool's
 * .ics directory, another repository -- also after following symbolic
 * links) and make it a repository if it is not one: its real
 * path and the repository's id (g_free both); INVALID_ARGUMENT naming what
 * is wrong.  File system work: outside any store transaction. */
gboolean ics_backup_repos_prepare(const char *path, const char *state_dir, char **real,
				  char **id, GError **error);
/* Register the repository @id at @real (from ics_backup_repos_prepare) as
 * @name: CONFLICT when the name or the directory is registered already.  In
 * a write transaction. */
gboolean ics_backup_repos_add(IcsStore *store, const char *name, const char *real,
			      const char *id, const char *user, GError **error);
/* CONFLICT, saying @why, when a vm.backup or vm.restore task of VM @uuid
 * is queued or running.  In the caller's read or transaction. */
gboolean ics_backup_none_pending(IcsStore *store, const char *uuid, const char *why,
				 GError **error);
/* CONFLICT, saying @why, when a task of kind @kind ("vm.power", or
 * "vm.restore": in place only) of VM @uuid is queued or running: a start
 * while an in-place restore writes the VM's disks, and the reverse.  In
 * the caller's read or transaction. */
gboolean ics_backup_task_none(IcsStore *store, const char *kind, const char *uuid,
			      const char *why, GError **error);
/* Forget @name (the backups stay on disk); NOT_FOUND when unknown. */
gboolean ics_backup_repos_remove(IcsStore *store, const char *name, GError **error);
/* {"name", "path", "id", "created", "created_by"} of @name, or NOT_FOUND. */
json_t *ics_backup_repos_get(IcsStore *store, const char *name, GError **error);
/* All, by name. */
json_t *ics_backup_repos_list(IcsStore *store, GError **error);

#endif /* ICS_MANAGER_BACKUP_REPOS_H */
