/*
 * events.c: publish/subscribe inside the manager, with a bounded history.
 *
 * A ring buffer under one mutex and one condition variable: publishing
 * appends (dropping the oldest when full) and broadcasts; readers are SSE
 * connection threads that each remember the last id they sent and wait on
 * the condition.  No per-subscriber queue exists, so a slow client costs
 * nothing but its own thread, and never makes publishers wait.
 */
#include "config.h"

#include "ics/manager/events.h"

struct IcsEvents {
	GMutex lock;
	GCond cond;
	IcsEvent **ring;
	guint capacity;
	guint count;
	guint head; /* index of the oldest */
	guint64 next_id;
	guint64 wakeups; /* ics_events_wake() calls */
	gboolean closed;
};

void ics_event_free(IcsEvent *e)
{
	if (e == NULL)
		return;
	g_free(e->type);
	g_free(e->permission);
	g_free(e->data);
	g_free(e);
}

static IcsEvent *event_copy(const IcsEvent *e)
{
	IcsEvent *c = g_new0(IcsEvent, 1);

	c->id = e->id;
	c->type = g_strdup(e->type);
	c->permission = g_strdup(e->permission);
	c->owner_id = e->owner_id;
	c->data = g_strdup(e->data);
	return c;
}

IcsEvents *ics_events_new(guint capacity)
{
	IcsEvents *ev = g_new0(IcsEvents, 1);

	g_mutex_init(&ev->lock);
	g_cond_init(&ev->cond);
	ev->capacity = capacity ? capacity : 1024;
	ev->ring = g_new0(IcsEvent *, ev->capacity);
	ev->next_id = 1;
	return ev;
}

void ics_events_free(IcsEvents *ev)
{
	if (ev == NULL)
		return;
	for (guint i = 0; i < ev->capacity; i++)
		ics_event_free(ev->ring[i]);
	g_free(ev->ring);
	g_mutex_clear(&ev->lock);
	g_cond_clear(&ev->cond);
	g_free(ev);
}

void ics_events_close(IcsEvents *ev)
{
	g_mutex_lock(&ev->lock);
	ev->closed = TRUE;
	g_cond_broadcast(&ev->cond);
	g_mutex_unlock(&ev->lock);
}

void ics_events_wake(IcsEvents *ev)
{
	g_mutex_lock(&ev->lock);
	ev->wakeups++;
	g_cond_broadcast(&ev->cond);
	g_mutex_unlock(&ev->lock);
}

guint64 ics_events_publish(IcsEvents *ev, const char *type, const char *permission, gint64 owner_id,
			   json_t *data)
{
	IcsEvent *e = g_new0(IcsEvent, 1);
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	guint64 id;

	e->type = g_strdup(type);
	e->permission = g_strdup(permission);
	e->owner_id = owner_id;
	e->data = g_strdup(text ? text : "{}");
	free(text);
	if (data)
		json_decref(data);

	g_mutex_lock(&ev->lock);
	id = e->id = ev->next_id++;
	if (ev->count == ev->capacity) {
		ics_event_free(ev->ring[ev->head]);
		ev->ring[ev->head] = e;
		ev->head = (ev->head + 1) % ev->capacity;
	} else {
		ev->ring[(ev->head + ev->count) % ev->capacity] = e;
		ev->count++;
	}
	g_cond_broadcast(&ev->cond);
	g_mutex_unlock(&ev->lock);
	return id;
}

guint64 ics_events_last_id(IcsEvents *ev)
{
	guint64 id;

	g_mutex_lock(&ev->lock);
	id = ev->next_id - 1;
	g_mutex_unlock(&ev->lock);
	return id;
}

/* The oldest event after @after_id, with the lock held. */
static IcsEvent *find_after(IcsEvents *ev, guint64 after_id, gboolean *gap)
{
	const IcsEvent *oldest;

	if (ev->count == 0 || after_id + 1 >= ev->next_id)
		return NULL;
	oldest = ev->ring[ev->head];
	if (after_id + 1 < oldest->id) {
		if (gap)
			*gap = after_id != 0;
		return event_copy(oldest);
	}
	return event_copy(ev->ring[(ev->head + (after_id + 1 - oldest->id)) % ev->capacity]);
}

IcsEvent *ics_events_next(IcsEvents *ev, guint64 after_id, gint64 timeout_us, gboolean *gap,
			  gboolean *closed)
{
	gint64 deadline = g_get_monotonic_time() + timeout_us;
	IcsEvent *e;

	if (gap)
		*gap = FALSE;
	g_mutex_lock(&ev->lock);
	guint64 wakeups = ev->wakeups;
	while ((e = find_after(ev, after_id, gap)) == NULL && !ev->closed &&
	       ev->wakeups == wakeups) {
		if (!g_cond_wait_until(&ev->cond, &ev->lock, deadline))
			break;
	}
	if (closed)
		*closed = ev->closed;
	g_mutex_unlock(&ev->lock);
	return e;
}
