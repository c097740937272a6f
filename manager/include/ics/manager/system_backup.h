/*
 * ics/manager/system_backup.h: the manager's own backup, and the restore
 * of a manager from it (system_backup.c).
 *
 * A system backup is a directory <dir>/ics-manager-<time>Z/ holding a
 * consistent copy of the database (SQLite's online backup API), the
 * sealing key without which the sealed secrets in it are unreadable, the
 * generated TLS certificate and key when the state directory has them,
 * and manifest.json (format, time, ICS version, schema version, each
 * file's size and sha256).  It is written under a .partial name and
 * renamed when complete, so a listed backup is a whole one.  It holds
 * every password hash and secret of the manager: the directory is 0700,
 * the files 0600 (the manifest, which holds none, 0644).  The format and the restore procedure are in
 * docs/manager-backup.md.
 */
#ifndef ICS_MANAGER_SYSTEM_BACKUP_H
#define ICS_MANAGER_SYSTEM_BACKUP_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/store.h"

#define ICS_SYSTEM_BACKUP_FORMAT 1
#define ICS_SYSTEM_BACKUP_DEFAULT_KEEP 7
#define ICS_SYSTEM_BACKUP_DEFAULT_PERIOD_S 86400

/* Write a new system backup of @store and @state_dir's key files into
 * @dir (created 0700 if missing; refused when it is not a directory of
 * ours or is writable by others), then keep only the newest @keep complete
 * backups there.  Returns the new backup's summary (as listed below).
 * The new backup is never the one pruned, whatever its name says (a clock
 * that went back).  Leftover .partial directories of an interrupted run
 * are removed first: one manager runs at a time, and it writes one backup
 * at a time.  The copy stops (cancelled) when *@cancel becomes true. */
json_t *ics_system_backup_write(IcsStore *store, const char *state_dir, const char *dir,
				guint keep, const volatile gint *cancel, GError **error);

/* The complete backups in @dir (directories, not links, named exactly
 * ics-manager-YYYYMMDDTHHMMSS.uuuuuuZ), newest first: {"backups": [{"name",
 * "created", "ics_version", "schema_version", "bytes"}], "problems":
 * [text]} (a backup whose manifest cannot be read is a problem).  A
 * missing @dir has no backups. */
json_t *ics_system_backup_list(const char *dir, GError **error);

/* Age in seconds of the newest complete backup in @dir; -1 when there is
 * none (a backup dated more than 5 minutes ahead of this host's clock is
 * not counted, with a warning). */
gint64 ics_system_backup_newest_age_s(const char *dir);

/* Rebuild a manager's state directory from the backup directory @backup:
 * checks the manifest (format, a schema this program can open, known file
 * names), refuses a @state_dir that already has a database (or its WAL,
 * shm or journal) or a sealing key other than the backup's, copies each
 * file beside its place checking its size and sha256 as it goes, installs
 * the key and certificates (synced) before the database, and in the
 * restored database ends every session (a backup may hold sessions
 * revoked since), fails every task that was queued or running (they must
 * not run again days later) and records the restore in the audit trail.
 * The database is renamed into place last: an interrupted restore leaves
 * no manager.db and can be run again. */
gboolean ics_system_backup_restore(const char *backup, const char *state_dir, GError **error);

#endif /* ICS_MANAGER_SYSTEM_BACKUP_H */
