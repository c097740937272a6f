/*
 * takeover.c: taking a dead host's lease at once, but only when Pacemaker
 * has confirmed that the incarnation holding it was fenced, and the pool
 * shows that it stopped renewing after that for longer than a live sanlock
 * daemon keeps its lease holders running without a renewal.
 *
 * sanlock frees a dead host's leases only after 8 x io_timeout + 60 s.  The
 * one fact that lets us act earlier is a fencing action (off or reboot,
 * never "on") against the owner's node that completed while the owner's
 * incarnation (host id + generation, the one recorded in the lease)
 * existed: by the fencing assumption (A1) nothing of that incarnation runs
 * after the fencing.  Because A1 fails in practice -- a mistaken
 * `stonith_admin --confirm`, a fence device that answers before the power
 * is off -- the takeover also requires the effect of the fencing on the
 * pool: after this host saw the fencing done, it reads the owner's delta
 * lease from the disk until it has stood still for 8 x io_timeout + 1.5 s
 * + margin (io_timeout = the owner's, the larger of the pool's and the one
 * its daemon wrote into its delta lease).  A live sanlock daemon may go up
 * to 8 x io_timeout without a successful renewal (slow storage: each read
 * and write of a renewal may take up to io_timeout, the write longer) and
 * publishes a renewal only after its write completed; past that bound its
 * once-a-second check kills its lease holders (A3, A4 in
 * docs/lease-takeover.md).  Both are ordered on this host's monotonic
 * clock (first the history says done, then the watch starts); only "the
 * incarnation existed before the fencing" compares this host's wall clock
 * with the fencer's (A2).
 *
 * The decision is a pure function so that every verdict can be tested; the
 * order of checks:
 *   1. lease free                                  -> NOT_NEEDED
 *   2. this host has not joined the lockspace      -> REFUSE_UNKNOWN
 *   3. owner's delta lease unreadable              -> REFUSE_UNKNOWN
 *   4. delta lease free (released, never joined), of a newer generation
 *      (re-joined), or DEAD for the local daemon  -> NOT_NEEDED
 *      (sanlock grants the lease without help)
 *   5. owner not listed by the local daemon        -> REFUSE_UNKNOWN
 *   6. id and name disagree with corosync's list   -> REFUSE_WRONG_NODE
 *   7. no off/reboot fencing on record             -> REFUSE_ALIVE if renewing,
 *                                                    else REFUSE_UNKNOWN
 *   8. fencing of another node                     -> REFUSE_WRONG_NODE
 *   9. fencing pending or failed, or not off/reboot -> REFUSE_NOT_CONFIRMED
 *  10. a manual confirmation (or no delegate), no override -> REFUSE_MANUAL
 *  11. the local daemon lists another generation   -> REFUSE_UNKNOWN
 *      than the delta lease's (it has not read generation g yet)
 *  12. incarnation never observed                  -> REFUSE_UNKNOWN
 *  13. first seen + margin > fencing               -> REFUSE_ALIVE if renewing,
 *      else REFUSE_STALE_FENCING (the fencing is older than the incarnation)
 *  14. delta lease not watched yet                 -> WATCH
 *  15. watch began before the fencing was seen    -> REFUSE_UNKNOWN
 *  16. watch: released or re-joined meanwhile      -> NOT_NEEDED
 *  17. watch: rewritten                            -> REFUSE_RENEWING
 *  18. watch shorter than ics_takeover_watch_ms    -> REFUSE_UNKNOWN
 *  19. otherwise                                   -> ALLOW
 * On ALLOW the owner's delta lease is freed rather than the one lease wiped:
 * if the owner were alive after all, its daemon has already begun killing
 * its holders, and would see the overwrite at its next renewal, whereas
 * after a wipe both would hold the lease unnoticed.  The sector is freed
 * in-process (delta_release.c) only if it is still byte for byte what the
 * watch last read, within io_timeout of that read.  The steps themselves
 * go through a table of functions (IcsTakeoverOps) so that their order is
 * unit-tested.  The safety argument, with the windows that remain, is
 * docs/lease-takeover.md.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "lock_internal.h"

/* How often the watch reads the owner's delta lease. */
#define WATCH_POLL_MS 100

const char *ics_takeover_verdict_name(IcsTakeoverVerdict v)
{
	switch (v) {
	case ICS_TAKEOVER_ALLOW:
		return "allow";
	case ICS_TAKEOVER_NOT_NEEDED:
		return "not-needed";
	case ICS_TAKEOVER_REFUSE_ALIVE:
		return "refuse-alive";
	case ICS_TAKEOVER_REFUSE_NOT_CONFIRMED:
		return "refuse-not-confirmed";
	case ICS_TAKEOVER_REFUSE_STALE_FENCING:
		return "refuse-stale-fencing";
	case ICS_TAKEOVER_REFUSE_WRONG_NODE:
		return "refuse-wrong-node";
	case ICS_TAKEOVER_REFUSE_UNKNOWN:
		return "refuse-unknown";
	case ICS_TAKEOVER_REFUSE_MANUAL:
		return "refuse-manual";
	case ICS_TAKEOVER_REFUSE_RENEWING:
		return "refuse-renewing";
	case ICS_TAKEOVER_WATCH:
		return "watch";
	}
	return "refuse-unknown";
}

guint ics_takeover_watch_ms(guint io_timeout, guint clock_margin_s)
{
	return 8 * MAX(io_timeout, 1u) * 1000 + 1500 + clock_margin_s * 1000;
}

static IcsTakeoverVerdict verdict(IcsTakeoverVerdict v, char **reason, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static IcsTakeoverVerdict verdict(IcsTakeoverVerdict v, char **reason, const char *fmt, ...)
{
	va_list ap;

	if (reason) {
		va_start(ap, fmt);
		*reason = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return v;
}

IcsTakeoverVerdict ics_takeover_decide(const IcsTakeoverFacts *f, char **reason)
{
	const IcsHostInfo *h = f->host;
	const IcsFenceRecord *fr = f->fence;
	const IcsDeltaLease *d = f->delta;
	const IcsDeltaWatch *w = f->watch;
	const guint64 id = f->owner_host_id;
	const char *name;
	const char *manual;
	g_autofree char *why = NULL;
	guint need_ms;

	if (reason)
		*reason = NULL;
	if (id == 0)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason, "the lease is free");
	if (!f->joined)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "this host has not joined the pool's lockspace: it can neither "
			       "judge host %" G_GUINT64_FORMAT " nor acquire; start the pool here",
			       id);
	if (!d || !d->valid)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "the delta lease of owner host %" G_GUINT64_FORMAT " cannot be read "
			       "from the pool%s: cannot tell whether it is alive",
			       id, d ? " (not a valid delta lease of this lockspace)" : "");
	name = d->name[0] ? d->name : h && h->name && *h->name ? h->name : "name unknown";
	if (d->free)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s): its delta lease reads free "
			       "(released or never renewed): sanlock grants the lease",
			       id, name);
	if (d->generation != f->owner_generation)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason,
			       "owner host %" G_GUINT64_FORMAT
			       " (%s) re-joined with generation %" G_GUINT64_FORMAT
			       " (lease held by generation %" G_GUINT64_FORMAT
			       "): sanlock grants the lease",
			       id, name, d->generation, f->owner_generation);
	if (h && h->host_id == id && h->generation == d->generation && h->state == ICS_HOST_DEAD)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s) is dead (expired): sanlock "
			       "grants the lease",
			       id, name);
	if ((!h || h->host_id != id) && f->hosts_busy)
		return verdict(
			ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			"this host's sanlock daemon has just joined the lockspace and has not "
			"read the other hosts yet: cannot judge owner host %" G_GUINT64_FORMAT
			" (%s); retry",
			id, name);
	if (!h || h->host_id != id)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "owner host %" G_GUINT64_FORMAT
			       " (%s) holds a delta lease but is not "
			       "known to the local daemon: cannot tell whether it is alive",
			       id, name);
	if (!ics_corosync_node_check(f->nodes, id, name, &why))
		return verdict(f->nodes ? ICS_TAKEOVER_REFUSE_WRONG_NODE
					: ICS_TAKEOVER_REFUSE_UNKNOWN,
			       reason,
			       "owner host %" G_GUINT64_FORMAT ": %s: refusing to match "
			       "a fencing to it",
			       id, why);
	if (h->name && *h->name && strcmp(h->name, name) != 0)
		return verdict(ICS_TAKEOVER_REFUSE_WRONG_NODE, reason,
			       "owner host %" G_GUINT64_FORMAT " is \"%s\" on disk but \"%s\" for "
			       "the local daemon",
			       id, name, h->name);
	if (!fr || fr->state == ICS_FENCE_NONE) {
		if (h->state == ICS_HOST_ALIVE)
			return verdict(ICS_TAKEOVER_REFUSE_ALIVE, reason,
				       "owner host %" G_GUINT64_FORMAT " (%s) is renewing and no "
				       "fencing of it is on record",
				       id, name);
		return verdict(
			ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			"owner host %" G_GUINT64_FORMAT " (%s) is %s and no off/reboot "
			"fencing of it is on record: wait for fencing or for sanlock's expiry",
			id, name, ics_host_state_name(h->state));
	}
	if (!fr->target || strcmp(fr->target, name) != 0)
		return verdict(ICS_TAKEOVER_REFUSE_WRONG_NODE, reason,
			       "the fencing on record is of node \"%s\", but the owner is host "
			       "%" G_GUINT64_FORMAT " (%s)",
			       fr->target ? fr->target : "", id, name);
	if (fr->state != ICS_FENCE_DONE)
		return verdict(ICS_TAKEOVER_REFUSE_NOT_CONFIRMED, reason,
			       "fencing of %s is %s, not confirmed", name,
			       fr->state == ICS_FENCE_PENDING ? "pending" : "failed");
	if (!fr->action || (strcmp(fr->action, "off") != 0 && strcmp(fr->action, "reboot") != 0))
		return verdict(ICS_TAKEOVER_REFUSE_NOT_CONFIRMED, reason,
			       "the fencing of %s on record is \"%s\": only off or reboot ends a "
			       "host",
			       name, fr->action ? fr->action : "");
	manual = fr->manual ? " (MANUAL confirmation by an operator, accepted by override)" : "";
	if (fr->manual && !f->accept_manual)
		return verdict(ICS_TAKEOVER_REFUSE_MANUAL, reason,
			       "the fencing of %s at %" G_GINT64_FORMAT " is a MANUAL confirmation "
			       "(%s): no device fenced it; refusing unless the operator overrides "
			       "(docs/lease-takeover.md); sanlock's own expiry frees the lease",
			       name, fr->completed,
			       fr->delegate && *fr->delegate ? "stonith_admin --confirm"
							     : "the record names no device");
	if (h->generation != d->generation)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "the local daemon has not seen generation %" G_GUINT64_FORMAT
			       " of host %" G_GUINT64_FORMAT
			       " (%s) yet (it lists generation %" G_GUINT64_FORMAT
			       "): cannot order that incarnation against the fencing; retry",
			       d->generation, id, name, h->generation);
	if (h->first_seen_wall <= 0)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "this host never observed generation %" G_GUINT64_FORMAT
			       " of host %" G_GUINT64_FORMAT
			       " (%s): cannot order it against the fencing",
			       d->generation, id, name);
	if (h->first_seen_wall + (gint64)f->clock_margin_s > fr->completed) {
		if (h->state == ICS_HOST_ALIVE)
			return verdict(
				ICS_TAKEOVER_REFUSE_ALIVE, reason,
				"owner host %" G_GUINT64_FORMAT " (%s) is renewing; its last "
				"fencing (at %" G_GINT64_FORMAT ") is older than its current "
				"incarnation",
				id, name, fr->completed);
		return verdict(ICS_TAKEOVER_REFUSE_STALE_FENCING, reason,
			       "fencing of %s completed at %" G_GINT64_FORMAT ", not after its "
			       "incarnation (generation %" G_GUINT64_FORMAT
			       ") was first seen at %" G_GINT64_FORMAT
			       " + %u s margin: the fencing may be of an earlier "
			       "incarnation",
			       name, fr->completed, d->generation, h->first_seen_wall,
			       f->clock_margin_s);
	}
	need_ms = ics_takeover_watch_ms(f->io_timeout, f->clock_margin_s);
	if (!w)
		return verdict(ICS_TAKEOVER_WATCH, reason,
			       "host %" G_GUINT64_FORMAT
			       " (%s) was fenced (%s) at %" G_GINT64_FORMAT
			       "%s; its delta lease must stand still for %u ms",
			       id, name, fr->action, fr->completed, manual, need_ms);
	if (w->start_mono < fr->seen_mono)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "the watch of host %" G_GUINT64_FORMAT "'s delta lease began before "
			       "this host saw its fencing done: it proves nothing",
			       id);
	if (w->result == ICS_WATCH_RELEASED || w->result == ICS_WATCH_REJOINED)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s): its delta lease was %s "
			       "meanwhile: sanlock grants the lease",
			       id, name,
			       w->result == ICS_WATCH_RELEASED ? "released" : "re-joined");
	if (w->result == ICS_WATCH_RENEWED)
		return verdict(ICS_TAKEOVER_REFUSE_RENEWING, reason,
			       "host %" G_GUINT64_FORMAT
			       " (%s) rewrote its delta lease %" G_GINT64_FORMAT
			       " ms into the watch, after its fencing (%s at %" G_GINT64_FORMAT
			       "%s) was seen done: it is alive; check the node and "
			       "the fence device",
			       id, name, w->steady_ms, fr->action, fr->completed, manual);
	if (w->steady_ms < (gint64)need_ms)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "host %" G_GUINT64_FORMAT
			       "'s delta lease was watched for %" G_GINT64_FORMAT
			       " ms only (%u ms needed)",
			       id, w->steady_ms, need_ms);
	return verdict(ICS_TAKEOVER_ALLOW, reason,
		       "host %" G_GUINT64_FORMAT " (%s), generation %" G_GUINT64_FORMAT
		       " first seen at %" G_GINT64_FORMAT ", was fenced (%s) at %" G_GINT64_FORMAT
		       "%s and its delta lease stood still for %" G_GINT64_FORMAT " ms after",
		       id, name, d->generation, h->first_seen_wall, fr->action, fr->completed,
		       manual, w->steady_ms);
}

static void sleep_ms(guint ms)
{
	g_usleep((gulong)ms * G_TIME_SPAN_MILLISECOND);
}

const IcsTakeoverOps ics_takeover_ops_real = {
	.lease_inspect = ics_lease_inspect,
	.pool_hosts = ics_pool_hosts,
	.delta_read = ics_delta_read,
	.corosync_nodes = ics_corosync_nodes,
	.fence_history_last = ics_fence_history_last,
	.delta_watch = ics_delta_watch,
	.delta_free = ics_delta_free,
	.sleep_ms = sleep_ms,
};

/* The facts about @owner's lease, as of now (no watch yet). */
typedef struct {
	IcsLeaseInfo info;
	IcsDeltaLease delta;
	gboolean delta_ok;
	GPtrArray *hosts;
	GPtrArray *nodes;
	IcsFenceRecord fence;
	IcsDeltaWatch watch;
	IcsTakeoverFacts facts;
} Gathered;

static void gathered_clear(Gathered *g)
{
	ics_lease_info_clear(&g->info);
	if (g->hosts)
		g_ptr_array_unref(g->hosts);
	if (g->nodes)
		g_ptr_array_unref(g->nodes);
	ics_fence_record_clear(&g->fence);
	memset(g, 0, sizeof(*g));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Gathered, gathered_clear)

/*
 * The local daemon's host list.  Right after a join it has not read the
 * other hosts yet (BUSY); it does at its first renewal, within 2 x
 * io_timeout, so BUSY is read again for up to 2 x io_timeout + 1 s before
 * it becomes a fact (hosts_busy) that the decision refuses with.
 */
#define HOSTS_RETRY_MS 200

static GPtrArray *hosts_read(const IcsTakeoverOps *ops, IcsPool *pool, gboolean *joined,
			     gboolean *busy)
{
	const guint tries = (2 * MAX(pool->io_timeout, 1u) + 1) * 1000 / HOSTS_RETRY_MS;

	for (guint i = 0;; i++) {
		g_autoptr(GError) err = NULL;
		GPtrArray *hosts = ops->pool_hosts(pool, &err);

		*busy = !hosts && g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY);
		*joined = hosts || *busy;
		if (!*busy || i >= tries)
			return hosts;
		ops->sleep_ms(HOSTS_RETRY_MS);
	}
}

/*
 * Gather once.  What cannot be learnt is left out of the facts (NULL), so
 * that the decision refuses with the reason; only a lease that cannot be
 * read or a fencer that does not answer fails the call.  The fencing is
 * read last: the watch, if one follows, must start after it.
 */
static gboolean gather(const IcsTakeoverOps *ops, IcsPool *pool, const char *owner,
		       const IcsTakeoverOptions *o, Gathered *g, GError **error)
{
	const IcsHostInfo *host = NULL;

	if (!ops->lease_inspect(pool, owner, &g->info, error))
		return FALSE;
	g->facts.owner_host_id = g->info.owner_host_id;
	g->facts.owner_generation = g->info.owner_generation;
	g->facts.clock_margin_s = o->clock_margin_s;
	g->facts.io_timeout = pool->io_timeout;
	g->facts.accept_manual = o->accept_manual;
	if (g->info.owner_host_id == 0)
		return TRUE;
	g->hosts = hosts_read(ops, pool, &g->facts.joined, &g->facts.hosts_busy);
	for (guint i = 0; g->hosts && i < g->hosts->len; i++) {
		const IcsHostInfo *h = g_ptr_array_index(g->hosts, i);

		if (h->host_id == g->info.owner_host_id)
			host = h;
	}
	g->facts.host = host;
	g->delta_ok = ops->delta_read(pool, g->info.owner_host_id, &g->delta, NULL);
	g->facts.delta = g->delta_ok ? &g->delta : NULL;
	/* the owner renews with its own io_timeout, which may exceed the pool's */
	if (g->delta_ok && g->delta.valid)
		g->facts.io_timeout = MAX(pool->io_timeout, g->delta.io_timeout);
	g->nodes = ops->corosync_nodes(NULL);
	g->facts.nodes = g->nodes;
	/* the fencing is looked up by the name the owner wrote into its delta lease */
	if (g->delta_ok && g->delta.valid && !g->delta.free && g->delta.name[0]) {
		if (!ops->fence_history_last(g->delta.name, &g->fence, error))
			return FALSE;
		g->facts.fence = &g->fence;
	}
	return TRUE;
}

/* ALLOW: free the owner's delta lease as the watch left it. */
static gboolean free_owner(const IcsTakeoverOps *ops, IcsPool *pool, Gathered *g,
			   IcsTakeoverVerdict *out, char **reason, GError **error)
{
	const guint64 id = g->info.owner_host_id;
	IcsDeltaFreeResult r;

	if (!ops->delta_free(pool, id, g->info.owner_generation, &g->watch, g->facts.io_timeout, &r,
			     error))
		return FALSE;
	if (r == ICS_DELTA_FREED)
		return TRUE;
	g_clear_pointer(reason, g_free);
	if (r == ICS_DELTA_CHANGED) {
		*out = ICS_TAKEOVER_REFUSE_RENEWING;
		*reason = g_strdup_printf("host %" G_GUINT64_FORMAT "'s delta lease changed after "
					  "the watch ended, before it was freed: the host may be "
					  "alive or re-joining; nothing was written",
					  id);
	} else {
		*out = ICS_TAKEOVER_REFUSE_UNKNOWN;
		*reason = g_strdup_printf("the watch of host %" G_GUINT64_FORMAT "'s delta lease "
					  "ended more than io_timeout (%u s) ago: it no longer "
					  "says anything about now; nothing was written, retry",
					  id, g->facts.io_timeout);
	}
	return TRUE;
}

gboolean ics_lease_takeover_run_with(const IcsTakeoverOps *ops, IcsPool *pool, const char *owner,
				     const IcsTakeoverOptions *opts, IcsTakeoverVerdict *out,
				     char **reason, GError **error)
{
	g_auto(Gathered) g = { 0 };
	IcsTakeoverOptions o = opts ? *opts : (IcsTakeoverOptions){ 0 };

	*out = ICS_TAKEOVER_REFUSE_UNKNOWN;
	*reason = NULL;
	if (o.clock_margin_s == 0)
		o.clock_margin_s = ICS_LOCK_DEFAULT_CLOCK_MARGIN;
	if (!gather(ops, pool, owner, &o, &g, error))
		return FALSE;
	*out = ics_takeover_decide(&g.facts, reason);
	if (*out == ICS_TAKEOVER_WATCH) {
		g_clear_pointer(reason, g_free);
		if (!ops->delta_watch(pool, g.info.owner_host_id, g.info.owner_generation,
				      ics_takeover_watch_ms(g.facts.io_timeout, o.clock_margin_s),
				      WATCH_POLL_MS, &g.watch, error))
			return FALSE;
		g.facts.watch = &g.watch;
		*out = ics_takeover_decide(&g.facts, reason);
	}
	if (*out == ICS_TAKEOVER_ALLOW && !o.dry_run &&
	    !free_owner(ops, pool, &g, out, reason, error)) {
		g_clear_pointer(reason, g_free);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_lease_takeover_run(IcsPool *pool, const char *owner, const IcsTakeoverOptions *opts,
				IcsTakeoverVerdict *out, char **reason, GError **error)
{
	return ics_lease_takeover_run_with(&ics_takeover_ops_real, pool, owner, opts, out, reason,
					   error);
}

gboolean ics_lease_takeover_check(IcsPool *pool, const char *owner, guint clock_margin_s,
				  IcsTakeoverVerdict *out, char **reason, GError **error)
{
	IcsTakeoverOptions o = { .clock_margin_s = clock_margin_s, .dry_run = TRUE };

	return ics_lease_takeover_run(pool, owner, &o, out, reason, error);
}

gboolean ics_lease_takeover(IcsPool *pool, const char *owner, guint clock_margin_s,
			    IcsTakeoverVerdict *out, GError **error)
{
	IcsTakeoverOptions o = { .clock_margin_s = clock_margin_s };
	g_autofree char *reason = NULL;

	if (!ics_lease_takeover_run(pool, owner, &o, out, &reason, error))
		return FALSE;
	if (*out == ICS_TAKEOVER_NOT_NEEDED || *out == ICS_TAKEOVER_ALLOW)
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "pool \"%s\": takeover of \"%s\" refused "
		    "(%s): %s",
		    pool->name, owner, ics_takeover_verdict_name(*out), reason);
	return FALSE;
}
