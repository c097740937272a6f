/*
 * ics/manager/session.h: login sessions.
 *
 * A session token is 256 random bits, given to the client once as 64 hex
 * digits and stored only as its SHA-256, so a copy of the database does not
 * let anyone in.  A session ends at its absolute expiry, after the policy's
 * idle time without a request, at logout, or when the user's session limit
 * makes room for a newer one.
 */
#ifndef ICS_MANAGER_SESSION_H
#define ICS_MANAGER_SESSION_H

#include <glib.h>

#include "ics/manager/login_policy.h"
#include "ics/manager/store.h"

/*
 * What a session may do.  A full session carries its user's permissions.
 * A password accepted for a user with a second factor opens a session
 * waiting for the code (SECOND_FACTOR); one accepted for a user who must
 * use a second factor but has none yet opens a session limited to
 * enrolling one (ENROL).  Both grant no permission, live
 * ICS_SESSION_PENDING_SECONDS, and become full sessions once the code is
 * proved (ics_session_promote).
 */
typedef enum {
	ICS_SESSION_FULL,
	ICS_SESSION_SECOND_FACTOR,
	ICS_SESSION_ENROL,
} IcsSessionStage;

#define ICS_SESSION_PENDING_SECONDS 300

/* "full", "second_factor", "enrol". */
const char *ics_session_stage_name(IcsSessionStage stage);

/* Create a session of @stage for @user_id (the caller holds a write
 * transaction): returns the token (g_free it) and its expiry in
 * @expires_us. */
char *ics_session_create(IcsStore *store, const IcsLoginPolicy *policy, gint64 user_id,
			 IcsSessionStage stage, const char *client, gint64 *expires_us,
			 GError **error);
/* Make session @session_id a full session with a full lifetime from now;
 * its expiry in @expires_us (the caller holds a write transaction). */
gboolean ics_session_promote(IcsStore *store, const IcsLoginPolicy *policy, gint64 session_id,
			     gint64 *expires_us, GError **error);

/* Find the live session of @token (takes the store lock itself) and note
 * the activity; its stage in @stage.  ICS_ERROR_PERMISSION "session
 * expired" or "invalid session token" when there is none. */
gboolean ics_session_lookup(IcsStore *store, const IcsLoginPolicy *policy, const char *token,
			    gint64 *user_id, gint64 *session_id, IcsSessionStage *stage,
			    GError **error);

/* End a session, or all of a user's sessions but @except_session_id (0:
 * all) (the caller holds a write transaction). */
gboolean ics_session_delete(IcsStore *store, gint64 session_id, GError **error);
gboolean ics_session_delete_user(IcsStore *store, gint64 user_id, gint64 except_session_id,
				 GError **error);

/* Is session @session_id still there and not past its absolute expiry
 * (PERMISSION "the session has ended" otherwise)?  Its expiry in
 * @expires_us.  Does not count as activity.  The caller holds the lock or a
 * reader. */
gboolean ics_session_alive(IcsStore *store, gint64 session_id, gint64 *expires_us, GError **error);

/* Number of live sessions of @user_id (tests, limits). */
gint64 ics_session_count(IcsStore *store, gint64 user_id, GError **error);

#endif /* ICS_MANAGER_SESSION_H */
