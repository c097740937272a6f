/*
 * ics/manager/directory_sync.h: bringing directory users into the users
 * table, and checking their passwords.
 *
 * A sync reads a domain's users (those matching its user filter under its
 * user base; disabled when they also match its disabled filter) and the
 * groups its grants name, then, in one write transaction: creates the
 * users that are new, deletes those that are gone (their sessions, keys
 * and roles with them), disables those disabled in the directory (their
 * sessions and keys end), and gives each user the roles its groups grant.
 * A name already used by a local user or another domain's is left alone
 * (a warning in the result): a directory never takes over an account.
 * When a user's groups grant two builtin roles, which exclude each other,
 * it gets neither (a warning).  A sync that would leave no enabled
 * administrator changes nothing and fails.  A search that fails or is cut
 * short by a size limit changes nothing either: users are never deleted
 * on a partial answer.
 *
 * Syncs happen on demand (the "directory.sync" task), periodically (a
 * thread queues that task for each domain whose sync_period_s has passed
 * since its last sync, never a second one while one is queued or
 * running), and for one user at each login: a directory user's groups
 * and state are read again when its password is checked, and a name
 * unknown to the manager is looked up in the domains (and created when
 * found) before the login is refused.
 */
#ifndef ICS_MANAGER_DIRECTORY_SYNC_H
#define ICS_MANAGER_DIRECTORY_SYNC_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/manager.h"
#include "ics/manager/periodic.h"
#include "ics/manager/users.h"

/* Register the "directory.sync" task kind (before the runner recovers
 * tasks). */
void ics_directory_sync_register(IcsManager *m);
/* Start the periodic thread, checking every @check_ms (after recovery);
 * stop it with ics_periodic_stop() before the task runner goes. */
IcsPeriodic *ics_directory_sync_start(IcsManager *m, guint check_ms);

/* Sync domain @name now: {"users", "created", "removed", "updated",
 * "warnings": [...]}; the outcome is recorded on the domain either way. */
json_t *ics_directory_sync_run(IcsManager *m, const char *name, GError **error);

/* Connect, bind and count users and groups: {"ok": true, "users",
 * "groups"} or {"ok": false, "error"}; FALSE only when the domain does
 * not exist or the manager failed. */
json_t *ics_directory_test(IcsManager *m, const char *name, GError **error);

/* Check directory user @user's password by binding as it, after reading
 * its state and groups again (applied at once).  *@ok FALSE when the
 * directory refuses the password or the user is gone or disabled there.
 * UNAVAILABLE when the directory cannot be reached. */
gboolean ics_directory_authenticate(IcsManager *m, const IcsUser *user, const char *password,
				    gboolean *ok, GError **error);

/* Look @name up in every domain (name order) and create it from the first
 * that has it, enabled; *@created says whether one did.  Unreachable
 * domains are logged and skipped. */
gboolean ics_directory_provision(IcsManager *m, const char *name, gboolean *created,
				 GError **error);

#endif /* ICS_MANAGER_DIRECTORY_SYNC_H */
