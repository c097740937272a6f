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
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/manager/events.h"

#include "api.h"

typedef struct {
	IcsEvents *events;
	IcsPrincipal *principal;
	guint64 last_id;
	gint64 keepalive_us;
	GString *pending; /* formatted text not yet sent */
	gsize sent;
	char *uuid; /* only the events of this object (NULL: all) */
} Stream;

static void stream_free(gpointer data)
{
	Stream *s = data;

	ics_principal_free(s->principal);
	g_string_free(s->pending, TRUE);
	g_free(s->uuid);
	g_free(s);
}

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

static ssize_t stream_read(void *data, char *buf, size_t max)
{
	Stream *s = data;
	gsize n;

	while (s->sent == s->pending->len) {
		gboolean gap = FALSE, closed = FALSE;
		IcsEvent *e;

		g_string_truncate(s->pending, 0);
		s->sent = 0;
		e = ics_events_next(s->events, s->last_id, s->keepalive_us, &gap, &closed);
		if (e == NULL) {
			if (closed)
				return -1;
			g_string_append(s->pending, ": keep-alive\n\n");
			break;
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
	n = MIN(max, s->pending->len - s->sent);
	memcpy(buf, s->pending->str + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

gboolean ics_api_event_stream(IcsManager *m, IcsRequest *req, IcsResponse *resp, const char *uuid,
			      GError **error)
{
	const char *last = ics_request_header(req, "Last-Event-ID");
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
	s = g_new0(Stream, 1);
	s->events = m->events;
	s->principal = g_steal_pointer(&req->principal);
	s->last_id = last_id;
	s->keepalive_us = (gint64)m->cfg.sse_keepalive_ms * 1000;
	s->pending = g_string_new("retry: 3000\n\n");
	s->uuid = g_strdup(uuid);
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
	{ "GET", "/api/v1/events", get_events, "event.read", 0, NULL, NULL, NULL },
	{ 0 },
};
