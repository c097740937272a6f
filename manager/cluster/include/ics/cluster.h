/*
 * ics/cluster.h: the manager's cluster adapter (libicscluster).
 *
 * What runs where is Pacemaker's knowledge, not the manager's: this library
 * reads it from the CIB whenever it is asked and keeps no copy that could
 * disagree.  It
 *
 * - connects to the local CIB manager through libcib (a command connection,
 *   so the same connection reads and writes) and attaches it to GLib's
 *   default main context: CIB change notifications arrive as callbacks while
 *   the caller's GMainLoop runs, with a cheap hint of which part of the CIB
 *   changed;
 * - takes snapshots: one query of the whole CIB (configuration + status),
 *   whose status Pacemaker's own code interprets (crm_mon --output-as=xml run
 *   on exactly that CIB), parsed with libxml2 into nodes, resources, VMs,
 *   pools, constraints and cluster properties.  A snapshot is a value: it
 *   describes one CIB version and never changes;
 * - writes the CIB objects of ICS through libcib, one synchronous call per
 *   operation (VM primitive and its constraints, target-role, moves, node
 *   standby, cluster properties), each failing with one clear GError;
 * - asks a node's libvirtd for host and domain statistics (node_stats).
 *
 * Errors are GErrors in the ICS_ERROR domain (ics/error.h).  Pacemaker's
 * return codes map to: CONFLICT (id exists), NOT_FOUND (no such object or
 * node), UNAVAILABLE (no CIB manager, connection lost), TIMEOUT, PERMISSION,
 * INVALID_ARGUMENT (bad id, CIB schema refused the update), IO otherwise.
 *
 * Not thread-safe: use one IcsCluster from the thread that runs the default
 * main context.
 */
#ifndef ICS_CLUSTER_H
#define ICS_CLUSTER_H

#include <glib.h>
#include <jansson.h>
#include <libxml/tree.h>

#include "ics/backup.h"
#include "ics/cib_objects.h"

/* ------------------------------------------------------------------------
 * Snapshot: the state of the cluster as one CIB version describes it.
 * Every string and array is owned by the snapshot; fields are read-only.
 */

typedef enum {
	ICS_NODE_ONLINE,      /* member, running resources */
	ICS_NODE_STANDBY,     /* online, but may not run resources */
	ICS_NODE_MAINTENANCE, /* online, resources left unmanaged */
	ICS_NODE_PENDING,     /* joining */
	ICS_NODE_OFFLINE,     /* cleanly down (or fenced) */
	ICS_NODE_UNCLEAN,     /* lost, not yet fenced: its resources may still run */
} IcsNodeState;

typedef struct {
	char *name; /* uname, e.g. "node1" */
	char *id;   /* CIB node id (corosync node id) */
	IcsNodeState state;
	/* The flags the state summarises (Pacemaker's view). */
	gboolean online, standby, standby_onfail, maintenance, pending, unclean, shutdown, is_dc;
	/* Where a standby comes from: the permanent node attribute
	 * (configuration/nodes) and/or the transient one (status, lost at the
	 * node's next restart).  NULL when that attribute is not set. */
	char *standby_permanent;
	char *standby_transient;
} IcsClusterNode;

typedef struct {
	char *node;	   /* where the operation failed */
	char *operation;   /* "start", "monitor", "stop", "migrate_to", ... */
	int exit_code;	   /* OCF exit code, e.g. 5 = not installed */
	char *exit_status; /* Pacemaker's text for it, "not installed" */
	char *exit_reason; /* the agent's ocf-exit-reason, may be "" */
	guint interval_ms;
	char *last_rc_change; /* "2026-11-26 16:36:59Z" */
} IcsClusterFailure;

typedef struct {
	char *id;		 /* primitive id ("web1", "ics-pool-shared-rsc") */
	char *parent;		 /* id of the clone or group it belongs to, or NULL */
	char *rsc_class;	 /* "ocf", "stonith", ... */
	char *provider;		 /* "ics", "pacemaker", or NULL */
	char *type;		 /* "vm", "pool", "Dummy", ... */
	char *agent;		 /* "ocf:ics:vm" */
	GHashTable *params;	 /* instance_attributes: name -> value */
	GHashTable *meta;	 /* meta_attributes of the primitive and its parent */
	GHashTable *utilization; /* utilization: name -> value */
	char *target_role;	 /* meta target-role, NULL when not set */
	/* Pacemaker's view of the resource, from the status section. */
	char *role; /* "Started", "Stopped", "Migrating", "Promoted", ... */
	gboolean active, failed, managed, blocked, orphaned;
	GPtrArray *nodes;    /* char *: nodes it is active on (each once) */
	GPtrArray *failures; /* IcsClusterFailure *: recorded failed operations */
} IcsClusterResource;

typedef enum {
	ICS_VM_STOPPED,	  /* active nowhere (and not failed) */
	ICS_VM_RUNNING,	  /* active on exactly one node */
	ICS_VM_MIGRATING, /* live migration from node to migrate_target in progress */
	ICS_VM_FAILED,	  /* Pacemaker marks it failed, or it should run and has
			     failed operations but runs nowhere */
	ICS_VM_MULTIPLE,  /* active on more than one node: Pacemaker will recover */
} IcsVmState;

/* A VM: an ocf:ics:vm primitive and where it is.  Its uuid parameter says
 * which VM it is; its id is whatever ICS's rule, crm or pcs gave it. */
typedef struct {
	const IcsClusterResource *resource; /* borrowed from the snapshot */
	const char *id;			    /* resource->id */
	const char *uuid;		    /* param "uuid" (may be NULL) */
	const char *pool;		    /* param "pool" (may be NULL) */
	IcsVmState state;
	char *node;	      /* where it runs (migration source), failed node, or NULL */
	char *migrate_target; /* during ICS_VM_MIGRATING: the destination */
	/* ICS_VM_RUNNING whose start on @node is still in progress (a pending
	 * start recorded in the status section): placed, not yet started --
	 * its lease may not be acquired, its QEMU not running. */
	gboolean starting;
} IcsClusterVm;

/* A storage pool: an ocf:ics:pool primitive (clone "ics-pool-<name>"). */
typedef struct {
	char *name;	/* param "name", else the clone id without "ics-pool-" */
	char *clone_id; /* "ics-pool-<name>", or NULL when not cloned */
	const IcsClusterResource *resource;
	GPtrArray *nodes; /* char *: nodes where the pool is active */
} IcsClusterPool;

typedef struct {
	char *id;
	char *kind;  /* "rsc_location", "rsc_order", "rsc_colocation", ... */
	char *rsc;   /* rsc_location/rsc_colocation: rsc; rsc_order: then */
	char *other; /* rsc_colocation: with-rsc; rsc_order: first */
	char *node;  /* rsc_location: node */
	char *score; /* score or kind, as written */
} IcsClusterConstraint;

typedef struct {
	/* The CIB version the snapshot describes. */
	gint64 admin_epoch, epoch, num_updates;
	char *dc;		/* name of the DC, NULL when none */
	gboolean quorum;	/* the partition that wrote this CIB has quorum */
	GPtrArray *nodes;	/* IcsClusterNode * */
	GPtrArray *resources;	/* IcsClusterResource *: every primitive */
	GPtrArray *vms;		/* IcsClusterVm * */
	GPtrArray *pools;	/* IcsClusterPool * */
	GPtrArray *constraints; /* IcsClusterConstraint * */
	GHashTable *properties; /* crm_config cluster properties: name -> value */
	/* Indexes over the arrays above (read through the look-ups below):
	 * id -> IcsClusterResource *, lower-case uuid -> IcsClusterVm * (the
	 * first primitive of a uuid held twice). */
	GHashTable *resource_by_id;
	GHashTable *vm_by_uuid;
} IcsClusterSnapshot;

/*
 * Build a snapshot from a CIB document (what `cibadmin --query` prints) and
 * crm_mon's XML for exactly that CIB (`CIB_file=cib.xml crm_mon
 * --output-as=xml --inactive`).  Pure parsing, no I/O: this is what the unit
 * tests exercise with captured fixtures.  ICS_ERROR_PARSE when either
 * document is not what it should be.
 */
IcsClusterSnapshot *ics_cluster_snapshot_parse(xmlDoc *cib, xmlDoc *mon, GError **error);

/* crm_mon's XML for @cib (written to a private temporary file): Pacemaker's
 * status computation on an offline CIB, the costly half of a snapshot
 * (~0.4 s with 1,000 VMs). */
xmlDoc *ics_cluster_status_of(xmlDoc *cib, GError **error);

/* ics_cluster_status_of() and ics_cluster_snapshot_parse() in one. */
IcsClusterSnapshot *ics_cluster_snapshot_from_cib(xmlDoc *cib, GError **error);

void ics_cluster_snapshot_free(IcsClusterSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsClusterSnapshot, ics_cluster_snapshot_free)

/* Look-ups by name or id; NULL when absent. */
const IcsClusterNode *ics_cluster_snapshot_node(const IcsClusterSnapshot *snap, const char *name);
const IcsClusterResource *ics_cluster_snapshot_resource(const IcsClusterSnapshot *snap,
							const char *id);
const IcsClusterVm *ics_cluster_snapshot_vm(const IcsClusterSnapshot *snap, const char *id);
/* The VM whose primitive's "uuid" parameter is @uuid (any case), whatever
 * the primitive's id; constant time. */
const IcsClusterVm *ics_cluster_snapshot_vm_by_uuid(const IcsClusterSnapshot *snap,
						    const char *uuid);
const IcsClusterPool *ics_cluster_snapshot_pool(const IcsClusterSnapshot *snap, const char *name);
const IcsClusterConstraint *ics_cluster_snapshot_constraint(const IcsClusterSnapshot *snap,
							    const char *id);

/* "online", "standby", ...; "stopped", "running", ... */
const char *ics_node_state_name(IcsNodeState state);
const char *ics_vm_state_name(IcsVmState state);

/* The whole snapshot as a JSON object (for ics-cluster-dump and the REST
 * layer). */
json_t *ics_cluster_snapshot_to_json(const IcsClusterSnapshot *snap);

/* ------------------------------------------------------------------------
 * Connection and change notifications.
 */

typedef struct _IcsCluster IcsCluster;

/* Which parts of the CIB a change touched (a hint: when unsure, more bits). */
typedef enum {
	ICS_CLUSTER_CHANGE_NODES = 1 << 0,	 /* configuration/nodes */
	ICS_CLUSTER_CHANGE_RESOURCES = 1 << 1,	 /* configuration/resources */
	ICS_CLUSTER_CHANGE_CONSTRAINTS = 1 << 2, /* configuration/constraints */
	ICS_CLUSTER_CHANGE_PROPERTIES = 1 << 3,	 /* crm_config, rsc/op defaults, ... */
	ICS_CLUSTER_CHANGE_STATUS = 1 << 4,	 /* status: membership, op history, attributes */
	ICS_CLUSTER_CHANGE_ALL = (1 << 5) - 1,
	/* The connection to the CIB manager is lost: no further notification
	 * arrives.  Free the IcsCluster and connect again. */
	ICS_CLUSTER_CHANGE_DISCONNECTED = 1 << 5,
} IcsClusterChange;

typedef void (*IcsClusterWatchFn)(IcsCluster *cluster, IcsClusterChange what, gpointer user_data);

/*
 * Connect to the local CIB manager (cib_new(), signon as a command client
 * named "ics-managerd"; the CIB_file / CIB_shadow environment variables of
 * libcib are honoured, which tests use to work on a file).  The connection
 * is attached to GLib's default main context.  ICS_ERROR_UNAVAILABLE when
 * Pacemaker does not run on this node.
 */
IcsCluster *ics_cluster_connect(GError **error);

/* Sign off and free; callbacks stop. */
void ics_cluster_free(IcsCluster *cluster);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsCluster, ics_cluster_free)

gboolean ics_cluster_is_connected(IcsCluster *cluster);

/*
 * Call @fn on every CIB change (cib_diff_notify) while the default main
 * context runs, with a hint of what changed.  Several watches may exist;
 * returns an id > 0 for ics_cluster_unwatch(), 0 with an error when the CIB
 * manager refused the registration.
 */
guint ics_cluster_watch(IcsCluster *cluster, IcsClusterWatchFn fn, gpointer user_data,
			GError **error);
void ics_cluster_unwatch(IcsCluster *cluster, guint id);

/* What a cib_diff_notify message says changed (exposed for tests). */
IcsClusterChange ics_cluster_change_from_notify(xmlNode *msg);

/* The whole CIB, as the local CIB manager has it now. */
xmlDoc *ics_cluster_query(IcsCluster *cluster, GError **error);

/* The whole CIB as of the last change notification: on a watching
 * connection, the copy read last and kept up to date with the patches of
 * the notifications (no request to the CIB manager); else, or when a patch
 * did not apply, ics_cluster_query().  For readers that follow changes; a
 * writer that must read its own write calls ics_cluster_query(). */
xmlDoc *ics_cluster_query_kept(IcsCluster *cluster, GError **error);

/* Query the CIB and build a snapshot of it (ics_cluster_snapshot_from_cib). */
IcsClusterSnapshot *ics_cluster_snapshot(IcsCluster *cluster, GError **error);

/* ------------------------------------------------------------------------
 * Writes: one synchronous CIB call each (define and remove take a few,
 * ordered so that Pacemaker never sees a half-made VM it could start).
 */

/*
 * Create the VM's primitive (target-role Started when @spec->start, else
 * Stopped) with its order and colocation constraints after/with the pool
 * clone, in one CIB update: Pacemaker sees the VM with its constraints or
 * not at all (the pool clone must exist: the CIB schema refuses a
 * constraint that names no resource, and then nothing is written).  The
 * primitive's id comes from @spec->name by vmpool's rule
 * (ics_cib_vm_resource_id(); @spec->rsc_id is not read).
 * ICS_ERROR_CONFLICT when a primitive of this uuid exists, whatever its id.
 */
gboolean ics_cluster_define_vm(IcsCluster *cluster, const IcsCibVmSpec *spec, GError **error);

/*
 * ics_cluster_define_vm() for @n VMs at once: one XPath query for the
 * primitives of their uuids (CONFLICT in their @errors[i]) and the ids
 * their names could take, then one CIB update for all the others -- what
 * makes creating many VMs fast, as each CIB update is replicated to every
 * node and followed by a scheduler run.  Two VMs of one update never get
 * one id.  @errors has @n NULL entries; each VM not written gets its own
 * error.  Returns how many were written.
 */
guint ics_cluster_define_vms(IcsCluster *cluster, const IcsCibVmSpec *const *specs, guint n,
			     GError **errors);

/* The id of VM @uuid's primitive as the CIB has it now, found by its uuid
 * parameter (NOT_FOUND without one); g_free.  Writes about a VM ask this
 * right before they write, so a rename a moment ago cannot mislead them. */
char *ics_cluster_vm_resource(IcsCluster *cluster, const char *uuid, GError **error);

/*
 * Rename VM @spec->uuid to @spec->name: its primitive and the constraints
 * naming it replaced under the id the rule gives the new name, in one CIB
 * update (ics_cib_vm_rename(), sent with cib_mixed_update), and its
 * utilization set to @spec's.  *@rsc_id receives the id after it.
 * CONFLICT when the id must change and the VM may run (target-role is
 * not Stopped), and for what ics_cib_vm_rename() refuses; NOT_FOUND
 * without a primitive.
 */
gboolean ics_cluster_rename_vm(IcsCluster *cluster, const IcsCibVmSpec *spec, char **rsc_id,
			       GError **error);

/*
 * Remove the resource @rsc_id (a primitive, clone or group) and every
 * constraint that names it directly (its order and colocation, moves and
 * bans; constraints with resource sets are left alone).  Pacemaker stops a removed resource that
 * still runs; stop it first (target-role Stopped) to wait for a clean stop.
 * ICS_ERROR_NOT_FOUND when there is no such resource.
 */
gboolean ics_cluster_remove_resource(IcsCluster *cluster, const char *rsc_id, GError **error);

/* Create any object (a <primitive>, <clone>, <rsc_location>, ...) in a
 * configuration section ("resources", "constraints"). */
gboolean ics_cluster_create(IcsCluster *cluster, const char *section, xmlDoc *obj, GError **error);

/* Set meta target-role of @rsc_id ("Started", "Stopped", ...), in the meta
 * attribute set that already has it, else the primitive's first one. */
gboolean ics_cluster_set_target_role(IcsCluster *cluster, const char *rsc_id, const char *role,
				     GError **error);

/* Update the utilization (cpu, memory) of the existing VM @spec->uuid
 * (its primitive found by its uuid parameter) to @spec's, as an edit of
 * the VM changes them (crm_resource --utilization -p).  NOT_FOUND when the
 * VM has no primitive. */
gboolean ics_cluster_set_vm_utilization(IcsCluster *cluster, const IcsCibVmSpec *spec,
					GError **error);

/* Prefer @node for @rsc_id (location cli-prefer-<rsc>, as crm_resource
 * --move), and remove the cli-prefer-/cli-ban- constraints of @rsc_id (as
 * crm_resource --clear; no error when there are none). */
gboolean ics_cluster_move(IcsCluster *cluster, const char *rsc_id, const char *node,
			  GError **error);
gboolean ics_cluster_clear(IcsCluster *cluster, const char *rsc_id, GError **error);

typedef enum {
	ICS_ATTR_PERMANENT, /* configuration/nodes: survives restarts */
	ICS_ATTR_TRANSIENT, /* status section: forgotten when the node leaves */
} IcsAttrLifetime;

/*
 * Node standby on (value "on") or off.  On sets the attribute of @lifetime
 * (as `crm_attribute -N node -n standby -v on [-l reboot]`).  Off deletes
 * the attribute of @lifetime, so the node leaves standby unless the other
 * lifetime still says on.  ICS_ERROR_NOT_FOUND for an unknown node.
 */
gboolean ics_cluster_set_standby(IcsCluster *cluster, const char *node, gboolean on,
				 IcsAttrLifetime lifetime, GError **error);

/* Set (or with @value NULL, delete) a cluster property in crm_config, as
 * `crm_attribute -n NAME -v VALUE`. */
gboolean ics_cluster_set_property(IcsCluster *cluster, const char *name, const char *value,
				  GError **error);

/* ------------------------------------------------------------------------
 * Node statistics from the node's libvirtd (node_stats.c).
 */

typedef struct {
	char *name;
	char *uuid;
	gboolean active;
	guint64 cpu_time_ns; /* cumulative guest CPU time */
	guint vcpus;
	guint64 memory_kib;	/* current balloon size (or maximum) */
	guint64 memory_max_kib; /* maximum */
} IcsDomainStats;

typedef struct {
	char *node;
	char *hostname;	     /* what libvirtd says */
	guint cpus;	     /* logical CPUs */
	guint64 cpu_time_ns; /* host CPU time, all CPUs: user+kernel (busy) */
	guint64 cpu_idle_ns; /* host idle time, all CPUs (0 when unknown) */
	guint64 memory_total_kib;
	guint64 memory_free_kib;
	GPtrArray *domains; /* IcsDomainStats * */
} IcsNodeStats;

/* "qemu+tcp://<node>/system", the read-only URI of a node's libvirtd. */
char *ics_node_libvirt_uri(const char *node);

/*
 * Open @uri read-only (NULL: ics_node_libvirt_uri(@node)) and collect host
 * CPU and memory and every domain's CPU time and memory
 * (virConnectGetAllDomainStats).  @node names the result and messages.
 * ICS_ERROR_UNAVAILABLE when libvirtd cannot be reached.
 */
IcsNodeStats *ics_cluster_node_stats(const char *node, const char *uri, GError **error);
void ics_node_stats_free(IcsNodeStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsNodeStats, ics_node_stats_free)

json_t *ics_node_stats_to_json(const IcsNodeStats *stats);

/*
 * Destroy (power off) the domain @uuid on @node through its libvirtd, opened
 * read-write at @uri (NULL: ics_node_libvirt_uri(@node)); an inactive
 * domain is left as it is.  For a forced stop, after target-role Stopped.
 * UNAVAILABLE (libvirtd unreachable), NOT_FOUND (no such domain), IO.
 */
gboolean ics_cluster_node_destroy_domain(const char *node, const char *uri, const char *uuid,
					 GError **error);

/* Ask the guest of the running domain @uuid on @node to reboot (libvirt's
 * default method: ACPI, else the guest agent); the QEMU process stays, so
 * Pacemaker sees nothing.  CONFLICT when the domain is not running. */
gboolean ics_cluster_node_reboot_domain(const char *node, const char *uri, const char *uuid,
					GError **error);

/* Back up the running domain @uuid on @node into @repo (libicsbackup's
 * ics_backup_run_live with @vm, its definition); CONFLICT when it does not
 * run there.  Blocks for the backup's duration (node_backup.c). */
IcsBackupManifest *ics_cluster_node_backup(const char *node, const char *uri, const char *uuid,
					   IcsBackupRepo *repo, const IcsVmMeta *vm,
					   const IcsBackupRunOptions *opts, GError **error);

/* The live domain XML of @uuid on @node (read-only connection; g_free). */
char *ics_cluster_node_domain_xml(const char *node, const char *uri, const char *uuid,
				  GError **error);

/* What a console client needs from a live domain XML: {"graphics": [{type,
 * port, tlsPort, autoport, listen, socket}], "serial": [{type, port, path,
 * host, service, mode}]} (attributes present in the XML only; never the
 * graphics password).  PARSE for XML that is not a domain. */
json_t *ics_domain_console_json(const char *xml, GError **error);

/* The live domain XML with its secrets (the VNC password): a read-write
 * connection; never log it.  g_free (the caller should wipe it). */
char *ics_cluster_node_domain_xml_secure(const char *node, const char *uri, const char *uuid,
					 GError **error);

/* The serial console of the domain @uuid on @node (libvirt @uri, NULL: the
 * node's own), opened with virDomainOpenConsole(VIR_DOMAIN_CONSOLE_SAFE):
 * a nonblocking socket carrying the console's bytes both ways (the caller
 * owns it; closing it closes the console), or -1 with @error: NOT_FOUND
 * when the domain does not run there, CONFLICT when another client holds
 * the console, UNAVAILABLE when libvirtd or the console cannot be reached.
 * The stream is driven on the process's libvirt event loop thread
 * (node_serial.c). */
int ics_cluster_node_open_serial(const char *node, const char *uri, const char *uuid,
				 GError **error);

/* The first VNC server of a live domain XML read from @uri: the address to
 * connect to (its listen address; the host of @uri when it listens on every
 * address; loopback only when @uri is local, UNAVAILABLE otherwise), its
 * port and password (NULL when none).  CONFLICT without a VNC server with
 * a TCP port. */
gboolean ics_domain_vnc_endpoint(const char *xml, const char *uri, char **address,
				 guint16 *port, char **password, GError **error);

#endif /* ICS_CLUSTER_H */
