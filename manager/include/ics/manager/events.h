/*
 * ics/manager/events.h: in-process events and their Server-Sent Events
 * stream.
 *
 * Modules publish events ("task.updated", "vm.created") with a JSON payload
 * and the owner of the object they concern.  Events get increasing ids and
 * are kept in a bounded ring, so a client that reconnects with
 * Last-Event-ID gets what it missed as long as it is still in the ring;
 * older history is not kept (the API's resources are the durable state,
 * events only say that something changed).
 */
#ifndef ICS_MANAGER_EVENTS_H
#define ICS_MANAGER_EVENTS_H

#include <glib.h>
#include <jansson.h>

typedef struct IcsEvents IcsEvents;

IcsEvents *ics_events_new(guint capacity);
void ics_events_free(IcsEvents *ev);
/* Wake every waiting reader and make them end (at shutdown). */
void ics_events_close(IcsEvents *ev);

/* Publish @type with @data (reference stolen) concerning an object owned
 * by @owner_id (0 = no owner), readable with @permission.  Returns the
 * event's id. */
guint64 ics_events_publish(IcsEvents *ev, const char *type, const char *permission, gint64 owner_id,
			   json_t *data);

typedef struct {
	guint64 id;
	char *type;
	char *permission;
	gint64 owner_id;
	char *data; /* compact JSON */
} IcsEvent;

void ics_event_free(IcsEvent *e);

/* Wake every waiting reader without an event (it returns NULL at once, as
 * on a timeout): readers re-check whatever they wait under. */
void ics_events_wake(IcsEvents *ev);

/* The oldest event with an id greater than @after_id, waiting up to
 * @timeout_us for one.  NULL on timeout, on a wake-up, or when closed (see
 * *closed).  If
 * events after @after_id have already left the ring, *gap is set and the
 * oldest kept event is returned. */
IcsEvent *ics_events_next(IcsEvents *ev, guint64 after_id, gint64 timeout_us, gboolean *gap,
			  gboolean *closed);
/* The id of the newest event (0 when none). */
guint64 ics_events_last_id(IcsEvents *ev);

#endif /* ICS_MANAGER_EVENTS_H */
