/*
 * fence_events.c: "host.fenced" events, manual confirmations flagged, and
 * "host.state" for every change of a host's state (see
 * ics/manager/fence_events.h).
 *
 * host.state is published at once, on the cluster service's thread (a
 * publish only queues the event): a page showing hosts follows standby,
 * maintenance and nodes leaving or joining without reading them again.
 *
 * One worker thread (a GThreadPool of one, so changes keep their order)
 * asks the adapter's fence_history for every node that went offline.  A
 * fencing older than FRESH_S is not this departure's (a clean shutdown of a
 * node fenced long ago): nothing is published for it.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/fence_events.h"
#include "ics/manager/timestamp.h"

/* A fencing completed more than this before the node went offline is an
 * older one. */
#define FRESH_S 300

struct IcsFenceEvents {
	IcsEvents *events;
	const IcsClusterOps *cluster;
	GThreadPool *worker;
};

static void look(gpointer data, gpointer user_data)
{
	g_autofree char *node = data;
	IcsFenceEvents *fe = user_data;
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) h = fe->cluster->fence_history(fe->cluster->self, node, &err);
	g_autofree char *when = NULL;
	gint64 completed;
	gboolean manual;

	if (h == NULL) {
		ics_warning("host %s left the cluster; its fencing history cannot be read: %s",
			    node, err->message);
		return;
	}
	completed = json_integer_value(json_object_get(h, "completed"));
	if (g_strcmp0(json_string_value(json_object_get(h, "state")), "done") != 0 ||
	    completed < ics_now_us() / G_USEC_PER_SEC - FRESH_S)
		return;
	manual = json_is_true(json_object_get(h, "manual"));
	when = ics_timestamp_format(completed * G_USEC_PER_SEC);
	if (manual)
		ics_warning("host %s was declared fenced by hand (%s, delegate \"%s\"): nothing "
			    "proves it is off, so its VMs' leases are not taken over on that "
			    "alone; make sure the host is really off",
			    node, json_string_value(json_object_get(h, "action")),
			    json_string_value(json_object_get(h, "delegate")));
	ics_events_publish(fe->events, "host.fenced", "host.read", 0,
			   json_pack("{s:s, s:O?, s:O?, s:b, s:s}", "host", node, "action",
				     json_object_get(h, "action"), "delegate",
				     json_object_get(h, "delegate"), "manual", manual,
				     "completed_at", when));
}

IcsFenceEvents *ics_fence_events_new(IcsEvents *events, const IcsClusterOps *cluster)
{
	IcsFenceEvents *fe = g_new0(IcsFenceEvents, 1);

	fe->events = events;
	fe->cluster = cluster;
	/* Exclusive, one thread: cannot fail. */
	fe->worker = g_thread_pool_new(look, fe, 1, FALSE, NULL);
	return fe;
}

void ics_fence_events_node_changed(void *self, const char *node, const char *state,
				   const char *old_state)
{
	IcsFenceEvents *fe = self;

	ics_events_publish(fe->events, "host.state", "host.read", 0,
			   json_pack("{s:s, s:s?, s:s?}", "host", node, "state", state,
				     "previous_state", old_state));
	if (fe->cluster == NULL || fe->cluster->fence_history == NULL ||
	    g_strcmp0(state, "offline") != 0 || g_strcmp0(old_state, "offline") == 0)
		return;
	g_thread_pool_push(fe->worker, g_strdup(node), NULL);
}

void ics_fence_events_free(IcsFenceEvents *fe)
{
	if (fe == NULL)
		return;
	g_thread_pool_free(fe->worker, FALSE, TRUE);
	g_free(fe);
}
