/*
 * ics/client.h: the C client of ics-managerd's REST API (libicsclient, the
 * C SDK; pkg-config ics-client; docs/client-sdk.md).
 *
 * One IcsRest is one manager and one set of credentials: a session token
 * ("Authorization: Bearer", from POST /api/v1/sessions), an access key
 * pair (every request signed, ics/request_signature.h), or none (login,
 * /api/v1/health).  Each request is a fresh HTTPS connection bounded by
 * the configured timeout.  The API's resources and their JSON are
 * described in docs/openapi.yaml; this library carries them as jansson
 * values and adds no model of its own.
 *
 * TLS is always verified.  How:
 *  - by default the certificate must chain to @ca_file (or, without one,
 *    to the system's CA store) and name the URL's host;
 *  - with @pinned_key ("sha256//BASE64", several joined by ';', the form
 *    of CURLOPT_PINNEDPUBLICKEY and curl --pinnedpubkey) the server's
 *    public key must be one of them.  Alone, the pin is the trust: chain
 *    and name are not checked (like an SSH host key), which is what a
 *    probe of a known manager wants whatever names its certificate
 *    carries.  With @ca_file too, both checks apply.
 *    ics_rest_pin_from_cert_file() computes the pin of a PEM certificate.
 *  - @connect_host makes the connection go to another address than the
 *    URL's host (CURLOPT_CONNECT_TO) while the certificate is still
 *    verified for the URL's host: ask https://manager.example:8443 while
 *    connecting to 127.0.0.1.
 * Plain http:// is accepted only for a loopback host (a manager run with
 * --insecure-http, for tests).
 *
 * Errors are GErrors in the ICS_ERROR domain (ics/error.h), set once with
 * the URL and what to do.  Transport: UNREACHABLE when nothing answered
 * (refused, no route, unknown name: the request was never delivered, so a
 * caller may try another way); no answer in time TIMEOUT; a URL
 * libcurl cannot use INVALID_ARGUMENT; anything else IO -- including a
 * certificate that does not verify and a key that is not the pinned one
 * (the message says which).  HTTP: the server's own message and a code
 * from the status: 400/413/422 INVALID_ARGUMENT, 401/403 PERMISSION, 404
 * NOT_FOUND, 409 CONFLICT, 429 LIMIT, 503 UNAVAILABLE, 504 TIMEOUT, others
 * IO.
 *
 * Threads: an IcsRest may be used by one thread at a time; separate
 * IcsRest objects are independent.  Call ics_rest_global_init() once
 * before any thread makes requests.  Secrets (token, secret key, request
 * bodies that may hold passwords) are wiped from the library's memory
 * when done and never logged.
 */
#ifndef ICS_CLIENT_H
#define ICS_CLIENT_H

#include <glib.h>
#include <jansson.h>

#include <ics/error.h>

G_BEGIN_DECLS

#define ICS_REST_DEFAULT_URL "https://localhost:8443"
#define ICS_REST_DEFAULT_TIMEOUT_MS 60000u

/* Zero-initialise and set what you need; fields may be appended in later
 * versions (with a new libtool version), never reordered. */
typedef struct {
	/* "https://host:8443" (a path prefix is kept); NULL: the default. */
	const char *url;
	/* PEM file of the CA (or the server's own certificate) to trust;
	 * NULL: the system's CA store. */
	const char *ca_file;
	/* A session token, or NULL. */
	const char *token;
	/* Both or neither; they win over @token. */
	const char *access_key, *secret_key;
	/* Each request, whole; 0 = ICS_REST_DEFAULT_TIMEOUT_MS.  Connecting
	 * is bounded by 10 s within it. */
	guint timeout_ms;
	/* "sha256//BASE64[;sha256//BASE64...]", or NULL (file comment). */
	const char *pinned_key;
	/* Connect here (address or name) instead of the URL's host, straight
	 * and never through a proxy; TLS still verifies the URL's host. */
	const char *connect_host;
	/* NULL: "ics-client/VERSION". */
	const char *user_agent;
	/* What the program's user can do about a failure, in the program's
	 * terms (its options, its files), appended to the messages of that
	 * kind after "; ".  NULL: the library's own words.  @hint_url: the URL
	 * is unusable or nobody answers there; @hint_trust: the certificate
	 * does not verify; @hint_login: 401 on a session token. */
	const char *hint_url, *hint_trust, *hint_login;
} IcsRestConfig;

typedef struct IcsRest IcsRest;

/* libcurl's process-wide initialisation: once, before threads start.  A
 * program that calls curl_global_init() itself need not call it. */
gboolean ics_rest_global_init(GError **error);
void ics_rest_global_cleanup(void);

/* A client for @cfg (copied: @cfg's strings may be freed afterwards).
 * INVALID_ARGUMENT for a URL that is not https://HOST[:PORT][/PREFIX]
 * (http:// on loopback only), half an access key pair, or a pin that is
 * not sha256//BASE64. */
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

/* Query pairs: a GPtrArray of char*, key, value, ...; NULL values are
 * skipped.  Keys and values are given decoded; the library encodes them
 * (and signs exactly what it sends). */
GPtrArray *ics_rest_query_new(void);
void ics_rest_query_add(GPtrArray *query, const char *key, const char *value);

/* Send one request; @path starts with "/api/v1/", @query and @body may be
 * NULL.  Fails only when no HTTP answer came; any status is returned. */
IcsRestResponse *ics_rest_request(IcsRest *rest, const char *method, const char *path,
				  const GPtrArray *query, const json_t *body, GError **error);

/* The error an answer that is not 2xx stands for (see the file comment). */
void ics_rest_set_http_error(GError **error, const IcsRest *rest, const char *method,
			     const char *path, const IcsRestResponse *resp);

/* A request whose answer must be 2xx: its JSON (json_null() when it had no
 * body; json_decref it), or NULL with the error. */
json_t *ics_rest_call(IcsRest *rest, const char *method, const char *path, const GPtrArray *query,
		      const json_t *body, GError **error);

/* Follow a Server-Sent Events stream (GET @path, e.g. /api/v1/events):
 * @fn gets each event's id (NULL when none), type ("message" when none)
 * and data; it returns FALSE to stop.  Returns TRUE when @fn stopped or the
 * server ended the stream.  The configured timeout does not apply: the
 * stream lasts as long as it is read, and a connection silent for 60 s
 * (the manager sends a keep-alive every 15 s) fails with TIMEOUT. */
typedef gboolean (*IcsRestEventFn)(const char *id, const char *type, const char *data,
				   gpointer user);
gboolean ics_rest_stream(IcsRest *rest, const char *path, const GPtrArray *query,
			 const char *last_event_id, IcsRestEventFn fn, gpointer user,
			 GError **error);

/* The pin of the public key of the first certificate in the PEM file
 * @cert_file (a server's own certificate, before its chain):
 * "sha256//" + base64 of the SHA-256 of its DER SubjectPublicKeyInfo, as
 * `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
 * openssl dgst -sha256 -binary | base64` prints it.  NOT_FOUND or
 * PERMISSION when the file cannot be read, PARSE when it holds no
 * certificate.  ics_rest_pin_from_pem() does the same for PEM text. */
char *ics_rest_pin_from_cert_file(const char *cert_file, GError **error);
char *ics_rest_pin_from_pem(const char *pem, gsize len, GError **error);

G_END_DECLS

#endif /* ICS_CLIENT_H */
