/*
 * ics/manager/http.h: requests, responses, the HTTPS server and the router.
 *
 * The server (http_server.c) is libmicrohttpd with one thread per
 * connection: it reads a request, refuses a body over the size limit with
 * 413, and hands a complete IcsRequest to one handler function.  It knows
 * nothing about the API.  The router (http_router.c) maps a method and a
 * path pattern ("/api/v1/vms/{uuid}") to a route; a path that matches no
 * pattern is 404, one that matches with another method is 405.
 *
 * A response is a status and a JSON body, a text body, or a stream (Server-
 * Sent Events): a callback that fills the next chunk and may block until
 * there is one.
 */
#ifndef ICS_MANAGER_HTTP_H
#define ICS_MANAGER_HTTP_H

#include <glib.h>
#include <jansson.h>
#include <sys/types.h>

#define ICS_HTTP_DEFAULT_MAX_BODY (1024 * 1024)

typedef struct IcsPrincipal IcsPrincipal;

typedef struct {
	char *method;	     /* "GET", ... */
	char *path;	     /* decoded path, no query */
	GPtrArray *query;    /* char* pairs: key, value, key, value, ... (decoded) */
	GHashTable *headers; /* lower-case name -> value */
	char *body;	     /* NUL-terminated copy of the body (may hold NULs) */
	gsize body_len;
	char *client; /* peer address text */
	int conn_fd;  /* the connection's socket, to notice a client gone while
		       * a stream waits (-1 unknown); never read or written */
	/* Filled by the router: the values of the pattern's {params}. */
	GHashTable *params;
	/* Filled by the API dispatcher. */
	IcsPrincipal *principal;
	const struct IcsRouteRule *rule; /* the route's authorization row */
	char *audit_user;		 /* who, when not the principal (login) */
	char *audit_object_id;		 /* object an audited call acted on, if known */
	char *audit_reason;		 /* failure reason for the audit, when it must
					  * say more than the client is told */
	char *audit_action;		 /* the action, when the body decides it (NULL:
					  * the route's) */
	gint64 started_us;
} IcsRequest;

IcsRequest *ics_request_new(const char *method, const char *path);
void ics_request_free(IcsRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsRequest, ics_request_free)

/* First value of query argument @key, or NULL. */
const char *ics_request_query(const IcsRequest *req, const char *key);
/* Header value (name case-insensitive), or NULL. */
const char *ics_request_header(const IcsRequest *req, const char *name);
/* Path parameter set by the router, or NULL. */
const char *ics_request_param(const IcsRequest *req, const char *name);

/* A streamed body: fill up to @max bytes of @buf and return how many, 0 to
 * be called again (the callback may block for a while first), or -1 at the
 * end of the stream. */
typedef ssize_t (*IcsHttpStreamFn)(void *data, char *buf, size_t max);

/* An upgraded connection (101 Switching Protocols, e.g. a WebSocket). */
typedef struct IcsHttpUpgraded IcsHttpUpgraded;

/* Called once the 101 answer is sent, on one of the server's threads, with
 * the connection's socket (plain bytes: with TLS, the server keeps
 * encrypting; the socket is the application's end), the bytes the client
 * sent past the request, and @done, which the callee passes to
 * ics_http_upgraded_close() exactly once when it is finished, from any
 * thread.  It must not block (the server's thread serves the TLS side):
 * start a thread. */
typedef void (*IcsHttpUpgradeFn)(void *data, int fd, const char *extra, size_t extra_len,
				 IcsHttpUpgraded *done);

/* Close an upgraded connection (its socket included). */
void ics_http_upgraded_close(IcsHttpUpgraded *done);

typedef struct {
	guint status;
	json_t *json; /* body as JSON (owned), or */
	char *text;   /* body as text (owned) */
	gsize text_len;
	char *content_type; /* for text/stream bodies */
	IcsHttpStreamFn stream;
	void *stream_data;
	GDestroyNotify stream_free;
	GPtrArray *headers; /* extra headers: name, value, ... (owned) */
	/* With status 101: the upgrade (see IcsHttpUpgradeFn).  When the
	 * connection ends before the upgrade, only upgrade_free(upgrade_data)
	 * is called. */
	IcsHttpUpgradeFn upgrade;
	void *upgrade_data;
	GDestroyNotify upgrade_free;
} IcsResponse;

void ics_response_clear(IcsResponse *resp);
/* Set the status and a JSON body (reference stolen). */
void ics_response_json(IcsResponse *resp, guint status, json_t *body);
/* The error body {"error": {"code": ..., "message": ...}}. */
void ics_response_error(IcsResponse *resp, guint status, const char *code, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
void ics_response_header(IcsResponse *resp, const char *name, const char *value);

/* ---- server (http_server.c) ------------------------------------------- */

typedef void (*IcsHttpHandler)(void *data, IcsRequest *req, IcsResponse *resp);

/* TLS 1.2 and 1.3 only, AEAD ciphers only (no CBC, no SHA-1 MACs), forward
 * secret key exchange only (no static RSA), the server's order. */
#define ICS_HTTP_DEFAULT_TLS_PRIORITIES                                                            \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"        \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"
#define ICS_HTTP_DEFAULT_MAX_CONNECTIONS 1000
#define ICS_HTTP_DEFAULT_PER_IP_CONNECTIONS 64
#define ICS_HTTP_DEFAULT_IDLE_TIMEOUT_S 60

/* Connection limits: one thread serves each connection, so these bound the
 * server's threads; a client address over its share is refused at accept,
 * so one address cannot starve the others. */
typedef struct {
	guint max_connections;	  /* 0 = ICS_HTTP_DEFAULT_MAX_CONNECTIONS */
	guint per_ip_connections; /* 0 = ICS_HTTP_DEFAULT_PER_IP_CONNECTIONS */
	guint idle_timeout_s;	  /* 0 = ICS_HTTP_DEFAULT_IDLE_TIMEOUT_S */
} IcsHttpLimits;

typedef struct {
	const char *address;  /* IPv4 or IPv6 literal; NULL = any */
	guint16 port;	      /* 0 = ephemeral */
	const char *cert_pem; /* NULL with key_pem NULL: plain HTTP */
	const char *key_pem;
	const char *tls_priorities; /* NULL = ICS_HTTP_DEFAULT_TLS_PRIORITIES */
	gsize max_body;		    /* 0 = ICS_HTTP_DEFAULT_MAX_BODY */
	IcsHttpLimits limits;
} IcsHttpConfig;

/* INVALID_ARGUMENT naming the position when GnuTLS rejects @priorities. */
gboolean ics_http_tls_priorities_check(const char *priorities, GError **error);

typedef struct IcsHttpServer IcsHttpServer;

IcsHttpServer *ics_http_server_start(const IcsHttpConfig *cfg, IcsHttpHandler handler, void *data,
				     GError **error);
/* The port actually bound (useful with port 0). */
guint16 ics_http_server_port(IcsHttpServer *srv);
/* Stop accepting, close connections, wait for their threads. */
void ics_http_server_stop(IcsHttpServer *srv);

/* ---- router (http_router.c) ------------------------------------------- */

typedef struct IcsRouter IcsRouter;

IcsRouter *ics_router_new(void);
void ics_router_free(IcsRouter *router);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsRouter, ics_router_free)

/* Add @route (kept by pointer, usually static) for @method and @pattern:
 * segments are literals or "{name}", which matches one non-empty segment. */
void ics_router_add(IcsRouter *router, const char *method, const char *pattern, const void *route);

typedef enum {
	ICS_ROUTE_FOUND,
	ICS_ROUTE_NOT_FOUND,	      /* 404 */
	ICS_ROUTE_METHOD_NOT_ALLOWED, /* 405; *allow lists the methods */
} IcsRouteMatch;

/* Find the route for @req's method and path; on FOUND the path parameters
 * are stored in @req->params.  On METHOD_NOT_ALLOWED, @allow (if not NULL)
 * receives "GET, POST"; g_free it. */
IcsRouteMatch ics_router_match(IcsRouter *router, IcsRequest *req, const void **route,
			       char **allow);

#endif /* ICS_MANAGER_HTTP_H */
