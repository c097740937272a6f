/*
 * apikey.c: AK/SK keys, sealed secrets and request signatures.
 *
 * The nonce store is a table keyed by (key, nonce) with an expiry twice the
 * allowed clock skew: a nonce can only be replayed inside the skew window,
 * and inside it the table remembers it.  Expired nonces are purged on the
 * way, so the table stays as small as the request rate times ten minutes.
 * Every verification failure gets the same status (401) but its own
 * message, so a client developer can tell a clock problem from a bad
 * signature; nothing in the message helps forge one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/apikey.h"
#include "ics/manager/seal.h"
#include "ics/manager/password.h"
#include "ics/manager/timestamp.h"

#define SCHEME "ICS-HMAC-SHA256"

struct IcsApiKeys {
	IcsSealer *sealer; /* borrowed from the manager */
};

void ics_apikeys_free(IcsApiKeys *keys)
{
	g_free(keys);
}

IcsApiKeys *ics_apikeys_new(IcsSealer *sealer)
{
	IcsApiKeys *keys = g_new0(IcsApiKeys, 1);

	keys->sealer = sealer;
	return keys;
}

/* The associated data of key @id's sealed secret: the id itself, as
 * before the sealing moved to seal.c (existing rows still open). */
#define SEAL_AAD(id) (id)

/* @n characters of @alphabet from the key-level generator; NULL when it
 * fails. */
static char *random_text(guint n, const char *alphabet)
{
	g_autofree guint8 *rnd = g_malloc(n);
	char *s;
	gsize a = strlen(alphabet);

	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, n) != 0)
		return NULL;
	s = g_malloc0(n + 1);
	for (guint i = 0; i < n; i++)
		s[i] = alphabet[rnd[i] % a];
	explicit_bzero(rnd, n);
	return s;
}

json_t *ics_apikey_create(IcsApiKeys *keys, IcsStore *store, gint64 user_id,
			  const char *description, GError **error)
{
	/* 64 characters: the modulo above then has no bias. */
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	g_autofree char *suffix = random_text(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	g_autofree char *secret = random_text(40, b64url);
	g_autofree char *id = NULL;
	g_autofree guint8 *sealed = NULL;
	gsize sealed_len;
	gint64 now = ics_now_us();

	if (suffix == NULL || secret == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "no random bytes for a new API key");
		return NULL;
	}
	id = g_strconcat("AK", suffix, NULL);
	sealed = ics_seal(keys->sealer, SEAL_AAD(id), secret, strlen(secret), &sealed_len, error);
	if (sealed == NULL) {
		explicit_bzero(secret, strlen(secret));
		return NULL;
	}
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			store,
			"INSERT INTO apikeys (id, user_id, sealed_secret, description, created_us)"
			" VALUES (?, ?, ?, ?, ?)",
			error);

		if (st == NULL)
			return NULL;
		ics_stmt_bind_text(st, 1, id);
		ics_stmt_bind_int(st, 2, user_id);
		sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_TRANSIENT);
		ics_stmt_bind_text(st, 4, description ? description : "");
		ics_stmt_bind_int(st, 5, now);
		if (!ics_stmt_run(st, error))
			return NULL;
	}
	g_autofree char *created = ics_timestamp_format(now);
	json_t *out =
		json_pack("{s:s, s:s, s:s, s:s}", "access_key_id", id, "secret", secret,
			  "description", description ? description : "", "created_at", created);
	explicit_bzero(secret, strlen(secret));
	return out;
}

gboolean ics_apikey_owner(IcsStore *store, const char *id, gint64 *user_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT user_id FROM apikeys WHERE id = ?", error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, id);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "API key %s does not exist", id);
		return FALSE;
	}
	*user_id = sqlite3_column_int64(st, 0);
	return TRUE;
}

gboolean ics_apikey_delete(IcsStore *store, const char *id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "DELETE FROM apikeys WHERE id = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, id);
	if (!ics_stmt_run(st, error))
		return FALSE;
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "API key %s does not exist", id);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_apikey_delete_user(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "DELETE FROM apikeys WHERE user_id = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_int(st, 1, user_id);
	return ics_stmt_run(st, error);
}

json_t *ics_apikey_list(IcsStore *store, gint64 user_id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT k.id, u.name, k.description, k.created_us, k.last_used_us FROM apikeys k"
		" JOIN users u ON u.id = k.user_id WHERE ?1 = 0 OR k.user_id = ?1 ORDER BY k.id",
		error);
	g_autoptr(json_t) items = json_array();
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, user_id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		g_autofree char *created = ics_timestamp_format(sqlite3_column_int64(st, 3));
		g_autofree char *used = sqlite3_column_type(st, 4) == SQLITE_NULL
						? NULL
						: ics_timestamp_format(sqlite3_column_int64(st, 4));

		json_array_append_new(
			items, json_pack("{s:s, s:s, s:s, s:s, s:o}", "access_key_id",
					 ics_stmt_text(st, 0), "user", ics_stmt_text(st, 1),
					 "description", ics_stmt_text(st, 2), "created_at", created,
					 "last_used_at", used ? json_string(used) : json_null()));
	}
	if (rc < 0)
		return NULL;
	return json_pack("{s:O}", "items", items);
}

/* ---- signatures -------------------------------------------------------- */

static gint compare_pairs(gconstpointer a, gconstpointer b)
{
	char *const *pa = a, *const *pb = b;
	int c = strcmp(pa[0], pb[0]);

	return c ? c : strcmp(pa[1], pb[1]);
}

char *ics_apikey_string_to_sign(const IcsRequest *req, const char *date, const char *nonce)
{
	guint n = req->query->len / 2;
	g_autofree char **pairs = g_new0(char *, 2 * n + 2);
	g_autoptr(GString) q = g_string_new(NULL);
	g_autofree char *body_hash = g_compute_checksum_for_data(
		G_CHECKSUM_SHA256, (const guchar *)req->body, req->body_len);

	for (guint i = 0; i < 2 * n; i++)
		pairs[i] = g_ptr_array_index(req->query, i);
	qsort(pairs, n, 2 * sizeof(char *), compare_pairs);
	for (guint i = 0; i < n; i++) {
		g_autofree char *k = g_uri_escape_string(pairs[2 * i], NULL, FALSE);
		g_autofree char *v = g_uri_escape_string(pairs[2 * i + 1], NULL, FALSE);

		g_string_append_printf(q, "%s%s=%s", i ? "&" : "", k, v);
	}
	return g_strjoin("\n", SCHEME, req->method, req->path, q->str, date, nonce, body_hash,
			 NULL);
}

char *ics_apikey_hmac(const char *secret, const char *text)
{
	guint8 mac[32];
	char *hex = g_malloc0(sizeof(mac) * 2 + 1);

	gnutls_datum_t d = { mac, sizeof(mac) };
	size_t size = sizeof(mac) * 2 + 1;

	gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), text, strlen(text), mac);
	gnutls_hex_encode(&d, hex, &size);
	return hex;
}

static gboolean deny(GError **error, const char *why)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION, "signed request refused: %s", why);
	return FALSE;
}

/* "ICS-HMAC-SHA256 Credential=AK..., Signature=hex" -> id, signature. */
static gboolean parse_authorization(const char *auth, char **id, char **sig)
{
	g_auto(GStrv) parts = NULL;

	if (!g_str_has_prefix(auth, SCHEME " "))
		return FALSE;
	parts = g_strsplit(auth + strlen(SCHEME) + 1, ",", -1);
	for (guint i = 0; parts[i]; i++) {
		const char *p = g_strstrip(parts[i]);

		if (g_str_has_prefix(p, "Credential=") && *id == NULL)
			*id = g_strdup(p + strlen("Credential="));
		else if (g_str_has_prefix(p, "Signature=") && *sig == NULL)
			*sig = g_strdup(p + strlen("Signature="));
	}
	return *id && *sig && strlen(*id) <= 64 && strlen(*sig) == 64;
}

static gboolean nonce_valid(const char *nonce)
{
	gsize n = strlen(nonce);

	if (n < 16 || n > 64)
		return FALSE;
	for (const char *p = nonce; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	return TRUE;
}

/* Unseal the secret of @id; NULL with a deny() error. */
static char *load_secret(IcsApiKeys *keys, IcsStore *store, const char *id, gint64 *user_id,
			 GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT user_id, sealed_secret FROM apikeys WHERE id = ?", error);
	g_autoptr(GError) err = NULL;
	const guint8 *blob;
	gsize len;
	char *secret;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, id);
	if (ics_stmt_step(st, error) != SQLITE_ROW) {
		g_clear_error(error);
		deny(error, "unknown access key");
		return NULL;
	}
	*user_id = sqlite3_column_int64(st, 0);
	blob = sqlite3_column_blob(st, 1);
	len = sqlite3_column_bytes(st, 1);
	secret = ics_unseal(keys->sealer, SEAL_AAD(id), blob, len, NULL, &err);
	if (secret == NULL) {
		ics_error("access key %s: %s", id, err->message);
		deny(error, "access key cannot be unsealed; see the manager log");
		return NULL;
	}
	return secret;
}

static gboolean remember_nonce(IcsStore *store, const char *id, const char *nonce, gint64 now,
			       GError **error)
{
	gint64 window = 2 * ICS_APIKEY_MAX_SKEW_S * G_USEC_PER_SEC;
	g_autoptr(IcsStmt) purge =
		ics_store_stmt(store, "DELETE FROM apikey_nonces WHERE expires_us < ?", error);

	if (purge == NULL)
		return FALSE;
	ics_stmt_bind_int(purge, 1, now);
	if (!ics_stmt_run(purge, error))
		return FALSE;
	g_autoptr(IcsStmt) ins = ics_store_stmt(
		store, "INSERT INTO apikey_nonces (key_id, nonce, expires_us) VALUES (?, ?, ?)",
		error);
	if (ins == NULL)
		return FALSE;
	ics_stmt_bind_text(ins, 1, id);
	ics_stmt_bind_text(ins, 2, nonce);
	ics_stmt_bind_int(ins, 3, now + window);
	if (!ics_stmt_run(ins, error)) {
		if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_CONFLICT)) {
			g_clear_error(error);
			return deny(error, "nonce already used (replayed request)");
		}
		return FALSE;
	}
	g_autoptr(IcsStmt) used =
		ics_store_stmt(store, "UPDATE apikeys SET last_used_us = ? WHERE id = ?", error);
	if (used == NULL)
		return FALSE;
	ics_stmt_bind_int(used, 1, now);
	ics_stmt_bind_text(used, 2, id);
	return ics_stmt_run(used, error);
}

gboolean ics_apikey_verify(IcsApiKeys *keys, IcsStore *store, const IcsRequest *req,
			   gint64 *user_id, char **key_id, GError **error)
{
	const char *auth = ics_request_header(req, "Authorization");
	const char *date = ics_request_header(req, "X-ICS-Date");
	const char *nonce = ics_request_header(req, "X-ICS-Nonce");
	g_autofree char *id = NULL, *sig = NULL, *secret = NULL, *text = NULL, *mac = NULL;
	gint64 now = ics_now_us(), when;
	char *end = NULL;
	gboolean ok;

	if (auth == NULL || !parse_authorization(auth, &id, &sig))
		return deny(error, "malformed Authorization header");
	if (date == NULL || nonce == NULL)
		return deny(error, "X-ICS-Date and X-ICS-Nonce headers are required");
	when = g_ascii_strtoll(date, &end, 10);
	if (end == date || *end != '\0')
		return deny(error, "X-ICS-Date must be Unix seconds");
	if (ABS(now / G_USEC_PER_SEC - when) > ICS_APIKEY_MAX_SKEW_S)
		return deny(error, "X-ICS-Date is more than 300 s away from the manager's clock");
	if (!nonce_valid(nonce))
		return deny(error, "X-ICS-Nonce must be 16 to 64 characters of [A-Za-z0-9_-]");

	text = ics_apikey_string_to_sign(req, date, nonce);
	if (!ics_store_begin(store, error))
		return FALSE;
	secret = load_secret(keys, store, id, user_id, error);
	if (secret == NULL) {
		ics_store_rollback(store);
		return FALSE;
	}
	mac = ics_apikey_hmac(secret, text);
	explicit_bzero(secret, strlen(secret));
	for (char *c = sig; *c; c++)
		*c = g_ascii_tolower(*c);
	if (!ics_secret_equal(mac, sig)) {
		ics_store_rollback(store);
		return deny(error, "signature does not match");
	}
	ok = remember_nonce(store, id, nonce, now, error);
	if (!ok) {
		ics_store_rollback(store);
		return FALSE;
	}
	if (!ics_store_commit(store, error))
		return FALSE;
	*key_id = g_steal_pointer(&id);
	return TRUE;
}
