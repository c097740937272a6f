/*
 * pool_health.h: is a pool healthy on this host, and how to stop it.
 *
 * The agent gathers facts (local start marker, storage reachable, joined,
 * this host's own heartbeat as the local sanlock daemon sees it) and these
 * pure functions turn them into OCF answers, so every branch of monitor and
 * stop is unit-tested without storage or a daemon.
 *
 * Heartbeat: sanlock renews a host's delta lease every io_timeout * 2 s and
 * calls it failing past 8 x io_timeout.  The monitor alarms earlier, past
 * 4 x io_timeout + 2 s without a renewal, so Pacemaker starts recovering
 * the VMs on this pool before sanlock kills them.
 *
 * Soft unmount (white paper 4.3.2.3): when the heartbeat of a pool is lost
 * the stop still succeeds: the lockspace is left with force (sanlock has
 * killed, or is killing, the lease holders) so that the node loses this
 * pool only and is not fenced for a failed stop.
 */
#ifndef ICS_POOL_HEALTH_H
#define ICS_POOL_HEALTH_H

#include <glib.h>

#include "ics/lock.h"

typedef struct {
	const char *pool;          /* pool name, for messages */
	guint64 host_id;
	gboolean started;          /* local marker written by start */
	gint64 started_age_s;      /* seconds since start, -1 unknown */
	gboolean reachable;        /* stat + read of pool.json in time */
	const char *unreachable;   /* why not, when !reachable: one clause */
	int joined;                /* 1, 0, -1 = could not ask */
	gboolean hosts_busy;       /* hosts not read yet by the daemon (BUSY) */
	gboolean self_seen;        /* this host is in the daemon's host list */
	IcsHostState self_state;
	gint64 self_age_s;         /* seconds since own last renewal, -1 unknown */
	guint io_timeout;          /* seconds */
} PoolFacts;

/* Seconds without a renewal after which the monitor fails. */
guint pool_heartbeat_limit_s(guint io_timeout);

/* Seconds after start during which "hosts not ready" is accepted. */
guint pool_join_grace_s(guint io_timeout);

/*
 * The monitor answer: OCF_SUCCESS, OCF_NOT_RUNNING (not started, or no
 * longer in the lockspace) or OCF_ERR_GENERIC (storage unreachable,
 * heartbeat not renewing).  *reason (may be NULL) gets the exit reason for
 * a failure, or NULL.
 */
int pool_monitor_decide(const PoolFacts *facts, char **reason);

/* Is the heartbeat lost (the condition for a soft unmount)? */
gboolean pool_heartbeat_lost(const PoolFacts *facts);

typedef enum {
	POOL_STOP_NOTHING,      /* not joined: only local cleanup */
	POOL_STOP_LEAVE,        /* leave; refuse if leases are held */
	POOL_STOP_LEAVE_FORCE,  /* leave, killing lease holders (force_stop) */
	POOL_STOP_SOFT_UNMOUNT, /* heartbeat lost: leave with force, succeed */
} PoolStopPlan;

PoolStopPlan pool_stop_plan(const PoolFacts *facts, gboolean force_stop);
const char *pool_stop_plan_name(PoolStopPlan plan);

/*
 * The stop answer once the leave was tried: @leave_error is NULL when the
 * leave succeeded.  A BUSY refusal under POOL_STOP_LEAVE is
 * OCF_ERR_GENERIC with a reason naming force_stop; any failure under
 * POOL_STOP_SOFT_UNMOUNT is still OCF_SUCCESS (the pool is lost anyway).
 */
int pool_stop_outcome(const PoolFacts *facts, PoolStopPlan plan, const GError *leave_error,
		      char **reason);

/*
 * Is the pool's storage reachable?  stat(path) and read path/.ics/pool.json
 * in a child process; after @timeout_ms the child is killed and the answer
 * is ICS_ERROR_TIMEOUT, so a hung NFS server cannot hang the agent (a child
 * stuck in the kernel is left behind rather than waited for).
 * ICS_ERROR_NOT_FOUND when path or pool.json is missing.
 */
gboolean pool_probe_storage(const char *path, guint timeout_ms, GError **error);

#endif /* ICS_POOL_HEALTH_H */
