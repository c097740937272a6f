/*
 * console_proxy.c: WebSocket console sessions (see console_proxy.h).
 *
 * Why a thread per session rather than one event loop: a session's work is
 * two sockets and a small state machine, a thread keeps it sequential and
 * lets blocking libraries (libvirt's stream, a slow VNC server) block only
 * the session that uses them; the HTTP server already runs one thread per
 * connection, and the sessions are bounded (max_sessions), so the threads
 * are too.  wslay's event API does the framing: it unmasks, reassembles
 * fragments, answers pings and close frames, and refuses malformed frames
 * (1002) and messages over ICS_CONSOLE_MAX_MESSAGE (1009) by closing that
 * session; nothing here parses a frame.
 *
 * A session's loop polls the WebSocket (the upgraded connection) and the
 * console socket, with a timeout of POLL_MS so it notices the proxy
 * stopping and asks every LOCATE_MS where the VM runs: if the cluster says
 * another node, or none, the session ends with 4001 or 4002 and a reason
 * the page can show.  Output towards the browser is bounded: the console
 * socket is not read while more than MAX_QUEUED bytes wait to be sent, so
 * a slow browser slows the VNC server instead of growing memory; and the
 * browser's socket is not read while MAX_QUEUED_MSGS messages wait (wslay
 * queues a pong for every ping: a browser that pings and never reads
 * would otherwise grow the queue without end), and a browser that reads
 * nothing of a full queue for STALL_MS loses its session.
 *
 * The ClientInit the browser sends is relayed with its shared flag set: a
 * session never disconnects the VM's other viewers (QEMU drops them on an
 * exclusive ClientInit).
 *
 * When the console side ends (QEMU exits on a stop and at the end of a
 * migration, which ends its VNC server and its serial stream), the cause
 * is usually the VM stopping or moving, which the cluster reports a moment
 * later: the session then asks where the VM runs at every poll for up to
 * EOF_GRACE_MS, so the page gets 4001/4002 rather than a bare 1000.
 *
 * Lock discipline: IcsConsoleProxy.lock guards count, stopping and the
 * condition "gone"; it is taken to register a session, to leave, and by
 * the shutdown.  A session reads the stopping flag atomically, without the
 * lock.  Nothing else is shared.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/console_proxy.h"
#include "ics/manager/rfb_auth.h"

#define POLL_MS 250
#define LOCATE_MS 1000
#define MAX_QUEUED (1024 * 1024)
#define MAX_QUEUED_MSGS 64
#define RECV_BUDGET (64 * 1024)
#define STALL_MS 30000
#define CLOSE_FLUSH_MS 2000
#define EOF_GRACE_MS 5000
#define GREETING_MS 30000
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct IcsConsoleProxy {
	GMutex lock; /* guards count, max, per_user, stopping, gone */
	GCond gone;
	guint count;
	guint max;
	GHashTable *per_user; /* user name -> sessions open (GUINT_TO_POINTER) */
	gint stopping; /* also read atomically by sessions */
};

/* The browser side of the RFB greeting (VNC only). */
typedef enum {
	RFB_WAIT_VERSION, /* we sent our version; waiting for the browser's */
	RFB_WAIT_CHOICE,  /* we offered "None"; waiting for its choice */
	RFB_RELAY,
} RfbState;

struct IcsConsoleSession {
	IcsConsoleProxy *proxy;
	IcsConsoleKind kind;
	char *vm_uuid, *user, *client, *host;
	int console_fd;
	IcsConsoleLocateFn locate;
	void *locate_data;
	IcsConsoleAllowedFn allowed;
	void *allowed_data;
	GDestroyNotify allowed_free;
	char *protocol; /* the subprotocol answered, or NULL */
	/* Set by the upgrade. */
	int ws_fd;
	IcsHttpUpgraded *done;
	GByteArray *pending_in; /* bytes the client sent with its request */
	wslay_event_context_ptr ws;
	RfbState rfb;
	gboolean client_init_sent; /* the first relayed byte was the ClientInit */
	size_t recv_budget; /* browser bytes ws_recv may still read this turn */
	GByteArray *greeting; /* browser bytes during the RFB greeting */
	gboolean console_failed;
	gint64 console_eof; /* when the console side ended (monotonic), 0 while it runs */
	char *end_reason; /* why the session ended, for the log */
};

IcsConsoleProxy *ics_console_proxy_new(guint max_sessions)
{
	IcsConsoleProxy *p = g_new0(IcsConsoleProxy, 1);

	g_mutex_init(&p->lock);
	g_cond_init(&p->gone);
	p->max = max_sessions ? max_sessions : ICS_CONSOLE_DEFAULT_MAX_SESSIONS;
	p->per_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return p;
}

void ics_console_proxy_stop(IcsConsoleProxy *p)
{
	if (p == NULL)
		return;
	g_mutex_lock(&p->lock);
	g_atomic_int_set(&p->stopping, 1);
	while (p->count > 0)
		g_cond_wait(&p->gone, &p->lock);
	g_mutex_unlock(&p->lock);
}

void ics_console_proxy_free(IcsConsoleProxy *p)
{
	if (p == NULL)
		return;
	ics_console_proxy_stop(p);
	g_hash_table_destroy(p->per_user);
	g_cond_clear(&p->gone);
	g_mutex_clear(&p->lock);
	g_free(p);
}

guint ics_console_proxy_sessions(IcsConsoleProxy *p)
{
	guint n;

	g_mutex_lock(&p->lock);
	n = p->count;
	g_mutex_unlock(&p->lock);
	return n;
}

/* Count one session more (+1) or fewer (-1) for @user; the lock is held. */
static guint per_user_add(IcsConsoleProxy *p, const char *user, int delta)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(p->per_user, user));

	g_assert(delta > 0 || n > 0);
	n = (guint)((int)n + delta);
	if (n == 0)
		g_hash_table_remove(p->per_user, user);
	else
		g_hash_table_replace(p->per_user, g_strdup(user), GUINT_TO_POINTER(n));
	return n;
}

static void session_free(IcsConsoleSession *s)
{
	IcsConsoleProxy *p = s->proxy;
	char *user;

	if (s->ws)
		wslay_event_context_free(s->ws);
	if (s->console_fd >= 0)
		close(s->console_fd);
	if (s->pending_in)
		g_byte_array_unref(s->pending_in);
	if (s->greeting)
		g_byte_array_unref(s->greeting);
	if (s->allowed_free)
		s->allowed_free(s->allowed_data);
	g_free(s->vm_uuid);
	g_free(s->client);
	g_free(s->host);
	g_free(s->protocol);
	g_free(s->end_reason);
	/* Last: after this the proxy may be freed. */
	user = s->user;
	g_free(s);
	ics_console_proxy_release(p, user);
	g_free(user);
}

gboolean ics_console_proxy_reserve(IcsConsoleProxy *p, const char *user, GError **error)
{
	guint mine, max;
	gboolean stopping, full;

	g_mutex_lock(&p->lock);
	mine = GPOINTER_TO_UINT(g_hash_table_lookup(p->per_user, user));
	stopping = g_atomic_int_get(&p->stopping);
	full = p->count >= p->max;
	max = p->max;
	if (!stopping && !full && mine < ICS_CONSOLE_MAX_SESSIONS_PER_USER) {
		p->count++;
		per_user_add(p, user, +1);
		g_mutex_unlock(&p->lock);
		return TRUE;
	}
	g_mutex_unlock(&p->lock);
	if (stopping)
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "the manager is stopping");
	else if (full)
		g_set_error(error, ICS_ERROR, ICS_ERROR_LIMIT,
			    "%u console sessions are open, the most this manager serves; "
			    "close one or try later",
			    max);
	else
		g_set_error(error, ICS_ERROR, ICS_ERROR_LIMIT,
			    "%s has %u console sessions open, the most one user may; close one first",
			    user, mine);
	return FALSE;
}

void ics_console_proxy_release(IcsConsoleProxy *p, const char *user)
{
	g_mutex_lock(&p->lock);
	g_assert(p->count > 0);
	p->count--;
	per_user_add(p, user, -1);
	g_cond_broadcast(&p->gone);
	g_mutex_unlock(&p->lock);
}

IcsConsoleSession *ics_console_session_new(IcsConsoleProxy *p, const IcsConsoleSessionSpec *spec)
{
	IcsConsoleSession *s;

	s = g_new0(IcsConsoleSession, 1);
	s->proxy = p;
	s->kind = spec->kind;
	s->vm_uuid = g_strdup(spec->vm_uuid);
	s->user = g_strdup(spec->user);
	s->client = g_strdup(spec->client);
	s->host = g_strdup(spec->host);
	s->console_fd = spec->console_fd;
	s->locate = spec->locate;
	s->locate_data = spec->locate_data;
	s->allowed = spec->allowed;
	s->allowed_data = spec->allowed_data;
	s->allowed_free = spec->allowed_free;
	s->ws_fd = -1;
	return s;
}

/* ---- WebSocket handshake ---------------------------------------------- */

static gboolean header_has_token(const IcsRequest *req, const char *name, const char *token)
{
	const char *v = ics_request_header(req, name);
	g_auto(GStrv) parts = v ? g_strsplit(v, ",", -1) : NULL;

	for (guint i = 0; parts && parts[i]; i++)
		if (g_ascii_strcasecmp(g_strstrip(parts[i]), token) == 0)
			return TRUE;
	return FALSE;
}

gboolean ics_websocket_request_check(const IcsRequest *req, GError **error)
{
	const char *key = ics_request_header(req, "Sec-WebSocket-Key");
	gsize len = 0;
	g_autofree guchar *raw = key ? g_base64_decode(key, &len) : NULL;

	if (!header_has_token(req, "Upgrade", "websocket") ||
	    !header_has_token(req, "Connection", "upgrade"))
		return ics_error_invalid(error, "this URL is a WebSocket: send \"Upgrade: "
						"websocket\" and \"Connection: Upgrade\"");
	if (g_strcmp0(ics_request_header(req, "Sec-WebSocket-Version"), "13") != 0)
		return ics_error_invalid(error, "WebSocket version 13 (RFC 6455) only");
	if (len != 16)
		return ics_error_invalid(error, "Sec-WebSocket-Key is not 16 bytes in base64");
	return TRUE;
}

static char *websocket_accept(const char *key)
{
	g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
	guint8 digest[20];
	gsize len = sizeof digest;

	g_checksum_update(sha1, (const guchar *)key, -1);
	g_checksum_update(sha1, (const guchar *)WS_GUID, -1);
	g_checksum_get_digest(sha1, digest, &len);
	return g_base64_encode(digest, len);
}

static void session_upgraded(void *data, int fd, const char *extra, size_t extra_len,
			     IcsHttpUpgraded *done);

gboolean ics_console_session_respond(IcsConsoleSession *s, const IcsRequest *req,
				     IcsResponse *resp, GError **error)
{
	g_autofree char *accept = NULL;

	if (!ics_websocket_request_check(req, error)) {
		session_free(s);
		return FALSE;
	}
	accept = websocket_accept(ics_request_header(req, "Sec-WebSocket-Key"));
	if (header_has_token(req, "Sec-WebSocket-Protocol", "binary"))
		s->protocol = g_strdup("binary");
	ics_response_clear(resp);
	resp->status = 101;
	ics_response_header(resp, "Upgrade", "websocket");
	ics_response_header(resp, "Sec-WebSocket-Accept", accept);
	if (s->protocol)
		ics_response_header(resp, "Sec-WebSocket-Protocol", s->protocol);
	resp->upgrade = session_upgraded;
	resp->upgrade_data = s;
	resp->upgrade_free = (GDestroyNotify)session_free;
	return TRUE;
}

/* ---- wslay callbacks -------------------------------------------------- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
		       void *data)
{
	IcsConsoleSession *s = data;
	ssize_t n;

	if (s->pending_in && s->pending_in->len > 0) {
		n = (ssize_t)MIN(len, s->pending_in->len);
		memcpy(buf, s->pending_in->data, (size_t)n);
		g_byte_array_remove_range(s->pending_in, 0, (guint)n);
		return n;
	}
	/* wslay reads until the socket is empty: a budget per turn of the
	 * loop, and nothing while the answers (pongs) pile up, keep a browser
	 * that sends fast and reads nothing from growing the queue. */
	if (s->recv_budget == 0 ||
	    wslay_event_get_queued_msg_count(ctx) >= MAX_QUEUED_MSGS) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	n = read(s->ws_fd, buf, MIN(len, s->recv_budget));
	if (n > 0)
		s->recv_budget -= (size_t)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *buf, size_t len, int flags,
		       void *data)
{
	IcsConsoleSession *s = data;
	ssize_t n = send(s->ws_fd, buf, len, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n < 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static void ws_queue(IcsConsoleSession *s, const void *buf, size_t len)
{
	struct wslay_event_msg msg = { WSLAY_BINARY_FRAME, buf, len };

	(void)wslay_event_queue_msg(s->ws, &msg);
}

static void ws_close(IcsConsoleSession *s, guint16 code, const char *reason)
{
	gsize len = strlen(reason);

	if (s->end_reason == NULL)
		s->end_reason = g_strdup_printf("%u %s", code, reason);
	/* A close reason is at most 123 bytes (RFC 6455 5.5). */
	(void)wslay_event_queue_close(s->ws, code, (const uint8_t *)reason, MIN(len, 123u));
}

/* Write everything to the console socket (blocking with poll). */
static gboolean console_write(IcsConsoleSession *s, const guint8 *buf, gsize len)
{
	while (len > 0) {
		ssize_t n = send(s->console_fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { s->console_fd, POLLOUT, 0 };

			if (poll(&pfd, 1, 5000) <= 0)
				return FALSE;
			continue;
		}
		if (n < 0)
			return FALSE;
		buf += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* The browser side of the RFB greeting: we are a 3.8 server offering
 * security type None (1). */
static void rfb_greeting(IcsConsoleSession *s)
{
	static const guint8 offer[] = { 1, 1 }, ok[] = { 0, 0, 0, 0 };
	GByteArray *g = s->greeting;

	if (s->rfb == RFB_WAIT_VERSION && g->len >= ICS_RFB_VERSION_LEN) {
		if (memcmp(g->data, "RFB 003.008\n", ICS_RFB_VERSION_LEN) != 0) {
			ws_close(s, WSLAY_CODE_PROTOCOL_ERROR,
				 "the console speaks RFB 3.8 only");
			return;
		}
		g_byte_array_remove_range(g, 0, ICS_RFB_VERSION_LEN);
		ws_queue(s, offer, sizeof offer);
		s->rfb = RFB_WAIT_CHOICE;
	}
	if (s->rfb == RFB_WAIT_CHOICE && g->len >= 1) {
		if (g->data[0] != 1) {
			ws_close(s, WSLAY_CODE_PROTOCOL_ERROR,
				 "security type None (1) is the only one offered");
			return;
		}
		g_byte_array_remove_range(g, 0, 1);
		ws_queue(s, ok, sizeof ok);
		s->rfb = RFB_RELAY;
		/* ClientInit (shared, see above) and whatever followed go to
		 * the VM's server. */
		if (g->len > 0) {
			g->data[0] = 1;
			s->client_init_sent = TRUE;
			if (!console_write(s, g->data, g->len))
				s->console_failed = TRUE;
		}
		g_byte_array_set_size(g, 0);
	}
}

static void ws_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		      void *data)
{
	IcsConsoleSession *s = data;

	if (wslay_is_ctrl_frame(arg->opcode)) {
		if (arg->opcode == WSLAY_CONNECTION_CLOSE && s->end_reason == NULL)
			s->end_reason = g_strdup_printf("the browser closed (%u)",
							arg->status_code);
		return;
	}
	if (s->kind == ICS_CONSOLE_VNC && s->rfb != RFB_RELAY) {
		g_byte_array_append(s->greeting, arg->msg, (guint)arg->msg_length);
		if (s->greeting->len > 64) {
			ws_close(s, WSLAY_CODE_PROTOCOL_ERROR, "not an RFB greeting");
			return;
		}
		rfb_greeting(s);
		return;
	}
	if (s->console_eof != 0)
		return; /* the console is gone; the session is about to close */
	if (s->kind == ICS_CONSOLE_VNC && !s->client_init_sent && arg->msg_length > 0) {
		g_autofree guint8 *init = g_memdup2(arg->msg, arg->msg_length);

		init[0] = 1; /* ClientInit: shared */
		s->client_init_sent = TRUE;
		if (!console_write(s, init, arg->msg_length))
			s->console_failed = TRUE;
		return;
	}
	if (!console_write(s, arg->msg, arg->msg_length))
		s->console_failed = TRUE;
}

/* ---- the session's thread --------------------------------------------- */

static gboolean set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* Has the VM left the session's host, or the user the right to its
 * console (logged out, session ended, key deleted, disabled, permission or
 * VM's owner changed)?  Ends the session if so. */
static void check_location(IcsConsoleSession *s)
{
	g_autofree char *host = NULL, *why = NULL;

	if (s->allowed && !s->allowed(s->allowed_data, &why)) {
		g_autofree char *reason = g_strdup_printf("access revoked: %s",
							  why ? why : "no longer allowed");

		ws_close(s, ICS_CONSOLE_CLOSE_REVOKED, reason);
		return;
	}
	if (s->locate == NULL || !s->locate(s->locate_data, s->vm_uuid, &host))
		return;
	if (host == NULL) {
		ws_close(s, ICS_CONSOLE_CLOSE_STOPPED, "the VM stopped");
	} else if (g_strcmp0(host, s->host) != 0) {
		g_autofree char *moved = g_strdup_printf("the VM moved to %s", host);

		ws_close(s, ICS_CONSOLE_CLOSE_MOVED, moved);
	}
}

static void relay(IcsConsoleSession *s)
{
	guint8 buf[16384];
	gint64 next_locate = g_get_monotonic_time() + LOCATE_MS * 1000;
	gint64 close_deadline = 0, stalled_since = 0;
	gint64 greeting_deadline = g_get_monotonic_time() + GREETING_MS * 1000;

	while (wslay_event_want_read(s->ws) || wslay_event_want_write(s->ws)) {
		gboolean closing = wslay_event_get_close_sent(s->ws);
		gboolean read_console = !closing && s->console_fd >= 0 && s->console_eof == 0 &&
					(s->kind != ICS_CONSOLE_VNC || s->rfb == RFB_RELAY) &&
					wslay_event_get_queued_msg_length(s->ws) < MAX_QUEUED;
		gboolean full = wslay_event_get_queued_msg_count(s->ws) >= MAX_QUEUED_MSGS;
		struct pollfd pfd[2] = {
			{ s->ws_fd, (short)((wslay_event_want_read(s->ws) && !full ? POLLIN : 0) |
					    (wslay_event_want_write(s->ws) ? POLLOUT : 0)),
			  0 },
			{ read_console ? s->console_fd : -1, POLLIN, 0 },
		};
		int n = poll(pfd, 2, POLL_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (!full) {
			stalled_since = 0;
		} else if (stalled_since == 0) {
			stalled_since = g_get_monotonic_time();
		} else if (g_get_monotonic_time() - stalled_since > STALL_MS * 1000) {
			if (s->end_reason == NULL)
				s->end_reason = g_strdup("the browser reads nothing of what it asked for");
			break;
		}
		if (closing) {
			/* The close frame is out: wait for the browser's, briefly. */
			if (close_deadline == 0)
				close_deadline = g_get_monotonic_time() + CLOSE_FLUSH_MS * 1000;
			else if (g_get_monotonic_time() > close_deadline)
				break;
		}
		s->recv_budget = RECV_BUDGET;
		if (n > 0 && !full && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    wslay_event_recv(s->ws) != 0) {
			if (s->end_reason == NULL)
				s->end_reason = g_strdup("the browser's connection ended");
			break;
		}
		if (s->console_failed && !closing) {
			ws_close(s, WSLAY_CODE_INTERNAL_SERVER_ERROR,
				 "cannot write to the console");
			continue;
		}
		if (n > 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(s->console_fd, buf, sizeof buf);

			if (got > 0) {
				ws_queue(s, buf, (size_t)got);
			} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				s->console_eof = g_get_monotonic_time();
				next_locate = 0; /* why did it end?  ask now */
			}
		}
		if (!closing && s->console_eof != 0 &&
		    g_get_monotonic_time() >= s->console_eof + EOF_GRACE_MS * 1000)
			ws_close(s, WSLAY_CODE_NORMAL_CLOSURE,
				 s->kind == ICS_CONSOLE_VNC ? "the VM's VNC server closed the connection"
							    : "the VM's serial console closed");
		if (!closing && s->kind == ICS_CONSOLE_VNC && s->rfb != RFB_RELAY &&
		    g_get_monotonic_time() > greeting_deadline)
			ws_close(s, WSLAY_CODE_POLICY_VIOLATION,
				 "the RFB greeting was not finished within 30 s");
		if (!closing && g_atomic_int_get(&s->proxy->stopping))
			ws_close(s, WSLAY_CODE_GOING_AWAY, "the manager is stopping");
		if (!closing && g_get_monotonic_time() >= next_locate) {
			next_locate = g_get_monotonic_time() +
				      (s->console_eof ? POLL_MS : LOCATE_MS) * 1000;
			check_location(s);
		}
		if (wslay_event_want_write(s->ws) && wslay_event_send(s->ws) != 0) {
			if (s->end_reason == NULL)
				s->end_reason = g_strdup("cannot write to the browser");
			break;
		}
	}
}

/* After the loop: send what wslay still holds (a close frame it queued on
 * a protocol error, say), then half-close and read what the browser still
 * sends for a moment, so our close frame is not lost to a reset caused by
 * unread data. */
static void linger(IcsConsoleSession *s)
{
	gint64 deadline = g_get_monotonic_time() + CLOSE_FLUSH_MS * 1000;
	guint8 sink[4096];

	while (wslay_event_want_write(s->ws) && g_get_monotonic_time() < deadline) {
		struct pollfd pfd = { s->ws_fd, POLLOUT, 0 };

		if (poll(&pfd, 1, POLL_MS) > 0 && wslay_event_send(s->ws) != 0)
			break;
	}
	shutdown(s->ws_fd, SHUT_WR);
	while (g_get_monotonic_time() < deadline) {
		struct pollfd pfd = { s->ws_fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, POLL_MS) <= 0)
			continue;
		n = read(s->ws_fd, sink, sizeof sink);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
}

static gpointer session_thread(gpointer data)
{
	IcsConsoleSession *s = data;
	struct wslay_event_callbacks cb = { ws_recv, ws_send, NULL, NULL, NULL, NULL, ws_on_msg };
	gint64 t0 = g_get_monotonic_time();

	if (!set_nonblocking(s->ws_fd) || !set_nonblocking(s->console_fd) ||
	    wslay_event_context_server_init(&s->ws, &cb, s) != 0) {
		ics_error("console %s of VM %s for %s: cannot set the session up",
			  ics_console_kind_name(s->kind), s->vm_uuid, s->user);
	} else {
		wslay_event_config_set_max_recv_msg_length(s->ws, ICS_CONSOLE_MAX_MESSAGE);
		if (s->kind == ICS_CONSOLE_VNC) {
			s->greeting = g_byte_array_new();
			s->rfb = RFB_WAIT_VERSION;
			ws_queue(s, ICS_RFB_VERSION, ICS_RFB_VERSION_LEN);
		}
		ics_info("console %s of VM %s on %s opened for %s from %s",
			 ics_console_kind_name(s->kind), s->vm_uuid, s->host, s->user, s->client);
		relay(s);
		linger(s);
		ics_info("console %s of VM %s on %s for %s closed after %" G_GINT64_FORMAT
			 " s: %s",
			 ics_console_kind_name(s->kind), s->vm_uuid, s->host, s->user,
			 (g_get_monotonic_time() - t0) / G_USEC_PER_SEC,
			 s->end_reason ? s->end_reason : "ended");
	}
	ics_http_upgraded_close(s->done);
	session_free(s);
	return NULL;
}

static void session_upgraded(void *data, int fd, const char *extra, size_t extra_len,
			     IcsHttpUpgraded *done)
{
	IcsConsoleSession *s = data;
	GThread *t;

	s->ws_fd = fd;
	s->done = done;
	if (extra_len > 0) {
		s->pending_in = g_byte_array_new();
		g_byte_array_append(s->pending_in, (const guint8 *)extra, (guint)extra_len);
	}
	t = g_thread_new("console", session_thread, s);
	g_thread_unref(t);
}

/* ---- connecting to a console ------------------------------------------ */

int ics_console_tcp_connect(const char *address, guint16 port, guint timeout_ms, GError **error)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char service[8];
	int rc, fd = -1;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	g_snprintf(service, sizeof service, "%u", port);
	rc = getaddrinfo(address, service, &hints, &res);
	if (rc != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNREACHABLE, "console at %s:%u: %s",
			    address, port, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		struct pollfd pfd;
		int err = 0;
		socklen_t elen = sizeof err;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		set_nonblocking(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
			err = errno;
		else {
			pfd = (struct pollfd){ fd, POLLOUT, 0 };
			if (poll(&pfd, 1, (int)timeout_ms) <= 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = errno;
		}
		if (err != 0) {
			close(fd);
			fd = -1;
			errno = err;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNREACHABLE, "console at %s:%u: %s",
			    address, port, g_strerror(errno));
		return -1;
	}
	/* Blocking again: the handshake reads with poll deadlines. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}
