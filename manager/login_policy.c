/*
 * login_policy.c: password rules and account lockout.
 *
 * Lockout counts consecutive failures per account, not per client: the
 * manager sits behind a floating IP and often a proxy, so client addresses
 * are a weak key, while a locked account stops a password guesser
 * whatever its address.  The lock expires by itself (lockout_seconds) or is
 * lifted by an administrator resetting the password.
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

gboolean ics_login_record_failure(IcsStore *store, const IcsLoginPolicy *policy,
				  const IcsUser *user, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE users SET failed_logins = ?, locked_until_us = ? WHERE id = ?",
		error);
	gint64 now = ics_now_us();
	/* A lock that has run out starts a new count. */
	gboolean expired = user->locked_until_us != 0 && user->locked_until_us <= now;
	gint64 count = expired ? 1 : user->failed_logins + 1;
	gint64 until = count >= policy->max_failures
			       ? now + (gint64)policy->lockout_seconds * G_USEC_PER_SEC
			       : 0;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, count);
	ics_stmt_bind_int(st, 2, until);
	ics_stmt_bind_int(st, 3, user->id);
	return ics_stmt_run(st, error);
}

gboolean ics_login_record_success(IcsStore *store, const IcsUser *user, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE users SET failed_logins = 0, locked_until_us = 0 WHERE id = ?",
		error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user->id);
	return ics_stmt_run(st, error);
}
