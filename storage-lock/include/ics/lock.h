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
#define ICS_LOCK_DEFAULT_IO_TIMEOUT 1      /* seconds; see docs/lease-takeover.md */
#define ICS_LOCK_DEFAULT_SLOTS 1024
#define ICS_LOCK_DEFAULT_CLOCK_MARGIN 1 /* seconds; see docs/lease-takeover.md */

typedef struct IcsPool IcsPool;

/* ---- pool metadata area (direct: no daemon needed) --------------------- */

typedef struct {
	const char *name;      /* pool name: [a-z0-9][a-z0-9_-]{0,39} */
	const char *uuid;      /* NULL = generate */
	guint io_timeout;      /* 0 = ICS_LOCK_DEFAULT_IO_TIMEOUT */
	guint lease_slots;     /* 0 = ICS_LOCK_DEFAULT_SLOTS */
	gboolean force;        /* overwrite an area that still has live leases */
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
void ics_slot_free_entry(IcsSlot *slot);   /* GDestroyNotify for lists */

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

typedef enum {
	ICS_HOST_UNKNOWN,   /* not read yet by the local daemon */
	ICS_HOST_FREE,      /* never joined, or left cleanly */
	ICS_HOST_ALIVE,     /* renewing */
	ICS_HOST_FAILING,   /* renewals late: past 8 x io_timeout */
	ICS_HOST_DEAD,      /* past 8 x io_timeout + 60 s: sanlock frees its leases */
} IcsHostState;

static inline const char *ics_host_state_name(IcsHostState state)
{
	switch (state) {
	case ICS_HOST_FREE: return "free";
	case ICS_HOST_ALIVE: return "alive";
	case ICS_HOST_FAILING: return "failing";
	case ICS_HOST_DEAD: return "dead";
	case ICS_HOST_UNKNOWN: break;
	}
	return "unknown";
}

typedef struct {
	guint64 host_id;
	guint64 generation;
	guint64 timestamp;         /* the host's own delta-lease timestamp */
	IcsHostState state;
	char *name;                /* sanlock host name (= cluster node name) */
	gint64 last_renewal_wall;  /* wall clock (s) when the local daemon last saw
	                            * this host renew; 0 = never seen renewing */
	gint64 age_s;              /* now - last_renewal_wall, -1 unknown */
	gint64 first_seen_wall;    /* wall clock (s) when this host first observed
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
void ics_lease_free(IcsLease *lease);      /* releases if still held */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsLease, ics_lease_free)
int ics_lease_fd(const IcsLease *lease);

typedef struct {
	char *owner;               /* slot owner (lease name) */
	guint slot;
	guint64 lver;              /* paxos lease version */
	guint64 owner_host_id;     /* 0 = free */
	guint64 owner_generation;
	guint64 owner_timestamp;
} IcsLeaseInfo;
void ics_lease_info_clear(IcsLeaseInfo *info);

/* Read a lease's leader record from disk (direct: no daemon needed). */
gboolean ics_lease_inspect(IcsPool *pool, const char *owner, IcsLeaseInfo *info, GError **error);

/* ---- fence-aware takeover --------------------------------------------- */

typedef enum {
	ICS_FENCE_NONE,        /* no fencing of the node on record */
	ICS_FENCE_PENDING,     /* requested or in progress */
	ICS_FENCE_FAILED,
	ICS_FENCE_DONE,        /* confirmed: the node was powered off/rebooted */
} IcsFenceState;

/* The newest fencing action against one node, as Pacemaker records it. */
typedef struct {
	IcsFenceState state;
	char *target;          /* node name the action was against */
	char *action;          /* "off", "reboot" */
	gint64 completed;      /* wall clock (s) of completion (DONE/FAILED) */
	char *delegate;        /* node that executed it */
} IcsFenceRecord;
void ics_fence_record_clear(IcsFenceRecord *rec);

/* Ask Pacemaker's fencer (libstonithd) for the newest action against @node. */
gboolean ics_fence_history_last(const char *node, IcsFenceRecord *rec, GError **error);

/* Everything the takeover decision looks at; filled by ics_lease_takeover(). */
typedef struct {
	guint64 owner_host_id;        /* from the lease's leader record */
	guint64 owner_generation;
	const IcsHostInfo *host;      /* the owner host as the local daemon sees it */
	const IcsFenceRecord *fence;  /* newest fencing of host->name (may be NONE) */
	guint clock_margin_s;         /* clock skew + 1 s timestamp rounding */
	guint io_timeout;             /* the lockspace's: observation lags a renewal by
	                               * at most one renewal interval, 2 x io_timeout */
} IcsTakeoverFacts;

typedef enum {
	ICS_TAKEOVER_ALLOW,              /* confirmed fencing of the owner's incarnation */
	ICS_TAKEOVER_NOT_NEEDED,         /* free, or owner re-joined with a new generation */
	ICS_TAKEOVER_REFUSE_ALIVE,       /* owner renewing and no fencing on record */
	ICS_TAKEOVER_REFUSE_NOT_CONFIRMED, /* fencing pending or failed */
	ICS_TAKEOVER_REFUSE_STALE_FENCING, /* fencing older than the owner's incarnation, or
	                                    * the owner seen renewing after it */
	ICS_TAKEOVER_REFUSE_WRONG_NODE,  /* the fenced node is not the owner host */
	ICS_TAKEOVER_REFUSE_UNKNOWN,     /* owner's incarnation never observed: cannot order */
} IcsTakeoverVerdict;

const char *ics_takeover_verdict_name(IcsTakeoverVerdict v);

/*
 * The decision, as a pure function of the facts (unit-tested for every
 * refusal).  *reason (may be NULL) gets one sentence for the operator.
 */
IcsTakeoverVerdict ics_takeover_decide(const IcsTakeoverFacts *facts, char **reason);

/*
 * Take over @owner's lease from a dead owner host: gathers the facts (lease
 * leader, host state from the local daemon, fencing from Pacemaker), decides,
 * and only on ALLOW frees the owner host's delta lease with sanlock's
 * `direct release_id` (every lease of that host generation becomes free; a
 * host that were alive after all would see it at its next renewal and kill
 * its lease holders), then verifies the delta lease is free.  Returns the
 * verdict; refusals are ICS_ERROR_CONFLICT with the reason.  The caller then
 * acquires normally.
 */
gboolean ics_lease_takeover(IcsPool *pool, const char *owner, guint clock_margin_s,
                            IcsTakeoverVerdict *verdict, GError **error);

/*
 * The same facts and decision as ics_lease_takeover(), without acting (for
 * operators: `ics-lease takeover --dry-run`).  FALSE only when the facts
 * cannot be gathered; *reason gets the decision's sentence.
 */
gboolean ics_lease_takeover_check(IcsPool *pool, const char *owner, guint clock_margin_s,
                                  IcsTakeoverVerdict *verdict, char **reason, GError **error);

#endif /* ICS_LOCK_H */
