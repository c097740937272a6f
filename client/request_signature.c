/*
 * request_signature.c: signing requests with an access key (AK/SK).
 *
 * The secret never leaves this process: only its HMAC over the canonical
 * string goes on the wire, with a date and a single-use nonce so that a
 * captured request can be neither replayed nor altered.  The canonical
 * query uses GLib's escaping with no reserved characters allowed, which is
 * what the manager uses, so both sides encode the same pairs identically.
 */
#include "config.h"

#include "ics/request_signature.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static gint compare_pairs(gconstpointer a, gconstpointer b)
{
	const char *const *pa = a, *const *pb = b;
	int c = strcmp(pa[0], pb[0]);

	return c ? c : strcmp(pa[1], pb[1]);
}

char *ics_rest_signature_canonical_query(const GPtrArray *query)
{
	guint n = query ? query->len / 2 : 0;
	g_autofree const char **pairs = g_new0(const char *, 2 * n + 2);
	GString *q = g_string_new(NULL);

	for (guint i = 0; i < 2 * n; i++)
		pairs[i] = g_ptr_array_index(query, i);
	qsort(pairs, n, 2 * sizeof(char *), compare_pairs);
	for (guint i = 0; i < n; i++) {
		g_autofree char *k = g_uri_escape_string(pairs[2 * i], NULL, FALSE);
		g_autofree char *v = g_uri_escape_string(pairs[2 * i + 1], NULL, FALSE);

		g_string_append_printf(q, "%s%s=%s", i ? "&" : "", k, v);
	}
	return g_string_free(q, FALSE);
}

char *ics_rest_signature_string(const char *method, const char *path, const GPtrArray *query,
				const char *date, const char *nonce, const void *body,
				gsize body_len)
{
	g_autofree char *q = ics_rest_signature_canonical_query(query);
	g_autofree char *body_hash = g_compute_checksum_for_data(
		G_CHECKSUM_SHA256, body ? body : "", body ? body_len : 0);

	return g_strjoin("\n", ICS_REST_SIGNATURE_SCHEME, method, path, q, date, nonce, body_hash,
			 NULL);
}

static char *hex(const guint8 *data, gsize len)
{
	GString *s = g_string_sized_new(2 * len);

	for (gsize i = 0; i < len; i++)
		g_string_append_printf(s, "%02x", data[i]);
	return g_string_free(s, FALSE);
}

char **ics_rest_signature_headers(const char *access_key, const char *secret_key,
				  const char *method, const char *path, const GPtrArray *query,
				  const void *body, gsize body_len)
{
	guint8 rnd[16], mac[32];
	g_autofree char *nonce = NULL, *date = NULL, *text = NULL, *sig = NULL;
	char **out = g_new0(char *, 4);

	gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd));
	nonce = hex(rnd, sizeof(rnd));
	date = g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
	text = ics_rest_signature_string(method, path, query, date, nonce, body, body_len);
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret_key, strlen(secret_key), text, strlen(text),
			 mac);
	sig = hex(mac, sizeof(mac));
	explicit_bzero(mac, sizeof(mac));
	out[0] = g_strdup_printf("Authorization: " ICS_REST_SIGNATURE_SCHEME
				 " Credential=%s, Signature=%s",
				 access_key, sig);
	out[1] = g_strdup_printf("X-ICS-Date: %s", date);
	out[2] = g_strdup_printf("X-ICS-Nonce: %s", nonce);
	return out;
}
