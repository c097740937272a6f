/*
 * ics/request_signature.h: AK/SK request signatures as ics-managerd checks them
 * (docs/manager-security.md, "API keys (AK/SK) and request signing";
 * libicsclient).
 *
 * The client signs exactly the bytes it sends: the method, the path, the
 * query pairs it encodes, a fresh date and nonce, and the SHA-256 of the
 * body.  The canonical form must match manager/apikey.c byte for byte;
 * client/tests/test_rest_client checks it against the manager's own
 * function.
 */
#ifndef ICS_REQUEST_SIGNATURE_H
#define ICS_REQUEST_SIGNATURE_H

#include <glib.h>

#define ICS_SIGNATURE_SCHEME "ICS-HMAC-SHA256"

/* The canonical query of decoded @query pairs (key, value, key, value, ...;
 * may be NULL): sorted by key then value, each side percent-encoded except
 * A-Za-z0-9-._~, joined as k=v&k=v. */
char *ics_signature_canonical_query(const GPtrArray *query);

/* The newline-joined string to sign. */
char *ics_signature_string(const char *method, const char *path, const GPtrArray *query,
			   const char *date, const char *nonce, const void *body, gsize body_len);

/* The three headers of a signed request, "Name: value" each (a NULL-
 * terminated vector; g_strfreev it).  The date is now, the nonce random. */
char **ics_signature_headers(const char *access_key, const char *secret_key, const char *method,
			     const char *path, const GPtrArray *query, const void *body,
			     gsize body_len);

#endif /* ICS_REQUEST_SIGNATURE_H */
