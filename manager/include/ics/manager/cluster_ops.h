/*
 * ics/manager/cluster_ops.h: what the manager core asks of the cluster.
 *
 * The core (inventory, tasks, API) does not talk to Pacemaker or libvirt
 * itself (but for disk volumes, which volumes.h asks of a libvirtd's
 * storage API); it calls these operations, which the cluster adapter
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
 *  - vm_status, hosts, host, pools and pool may be called from any
 *    thread, concurrently; they answer from the cluster's current state
 *    and never keep a copy of their own.
 *  - the host and pool operations may be NULL (an adapter without them):
 *    their routes then answer 503 like a manager without an adapter.
 */
#ifndef ICS_MANAGER_CLUSTER_OPS_H
#define ICS_MANAGER_CLUSTER_OPS_H

#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "ics/backup.h"
#include "ics/vmdef.h"

/* Progress of a long operation: @percent 0..100 and what it is doing. */
/* A VM's runtime as the cluster has it (strings borrowed). */
typedef struct {
	const char *state;    /* running, stopped, migrating, failed, unknown */
	const char *host;     /* where it is placed; NULL when stopped */
	const char *pool;     /* the pool path of its primitive */
	const char *resource; /* its primitive's id */
} IcsVmRuntime;

/* Where a running VM's VNC server is, and its password (a secret: never
 * logged, never answered); ics_vnc_endpoint_clear() frees the strings. */
typedef struct {
	char *host;	/* the node that runs the VM */
	char *address;	/* the address to connect to (IP literal or name) */
	guint16 port;
	char *password; /* NULL: the server asks for none */
} IcsVncEndpoint;

static inline void ics_vnc_endpoint_clear(IcsVncEndpoint *e)
{
	g_clear_pointer(&e->host, g_free);
	g_clear_pointer(&e->address, g_free);
	if (e->password)
		memset(e->password, 0, strlen(e->password));
	g_clear_pointer(&e->password, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsVncEndpoint, ics_vnc_endpoint_clear)

typedef void (*IcsClusterProgressFn)(void *data, guint percent, const char *message);

typedef struct {
	/* Passed back as the first argument of every operation. */
	void *self;
	/* Create or update the cluster objects of @vm (CIB primitive with its
	 * utilization, constraints).  The primitive is named after @vm; an
	 * update that changes the name renames it, which is CONFLICT unless
	 * the VM is stopped. */
	gboolean (*define_vm)(void *self, const IcsVmMeta *vm, GError **error);
	/* Remove the cluster objects of the VM @uuid (it must be stopped). */
	gboolean (*undefine_vm)(void *self, const char *uuid, GError **error);
	/* Ask the cluster to run / stop the VM and wait until it does.
	 * @force stops without a guest shutdown. */
	gboolean (*start_vm)(void *self, const char *uuid, const volatile gint *cancelled,
			     GError **error);
	gboolean (*stop_vm)(void *self, const char *uuid, gboolean force,
			    const volatile gint *cancelled, GError **error);
	/* Live-migrate the VM to @target_host and wait for the outcome,
	 * reporting progress through @progress (may be NULL). */
	gboolean (*migrate_vm)(void *self, const char *uuid, const char *target_host,
			       IcsClusterProgressFn progress, void *progress_data,
			       const volatile gint *cancelled, GError **error);
	/* Ask the guest of the running VM to reboot (ACPI; QEMU and the
	 * cluster resource stay).  CONFLICT when it does not run.  May be NULL. */
	gboolean (*reboot_vm)(void *self, const char *uuid, GError **error);
	/* How to reach the running VM's console: {"host", "libvirt_uri",
	 * "graphics": [...], "serial": [...]} (see ics_domain_console_json());
	 * CONFLICT when it does not run.  May be NULL. */
	json_t *(*vm_console)(void *self, const char *uuid, GError **error);
	/* The VNC server of the running VM, read from the live domain on the
	 * node the cluster says runs it (a read-write libvirt connection: the
	 * password is in the secure XML only); CONFLICT when it does not run
	 * or has no VNC device, UNAVAILABLE when the node's VNC server listens
	 * where the manager cannot reach it.  The console proxy connects only
	 * here.  May be NULL. */
	gboolean (*vm_vnc)(void *self, const char *uuid, IcsVncEndpoint *out, GError **error);
	/* The serial console of the running VM: virDomainOpenConsole (SAFE)
	 * on the libvirtd of the node the cluster says runs it, as a socket
	 * carrying the console's bytes both ways (the caller owns it), and
	 * that node in *@host (g_free); -1 with CONFLICT when it does not run
	 * or another client holds its console.  May be NULL. */
	int (*vm_serial)(void *self, const char *uuid, char **host, GError **error);
	/* Runtime state: @state receives "running", "stopped", "migrating",
	 * "failed" or "unknown", @host the node running it (NULL when none);
	 * g_free both. */
	gboolean (*vm_status)(void *self, const char *uuid, char **state, char **host,
			      GError **error);
	/* The runtime of many VMs from one snapshot: vm_view() takes a view
	 * (NULL when the cluster has none yet), vm_view_get() fills @out for
	 * one uuid (FALSE when the cluster has no such VM), in constant time;
	 * the strings are valid until vm_view_release().  All three may be
	 * NULL. */
	gpointer (*vm_view)(void *self);
	gboolean (*vm_view_get)(gpointer view, const char *uuid, IcsVmRuntime *out);
	void (*vm_view_release)(gpointer view);
	/* Hosts: a JSON array of host summaries {"name", "state", "vm_count", ...};
	 * one host in detail (its VMs, libvirt statistics when reachable),
	 * NOT_FOUND for an unknown name.  Documented in docs/openapi.yaml. */
	json_t *(*hosts)(void *self, GError **error);
	json_t *(*host)(void *self, const char *name, GError **error);
	/* Put @name in maintenance (standby; Pacemaker evacuates its VMs by
	 * live migration) and wait until no VM is left on it, progress = share
	 * of its VMs gone; or take it out of maintenance (@enter FALSE). */
	gboolean (*host_maintenance)(void *self, const char *name, gboolean enter,
				     IcsClusterProgressFn progress, void *progress_data,
				     const volatile gint *cancelled, GError **error);
	/* Pools: a JSON array; one pool with capacity and per-host heartbeat
	 * state; NOT_FOUND. */
	json_t *(*pools)(void *self, GError **error);
	json_t *(*pool)(void *self, const char *name, GError **error);
	/* Load for DRS (drs_service.h), read now; may be NULL (no DRS):
	 * {"hosts": [{"name", "state": "on"|"maintenance"|"off"|"unavailable",
	 *   "cpus", "memory_mib"}],
	 *  "vms": [{"uuid", "host", "vcpus", "memory_mib", "migrating",
	 *   "cpu_time_ns" (cumulative, as the host's libvirtd counts it),
	 *   "memory_used_mib"}]}: every VM that runs, on a host that is "on"
	 * or "maintenance" (whose libvirtd was asked; UNAVAILABLE when one
	 * cannot be).  "unavailable" hosts (pending, unclean, unmanaged) are
	 * left out of balancing with their VMs. */
	json_t *(*load)(void *self, GError **error);
	/* The VMs the cluster defines, for the inventory's mirror
	 * (vm_mirror.h): every ocf:ics:vm primitive and every definition on
	 * a pool, each {"uuid", "resource" (the primitive's id, null when
	 * there is none), "pool" (its path, null when unknown),
	 * "definition" (the vm.json on the pool, normalised; absent when it
	 * cannot be read) and, when something is wrong, "error" (why: no
	 * definition on the pool, a definition that does not validate, a
	 * definition without a primitive)}.  May be NULL. */
	json_t *(*vms)(void *self, GError **error);
	/* The same entry for one VM; NOT_FOUND when the cluster has neither a
	 * primitive nor a definition of it.  May be NULL. */
	json_t *(*vm)(void *self, const char *uuid, GError **error);
	/* The uuids defined on the pools (a directory listing of each pool's
	 * definitions, nothing read): a JSON array of strings.  Cheap enough
	 * to ask every few seconds.  May be NULL. */
	json_t *(*pool_vm_uuids)(void *self, GError **error);
	/* The newest off/reboot fencing of host @name, as Pacemaker's fencer
	 * records it: {"state": "none"|"pending"|"failed"|"done", "action",
	 * "delegate", "manual" (a confirmation by hand: nothing was powered
	 * off), "completed" (Unix seconds)}.  May block (a fencer query):
	 * never from the main-context thread.  May be NULL. */
	json_t *(*fence_history)(void *self, const char *name, GError **error);
	/* The cluster at a glance: {"dc" (absent when none), "quorum",
	 * "cib_epoch", "hosts": {"total", "by_state": {state: count}},
	 * "vms": {"total", "by_state"}, "fencing": {"enabled", "action",
	 * "configured", "devices": [{"id", "type", "active_on", "failed"}]}}
	 * from the current state.  May be NULL. */
	json_t *(*summary)(void *self, GError **error);
	/* Who holds VM @uuid's sanlock lease, at @offset of its pool's lease
	 * area (its definition's lease offset), read from the pool now: {"holder" (the node's name; null when free or an
	 * unknown host id), "host_id", "generation" (absent when free),
	 * "slot", "version"}; NOT_FOUND when the cluster has no resource of
	 * it or it is on no pool, CONFLICT when that slot is not its lease,
	 * INVALID_ARGUMENT when @offset is no slot's.
	 * A few small reads (no scan of the pool's slots), but disk I/O: not
	 * from the main-context thread.  May be NULL. */
	json_t *(*vm_lease)(void *self, const char *uuid, guint64 offset, GError **error);
	/* Back up VM @uuid into @repo (libicsbackup): through the libvirtd of
	 * the node that runs it (incremental when changed-block tracking
	 * allows), or, when it is stopped, by copying its disks; the
	 * definition is read from its pool.  The new backup's manifest
	 * (ics_backup_manifest_to_json, without the definition); CONFLICT
	 * while it starts, migrates or has failed, NOT_FOUND without a
	 * resource.  Blocks for the backup's duration: from a task thread;
	 * @opts->cancel is polled.  May be NULL. */
	json_t *(*vm_backup)(void *self, const char *uuid, IcsBackupRepo *repo,
			     const IcsBackupRunOptions *opts, GError **error);
} IcsClusterOps;

#endif /* ICS_MANAGER_CLUSTER_OPS_H */
