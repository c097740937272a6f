/*
 * login_policy.c: password rules and account lockout.
 *
 * Lockout counts consecutive failures per account, not per client: the
 * manager sits behind a floating IP and often a proxy, so client addresses
 * are a weak key, while a locked account stops a password guesser
 * whatever its address.  The lock expires by itself (lockout_seconds) or is
 * lifted by an administrator resetting the password.
 *
 * An attempt is counted as a failure *before* the secret is checked, in
 * the same write transaction that reads the count (ics_login_attempt), and
 * a success resets it.  Counting afterwards would let concurrent guesses
 * all read the same count and write back count + 1 (a lost update: 40
 * parallel wrong passwords left the count at 1); counting first also means
 * that no more than max_failures guesses are ever checked per lockout
 * period, however many arrive at once -- the attempt that reaches the limit
 * locks the account while its own check is still running, and a success
 * unlocks it again.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/timestamp.h"

void ics_login_policy_defaults(IcsLoginPolicy *policy)
{
	policy->min_password_length = 12;
	policy->min_password_classes = 3;
	policy->max_failures = 5;
	policy->lockout_seconds = 900;
	policy->session_lifetime_seconds = 8 * 3600;
	policy->session_idle_seconds = 1800;
	policy->max_sessions_per_user = 10;
}

static gboolean load_uint(GKeyFile *kf, const char *key, guint min, guint max, guint *out,
			  GError **error)
{
	g_autoptr(GError) err = NULL;
	gint64 v;

	if (!g_key_file_has_key(kf, "security", key, NULL))
		return TRUE;
	v = g_key_file_get_int64(kf, "security", key, &err);
	if (err != NULL || v < min || v > max)
		return ics_error_invalid(error, "[security] %s must be an integer from %u to %u",
					 key, min, max);
	*out = (guint)v;
	return TRUE;
}

gboolean ics_login_policy_load(IcsLoginPolicy *p, GKeyFile *kf, GError **error)
{
	return load_uint(kf, "min_password_length", 8, 1024, &p->min_password_length, error) &&
	       load_uint(kf, "min_password_classes", 1, 4, &p->min_password_classes, error) &&
	       load_uint(kf, "max_failures", 1, 1000, &p->max_failures, error) &&
	       load_uint(kf, "lockout_seconds", 1, 86400 * 30, &p->lockout_seconds, error) &&
	       load_uint(kf, "session_lifetime_seconds", 60, 86400 * 30,
			 &p->session_lifetime_seconds, error) &&
	       load_uint(kf, "session_idle_seconds", 60, 86400 * 30, &p->session_idle_seconds,
			 error) &&
	       load_uint(kf, "max_sessions_per_user", 1, 1000, &p->max_sessions_per_user, error);
}

gboolean ics_password_rules_check(const IcsLoginPolicy *policy, const char *username,
				  const char *password, GError **error)
{
	gboolean lower = FALSE, upper = FALSE, digit = FALSE, other = FALSE;
	guint classes;

	if (g_utf8_strlen(password, -1) < policy->min_password_length)
		return ics_error_invalid(error, "password must be at least %u characters long",
					 policy->min_password_length);
	for (const char *p = password; *p; p++) {
		if (g_ascii_islower(*p))
			lower = TRUE;
		else if (g_ascii_isupper(*p))
			upper = TRUE;
		else if (g_ascii_isdigit(*p))
			digit = TRUE;
		else
			other = TRUE;
	}
	classes = lower + upper + digit + other;
	if (classes < policy->min_password_classes)
		return ics_error_invalid(
			error,
			"password must mix at least %u of: lower case, upper case, "
			"digits, other characters",
			policy->min_password_classes);
	if (username && g_ascii_strcasecmp(username, password) == 0)
		return ics_error_invalid(error, "password must not be the user name");
	return TRUE;
}

gboolean ics_login_locked(const IcsUser *user, gint64 now_us)
{
	return user->locked_until_us > now_us;
}

/* The failure count and lock this attempt leaves, counted as a failure. */
static void count_attempt(const IcsLoginPolicy *policy, const IcsUser *user, gint64 now,
			  gint64 *count, gint64 *until)
{
	/* A lock that has run out starts a new count. */
	gboolean expired = user->locked_until_us != 0 && user->locked_until_us <= now;

	*count = expired ? 1 : user->failed_logins + 1;
	*until = *count >= policy->max_failures
			 ? now + (gint64)policy->lockout_seconds * G_USEC_PER_SEC
			 : 0;
}

IcsUser *ics_login_attempt(IcsStore *store, const IcsLoginPolicy *policy, const char *name,
			   IcsLoginGate *gate, GError **error)
{
	g_autoptr(IcsUser) user = NULL;
	g_autoptr(GError) err = NULL;
	gint64 now = ics_now_us(), count, until;

	*gate = ICS_LOGIN_OPEN;
	if (!ics_store_begin(store, error))
		return NULL;
	user = ics_user_get(store, name, &err);
	if (user == NULL) {
		ics_store_rollback(store);
		if (!g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&err));
			return NULL;
		}
		*gate = ICS_LOGIN_NO_USER;
		return NULL;
	}
	if (!user->enabled || ics_login_locked(user, now)) {
		ics_store_rollback(store);
		*gate = user->enabled ? ICS_LOGIN_LOCKED : ICS_LOGIN_DISABLED;
		return NULL;
	}
	count_attempt(policy, user, now, &count, &until);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"UPDATE users SET failed_logins = ?, locked_until_us = ? WHERE id = ?",
			error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, count);
		ics_stmt_bind_int(st, 2, until);
		ics_stmt_bind_int(st, 3, user->id);
		if (!ics_stmt_run(st, error))
			goto fail;
	}
	if (!ics_store_commit(store, error))
		return NULL;
	user->failed_logins = count;
	user->locked_until_us = until;
	return g_steal_pointer(&user);
fail:
	ics_store_rollback(store);
	return NULL;
}

gboolean ics_login_record_success(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE users SET failed_logins = 0, locked_until_us = 0 WHERE id = ?",
		error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	return ics_stmt_run(st, error);
}
