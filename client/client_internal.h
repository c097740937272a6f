/*
 * client_internal.h: what the files of libicsclient share (not installed).
 *
 * rest_client.c owns the IcsRest object, the libcurl handle every request
 * starts from (TLS, authentication, headers) and the one place transport
 * failures become ICS errors; event_stream.c reuses both for its
 * long-lived GET.  The ics_client_ prefix marks them internal: the shared
 * library exports ics_rest_* and ics_error_* only.
 */
#ifndef ICS_CLIENT_INTERNAL_H
#define ICS_CLIENT_INTERNAL_H

#include <curl/curl.h>

#include "ics/client.h"

struct IcsRest {
	char *url;  /* base, no trailing slash */
	char *path; /* the base URL's path prefix ("" usually) */
	char *ca_file;
	char *pinned_key;
	struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO: "::HOST:", or NULL */
	char *token;
	char *access_key, *secret_key;
	char *user_agent;
	char *hint_url, *hint_trust, *hint_login; /* never NULL */
	guint timeout_ms;
};

/* A handle with the options every request shares (TLS, protocols,
 * connection target, authentication; *@headers gets the authentication
 * and content headers: curl_slist_free_all them after the transfer).
 * @body (may be NULL) is what will be sent and what a signature covers.
 * @errbuf is CURL_ERROR_SIZE bytes. */
CURL *ics_client_handle_new(const IcsRest *rest, const char *method, const char *path,
			    const GPtrArray *query, const char *body, gsize body_len,
			    struct curl_slist **headers, char *errbuf);

/* Set @error for a failed transfer, saying what to do about it. */
void ics_client_transport_error(GError **error, const IcsRest *rest, CURLcode rc,
				const char *detail);

#endif /* ICS_CLIENT_INTERNAL_H */
