/*
 * ics/manager/fence_events.h: fencing as the manager's events.
 *
 * When a host leaves the cluster (a snapshot shows it offline after it was
 * online or unclean), the manager asks Pacemaker's fencer how it went and
 * publishes "host.fenced" {"host", "action", "delegate", "manual",
 * "completed_at"} (permission host.read).  A fencing confirmed by hand
 * (`stonith_admin --confirm`: Pacemaker records delegate "a human") is
 * published with "manual": true and logged as a warning: nothing proves the
 * host is off, and ICS refuses to take over its leases on that alone
 * (docs/lease-takeover.md) -- an operator must check the host.
 *
 * The fencer is asked on a worker thread of this module: the listener runs
 * on the cluster service's main-context thread and never blocks.
 */
#ifndef ICS_MANAGER_FENCE_EVENTS_H
#define ICS_MANAGER_FENCE_EVENTS_H

#include <glib.h>

#include "ics/manager/cluster_ops.h"
#include "ics/manager/events.h"

typedef struct IcsFenceEvents IcsFenceEvents;

IcsFenceEvents *ics_fence_events_new(IcsEvents *events, const IcsClusterOps *cluster);
/* An IcsClusterNodeChangedFn: queue the change (never blocks). */
void ics_fence_events_node_changed(void *self, const char *node, const char *state,
				   const char *old_state);
/* Handle what is queued, then stop and free. */
void ics_fence_events_free(IcsFenceEvents *fe);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsFenceEvents, ics_fence_events_free)

#endif /* ICS_MANAGER_FENCE_EVENTS_H */
