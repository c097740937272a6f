/*
 * ics/request_signature.h: AK/SK request signatures as ics-managerd checks
 * them (docs/manager-security.md, "API keys (AK/SK) and request signing";
 * libicsclient, the C SDK).
 *
 * An IcsRest configured with an access key pair signs every request itself
 * (ics/client.h); these functions are for programs that send requests
 * through another HTTP stack.  The client signs exactly the bytes it
 * sends: the method, the path (with the base URL's prefix), the query
 * pairs it encodes, a fresh date and nonce, and the SHA-256 of the body.
 * The canonical form must match manager/apikey.c byte for byte;
 * client/tests/test_request_signature checks it against the manager's own
 * function.
 */
#ifndef ICS_REQUEST_SIGNATURE_H
#define ICS_REQUEST_SIGNATURE_H

#include <glib.h>

G_BEGIN_DECLS

#define ICS_REST_SIGNATURE_SCHEME "ICS-HMAC-SHA256"

/* The canonical query of decoded @query pairs (key, value, key, value, ...;
 * may be NULL): sorted by key then value, each side percent-encoded except
 * A-Za-z0-9-._~, joined as k=v&k=v. */
char *ics_rest_signature_canonical_query(const GPtrArray *query);

/* The newline-joined string to sign: scheme, method, path, canonical
 * query, date (Unix seconds), nonce, hex SHA-256 of the body. */
char *ics_rest_signature_string(const char *method, const char *path, const GPtrArray *query,
				const char *date, const char *nonce, const void *body,
				gsize body_len);

/* The three headers of a signed request, "Name: value" each (a NULL-
 * terminated vector; g_strfreev it): Authorization, X-ICS-Date (now) and
 * X-ICS-Nonce (random).  Send them with exactly @method, @path, @query
 * encoded as ics_rest_query_new() pairs are, and @body. */
char **ics_rest_signature_headers(const char *access_key, const char *secret_key,
				  const char *method, const char *path, const GPtrArray *query,
				  const void *body, gsize body_len);

G_END_DECLS

#endif /* ICS_REQUEST_SIGNATURE_H */
