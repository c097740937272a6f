/*
 * takeover.c: taking a dead host's lease at once, but only when Pacemaker
 * has confirmed that the incarnation holding it was fenced.
 *
 * sanlock frees a dead host's leases only after 8 x io_timeout + 60 s.  The
 * one fact that lets us act earlier is a fencing action against the owner
 * that completed while the owner's incarnation (host id + generation, the
 * one recorded in the lease) existed: by the fencing assumption nothing of
 * that incarnation runs after the fencing.  "Existed before the fencing" is
 * proven with an upper bound of its join: the time this host first observed
 * that generation (first_seen_wall).  A later incarnation of the owner has a
 * larger generation, so an old fencing can never cover it.  As defence in
 * depth, an owner whose heartbeat this host saw change after the fencing
 * (allowing for one renewal interval of observation lag) is refused too.
 * The decision is a pure function so that every refusal can be tested; the
 * order of checks:
 *   1. lease free, owner re-joined with a new generation, or its delta lease
 *      free or expired               -> NOT_NEEDED (sanlock grants it anyway)
 *   2. owner host never seen         -> REFUSE_UNKNOWN
 *   3. no fencing on record          -> REFUSE_ALIVE if renewing, else UNKNOWN
 *   4. fencing of another node       -> REFUSE_WRONG_NODE
 *   5. fencing pending or failed     -> REFUSE_NOT_CONFIRMED
 *   6. incarnation never observed    -> REFUSE_UNKNOWN (cannot order)
 *   7. first seen + margin > fencing -> REFUSE_ALIVE if the owner renews,
 *      else REFUSE_STALE_FENCING (the fencing is older than the incarnation)
 *   8. renewal seen after fencing + margin + 2 x io_timeout
 *                                    -> REFUSE_STALE_FENCING (alive after it)
 *   9. otherwise                     -> ALLOW
 * On ALLOW the owner's delta lease is freed with `sanlock direct release_id`
 * rather than wiping the one lease: if the owner were alive after all, its
 * daemon sees the overwrite at its next renewal and kills its holders
 * (LAB.md: 2.3-2.6 s), whereas after a wipe both would hold the lease
 * unnoticed.  The safety argument is docs/lease-takeover.md.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "lock_internal.h"

const char *ics_takeover_verdict_name(IcsTakeoverVerdict v)
{
	switch (v) {
	case ICS_TAKEOVER_ALLOW: return "allow";
	case ICS_TAKEOVER_NOT_NEEDED: return "not-needed";
	case ICS_TAKEOVER_REFUSE_ALIVE: return "refuse-alive";
	case ICS_TAKEOVER_REFUSE_NOT_CONFIRMED: return "refuse-not-confirmed";
	case ICS_TAKEOVER_REFUSE_STALE_FENCING: return "refuse-stale-fencing";
	case ICS_TAKEOVER_REFUSE_WRONG_NODE: return "refuse-wrong-node";
	case ICS_TAKEOVER_REFUSE_UNKNOWN: return "refuse-unknown";
	}
	return "refuse-unknown";
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
	const char *name;

	if (reason)
		*reason = NULL;
	if (f->owner_host_id == 0)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason, "the lease is free");
	if (!h || h->host_id != f->owner_host_id)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "owner host %" G_GUINT64_FORMAT " is not known to the local daemon: "
			       "cannot tell whether it is alive",
			       f->owner_host_id);
	name = h->name && *h->name ? h->name : "name unknown";
	if (h->generation != f->owner_generation)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s) re-joined with generation %"
			       G_GUINT64_FORMAT " (lease held by generation %" G_GUINT64_FORMAT
			       "): sanlock grants the lease",
			       h->host_id, name, h->generation, f->owner_generation);
	if (h->state == ICS_HOST_FREE || h->state == ICS_HOST_DEAD)
		return verdict(ICS_TAKEOVER_NOT_NEEDED, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s) is %s: sanlock grants the lease",
			       h->host_id, name, ics_host_state_name(h->state));
	if (!fr || fr->state == ICS_FENCE_NONE) {
		if (h->state == ICS_HOST_ALIVE)
			return verdict(ICS_TAKEOVER_REFUSE_ALIVE, reason,
				       "owner host %" G_GUINT64_FORMAT " (%s) is renewing and no "
				       "fencing of it is on record",
				       h->host_id, name);
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s) is %s and no fencing of it is "
			       "on record: wait for fencing or for sanlock's expiry",
			       h->host_id, name, ics_host_state_name(h->state));
	}
	if (!h->name || !*h->name || !fr->target || strcmp(fr->target, h->name) != 0)
		return verdict(ICS_TAKEOVER_REFUSE_WRONG_NODE, reason,
			       "the fencing on record is of node \"%s\", but the owner is host %"
			       G_GUINT64_FORMAT " (%s)",
			       fr->target ? fr->target : "", h->host_id, name);
	if (fr->state != ICS_FENCE_DONE)
		return verdict(ICS_TAKEOVER_REFUSE_NOT_CONFIRMED, reason,
			       "fencing of %s is %s, not confirmed", name,
			       fr->state == ICS_FENCE_PENDING ? "pending" : "failed");
	if (h->first_seen_wall <= 0)
		return verdict(ICS_TAKEOVER_REFUSE_UNKNOWN, reason,
			       "this host never observed generation %" G_GUINT64_FORMAT " of host %"
			       G_GUINT64_FORMAT " (%s): cannot order it against the fencing",
			       h->generation, h->host_id, name);
	if (h->first_seen_wall + (gint64)f->clock_margin_s > fr->completed && h->state == ICS_HOST_ALIVE)
		return verdict(ICS_TAKEOVER_REFUSE_ALIVE, reason,
			       "owner host %" G_GUINT64_FORMAT " (%s) is renewing; its last fencing "
			       "(at %" G_GINT64_FORMAT ") is older than its current incarnation",
			       h->host_id, name, fr->completed);
	if (h->first_seen_wall + (gint64)f->clock_margin_s > fr->completed)
		return verdict(ICS_TAKEOVER_REFUSE_STALE_FENCING, reason,
			       "fencing of %s completed at %" G_GINT64_FORMAT ", not after its "
			       "incarnation (generation %" G_GUINT64_FORMAT ") was first seen at %"
			       G_GINT64_FORMAT " + %u s margin: the fencing may be of an earlier "
			       "incarnation",
			       name, fr->completed, h->generation, h->first_seen_wall,
			       f->clock_margin_s);
	if (h->last_renewal_wall >
	    fr->completed + (gint64)f->clock_margin_s + 2 * (gint64)f->io_timeout)
		return verdict(ICS_TAKEOVER_REFUSE_STALE_FENCING, reason,
			       "host %" G_GUINT64_FORMAT " (%s) was seen renewing at %" G_GINT64_FORMAT
			       ", after its fencing completed at %" G_GINT64_FORMAT ": it may be alive",
			       h->host_id, name, h->last_renewal_wall, fr->completed);
	return verdict(ICS_TAKEOVER_ALLOW, reason,
		       "host %" G_GUINT64_FORMAT " (%s), generation %" G_GUINT64_FORMAT
		       " first seen at %" G_GINT64_FORMAT ", was fenced (%s) at %" G_GINT64_FORMAT,
		       h->host_id, name, h->generation, h->first_seen_wall,
		       fr->action ? fr->action : "?", fr->completed);
}

/* Free @host_id's delta lease and check it reads back free. */
static gboolean release_host_id(IcsPool *pool, guint64 host_id, GError **error)
{
	g_autofree char *spec = g_strdup_printf("%s:%" G_GUINT64_FORMAT ":%s:0", pool->lockspace,
						host_id, pool->ids_path);
	const char *argv[] = { "sanlock", "direct", "release_id", "-s", spec, NULL };
	IcsLeaderRecord lr;

	if (!ics_exec_simple(argv, 30000, NULL, error)) {
		ics_error_prefix(error, "pool \"%s\": freeing host %" G_GUINT64_FORMAT "'s delta lease: ",
				 pool->name, host_id);
		return FALSE;
	}
	if (!ics_leader_read(pool->ids_path, ics_host_offset(host_id), &lr, error))
		return FALSE;
	if (lr.magic != ICS_DELTA_MAGIC || !lr.checksum_ok || lr.timestamp != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "pool \"%s\": host %" G_GUINT64_FORMAT "'s delta lease is not free after "
			    "release_id (timestamp %" G_GUINT64_FORMAT "): the host may be alive; do "
			    "not force anything, check the host",
			    pool->name, host_id, lr.timestamp);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_lease_takeover_check(IcsPool *pool, const char *owner, guint clock_margin_s,
				  IcsTakeoverVerdict *out, char **reason, GError **error)
{
	IcsLeaseInfo info;
	IcsFenceRecord fence = { 0 };
	g_autoptr(GPtrArray) hosts = NULL;
	const IcsHostInfo *host = NULL;
	gboolean ok = FALSE;

	*out = ICS_TAKEOVER_REFUSE_UNKNOWN;
	*reason = NULL;
	if (!ics_lease_inspect(pool, owner, &info, error))
		return FALSE;
	if (info.owner_host_id == 0) {
		*out = ICS_TAKEOVER_NOT_NEEDED;
		*reason = g_strdup("the lease is free");
		ics_lease_info_clear(&info);
		return TRUE;
	}
	hosts = ics_pool_hosts(pool, error);
	if (!hosts)
		goto out;
	for (guint i = 0; i < hosts->len; i++) {
		const IcsHostInfo *h = g_ptr_array_index(hosts, i);
		if (h->host_id == info.owner_host_id)
			host = h;
	}
	if (host && host->name && *host->name &&
	    !ics_fence_history_last(host->name, &fence, error))
		goto out;
	IcsTakeoverFacts facts = {
		.owner_host_id = info.owner_host_id,
		.owner_generation = info.owner_generation,
		.host = host,
		.fence = &fence,
		.clock_margin_s = clock_margin_s,
		.io_timeout = pool->io_timeout,
	};
	*out = ics_takeover_decide(&facts, reason);
	ok = TRUE;
	if (*out == ICS_TAKEOVER_ALLOW)
		pool->takeover_host_id = info.owner_host_id;
out:
	ics_fence_record_clear(&fence);
	ics_lease_info_clear(&info);
	return ok;
}

gboolean ics_lease_takeover(IcsPool *pool, const char *owner, guint clock_margin_s,
			    IcsTakeoverVerdict *out, GError **error)
{
	g_autofree char *reason = NULL;

	if (!ics_lease_takeover_check(pool, owner, clock_margin_s, out, &reason, error))
		return FALSE;
	if (*out == ICS_TAKEOVER_NOT_NEEDED)
		return TRUE;
	if (*out != ICS_TAKEOVER_ALLOW) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "pool \"%s\": takeover of \"%s\" refused (%s): %s", pool->name, owner,
			    ics_takeover_verdict_name(*out), reason);
		return FALSE;
	}
	return release_host_id(pool, pool->takeover_host_id, error);
}
