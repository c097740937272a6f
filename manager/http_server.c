/*
 * http_server.c: the HTTPS server, on libmicrohttpd.
 *
 * Threading: MHD's internal polling thread accepts connections and each
 * connection gets its own thread (MHD_USE_THREAD_PER_CONNECTION).  That
 * model lets a handler block -- a Server-Sent Events stream waits on a
 * condition variable for the next event -- without stalling other clients,
 * and with keep-alive clients (API tools, wrk) a connection's thread serves
 * all its requests without any hand-off.  The number of connections is
 * capped, so the number of threads is too.
 *
 * Limits: a total number of connections, a share per client address
 * (refused at accept, so one address cannot starve the others) and an idle
 * timeout, all configurable ([limits], IcsHttpLimits).  TLS uses the
 * priority string of the configuration, by default AEAD suites of TLS 1.2
 * and 1.3 with forward secrecy only.
 *
 * Bodies are collected up to a limit; a request whose Content-Length is over
 * it is refused with 413 before its body is read, one that grows over it
 * while being read (chunked) is drained, not stored, and refused at its
 * end.  Percent-escapes in the path and the query are decoded by our own
 * callback, which leaves a component undecoded when decoding would give a
 * NUL (it would cut the C string short: "/users/%00admin" read as
 * "/users/") or bytes that are not UTF-8: such a component stays "%00..."
 * and fails every name and uuid check, with a message that is valid text
 * for the answer and the audit.  Everything else -- authentication,
 * routing, JSON -- belongs to the handler.
 *
 * Upgrades (WebSocket): a handler that answers 101 with an upgrade function
 * gets the connection's socket once the answer is sent
 * (MHD_ALLOW_UPGRADE, MHD_create_response_for_upgrade).  The function is
 * handed over exactly once: either MHD calls the upgrade, or the
 * connection ends first and on_completed frees what the handler prepared;
 * an atomic claim decides which, whatever order MHD calls them in.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/http.h"

struct IcsHttpServer {
	struct MHD_Daemon *daemon;
	IcsHttpHandler handler;
	void *data;
	gsize max_body;
	gboolean tls;
};

/* A prepared upgrade, shared by the response (upgrade_cb) and the
 * connection's state (on_completed); the one that claims it first acts. */
typedef struct {
	gint refs;
	gint claimed;
	IcsHttpUpgradeFn fn;
	void *data;
	GDestroyNotify free_data;
} Upgrade;

struct IcsHttpUpgraded {
	struct MHD_UpgradeResponseHandle *urh;
};

static void upgrade_unref(Upgrade *u)
{
	if (u && g_atomic_int_dec_and_test(&u->refs))
		g_free(u);
}

static gboolean upgrade_claim(Upgrade *u)
{
	return g_atomic_int_compare_and_exchange(&u->claimed, 0, 1);
}

void ics_http_upgraded_close(IcsHttpUpgraded *done)
{
	MHD_upgrade_action(done->urh, MHD_UPGRADE_ACTION_CLOSE);
	g_free(done);
}

static void upgrade_cb(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra,
		       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	Upgrade *u = cls;
	IcsHttpUpgraded *done = g_new0(IcsHttpUpgraded, 1);

	done->urh = urh;
	if (upgrade_claim(u))
		u->fn(u->data, sock, extra, extra_len, done);
	else
		ics_http_upgraded_close(done);
	upgrade_unref(u);
}

/* Per-request state while the body arrives. */
typedef struct {
	Upgrade *upgrade; /* prepared by the answer, NULL without */
	GByteArray *body;
	gboolean too_large;
	gboolean answered; /* 413 sent before the body was read */
	gsize dropped;	   /* bytes of an oversized body read and dropped */
} Pending;

/* A chunked body is drained up to this many times the limit; past that the
 * connection is closed without an answer. */
#define MAX_DRAIN_FACTOR 16

static void mhd_log(void *cls, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);

	g_strchomp(msg);
	ics_debug("http: %s", msg);
}

static int hex_value(char c)
{
	return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/* MHD_OPTION_UNESCAPE_CALLBACK: decode %XX in place unless the result would
 * hold a NUL or not be UTF-8 (then keep the text as it came).  MHD calls it
 * for the path and every query key and value, after turning '+' into ' '
 * in the query. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	g_autofree char *out = g_malloc(strlen(s) + 1);
	gsize n = 0;

	for (const char *p = s; *p; p++) {
		int hi, lo;

		if (p[0] == '%' && (hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0) {
			char c = (char)(hi * 16 + lo);

			if (c == '\0')
				return strlen(s);
			out[n++] = c;
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	if (!g_utf8_validate(out, (gssize)n, NULL))
		return strlen(s);
	memcpy(s, out, n + 1);
	return n;
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	IcsRequest *req = cls;

	g_ptr_array_add(req->query, g_strdup(key));
	g_ptr_array_add(req->query, g_strdup(value ? value : ""));
	return MHD_YES;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	IcsRequest *req = cls;

	g_hash_table_replace(req->headers, g_ascii_strdown(key, -1), g_strdup(value ? value : ""));
	return MHD_YES;
}

static char *peer_address(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[NI_MAXHOST];

	if (ci == NULL || ci->client_addr == NULL)
		return g_strdup("unknown");
	socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
		return g_strdup("unknown");
	return g_strdup(host);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	IcsResponse *resp = cls;
	ssize_t n = resp->stream(resp->stream_data, buf, max);

	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void stream_free(void *cls)
{
	IcsResponse *resp = cls;

	ics_response_clear(resp);
	g_free(resp);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, IcsResponse *resp, Pending *p)
{
	struct MHD_Response *r;
	const char *ctype = resp->content_type;
	guint status = resp->status ? resp->status : 500;
	gboolean cache_set = FALSE;
	enum MHD_Result ret;

	if (resp->upgrade && status == 101 && p != NULL) {
		Upgrade *u = g_new0(Upgrade, 1);

		u->refs = 2; /* the response's and the connection's */
		u->fn = resp->upgrade;
		u->data = resp->upgrade_data;
		u->free_data = resp->upgrade_free;
		resp->upgrade = NULL;
		resp->upgrade_data = NULL;
		p->upgrade = u;
		r = MHD_create_response_for_upgrade(upgrade_cb, u);
		if (r == NULL)
			upgrade_unref(u);
	} else if (resp->stream) {
		IcsResponse *owned = g_new0(IcsResponse, 1);

		*owned = *resp;
		memset(resp, 0, sizeof(*resp));
		resp = owned;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, owned,
						      stream_free);
	} else if (resp->json) {
		char *text = json_dumps(resp->json, JSON_COMPACT);

		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
		ctype = "application/json";
	} else if (resp->text) {
		/* Handed over: g_malloc is malloc, so MHD may free() it. */
		r = MHD_create_response_from_buffer(resp->text_len, resp->text,
						    MHD_RESPMEM_MUST_FREE);
		resp->text = NULL;
	} else {
		r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (guint i = 0; resp->headers && i + 1 < resp->headers->len; i += 2) {
		const char *name = g_ptr_array_index(resp->headers, i);

		if (g_ascii_strcasecmp(name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0)
			cache_set = TRUE;
		MHD_add_response_header(r, name, g_ptr_array_index(resp->headers, i + 1));
	}
	/* Nothing of the API is cached unless the handler says otherwise (the
	 * console's static files do). */
	if (!cache_set)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_too_large(IcsHttpServer *srv, struct MHD_Connection *conn)
{
	IcsResponse resp = { 0 };
	enum MHD_Result ret;

	ics_response_error(&resp, 413, "payload-too-large",
			   "request body is over %" G_GSIZE_FORMAT " bytes", srv->max_body);
	ics_response_header(&resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = send_response(conn, &resp, NULL);
	ics_response_clear(&resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	IcsHttpServer *srv = cls;
	Pending *p = *con_cls;

	if (p == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		p = g_new0(Pending, 1);
		p->body = g_byte_array_new();
		*con_cls = p;
		if (cl != NULL && g_ascii_strtoull(cl, NULL, 10) > srv->max_body) {
			p->too_large = p->answered = TRUE;
			return send_too_large(srv, conn);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* A chunked body that outgrows the limit is read to its end and
		 * dropped: answering in the middle of an upload makes clients see
		 * a reset connection instead of the 413. */
		if (!p->too_large && p->body->len + *upload_data_size > srv->max_body) {
			p->too_large = TRUE;
			g_byte_array_set_size(p->body, 0);
		}
		if (!p->too_large)
			g_byte_array_append(p->body, (const guint8 *)upload_data,
					    *upload_data_size);
		else
			p->dropped += *upload_data_size;
		*upload_data_size = 0;
		return p->dropped > MAX_DRAIN_FACTOR * srv->max_body ? MHD_NO : MHD_YES;
	}
	if (p->too_large)
		return p->answered ? MHD_YES : send_too_large(srv, conn);

	g_autoptr(IcsRequest) req = ics_request_new(method, url);
	IcsResponse resp = { 0 };
	enum MHD_Result ret;

	g_free(req->body);
	req->body_len = p->body->len;
	g_byte_array_append(p->body, (const guint8 *)"", 1);
	req->body = (char *)g_byte_array_free(p->body, FALSE);
	p->body = NULL;
	req->client = peer_address(conn);
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		req->conn_fd = ci ? ci->connect_fd : -1;
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, req);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, req);
	srv->handler(srv->data, req, &resp);
	ret = send_response(conn, &resp, p);
	ics_response_clear(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Pending *p = *con_cls;

	if (p == NULL)
		return;
	if (p->upgrade) {
		if (upgrade_claim(p->upgrade) && p->upgrade->free_data)
			p->upgrade->free_data(p->upgrade->data);
		upgrade_unref(p->upgrade);
	}
	if (p->body)
		g_byte_array_free(p->body, TRUE);
	g_free(p);
	*con_cls = NULL;
}

static unsigned int limit_or(guint value, guint fallback)
{
	return value ? value : fallback;
}

gboolean ics_http_tls_priorities_check(const char *priorities, GError **error)
{
	gnutls_priority_t p;
	const char *where = NULL;
	int rc = gnutls_priority_init(&p, priorities, &where);

	if (rc < 0)
		return ics_error_invalid(error, "TLS priorities \"%s\": %s at \"%s\"", priorities,
					 gnutls_strerror(rc), where ? where : "");
	gnutls_priority_deinit(p);
	return TRUE;
}

IcsHttpServer *ics_http_server_start(const IcsHttpConfig *cfg, IcsHttpHandler handler, void *data,
				     GError **error)
{
	g_autofree IcsHttpServer *srv = g_new0(IcsHttpServer, 1);
	struct sockaddr_in6 sa6 = { 0 };
	struct sockaddr_in sa4 = { 0 };
	struct sockaddr *sa = (struct sockaddr *)&sa4;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	const char *addr = cfg->address ? cfg->address : "0.0.0.0";
	const char *priorities =
		cfg->tls_priorities ? cfg->tls_priorities : ICS_HTTP_DEFAULT_TLS_PRIORITIES;

	srv->handler = handler;
	srv->data = data;
	srv->max_body = cfg->max_body ? cfg->max_body : ICS_HTTP_DEFAULT_MAX_BODY;
	srv->tls = cfg->cert_pem != NULL && cfg->key_pem != NULL;
	if (inet_pton(AF_INET, addr, &sa4.sin_addr) == 1) {
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons(cfg->port);
	} else if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons(cfg->port);
		sa = (struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else {
		ics_error_invalid(error, "listen address \"%s\" is not an IPv4 or IPv6 address",
				  addr);
		return NULL;
	}
	if (srv->tls)
		flags |= MHD_USE_TLS;
	if (srv->tls && !ics_http_tls_priorities_check(priorities, error))
		return NULL;
	srv->daemon = MHD_start_daemon(
		flags, cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, sa,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_LIMIT,
		limit_or(cfg->limits.max_connections, ICS_HTTP_DEFAULT_MAX_CONNECTIONS),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		limit_or(cfg->limits.per_ip_connections, ICS_HTTP_DEFAULT_PER_IP_CONNECTIONS),
		MHD_OPTION_CONNECTION_TIMEOUT,
		limit_or(cfg->limits.idle_timeout_s, ICS_HTTP_DEFAULT_IDLE_TIMEOUT_S),
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		srv, srv->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, cfg->key_pem,
		MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem, MHD_OPTION_HTTPS_PRIORITIES, priorities,
		MHD_OPTION_END);
	if (srv->daemon == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "cannot listen on %s port %u (address in use, or a bad TLS certificate "
			    "or key)",
			    addr, cfg->port);
		return NULL;
	}
	return g_steal_pointer(&srv);
}

guint16 ics_http_server_port(IcsHttpServer *srv)
{
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);

	return di ? di->port : 0;
}

void ics_http_server_stop(IcsHttpServer *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	g_free(srv);
}
