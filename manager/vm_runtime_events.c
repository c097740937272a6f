/*
 * vm_runtime_events.c: "vm.state" events from the cluster's VM changes
 * (see ics/manager/vm_runtime_events.h).
 */
#include "config.h"

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_runtime_events.h"

struct IcsVmRuntimeEvents {
	IcsStore *store;
	IcsEvents *events;
	GThreadPool *worker; /* one thread: events keep the cluster's order */
};

typedef struct {
	char *uuid, *state, *host, *old_state, *old_host;
} Change;

static void change_free(Change *c)
{
	g_free(c->uuid);
	g_free(c->state);
	g_free(c->host);
	g_free(c->old_state);
	g_free(c->old_host);
	g_free(c);
}

static void publish(gpointer data, gpointer user_data)
{
	Change *c = data;
	IcsVmRuntimeEvents *rt = user_data;
	g_autoptr(GError) err = NULL;
	gint64 owner = 0;

	ics_store_read_begin(rt->store);
	if (!ics_vm_inventory_owner(rt->store, c->uuid, &owner, &err)) {
		if (!g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND))
			ics_warning("vm.state event of %s: %s", c->uuid, err->message);
		owner = 0;
	}
	ics_store_read_end(rt->store);
	ics_events_publish(rt->events, "vm.state", "vm.read", owner,
			   json_pack("{s:s, s:s, s:s?, s:s, s:s?}", "uuid", c->uuid, "state",
				     c->state, "host", c->host, "previous_state", c->old_state,
				     "previous_host", c->old_host));
	change_free(c);
}

IcsVmRuntimeEvents *ics_vm_runtime_events_new(IcsStore *store, IcsEvents *events)
{
	IcsVmRuntimeEvents *rt = g_new0(IcsVmRuntimeEvents, 1);

	rt->store = store;
	rt->events = events;
	/* Exclusive, one thread: cannot fail. */
	rt->worker = g_thread_pool_new(publish, rt, 1, FALSE, NULL);
	return rt;
}

void ics_vm_runtime_events_changed(void *self, const char *uuid, const char *state,
				   const char *host, const char *old_state, const char *old_host)
{
	IcsVmRuntimeEvents *rt = self;
	Change *c = g_new0(Change, 1);

	c->uuid = g_strdup(uuid);
	c->state = g_strdup(state);
	c->host = g_strdup(host);
	c->old_state = g_strdup(old_state);
	c->old_host = g_strdup(old_host);
	g_thread_pool_push(rt->worker, c, NULL);
}

void ics_vm_runtime_events_free(IcsVmRuntimeEvents *rt)
{
	if (rt == NULL)
		return;
	g_thread_pool_free(rt->worker, FALSE, TRUE);
	g_free(rt);
}
