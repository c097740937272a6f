/*
 * ics/client.h: the HTTPS client of ics-managerd's REST API (libcurl;
 * libicsclient, used by ics-admin).
 *
 * One IcsRest is one manager and one set of credentials: a session token
 * ("Authorization: Bearer") or an access key pair (every request signed,
 * request_signature.h), or none (login).  TLS certificates are always
 * verified, against @ca_file when given, else the system's store; plain
 * http:// is accepted only for a loopback host (the manager's
 * --insecure-http, for tests).
 *
 * Errors are ICS errors: transport failures carry the URL and what to do
 * -- UNREACHABLE when nothing answered (refused, no route, unknown name;
 * the request was not sent), TIMEOUT, INVALID_ARGUMENT for a bad URL, IO
 * for TLS and the rest; HTTP errors
 * carry the server's own message and a code from the status: 400/413/422
 * INVALID_ARGUMENT, 401/403 PERMISSION, 404 NOT_FOUND, 409 CONFLICT, 503
 * UNAVAILABLE, 504 TIMEOUT, others IO.
 */
#ifndef ICS_CLIENT_H
#define ICS_CLIENT_H

#include <glib.h>
#include <jansson.h>

#define ICS_REST_DEFAULT_URL "https://localhost:8443"
#define ICS_REST_DEFAULT_TIMEOUT_S 60

typedef struct {
	const char *url;		     /* "https://host:8443" (a path prefix is kept) */
	const char *ca_file;		     /* NULL: the system's CA store */
	const char *token;		     /* session token, or NULL */
	const char *access_key, *secret_key; /* both or neither; win over @token */
	long timeout_s;			     /* per request; 0 = the default */
} IcsRestConfig;

typedef struct IcsRest IcsRest;

IcsRest *ics_rest_new(const IcsRestConfig *cfg, GError **error);
void ics_rest_free(IcsRest *rest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsRest, ics_rest_free)

/* The base URL, without a trailing slash. */
const char *ics_rest_url(const IcsRest *rest);

typedef struct {
	long status;
	char *content_type;
	GString *body;
	json_t *json; /* NULL unless the body is JSON */
} IcsRestResponse;
void ics_rest_response_free(IcsRestResponse *resp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsRestResponse, ics_rest_response_free)

/* Query pairs: a GPtrArray of char*, key, value, ...; NULL values are skipped. */
GPtrArray *ics_rest_query_new(void);
void ics_rest_query_add(GPtrArray *query, const char *key, const char *value);

/* Send one request (@body may be NULL).  Fails only when no HTTP answer
 * came; any status is returned. */
IcsRestResponse *ics_rest_request(IcsRest *rest, const char *method, const char *path,
				  const GPtrArray *query, const json_t *body, GError **error);

/* The error an answer that is not 2xx stands for (see the file comment). */
void ics_rest_set_http_error(GError **error, const IcsRest *rest, const char *method,
			     const char *path, const IcsRestResponse *resp);

/* A request whose answer must be 2xx: its JSON (json_null() when it had no
 * body), or NULL with the server's error. */
json_t *ics_rest_call(IcsRest *rest, const char *method, const char *path, const GPtrArray *query,
		      const json_t *body, GError **error);

/* Follow a Server-Sent Events stream: @fn gets each event's id (NULL when
 * none), type ("message" when none) and data; it returns FALSE to stop.
 * Returns TRUE when @fn stopped or the server ended the stream. */
typedef gboolean (*IcsRestEventFn)(const char *id, const char *type, const char *data,
				   gpointer user);
gboolean ics_rest_stream(IcsRest *rest, const char *path, const GPtrArray *query,
			 const char *last_event_id, IcsRestEventFn fn, gpointer user,
			 GError **error);

#endif /* ICS_CLIENT_H */
