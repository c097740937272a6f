/*
 * ics/manager/login_policy.h: the rules a login and a password follow.
 *
 * Passwords: a minimum length and a minimum number of character classes
 * (lower case, upper case, digits, others), never the user name.  Logins:
 * after max_failures wrong passwords in a row the account is locked for
 * lockout_seconds.  Sessions: an absolute lifetime, an idle timeout, and a
 * maximum number of sessions per user (the oldest is ended to make room).
 * The values come from the [security] group of managerd.conf.
 */
#ifndef ICS_MANAGER_LOGIN_POLICY_H
#define ICS_MANAGER_LOGIN_POLICY_H

#include <glib.h>

#include "ics/manager/store.h"
#include "ics/manager/users.h"

typedef struct {
	guint min_password_length;
	guint min_password_classes;
	guint max_failures;
	guint lockout_seconds;
	guint session_lifetime_seconds;
	guint session_idle_seconds;
	guint max_sessions_per_user;
} IcsLoginPolicy;

/* 12 characters from 3 classes; 5 failures lock for 15 minutes; sessions
 * live 8 hours, end after 30 idle minutes, 10 per user. */
void ics_login_policy_defaults(IcsLoginPolicy *policy);
/* Override from [security] keys of the same names; INVALID_ARGUMENT names a
 * bad value. */
gboolean ics_login_policy_load(IcsLoginPolicy *policy, GKeyFile *kf, GError **error);

/* ICS_ERROR_INVALID_ARGUMENT saying which rule @password breaks. */
gboolean ics_password_rules_check(const IcsLoginPolicy *policy, const char *username,
				  const char *password, GError **error);

/* Is @user locked at @now_us? */
gboolean ics_login_locked(const IcsUser *user, gint64 now_us);
/* Count a failed login (locking the account at the limit) or reset the
 * count after a success.  The caller holds a write transaction. */
gboolean ics_login_record_failure(IcsStore *store, const IcsLoginPolicy *policy,
				  const IcsUser *user, GError **error);
gboolean ics_login_record_success(IcsStore *store, const IcsUser *user, GError **error);

#endif /* ICS_MANAGER_LOGIN_POLICY_H */
