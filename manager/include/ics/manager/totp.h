/*
 * ics/manager/totp.h: the TOTP second factor (RFC 6238) of user accounts.
 *
 * A user enrols by asking for a secret (shown once, as an otpauth:// URI
 * and a QR code for an authenticator app) and proving one code computed
 * from it; only then is the second factor active, and ten single-use
 * recovery codes are shown, once.  Codes are 6 digits over 30-second
 * steps; the step before and the step after the manager's clock are
 * accepted too (clock skew), and a step once accepted is never accepted
 * again for that user, so an observed code cannot be replayed.
 *
 * Stored: the secret sealed (seal.h, bound to the user id), the last step
 * accepted, and the SHA-256 of each unused recovery code (80 random bits
 * each, so the hash cannot be reversed by search).
 *
 * A user must use a second factor when its account says so or one of its
 * roles does (second_factor_required on users and roles).
 *
 * Every function here runs in the caller's write transaction (or under a
 * reader for the read-only ones): the check of a code and the record of
 * its step are one transaction, so two requests racing with one code
 * cannot both succeed.
 */
#ifndef ICS_MANAGER_TOTP_H
#define ICS_MANAGER_TOTP_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/seal.h"
#include "ics/manager/store.h"

#define ICS_TOTP_DIGITS 6
#define ICS_TOTP_STEP_S 30
#define ICS_TOTP_RECOVERY_CODES 10

/* Initialise liboath once per process (idempotent, thread-safe). */
void ics_totp_global_init(void);

/* The @digits-digit TOTP code of @secret (raw bytes) at @unix_time, as
 * RFC 6238 computes it with HMAC-SHA1 and 30-second steps; NULL on
 * failure.  g_free it. */
char *ics_totp_code(const guint8 *secret, gsize len, gint64 unix_time, guint digits);

/* Begin (or restart) the enrolment of @user_id: a new 160-bit secret,
 * replacing a pending one.  Returns {"secret" (base32), "otpauth_uri",
 * "qr_svg"}.  CONFLICT when the user has an active second factor. */
json_t *ics_totp_enrol(IcsSealer *sealer, IcsStore *store, gint64 user_id, const char *user_name,
		       const char *issuer, GError **error);
/* Finish the enrolment with a code of the pending secret: the second
 * factor becomes active and {"recovery_codes": [...]} is returned.
 * NOT_FOUND when no enrolment is pending, PERMISSION when the code is
 * wrong. */
json_t *ics_totp_confirm(IcsSealer *sealer, IcsStore *store, gint64 user_id, const char *code,
			 GError **error);
/* Check a proof of the active second factor: a current code (its step
 * recorded) or, when @allow_recovery, an unused recovery code (consumed).
 * PERMISSION "wrong code" (or "code already used") when it is not;
 * NOT_FOUND when the user has no active second factor.  *@recovery (may be
 * NULL) says a recovery code was used. */
gboolean ics_totp_verify(IcsSealer *sealer, IcsStore *store, gint64 user_id, const char *code,
			 gboolean allow_recovery, gboolean *recovery, GError **error);
/* Replace the recovery codes: {"recovery_codes": [...]}. */
json_t *ics_totp_new_recovery_codes(IcsStore *store, gint64 user_id, GError **error);
/* Remove the second factor (active or pending) and the recovery codes;
 * NOT_FOUND when there is none. */
gboolean ics_totp_remove(IcsStore *store, gint64 user_id, const char *user_name, GError **error);

/* Has @user_id an active second factor? */
gboolean ics_totp_enrolled(IcsStore *store, gint64 user_id, gboolean *enrolled, GError **error);
/* Must @user_id use a second factor (its account's flag or a role's)? */
gboolean ics_totp_required(IcsStore *store, gint64 user_id, gboolean *required, GError **error);
/* {"enrolled", "pending", "required", "recovery_codes_left", "enrolled_at"}. */
json_t *ics_totp_status(IcsStore *store, gint64 user_id, GError **error);

/* An SVG image of the QR code of @text (error correction M, 4 modules of
 * quiet zone); g_free it. */
char *ics_totp_qr_svg(const char *text, GError **error);

#endif /* ICS_MANAGER_TOTP_H */
