/*
 * ics/lock.h: libicslock -- disk ownership for ICS pools, on sanlock.
 *
 * The promise: a VM's disks are owned by exactly one host at a time, even in
 * a split brain, and each host's access to each shared pool is visible as a
 * disk heartbeat.  sanlock does the hard part (delta leases = per-host
 * heartbeats in a lockspace; paxos leases = resource ownership).  This
 * library decides the layout, names and bookkeeping around it and adds one
 * thing sanlock lacks: taking over the lease of a host that Pacemaker has
 * *confirmed fenced*, at once instead of after sanlock's expiry
 * (8 x io_timeout + 60 s).  The safety argument is docs/lease-takeover.md.
 *
 * On-disk layout of a pool (everything under <pool>/.ics/):
 *   pool.json    {"format":1, "name", "uuid", "lockspace", "io_timeout",
 *                 "sector_size":512, "align":1048576, "max_hosts":2000,
 *                 "lease_slots", "created"} -- written last by init, atomically
 *   ids          the lockspace: one delta lease per host (1 MiB)
 *   leases       resource leases, slot k at offset k * 1 MiB (sparse file);
 *                slot 0 is reserved for ICS's own use (the manager lease)
 *   slots/<k>    allocation record of slot k: the owner name (a VM uuid),
 *                created with O_EXCL, so two allocators never share a slot
 *
 * Names: lockspace "ics-<pool name>"; the resource lease of slot k is named
 * after its owner (<= 48 bytes, sanlock's limit).  Host id = corosync node
 * id (1..2000); sanlock's host name (-e) = the cluster node name.
 *
 * Errors are ICS_ERROR GErrors (ics/error.h) that name the pool and say what
 * to do.  Functions with "direct" semantics touch only the files and need no
 * daemon; join/leave/hosts/acquire/release talk to the local sanlock daemon
 * (honouring SANLOCK_RUN_DIR).
 */
#ifndef ICS_LOCK_H
#define ICS_LOCK_H

#include <glib.h>
#include <stdint.h>

#define ICS_LOCK_MAX_HOST_ID 2000
#define ICS_LOCK_ALIGN (1024 * 1024)
#define ICS_LOCK_DEFAULT_IO_TIMEOUT 1 /* seconds; see docs/lease-takeover.md */
#define ICS_LOCK_DEFAULT_SLOTS 1024
#define ICS_LOCK_DEFAULT_CLOCK_MARGIN 1 /* seconds; see docs/lease-takeover.md */

typedef struct IcsPool IcsPool;

/* ---- pool metadata area (direct: no daemon needed) --------------------- */

typedef struct {
	const char *name;  /* pool name: [a-z0-9][a-z0-9_-]{0,39} */
	const char *uuid;  /* NULL = generate */
	guint io_timeout;  /* 0 = ICS_LOCK_DEFAULT_IO_TIMEOUT */
	guint lease_slots; /* 0 = ICS_LOCK_DEFAULT_SLOTS */
	gboolean force;	   /* overwrite an area that still has live leases */
} IcsPoolInitOptions;

/*
 * Create <path>/.ics/ with a fresh lockspace and lease area.  Refuses
 * (ICS_ERROR_CONFLICT, nothing written) when the path already holds a pool
 * whose lockspace shows a live host or whose leases have an owner, unless
 * opts->force.  Refuses a missing path (NOT_FOUND) and a file that is not a
 * sanlock area of ours (PARSE: "foreign lease file").
 */
gboolean ics_pool_init(const char *path, const IcsPoolInitOptions *opts, GError **error);

/*
 * Open an initialized pool: reads pool.json and checks ids and leases (magic,
 * sector size 512, lockspace name).  @expect_uuid, when not NULL, must match
 * (a mismatch means the path is not the shared pool: CONFLICT).
 */
IcsPool *ics_pool_open(const char *path, const char *expect_uuid, GError **error);
void ics_pool_free(IcsPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsPool, ics_pool_free)

const char *ics_pool_path(const IcsPool *pool);
const char *ics_pool_name(const IcsPool *pool);
const char *ics_pool_uuid(const IcsPool *pool);
const char *ics_pool_lockspace(const IcsPool *pool);
const char *ics_pool_ids_path(const IcsPool *pool);
const char *ics_pool_leases_path(const IcsPool *pool);
guint ics_pool_io_timeout(const IcsPool *pool);
guint ics_pool_lease_slots(const IcsPool *pool);

/* Validate a host id (1..ICS_LOCK_MAX_HOST_ID) with a clear error. */
gboolean ics_lock_host_id_valid(guint64 host_id, GError **error);

/* ---- lease slots (direct) --------------------------------------------- */

typedef struct {
	guint index;
	char *owner;
} IcsSlot;
void ics_slot_free_entry(IcsSlot *slot); /* GDestroyNotify for lists */

/*
 * Allocate a slot for @owner (idempotent: the owner's existing slot is
 * returned) and initialize its lease area with the owner's name.  Returns
 * the slot index (>= 1), or -1 with BUSY when all slots are taken.
 */
int ics_slot_alloc(IcsPool *pool, const char *owner, GError **error);

/* The slot of @owner, or -1 with NOT_FOUND. */
int ics_slot_lookup(IcsPool *pool, const char *owner, GError **error);

/*
 * Free @owner's slot (on VM delete).  Refuses with BUSY while the lease has
 * an owner host unless @force.  Freeing an unknown owner is NOT_FOUND.
 */
gboolean ics_slot_release(IcsPool *pool, const char *owner, gboolean force, GError **error);

/* All allocated slots, ordered by index (IcsSlot*, ics_slot_free_entry). */
GPtrArray *ics_slot_list(IcsPool *pool, GError **error);

/* ---- membership (daemon) ---------------------------------------------- */

/*
 * Join the pool's lockspace as @host_id with @host_name recorded by the
 * daemon (-e).  Blocks until joined (~3 s at io_timeout 1).  Idempotent.
 * CONFLICT when a lockspace of the same name is joined from another path
 * (name clash) or with another host id.
 */
gboolean ics_pool_join(IcsPool *pool, guint64 host_id, GError **error);

/*
 * Leave the lockspace.  Refuses (BUSY, naming them) while processes of this
 * host hold leases in it, unless @force (sanlock then kills the holders).
 */
gboolean ics_pool_leave(IcsPool *pool, guint64 host_id, gboolean force, GError **error);

/* 1 if this host has joined the lockspace, 0 if not, -1 on error. */
int ics_pool_joined(IcsPool *pool, guint64 host_id, GError **error);

/*
 * The paths of the ICS pools whose lockspaces the local daemon has joined
 * (or is joining), as char* (g_free).  UNAVAILABLE without a daemon.
 */
GPtrArray *ics_joined_pool_paths(GError **error);

/*
 * Whether the local sanlock daemon runs with a watchdog (wdmd).  Storage
 * fencing and sanlock's own expiry are safe only with one; see
 * docs/storage-fencing.md.
 */
gboolean ics_sanlock_watchdog(gboolean *on, GError **error);

typedef enum {
	ICS_HOST_UNKNOWN, /* not read yet by the local daemon */
	ICS_HOST_FREE,	  /* never joined, or left cleanly */
	ICS_HOST_ALIVE,	  /* renewing */
	ICS_HOST_FAILING, /* renewals late: past 8 x io_timeout */
	ICS_HOST_DEAD,	  /* past 8 x io_timeout + 60 s: sanlock frees its leases */
} IcsHostState;

static inline const char *ics_host_state_name(IcsHostState state)
{
	switch (state) {
	case ICS_HOST_FREE:
		return "free";
	case ICS_HOST_ALIVE:
		return "alive";
	case ICS_HOST_FAILING:
		return "failing";
	case ICS_HOST_DEAD:
		return "dead";
	case ICS_HOST_UNKNOWN:
		break;
	}
	return "unknown";
}

typedef struct {
	guint64 host_id;
	guint64 generation;
	guint64 timestamp; /* the host's own delta-lease timestamp */
	IcsHostState state;
	char *name;		  /* sanlock host name (= cluster node name) */
	gint64 last_renewal_wall; /* wall clock (s) when the local daemon last saw
				   * this host renew; 0 = never seen renewing */
	gint64 age_s;		  /* now - last_renewal_wall, -1 unknown */
	gint64 first_seen_wall;	  /* wall clock (s) when this host first observed
				   * this generation (incarnation) of the host;
				   * 0 = unknown.  An upper bound of its join. */
} IcsHostInfo;
void ics_host_info_free(IcsHostInfo *h);

/*
 * Hosts of the lockspace as the local daemon sees them (this host must have
 * joined).  Right after a join the daemon may not have read them yet:
 * BUSY ("hosts not ready, retry").  Ordered by host id; hosts never seen
 * are omitted.  Each call also records, per host, when this host first saw
 * its current generation (the observer: a small JSON file per lockspace in
 * $ICS_LOCK_STATE_DIR, default /run/ics/locks, i.e. in RAM: a rebooted host
 * has observed nothing), which fills first_seen_wall.  The pool agent's
 * monitor calls it every few seconds.
 */
GPtrArray *ics_pool_hosts(IcsPool *pool, GError **error);

/* ---- resource leases (daemon) ----------------------------------------- */

typedef struct IcsLease IcsLease;

/*
 * Register this process with the local sanlock daemon and acquire the lease
 * of @owner's slot without waiting (SANLK_ACQUIRE_OWNER_NOWAIT).  Held by
 * a live host: BUSY, message names the owner host ("held by host 2
 * (node2), alive").  Held by a host that stopped renewing: BUSY with
 * "owner not renewing: needs fencing confirmation or expiry".  The lease
 * belongs to this process; it is released by ics_lease_release(), by
 * closing the registration or by the process ending.  The registration fd
 * is not close-on-exec so a program can exec the lease's user (ics-lease
 * hold -- CMD).
 */
IcsLease *ics_lease_acquire(IcsPool *pool, const char *owner, GError **error);
gboolean ics_lease_release(IcsLease *lease, GError **error);
void ics_lease_free(IcsLease *lease); /* releases if still held */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsLease, ics_lease_free)
int ics_lease_fd(const IcsLease *lease);

typedef struct {
	char *owner; /* slot owner (lease name) */
	guint slot;
	guint64 lver;	       /* paxos lease version */
	guint64 owner_host_id; /* 0 = free */
	guint64 owner_generation;
	guint64 owner_timestamp;
} IcsLeaseInfo;
void ics_lease_info_clear(IcsLeaseInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsLeaseInfo, ics_lease_info_clear)

/* Read a lease's leader record from disk (direct: no daemon needed). */
gboolean ics_lease_inspect(IcsPool *pool, const char *owner, IcsLeaseInfo *info, GError **error);
/* The same for slot @k known already (a VM definition's lease offset /
 * ICS_LOCK_ALIGN): one read, no scan of the slot records; CONFLICT when
 * the lease in that slot is not @owner's. */
gboolean ics_lease_inspect_slot(IcsPool *pool, const char *owner, guint k, IcsLeaseInfo *info,
				GError **error);

/* ---- corosync's node list (node_names.c) ------------------------------ */

/* One node of corosync's nodelist: its node id (= sanlock host id) and name. */
typedef struct {
	guint64 node_id;
	char *name;	  /* NULL: nobody could name it (see ics_corosync_nodes) */
	char *ring0_addr; /* as configured, NULL when absent */
} IcsCorosyncNode;
void ics_corosync_node_free(IcsCorosyncNode *n);

/*
 * corosync's configured node list, read from the running corosync with
 * libcmap (nodelist.node.N.nodeid, .name and .ring0_addr).  A node without
 * a name is named as Pacemaker names it: its ring0_addr unless that is an
 * IP address, else the uname of that node id in Pacemaker's CIB (Pacemaker
 * then uses the node's own uname -n and records it there).  A node nobody
 * can name keeps name NULL, and ics_corosync_node_check refuses it with a
 * message that says so.  UNAVAILABLE when corosync does not answer.
 * Returns IcsCorosyncNode* (ics_corosync_node_free).
 */
GPtrArray *ics_corosync_nodes(GError **error);

/*
 * Pure check that host id @host_id and node name @name denote one node of
 * @nodes and nothing else: exactly one entry has that id, exactly one has
 * that name, and they are the same entry.  FALSE with *why (may be NULL) set
 * to one sentence naming the conflict (unknown id, unknown name, an id with
 * two names, a name with two ids, id and name of different nodes).
 */
gboolean ics_corosync_node_check(const GPtrArray *nodes, guint64 host_id, const char *name,
				 char **why);

/* ---- the owner's delta lease, read from the pool (delta_watch.c) ------- */

/* A host's delta lease as it is on disk now (direct read, no daemon). */
typedef struct {
	gboolean valid; /* a delta-lease record of this lockspace */
	gboolean free;	/* never written, or released (timestamp 0) */
	gboolean blank; /* never written at all (all zeros): the host never
			 * joined; free, and carries no name */
	guint64 generation;
	guint64 timestamp; /* the owner's own clock: compare, never order */
	guint io_timeout;  /* the io_timeout the owner's daemon renews with
			    * (0 = not recorded) */
	char name[49];	   /* the sanlock host name it carries */
} IcsDeltaLease;

/*
 * Read @host_id's delta lease from @pool's ids file with O_DIRECT.  A file
 * system without O_DIRECT, or a short read (a truncated ids file), is an
 * error: such a read could come from a cache or invent a free lease.
 */
gboolean ics_delta_read(IcsPool *pool, guint64 host_id, IcsDeltaLease *out, GError **error);

typedef enum {
	ICS_WATCH_STEADY,   /* unchanged for the whole watch */
	ICS_WATCH_RENEWED,  /* rewritten by its owner: the owner is alive */
	ICS_WATCH_RELEASED, /* became free (another host released it) */
	ICS_WATCH_REJOINED, /* a new generation: the owner joined again */
} IcsWatchResult;

/* What a watch of one host's delta lease saw, on this host's monotonic clock. */
typedef struct {
	IcsWatchResult result;
	gint64 start_mono; /* g_get_monotonic_time() of the first read */
	gint64 steady_ms;  /* how long it read unchanged */
	guint reads;
	gint64 last_read_mono;	 /* g_get_monotonic_time() when the last read began */
	guint8 last_sector[512]; /* what the last read returned, byte for byte */
} IcsDeltaWatch;

const char *ics_watch_result_name(IcsWatchResult r);

/*
 * Read @host_id's delta lease (generation @generation expected) every
 * @poll_ms until it has read the same for @duration_ms, or until it changes
 * (RENEWED, RELEASED, REJOINED: the watch ends at the first change).  The
 * whole 512-byte sector is compared, so any write by the owner counts.
 * Reads are O_DIRECT only (as ics_delta_read): an unreadable sector ends
 * the watch with an error, never with STEADY.
 */
gboolean ics_delta_watch(IcsPool *pool, guint64 host_id, guint64 generation, guint duration_ms,
			 guint poll_ms, IcsDeltaWatch *out, GError **error);

/* ---- fence-aware takeover --------------------------------------------- */

typedef enum {
	ICS_FENCE_NONE,	   /* no off/reboot fencing of the node on record */
	ICS_FENCE_PENDING, /* requested or in progress */
	ICS_FENCE_FAILED,
	ICS_FENCE_DONE, /* confirmed: the node was powered off/rebooted */
} IcsFenceState;

/*
 * The newest off/reboot fencing action against one node, as Pacemaker
 * records it.  "on" (unfencing) never counts: it is skipped.
 */
typedef struct {
	IcsFenceState state;
	char *target;	  /* node name the action was against */
	char *action;	  /* "off", "reboot" */
	gint64 completed; /* wall clock (s) of completion (DONE/FAILED), the
			   * recording node's clock */
	char *delegate;	  /* node that executed it; "a human" for a manual
			   * confirmation (stonith_admin --confirm) */
	gboolean manual;  /* a manual confirmation: nothing was fenced by a device */
	gint64 seen_mono; /* this host's g_get_monotonic_time() when it read
			   * the history: the fencing completed before it */
} IcsFenceRecord;
void ics_fence_record_clear(IcsFenceRecord *rec);

/*
 * Whether a done fencing executed by @delegate was a manual confirmation:
 * Pacemaker's "a human" (stonith_admin --confirm), and also no delegate at
 * all -- a record that names no device is not evidence that one acted.
 */
gboolean ics_fence_delegate_manual(const char *delegate);

/* Ask Pacemaker's fencer (libstonithd) for the newest off/reboot action
 * against @node. */
gboolean ics_fence_history_last(const char *node, IcsFenceRecord *rec, GError **error);

/* Everything the takeover decision looks at; filled by ics_lease_takeover(). */
typedef struct {
	guint64 owner_host_id; /* from the lease's leader record */
	guint64 owner_generation;
	gboolean joined;	     /* this host has joined the lockspace */
	const IcsDeltaLease *delta;  /* the owner's delta lease read from the pool;
				      * NULL = unreadable */
	const IcsHostInfo *host;     /* the owner as the local daemon sees it;
				      * NULL = not listed */
	const GPtrArray *nodes;	     /* corosync's node list; NULL = unreadable */
	const IcsFenceRecord *fence; /* newest off/reboot fencing of the owner's name */
	const IcsDeltaWatch *watch;  /* NULL = not watched yet */
	guint clock_margin_s;	     /* clock skew + 1 s timestamp rounding */
	guint io_timeout;	     /* the owner's: max(the pool's, the io_timeout its
				      * daemon wrote into its delta lease); its daemon
				      * kills its lease holders once it has not renewed
				      * for 8 x io_timeout */
	gboolean hosts_busy;	     /* the local daemon has just joined and has not
				      * read the other hosts yet */
	gboolean accept_manual;	     /* operator override: a manual confirmation counts */
} IcsTakeoverFacts;

typedef enum {
	ICS_TAKEOVER_ALLOW,		   /* confirmed fencing of the owner's incarnation,
					    * and its delta lease stood still after it */
	ICS_TAKEOVER_NOT_NEEDED,	   /* free; the owner's delta lease free, expired or
					    * of a newer generation: sanlock grants it */
	ICS_TAKEOVER_REFUSE_ALIVE,	   /* owner renewing and no fencing on record */
	ICS_TAKEOVER_REFUSE_NOT_CONFIRMED, /* fencing pending or failed */
	ICS_TAKEOVER_REFUSE_STALE_FENCING, /* fencing older than the owner's incarnation */
	ICS_TAKEOVER_REFUSE_WRONG_NODE,	   /* the fenced node is not the owner host, or the
					    * owner's id and name disagree with corosync */
	ICS_TAKEOVER_REFUSE_UNKNOWN,	   /* a fact is missing: cannot decide */
	ICS_TAKEOVER_REFUSE_MANUAL,	   /* the fencing is a manual confirmation and no
					    * operator override is given */
	ICS_TAKEOVER_REFUSE_RENEWING,	   /* the owner rewrote its delta lease after this
					    * host saw the fencing done: it is alive */
	ICS_TAKEOVER_WATCH,		   /* (ics_takeover_decide only) everything holds but
					    * the owner's delta lease was not watched yet */
} IcsTakeoverVerdict;

const char *ics_takeover_verdict_name(IcsTakeoverVerdict v);

/*
 * How long the owner's delta lease must stand still after the fencing, in
 * ms: 8 x io_timeout (sanlock's id_renewal_fail_seconds: past it the
 * owner's own daemon kills its lease holders) + 1.5 s (its once-a-second
 * check, the poll of the watch) + margin.  10.5 s at io_timeout 1.
 */
guint ics_takeover_watch_ms(guint io_timeout, guint clock_margin_s);

/*
 * The decision, as a pure function of the facts (unit-tested for every
 * verdict).  *reason (may be NULL) gets one sentence for the operator; a
 * manual confirmation is named in it ("MANUAL confirmation").
 */
IcsTakeoverVerdict ics_takeover_decide(const IcsTakeoverFacts *facts, char **reason);

typedef struct {
	guint clock_margin_s;	/* 0 = ICS_LOCK_DEFAULT_CLOCK_MARGIN */
	gboolean accept_manual; /* see IcsTakeoverFacts; documented in
				 * docs/lease-takeover.md */
	gboolean dry_run;	/* decide (watching included), do not act */
} IcsTakeoverOptions;

/*
 * Take over @owner's lease from a dead owner host: gathers the facts (lease
 * leader, the owner's delta lease on disk, the local daemon's view -- read
 * again for up to 2 x io_timeout + 1 s while the daemon has just joined and
 * not read the hosts yet --, corosync's node list, fencing from Pacemaker),
 * decides; on WATCH watches the owner's delta lease for
 * ics_takeover_watch_ms() and decides again; only on ALLOW (and not
 * dry_run) frees the owner host's delta lease in place of sanlock's
 * `direct release_id`, writing the same bytes, but only if the sector still
 * reads exactly as the watch last read it and no more than io_timeout has
 * passed since (every lease of that host generation becomes free; a host
 * that were alive after all has by then begun killing its lease holders).
 * A sector changed since the watch is REFUSE_RENEWING, a watch too old
 * REFUSE_UNKNOWN.  The read-back must show generation g free.  *verdict and
 * *reason (g_free) are set whenever TRUE is returned; FALSE only when the
 * facts cannot be gathered or the write or its read-back fails.  The caller
 * then acquires normally.
 */
gboolean ics_lease_takeover_run(IcsPool *pool, const char *owner, const IcsTakeoverOptions *opts,
				IcsTakeoverVerdict *verdict, char **reason, GError **error);

/*
 * ics_lease_takeover_run() with the default options; refusals are FALSE with
 * ICS_ERROR_CONFLICT and the reason (NOT_NEEDED and ALLOW are TRUE).
 */
gboolean ics_lease_takeover(IcsPool *pool, const char *owner, guint clock_margin_s,
			    IcsTakeoverVerdict *verdict, GError **error);

/* The same as a dry run (for operators: `ics-lease takeover --dry-run`). */
gboolean ics_lease_takeover_check(IcsPool *pool, const char *owner, guint clock_margin_s,
				  IcsTakeoverVerdict *verdict, char **reason, GError **error);

#endif /* ICS_LOCK_H */
