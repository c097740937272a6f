/*
 * totp.c: enrolment, codes, replay refusal and recovery codes of the TOTP
 * second factor (RFC 6238 through liboath; the QR code through
 * libqrencode).
 *
 * Codes are computed by liboath for the steps around the manager's clock
 * and compared here in constant time, rather than with liboath's
 * validator, for two reasons: the comparison does not leak how many
 * digits matched, and the step that matched is known exactly, so a code
 * is accepted only for a step after the last one accepted (the replay
 * rule of RFC 6238 section 5.2).  The check and the record of the step are
 * in the caller's write transaction: of two requests carrying one code,
 * the second sees the step already recorded.
 *
 * Recovery codes carry 80 random bits (16 base32 characters, shown in
 * groups of four) so their SHA-256 is as safe to store as a session
 * token's; using one deletes its row, under the same transaction rule.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <oath.h>
#include <qrencode.h>

#include "ics/error.h"
#include "ics/manager/password.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/totp.h"

#define SECRET_BYTES 20
#define RECOVERY_CHARS 16
#define BASE32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

void ics_totp_global_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		if (oath_init() != OATH_OK)
			g_error("liboath cannot be initialised");
		g_once_init_leave(&done, 1);
	}
}

char *ics_totp_code(const guint8 *secret, gsize len, gint64 unix_time, guint digits)
{
	char out[16] = { 0 };

	ics_totp_global_init();
	if (digits < 6 || digits > 8 ||
	    oath_totp_generate((const char *)secret, len, (time_t)unix_time, ICS_TOTP_STEP_S, 0,
			       digits, out) != OATH_OK)
		return NULL;
	return g_strdup(out);
}

static char *aad_for(gint64 user_id)
{
	return g_strdup_printf("totp:%" G_GINT64_FORMAT, user_id);
}

/* The user's row: the sealed secret opened (base32 text), whether it is
 * confirmed, the last step accepted.  NOT_FOUND when there is none. */
static char *load(IcsSealer *sealer, IcsStore *store, gint64 user_id, gboolean *confirmed,
		  gint64 *last_step, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT sealed_secret, confirmed, last_step FROM totp WHERE user_id = ?",
		error);
	g_autofree char *aad = aad_for(user_id);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, user_id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "user #%" G_GINT64_FORMAT " has no second factor", user_id);
		return NULL;
	}
	*confirmed = sqlite3_column_int(st, 1) != 0;
	*last_step = sqlite3_column_int64(st, 2);
	return ics_unseal(sealer, aad, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0),
			  NULL, error);
}

/* The step (> @last_step) at which @code is the code of @secret_b32,
 * within one step of now; 0 when none. */
static gint64 matching_step(const char *secret_b32, const char *code, gint64 last_step,
			    gboolean *replayed)
{
	char *raw = NULL;
	size_t raw_len = 0;
	gint64 now_step = ics_now_us() / G_USEC_PER_SEC / ICS_TOTP_STEP_S, found = 0;

	*replayed = FALSE;
	if (strlen(code) != ICS_TOTP_DIGITS ||
	    oath_base32_decode(secret_b32, strlen(secret_b32), &raw, &raw_len) != OATH_OK)
		return 0;
	/* Every candidate is computed and compared, found or not: the time
	 * taken does not say which step matched. */
	for (gint64 step = now_step - 1; step <= now_step + 1; step++) {
		g_autofree char *c = ics_totp_code((const guint8 *)raw, raw_len,
						   step * ICS_TOTP_STEP_S, ICS_TOTP_DIGITS);

		if (c && ics_secret_equal(c, code) && found == 0) {
			if (step > last_step)
				found = step;
			else
				*replayed = TRUE;
		}
	}
	explicit_bzero(raw, raw_len);
	free(raw);
	if (found)
		*replayed = FALSE;
	return found;
}

static gboolean wrong_code(gboolean replayed, GError **error)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "%s",
		    replayed ? "this code was already used; wait for the next one"
			     : "wrong second factor code");
	return FALSE;
}

static gboolean set_step(IcsStore *store, gint64 user_id, gint64 step, gboolean confirm,
			 GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"UPDATE totp SET last_step = ?, confirmed = 1,"
		" confirmed_us = CASE WHEN ? THEN ? ELSE confirmed_us END WHERE user_id = ?",
		error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, step);
	ics_stmt_bind_int(st, 2, confirm);
	ics_stmt_bind_int(st, 3, ics_now_us());
	ics_stmt_bind_int(st, 4, user_id);
	return ics_stmt_run(st, error);
}

static char *random_base32(guint n)
{
	g_autofree guint8 *rnd = g_malloc(n);
	char *s;

	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, n) != 0)
		return NULL;
	s = g_malloc0(n + 1);
	for (guint i = 0; i < n; i++)
		s[i] = BASE32[rnd[i] % 32]; /* 256 = 8 x 32: no bias */
	explicit_bzero(rnd, n);
	return s;
}

json_t *ics_totp_enrol(IcsSealer *sealer, IcsStore *store, gint64 user_id, const char *user_name,
		       const char *issuer, GError **error)
{
	guint8 raw[SECRET_BYTES];
	char *b32 = NULL;
	size_t b32_len = 0;
	g_autofree char *aad = aad_for(user_id);
	g_autofree guint8 *sealed = NULL;
	g_autofree char *label = NULL, *uri = NULL, *svg = NULL;
	gsize sealed_len;
	gboolean enrolled;
	json_t *out;

	ics_totp_global_init();
	if (!ics_totp_enrolled(store, user_id, &enrolled, error))
		return NULL;
	if (enrolled) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "user \"%s\" already has a second factor; remove it first "
			    "(POST /api/v1/users/%s/totp/disable with a code)",
			    user_name, user_name);
		return NULL;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "no random bytes for a TOTP secret");
		return NULL;
	}
	if (oath_base32_encode((const char *)raw, sizeof(raw), &b32, &b32_len) != OATH_OK) {
		explicit_bzero(raw, sizeof(raw));
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot encode a TOTP secret");
		return NULL;
	}
	explicit_bzero(raw, sizeof(raw));
	sealed = ics_seal(sealer, aad, b32, b32_len, &sealed_len, error);
	if (sealed == NULL)
		goto fail;
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"INSERT OR REPLACE INTO totp (user_id, sealed_secret, confirmed, last_step,"
			" created_us) VALUES (?, ?, 0, 0, ?)",
			error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, user_id);
		sqlite3_bind_blob(st, 2, sealed, (int)sealed_len, SQLITE_TRANSIENT);
		ics_stmt_bind_int(st, 3, ics_now_us());
		if (!ics_stmt_run(st, error))
			goto fail;
	}
	{
		g_autofree char *i = g_uri_escape_string(issuer, NULL, FALSE);
		g_autofree char *u = g_uri_escape_string(user_name, NULL, FALSE);

		label = g_strdup_printf("%s:%s", i, u);
		uri = g_strdup_printf("otpauth://totp/%s?secret=%s&issuer=%s&algorithm=SHA1"
				      "&digits=%d&period=%d",
				      label, b32, i, ICS_TOTP_DIGITS, ICS_TOTP_STEP_S);
	}
	svg = ics_totp_qr_svg(uri, error);
	if (svg == NULL)
		goto fail;
	out = json_pack("{s:s, s:s, s:s}", "secret", b32, "otpauth_uri", uri, "qr_svg", svg);
	explicit_bzero(b32, b32_len);
	free(b32);
	explicit_bzero(uri, strlen(uri));
	return out;
fail:
	explicit_bzero(b32, b32_len);
	free(b32);
	if (uri)
		explicit_bzero(uri, strlen(uri));
	return NULL;
}

/* Replace the recovery codes with new ones: their text, shown as
 * xxxx-xxxx-xxxx-xxxx (g_strfreev). */
static GStrv make_recovery_codes(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(GPtrArray) shown = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(IcsStmt) del =
		ics_store_stmt(store, "DELETE FROM totp_recovery WHERE user_id = ?", error);

	if (del == NULL)
		return NULL;
	ics_stmt_bind_int(del, 1, user_id);
	if (!ics_stmt_run(del, error))
		return NULL;
	for (guint i = 0; i < ICS_TOTP_RECOVERY_CODES; i++) {
		g_autofree char *raw = random_base32(RECOVERY_CHARS);
		g_autofree char *hash = NULL, *low = NULL;
		g_autoptr(IcsStmt) ins = NULL;

		if (raw == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "no random bytes for recovery codes");
			return NULL;
		}
		hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, raw, -1);
		low = g_ascii_strdown(raw, -1);
		explicit_bzero(raw, strlen(raw));
		g_ptr_array_add(shown, g_strdup_printf("%.4s-%.4s-%.4s-%.4s", low, low + 4, low + 8,
						       low + 12));
		explicit_bzero(low, strlen(low));
		ins = ics_store_stmt(store,
				     "INSERT INTO totp_recovery (user_id, code_hash) VALUES (?, ?)",
				     error);
		if (ins == NULL)
			return NULL;
		ics_stmt_bind_int(ins, 1, user_id);
		ics_stmt_bind_text(ins, 2, hash);
		if (!ics_stmt_run(ins, error))
			return NULL;
	}
	g_ptr_array_add(shown, NULL);
	return (GStrv)g_ptr_array_free(g_steal_pointer(&shown), FALSE);
}

static json_t *recovery_json(GStrv codes)
{
	json_t *a = json_array();

	for (guint i = 0; codes[i]; i++) {
		json_array_append_new(a, json_string(codes[i]));
		explicit_bzero(codes[i], strlen(codes[i]));
	}
	g_strfreev(codes);
	return json_pack("{s:o}", "recovery_codes", a);
}

json_t *ics_totp_confirm(IcsSealer *sealer, IcsStore *store, gint64 user_id, const char *code,
			 GError **error)
{
	gboolean confirmed, replayed;
	gint64 last_step, step;
	char *secret = load(sealer, store, user_id, &confirmed, &last_step, error);
	GStrv codes;

	if (secret == NULL)
		return NULL;
	if (confirmed) {
		ics_unsealed_free(secret);
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "the second factor is already active; nothing to confirm");
		return NULL;
	}
	step = matching_step(secret, code, last_step, &replayed);
	ics_unsealed_free(secret);
	if (step == 0) {
		wrong_code(replayed, error);
		return NULL;
	}
	if (!set_step(store, user_id, step, TRUE, error))
		return NULL;
	codes = make_recovery_codes(store, user_id, error);
	return codes ? recovery_json(codes) : NULL;
}

/* Consume recovery code @code of @user_id; FALSE (no error) when it is not
 * one. */
static gboolean use_recovery(IcsStore *store, gint64 user_id, const char *code, gboolean *used,
			     GError **error)
{
	g_autoptr(GString) norm = g_string_new(NULL);
	g_autofree char *hash = NULL;
	g_autoptr(IcsStmt) st = NULL;

	*used = FALSE;
	for (const char *p = code; *p; p++)
		if (*p != '-' && *p != ' ')
			g_string_append_c(norm, g_ascii_toupper(*p));
	if (norm->len != RECOVERY_CHARS)
		return TRUE;
	hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, norm->str, -1);
	explicit_bzero(norm->str, norm->len);
	st = ics_store_stmt(store, "DELETE FROM totp_recovery WHERE user_id = ? AND code_hash = ?",
			    error);
	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	ics_stmt_bind_text(st, 2, hash);
	if (!ics_stmt_run(st, error))
		return FALSE;
	*used = ics_store_changes(store) == 1;
	return TRUE;
}

gboolean ics_totp_verify(IcsSealer *sealer, IcsStore *store, gint64 user_id, const char *code,
			 gboolean allow_recovery, gboolean *recovery, GError **error)
{
	gboolean confirmed, replayed, used = FALSE;
	gint64 last_step, step;
	char *secret = load(sealer, store, user_id, &confirmed, &last_step, error);

	if (recovery)
		*recovery = FALSE;
	if (secret == NULL)
		return FALSE;
	if (!confirmed) {
		ics_unsealed_free(secret);
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "the second factor is not active yet; confirm the enrolment first");
		return FALSE;
	}
	step = matching_step(secret, code, last_step, &replayed);
	ics_unsealed_free(secret);
	if (step != 0)
		return set_step(store, user_id, step, FALSE, error);
	if (allow_recovery && !replayed) {
		if (!use_recovery(store, user_id, code, &used, error))
			return FALSE;
		if (used) {
			if (recovery)
				*recovery = TRUE;
			return TRUE;
		}
	}
	return wrong_code(replayed, error);
}

json_t *ics_totp_new_recovery_codes(IcsStore *store, gint64 user_id, GError **error)
{
	GStrv codes = make_recovery_codes(store, user_id, error);

	return codes ? recovery_json(codes) : NULL;
}

gboolean ics_totp_remove(IcsStore *store, gint64 user_id, const char *user_name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "DELETE FROM totp WHERE user_id = ?", error);
	g_autoptr(IcsStmt) rec = NULL;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	if (!ics_stmt_run(st, error))
		return FALSE;
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "user \"%s\" has no second factor", user_name);
		return FALSE;
	}
	ics_stmt_release(g_steal_pointer(&st));
	rec = ics_store_stmt(store, "DELETE FROM totp_recovery WHERE user_id = ?", error);
	if (rec == NULL)
		return FALSE;
	ics_stmt_bind_int(rec, 1, user_id);
	return ics_stmt_run(rec, error);
}

gboolean ics_totp_enrolled(IcsStore *store, gint64 user_id, gboolean *enrolled, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT confirmed FROM totp WHERE user_id = ?", error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	*enrolled = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	return TRUE;
}

gboolean ics_totp_required(IcsStore *store, gint64 user_id, gboolean *required, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT u.second_factor_required OR EXISTS (SELECT 1 FROM user_roles ur"
		" JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id"
		" AND r.second_factor_required) FROM users u WHERE u.id = ?",
		error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	*required = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	return TRUE;
}

json_t *ics_totp_status(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT t.confirmed, t.confirmed_us, (SELECT count(*) FROM totp_recovery r"
		" WHERE r.user_id = t.user_id) FROM totp t WHERE t.user_id = ?",
		error);
	gboolean required, enrolled = FALSE, pending = FALSE;
	gint64 left = 0, at = 0;
	g_autofree char *at_text = NULL;
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, user_id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return NULL;
	if (rc == SQLITE_ROW) {
		enrolled = sqlite3_column_int(st, 0) != 0;
		pending = !enrolled;
		at = sqlite3_column_int64(st, 1);
		left = sqlite3_column_int64(st, 2);
	}
	ics_stmt_release(g_steal_pointer(&st));
	if (!ics_totp_required(store, user_id, &required, error))
		return NULL;
	at_text = enrolled && at ? ics_timestamp_format(at) : NULL;
	return json_pack("{s:b, s:b, s:b, s:I, s:s*}", "enrolled", enrolled, "pending", pending,
			 "required", required, "recovery_codes_left", (json_int_t)left,
			 "enrolled_at", at_text);
}

char *ics_totp_qr_svg(const char *text, GError **error)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	g_autoptr(GString) svg = NULL;
	int quiet = 4, size;

	if (qr == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot make a QR code: %s",
			    g_strerror(errno));
		return NULL;
	}
	size = qr->width + 2 * quiet;
	svg = g_string_new(NULL);
	g_string_append_printf(svg,
			       "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
			       " shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\""
			       " fill=\"#fff\"/><path fill=\"#000\" d=\"",
			       size, size, size, size);
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width; x++)
			if (qr->data[y * qr->width + x] & 1)
				g_string_append_printf(svg, "M%d %dh1v1h-1z", x + quiet, y + quiet);
	g_string_append(svg, "\"/></svg>");
	QRcode_free(qr);
	return g_string_free(g_steal_pointer(&svg), FALSE);
}
