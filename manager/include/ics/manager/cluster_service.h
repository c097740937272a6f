/*
 * ics/manager/cluster_service.h: the cluster adapter plugged into the
 * manager -- IcsClusterOps implemented over libicscluster (manager/cluster/)
 * and libicsvmpool.
 *
 * libicscluster is single-threaded: its connection lives on GLib's default
 * main context and reports CIB changes there.  The manager calls the
 * cluster from HTTP and task threads.  The service bridges the two: every
 * call to the adapter runs on the thread that runs the default main
 * context (ics-managerd's main loop), the caller waiting for its result;
 * every CIB change notification replaces the service's snapshot (one CIB
 * version, Pacemaker's own status computation of it) and wakes the threads
 * waiting for a VM or a host to reach a state.  Nothing polls the cluster.
 *
 * A thread must run the default main context (g_main_loop_run) for as long
 * as the service lives; ics_cluster_service_new() itself is called from
 * that thread before the loop starts (or from it while it runs).
 */
#ifndef ICS_MANAGER_CLUSTER_SERVICE_H
#define ICS_MANAGER_CLUSTER_SERVICE_H

#include <glib.h>

#include "ics/cluster.h"
#include "ics/manager/cluster_ops.h"

typedef struct IcsClusterService IcsClusterService;

typedef struct {
	/* How long start, stop, migration and evacuation may take before
	 * they fail with TIMEOUT (seconds; 0 = the default, 300). */
	guint wait_timeout_s;
	/* libvirt URI of every node, for statistics and forced stops (tests:
	 * "test:///default"); NULL = ics_node_libvirt_uri(node). */
	const char *stats_uri;
	/* Where snapshots come from; NULL = ics_cluster_snapshot() (a CIB
	 * query and crm_mon).  Tests give captured fixtures. */
	IcsClusterSnapshot *(*snapshot)(IcsCluster *cluster, void *data, GError **error);
	void *snapshot_data;
} IcsClusterServiceConfig;

/* Connect to the local CIB manager (ics_cluster_connect(): CIB_file is
 * honoured), watch its changes and take the first snapshot.  @cfg may be
 * NULL.  UNAVAILABLE when Pacemaker does not run here. */
IcsClusterService *ics_cluster_service_new(const IcsClusterServiceConfig *cfg, GError **error);
/* Stop serving: waits and calls fail with UNAVAILABLE "the manager is
 * stopping" from now on, and the calls already queued are run (failing)
 * so no thread stays blocked.  From the main-context thread after its loop
 * ended, before the manager (its task threads) is freed. */
void ics_cluster_service_close(IcsClusterService *svc);
/* Close (when not done yet), disconnect, free. */
void ics_cluster_service_free(IcsClusterService *svc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsClusterService, ics_cluster_service_free)

/* The operations the manager calls (valid while @svc lives). */
const IcsClusterOps *ics_cluster_service_ops(IcsClusterService *svc);

/* Told when a new snapshot shows a VM in another state or on another node
 * than the snapshot before it (and when a VM appears or disappears: state
 * or old_state "undefined"); @host/@old_host NULL when it runs nowhere.
 * Called on the main-context thread, which must not block: hand the work
 * to another thread (vm_mirror.c does). */
typedef void (*IcsClusterVmChangedFn)(void *data, const char *uuid, const char *state,
				      const char *host, const char *old_state,
				      const char *old_host);
/* Set (or, with @fn NULL, remove) the listener; from the main-context
 * thread. */
void ics_cluster_service_set_vm_listener(IcsClusterService *svc, IcsClusterVmChangedFn fn,
					 void *data);

/* Told when a new snapshot shows a node in another state than the snapshot
 * before it ("online", "offline", "unclean", ...: ics_node_state_name).
 * On the main-context thread, which must not block (fence_events.c hands
 * the work to its own thread). */
typedef void (*IcsClusterNodeChangedFn)(void *data, const char *node, const char *state,
					const char *old_state);
void ics_cluster_service_set_node_listener(IcsClusterService *svc, IcsClusterNodeChangedFn fn,
					   void *data);

/* Take a new snapshot now, as a CIB change notification does (from the
 * main-context thread; tests call it after changing the CIB file, which
 * sends no notifications). */
gboolean ics_cluster_service_refresh(IcsClusterService *svc, GError **error);

#endif /* ICS_MANAGER_CLUSTER_SERVICE_H */
