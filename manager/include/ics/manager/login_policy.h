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

typedef enum {
	ICS_LOGIN_OPEN,	    /* counted: check the secret now */
	ICS_LOGIN_NO_USER,  /* no such account */
	ICS_LOGIN_DISABLED, /* the account is disabled */
	ICS_LOGIN_LOCKED,   /* too many failures: locked for now */
} IcsLoginGate;

/*
 * Begin a login (or any proof of a user's secret: a password change's old
 * password, a second factor): in its own write transaction, look @name up,
 * refuse a disabled or locked account (*gate, NULL returned, no error),
 * and count this attempt as a failure -- locking the account when it
 * reaches max_failures -- until ics_login_record_success() says otherwise.
 * Returns the user, its hash included, with *gate ICS_LOGIN_OPEN.  The
 * caller must not hold the store lock.
 */
IcsUser *ics_login_attempt(IcsStore *store, const IcsLoginPolicy *policy, const char *name,
			   IcsLoginGate *gate, GError **error);
/* The secret was right: clear the count and any lock.  The caller holds a
 * write transaction. */
gboolean ics_login_record_success(IcsStore *store, gint64 user_id, GError **error);

#endif /* ICS_MANAGER_LOGIN_POLICY_H */
