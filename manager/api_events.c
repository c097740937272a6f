/*
 * api_events.c: GET /api/v1/events -- the event stream (Server-Sent Events).
 *
 * Each connection's thread waits on the event ring for the next event the
 * caller may see (same permission and ownership rules as the resources),
 * writes it as "id:/event:/data:" lines, and sends a comment line at the
 * keep-alive interval so proxies keep the connection and a vanished client
 * is noticed.  A client resumes with the Last-Event-ID header (or
 * ?last_event_id=); if what it missed has left the ring it first gets an
 * "event: reset" telling it to re-read the resources.  The stream of one
 * VM (GET /api/v1/vms/{uuid}/events, api_vms.c) is the same stream with
 * only the events whose data names that uuid.
 *
 * A stream outlives the request that opened it, so it re-checks its caller:
 * at every keep-alive, and at once when credentials change anywhere
 * (logout, password, disabled account, roles, deleted key:
 * ics_manager_credentials_revoked() wakes every stream).  The session must
 * still exist and not be past its expiry (an open stream counts as
 * activity, so the idle timeout does not apply), or the API key must still
 * exist; the account must be enabled, and the caller's permissions are
 * loaded again, so a lost role takes effect on the stream too.  A caller
 * that fails the check gets "event: end" with the reason and the stream
 * closes.  Keep-alives therefore cannot keep a stream open past its
 * credentials.
 *
 * Streams hold a thread each: their number is capped per user and in all
 * ([limits] event_streams_per_user, event_streams); over the cap is 429.
 * A stream waits in slices of at most a second and looks at its socket
 * between them (poll for a hang-up, never a read), so a client that goes
 * away frees its thread and its place under the cap within a second, not
 * at the next keep-alive -- a browser that reconnects is not refused for
 * the streams it has just left.
 */
#include "config.h"

#include <poll.h>
#include <string.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/apikey.h"
#include "ics/manager/events.h"
#include "ics/manager/session.h"
#include "ics/manager/timestamp.h"

#include "api.h"

typedef struct {
	IcsManager *m;
	IcsPrincipal *principal;
	gint64 user_id;
	guint64 last_id;
	gint64 keepalive_us;
	gint epoch;	   /* m->credentials_epoch at the last check */
	gint64 checked_us; /* monotonic time of the last check */
	gint64 expires_us; /* the session's absolute expiry (0: an API key) */
	gboolean ending;   /* "event: end" queued: the next read ends */
	int fd;		   /* the client's socket (-1: unknown) */
	GString *pending;  /* formatted text not yet sent */
	gsize sent;
	char *uuid; /* only the events of this object (NULL: all) */
} Stream;

/* ---- the per-user and total caps ---------------------------------------- */

static gboolean streams_claim(IcsManager *m, gint64 user_id, const char *user, GError **error)
{
	guint n;

	g_mutex_lock(&m->streams_lock);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(m->streams, &user_id));
	if (n >= m->cfg.event_streams_per_user) {
		g_mutex_unlock(&m->streams_lock);
		g_set_error(error, ICS_ERROR, ICS_ERROR_LIMIT,
			    "user \"%s\" has %u event streams open, the limit; close one first",
			    user, n);
		return FALSE;
	}
	if (m->streams_open >= m->cfg.event_streams) {
		g_mutex_unlock(&m->streams_lock);
		g_set_error(error, ICS_ERROR, ICS_ERROR_LIMIT,
			    "the manager serves its maximum of %u event streams; retry later",
			    m->cfg.event_streams);
		return FALSE;
	}
	g_hash_table_replace(m->streams, g_memdup2(&user_id, sizeof(user_id)),
			     GUINT_TO_POINTER(n + 1));
	m->streams_open++;
	g_mutex_unlock(&m->streams_lock);
	return TRUE;
}

static void streams_release(IcsManager *m, gint64 user_id)
{
	guint n;

	g_mutex_lock(&m->streams_lock);
	n = GPOINTER_TO_UINT(g_hash_table_lookup(m->streams, &user_id));
	if (n <= 1)
		g_hash_table_remove(m->streams, &user_id);
	else
		g_hash_table_replace(m->streams, g_memdup2(&user_id, sizeof(user_id)),
				     GUINT_TO_POINTER(n - 1));
	m->streams_open--;
	g_mutex_unlock(&m->streams_lock);
}

static void stream_free(gpointer data)
{
	Stream *s = data;

	streams_release(s->m, s->user_id);
	ics_principal_free(s->principal);
	g_string_free(s->pending, TRUE);
	g_free(s->uuid);
	g_free(s);
}

/* ---- the caller, again -------------------------------------------------- */

/* Is the stream's caller still who it was allowed for?  Reloads its
 * permissions; FALSE with the reason otherwise. */
static gboolean still_allowed(Stream *s, GError **error)
{
	IcsPrincipal *p = s->principal;
	IcsStore *store = s->m->store;
	g_autoptr(IcsPrincipal) fresh = NULL;
	gboolean ok = TRUE;

	ics_store_read_begin(store);
	if (p->session_id != 0) {
		ok = ics_session_alive(store, p->session_id, &s->expires_us, error);
	} else if (p->apikey_id != NULL) {
		gint64 owner = 0;

		ok = ics_apikey_owner(store, p->apikey_id, &owner, error) && owner == s->user_id;
		if (!ok && (error == NULL || *error == NULL))
			g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
				    "the API key has been deleted");
	}
	if (ok)
		fresh = ics_principal_load(store, s->user_id, error);
	ics_store_read_end(store);
	if (!ok || fresh == NULL)
		return FALSE;
	if (ics_principal_scope(fresh, "event.read") == ICS_SCOPE_NONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "user \"%s\" lost permission event.read", p->name);
		return FALSE;
	}
	/* Keep how the caller authenticated; take the new permissions. */
	g_hash_table_unref(p->permissions);
	p->permissions = g_hash_table_ref(fresh->permissions);
	return TRUE;
}

static void end_stream(Stream *s, const char *why)
{
	g_autoptr(json_t) data = json_pack("{s:s}", "reason", why);
	g_autofree char *text = json_dumps(data, JSON_COMPACT);

	g_string_append_printf(s->pending, "event: end\ndata: %s\n\n", text);
	s->ending = TRUE;
}

/* Re-check the caller when credentials changed anywhere, at every
 * keep-alive interval, and when the session reaches its expiry; FALSE when
 * the stream must end (the end event is queued). */
static gboolean recheck(Stream *s)
{
	g_autoptr(GError) err = NULL;
	gint epoch = g_atomic_int_get(&s->m->credentials_epoch);
	gint64 now = g_get_monotonic_time();

	if (s->expires_us != 0 && ics_now_us() >= s->expires_us) {
		end_stream(s, "the session has expired");
		return FALSE;
	}
	if (epoch == s->epoch && now - s->checked_us < s->keepalive_us)
		return TRUE;
	s->epoch = epoch;
	s->checked_us = now;
	if (still_allowed(s, &err))
		return TRUE;
	if (err->domain != ICS_ERROR || err->code != ICS_ERROR_PERMISSION)
		ics_warning("event stream of %s: %s", s->principal->name, err->message);
	end_stream(s, err->message);
	return FALSE;
}

/* ---- the stream ---------------------------------------------------------- */

static gboolean about(const Stream *s, const IcsEvent *e)
{
	g_autoptr(json_t) data = NULL;

	if (s->uuid == NULL)
		return TRUE;
	data = json_loads(e->data, 0, NULL);
	return g_strcmp0(json_string_value(json_object_get(data, "uuid")), s->uuid) == 0;
}

static gboolean visible(const Stream *s, const IcsEvent *e)
{
	return (e->permission == NULL ||
		ics_principal_can_on(s->principal, e->permission, e->owner_id)) &&
	       about(s, e);
}

/* Has the client hung up?  (A readable socket alone is not a hang-up.) */
static gboolean client_gone(const Stream *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLRDHUP };

	if (s->fd < 0)
		return FALSE;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

#define SLICE_US (G_USEC_PER_SEC)

static ssize_t stream_read(void *data, char *buf, size_t max)
{
	Stream *s = data;
	gint64 quiet_since = g_get_monotonic_time();
	gsize n;

	while (s->sent == s->pending->len) {
		gboolean gap = FALSE, closed = FALSE;
		IcsEvent *e;

		g_string_truncate(s->pending, 0);
		s->sent = 0;
		if (s->ending || !recheck(s))
			break;
		e = ics_events_next(s->m->events, s->last_id, MIN(s->keepalive_us, SLICE_US), &gap,
				    &closed);
		if (e == NULL) {
			if (closed || client_gone(s))
				return -1;
			/* A slice, or a wake-up (credentials changed), loops to
			 * the check; a keep-alive interval without any event sends
			 * a comment. */
			if (g_get_monotonic_time() - quiet_since >= s->keepalive_us) {
				g_string_append(s->pending, ": keep-alive\n\n");
				break;
			}
			continue;
		}
		s->last_id = e->id;
		if (gap)
			g_string_append(s->pending, "event: reset\ndata: {}\n\n");
		if (visible(s, e))
			g_string_append_printf(s->pending,
					       "id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n",
					       e->id, e->type, e->data);
		ics_event_free(e);
	}
	if (s->sent == s->pending->len)
		return -1; /* ending, everything sent */
	n = MIN(max, s->pending->len - s->sent);
	memcpy(buf, s->pending->str + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

gboolean ics_api_event_stream(IcsManager *m, IcsRequest *req, IcsResponse *resp, const char *uuid,
			      GError **error)
{
	const char *last = ics_request_header(req, "Last-Event-ID");
	IcsPrincipal *p = req->principal;
	Stream *s;
	guint64 last_id;

	if (last == NULL)
		last = ics_request_query(req, "last_event_id");
	if (last != NULL) {
		if (!g_ascii_string_to_unsigned(last, 10, 0, G_MAXUINT64, &last_id, NULL))
			return ics_error_invalid(error, "Last-Event-ID must be an event id");
	} else {
		last_id = ics_events_last_id(m->events);
	}
	if (!streams_claim(m, p->user_id, p->name, error))
		return FALSE;
	s = g_new0(Stream, 1);
	s->m = m;
	s->user_id = p->user_id;
	s->principal = g_steal_pointer(&req->principal);
	s->last_id = last_id;
	s->keepalive_us = (gint64)m->cfg.sse_keepalive_ms * 1000;
	/* Checked once now (which also learns the session's expiry); again at
	 * the first keep-alive, or when credentials change. */
	s->epoch = g_atomic_int_get(&m->credentials_epoch);
	s->checked_us = g_get_monotonic_time();
	s->pending = g_string_new("retry: 3000\n\n");
	s->uuid = g_strdup(uuid);
	s->fd = req->conn_fd;
	if (!still_allowed(s, error)) {
		stream_free(s);
		return FALSE;
	}
	resp->status = 200;
	resp->content_type = g_strdup("text/event-stream");
	resp->stream = stream_read;
	resp->stream_data = s;
	resp->stream_free = stream_free;
	return TRUE;
}

static gboolean get_events(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	return ics_api_event_stream(m, req, resp, NULL, error);
}

const IcsApiRoute ics_api_event_routes[] = {
	{ "GET", "/api/v1/events", get_events, 0, NULL, NULL, NULL },
	{ 0 },
};
