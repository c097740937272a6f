/*
 * vm_logic.h: the decisions of ocf:ics:vm, as pure functions.
 *
 * The agent (vm.c) gathers facts -- libvirt's state of the domain, whether
 * this node started it, the lease's owner, the operation's timeout -- and
 * these functions turn them into OCF exit codes, exit reasons, crash-policy
 * actions, migration URIs and time budgets.  Nothing here talks to libvirt,
 * sanlock or Pacemaker (libvirt's header is used for its state constants
 * only), so every branch is unit-tested (tests/test_vm_logic.c).
 */
#ifndef ICS_VM_LOGIC_H
#define ICS_VM_LOGIC_H

#include <glib.h>

#include "ics/lock.h"
#include "ics/vmdef.h"

/* ---- parameters ------------------------------------------------------- */

typedef struct {
	char *uuid; /* lower case */
	char *pool; /* absolute, no trailing '/' */
	char *libvirt_uri;
	char *migration_uri_template;
	guint migration_bandwidth_mibps; /* 0 = from the metadata */
	guint migration_max_downtime_ms; /* 0 = from the metadata */
	guint shutdown_timeout_s;
	gboolean takeover;
	gboolean accept_manual_fencing; /* operator override: docs/lease-takeover.md */
	gboolean lease;			/* FALSE: tests only (libvirt's test driver) */
	gboolean quorum_check;		/* FALSE: tests only (no cluster) */
} VmConfig;

void vm_config_clear(VmConfig *cfg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmConfig, vm_config_clear)

/* Returns a parameter's value (or its default), NULL when unset. */
typedef const char *(*VmParamLookup)(const char *name, gpointer data);

/* Parse and validate every parameter; ICS_ERROR_INVALID_ARGUMENT naming the
 * parameter otherwise (the agent's OCF_ERR_CONFIGURED). */
gboolean vm_config_parse(VmConfig *cfg, VmParamLookup lookup, gpointer data, GError **error);

/* An RFC 4122 text uuid (any case). */
gboolean vm_uuid_valid(const char *uuid);

/* The template with its one "%s" replaced by @host ("%%" is a literal '%').
 * INVALID_ARGUMENT when the template has no or several "%s", another
 * conversion, or @host is empty or holds '/', '@' or blanks. */
char *vm_migration_uri(const char *tmpl, const char *host, GError **error);

/* The migration's bandwidth / max downtime: the parameter when set, else the
 * metadata's, else 0 (libvirt's default). */
guint vm_effective_bandwidth(const VmConfig *cfg, const IcsVmMeta *m);
guint vm_effective_downtime(const VmConfig *cfg, const IcsVmMeta *m);

/* ---- time budgets (all in ms) ------------------------------------------ */

/* When the whole action gives up ("libvirtd does not answer"): the op
 * timeout minus 2 s to report, at least 1 s. */
guint vm_action_deadline_ms(guint op_timeout_ms);

/* How long stop waits for the ACPI shutdown before destroying:
 * min(shutdown_timeout, op timeout - 5 s), at least 0. */
guint vm_shutdown_wait_ms(guint shutdown_timeout_s, guint op_timeout_ms);

/* When migrate_to aborts the migration job: op timeout - 10 s; for short
 * timeouts (< 20 s) half the timeout, so abort and report still fit. */
guint vm_migrate_abort_ms(guint op_timeout_ms);

/* ---- the domain's state ----------------------------------------------- */

typedef struct {
	gboolean present;      /* libvirt knows the domain */
	int state;	       /* virDomainState */
	int reason;	       /* the state's reason (virDomain*Reason) */
	gboolean started_here; /* this node started it and no stop was asked */
	const char *last_stop; /* "crashed", "shutdown", ... from the domain's
				* log (libvirt's "shutting down, reason=X"), NULL */
} VmObservation;

typedef enum {
	VM_HEALTH_RUNNING,	  /* running (or paused by a migration) */
	VM_HEALTH_PAUSED,	  /* paused by a user or the host: still holds its lease */
	VM_HEALTH_PAUSED_IOERROR, /* paused because its storage failed */
	VM_HEALTH_STOPPING,	  /* shutting down */
	VM_HEALTH_ABSENT,	  /* unknown to libvirt and not started here */
	VM_HEALTH_STOPPED,	  /* cleanly stopped: shut down, destroyed, migrated away */
	VM_HEALTH_CRASHED_KEPT,	  /* crashed, kept for inspection (QEMU alive) */
	VM_HEALTH_CRASHED,	  /* crashed (panic, watchdog) and gone */
	VM_HEALTH_FAILED,	  /* QEMU failed or vanished without a stop */
} VmHealth;

const char *vm_health_name(VmHealth h);

VmHealth vm_health_classify(const VmObservation *o);

/* What monitor does about a state. */
typedef struct {
	int rc;		       /* OCF exit code */
	gboolean keep_stopped; /* poweroff policy: set target-role=Stopped */
	gboolean forget_start; /* remove the "started here" marker */
	IcsLogLevel level;     /* of @message */
	char *message;	       /* exit reason when rc is a failure, else a log line */
} VmMonitorVerdict;

void vm_monitor_verdict_clear(VmMonitorVerdict *v);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmMonitorVerdict, vm_monitor_verdict_clear)

/* @vm names the VM in messages; @probe: a probe never fails for a domain
 * this node has not seen. */
void vm_monitor_decide(VmHealth h, IcsVmCrashPolicy policy, gboolean probe, const char *vm,
		       VmMonitorVerdict *out);

/* The last "shutting down, reason=X" of a libvirt domain log; g_free it;
 * NULL when none. */
char *vm_log_last_stop_reason(const char *log_text);

/* ---- start ------------------------------------------------------------ */

/* OCF code for a definition that cannot be loaded: NOT_FOUND (pool not
 * mounted here, VM unknown) is per node: OCF_ERR_INSTALLED; a corrupt
 * definition is wrong everywhere: OCF_ERR_CONFIGURED; else GENERIC. */
int vm_rc_for_load_error(const GError *error);

/* "Quorate: Yes" in corosync-quorumtool -s output: 1 yes, 0 no, -1 not found. */
int vm_parse_quorate(const char *quorumtool_out);

typedef enum {
	VM_LEASE_FREE,		     /* start (also: owner DEAD, sanlock grants it) */
	VM_LEASE_MINE,		     /* held by this host: start (libvirt decides) */
	VM_LEASE_REFUSE_ALIVE,	     /* held by a live host (takeover=false): wait */
	VM_LEASE_TAKEOVER,	     /* held by another host: ics_lease_takeover decides (it
				      * acts only on confirmed fencing; refuses a live owner) */
	VM_LEASE_REFUSE_NO_TAKEOVER, /* owner failing or unknown, takeover=false: wait */
} VmLeaseAction;

const char *vm_lease_action_name(VmLeaseAction a);

/* @owner_host_id 0 = free; @owner_state of the owner host as the local
 * sanlock daemon sees it (ICS_HOST_UNKNOWN when not listed). */
VmLeaseAction vm_lease_decide(guint64 owner_host_id, guint64 self_host_id, IcsHostState owner_state,
			      gboolean takeover);

/*
 * Whether one look at the lease lets start go on: FREE, MINE, or a
 * takeover whose verdict is ALLOW or NOT_NEEDED.  Anything else -- every
 * refusal, with or without takeover -- is waited out: start looks again
 * every few seconds until the local sanlock daemon calls the owner DEAD
 * (sanlock's own expiry, 8 x io_timeout + 60 s after its last renewal:
 * then the lease is free, which is always safe), a takeover is allowed, or
 * the wait budget ends.  A live owner never expires; start then fails at
 * the end of its budget.
 */
gboolean vm_lease_go(VmLeaseAction a, IcsTakeoverVerdict v);

/*
 * How long start may go on looking at its lease: the operation's timeout
 * minus the deadline alarm's 2 s, the domain start's own wait
 * (@start_wait_ms), 3 s to report and 15 s for a last look begun just
 * before the end (its renewal watch is 10.5 s at io_timeout 1); 0 when
 * nothing is left.  150 s (vmpool's start timeout) leaves 100 s, more than
 * sanlock's 68 s expiry at io_timeout 1.
 */
guint vm_lease_wait_budget_ms(guint op_timeout_ms, guint start_wait_ms);

/* ---- migration -------------------------------------------------------- */

/* One log line of progress ("migration of web1: 37% of 512 MiB, 322 MiB
 * remaining, 6 s"); g_free it. */
char *vm_migration_progress(const char *vm, guint64 processed, guint64 remaining, guint64 total,
			    guint64 elapsed_ms);

/* Checks on the target before migrating; NULL when it may go, else the
 * reason (g_free it). */
char *vm_migration_target_problem(const char *target, const char *local_node,
				  gboolean target_member, gboolean target_online);

/* The VM's pool on the migration target: the target must be a live host of
 * the pool's lockspace (joined, renewing its disk heartbeat: what its
 * ocf:ics:pool start achieved), as this node's sanlock sees it in @hosts
 * (IcsHostInfo, from ics_pool_hosts()).  NULL when it is, else the reason. */
char *vm_target_pool_problem(const GPtrArray *hosts, const char *pool_name, const char *target);

#endif /* ICS_VM_LOGIC_H */
