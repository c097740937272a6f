/*
 * ics/manager/cluster_ops.h: what the manager core asks of the cluster.
 *
 * The core (inventory, tasks, API) does not talk to Pacemaker or libvirt
 * itself; it calls these operations, which the cluster adapter
 * (manager/cluster/) implements by writing CIB objects and reading
 * Pacemaker's status.  A manager started with no adapter (ops == NULL) is
 * an inventory only: VM definitions are stored and validated, power and
 * migration requests are refused with 503 "no cluster adapter".
 *
 * Contract for implementers:
 *  - every function returns TRUE on success or FALSE with @error set in
 *    the ICS_ERROR domain (NOT_FOUND: no such VM in the cluster;
 *    CONFLICT: the VM is in a state that forbids the operation;
 *    UNAVAILABLE: the cluster cannot be reached; TIMEOUT);
 *  - define_vm/undefine_vm are called synchronously inside the API call's
 *    database transaction, so they must be quick (a CIB update), and they
 *    must be idempotent: defining an already defined VM updates it,
 *    undefining an absent one succeeds;
 *  - start/stop/migrate run from task threads and may block until the
 *    cluster reports the outcome; they poll @cancelled (may be NULL) and,
 *    when it becomes non-zero, stop waiting and fail with "cancelled";
 *  - vm_status may be called from any thread, concurrently.
 */
#ifndef ICS_MANAGER_CLUSTER_OPS_H
#define ICS_MANAGER_CLUSTER_OPS_H

#include <glib.h>

#include "ics/vmdef.h"

typedef struct {
	/* Passed back as the first argument of every operation. */
	void *self;
	/* Create or update the cluster objects of @vm (CIB primitive with its
	 * utilization, constraints). */
	gboolean (*define_vm)(void *self, const IcsVmMeta *vm, GError **error);
	/* Remove the cluster objects of the VM @uuid (it must be stopped). */
	gboolean (*undefine_vm)(void *self, const char *uuid, GError **error);
	/* Ask the cluster to run / stop the VM and wait until it does.
	 * @force stops without a guest shutdown. */
	gboolean (*start_vm)(void *self, const char *uuid, const volatile gint *cancelled,
			     GError **error);
	gboolean (*stop_vm)(void *self, const char *uuid, gboolean force,
			    const volatile gint *cancelled, GError **error);
	/* Live-migrate the VM to @target_host and wait for the outcome. */
	gboolean (*migrate_vm)(void *self, const char *uuid, const char *target_host,
			       const volatile gint *cancelled, GError **error);
	/* Runtime state: @state receives "running", "stopped", "migrating",
	 * "failed" or "unknown", @host the node running it (NULL when none);
	 * g_free both. */
	gboolean (*vm_status)(void *self, const char *uuid, char **state, char **host,
			      GError **error);
} IcsClusterOps;

#endif /* ICS_MANAGER_CLUSTER_OPS_H */
