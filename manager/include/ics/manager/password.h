/*
 * ics/manager/password.h: password hashing with yescrypt (libxcrypt).
 *
 * Hashes are crypt(3) strings ("$y$..."), so the salt and cost travel with
 * the hash and a later cost change re-hashes nothing.  Verification
 * compares in constant time, and a login for a user that does not exist
 * still pays for one hash (ics_password_verify_dummy) so response times do
 * not tell which user names exist.
 */
#ifndef ICS_MANAGER_PASSWORD_H
#define ICS_MANAGER_PASSWORD_H

#include <glib.h>

/* A new yescrypt hash of @password with a fresh salt; g_free it. */
char *ics_password_hash(const char *password, GError **error);
/* TRUE when @password matches @hash. */
gboolean ics_password_verify(const char *password, const char *hash);
/* Spend the time of one verification; always FALSE. */
gboolean ics_password_verify_dummy(const char *password);
/* A random password of 20 characters from four classes; g_free it. */
char *ics_password_generate(GError **error);

/* Constant-time comparison of two strings of any length. */
gboolean ics_secret_equal(const char *a, const char *b);

#endif /* ICS_MANAGER_PASSWORD_H */
