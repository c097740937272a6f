/*
 * manager_quorum.c: the start-alone decision from quorum-disk records.
 *
 * Order of the checks (docs/manager-ha.md has the table and the safety
 * argument):
 *
 *  1. No usable peer record (never written, both copies damaged, another
 *     node's or another resource's record): nothing to compare with.
 *  2. Peer record from the future: the clocks disagree, so the timing
 *     check below means nothing.
 *  3. GI comparison -- facts, reported even when the record is stale:
 *     my current GI in the peer's history: behind; neither knows the
 *     other's current GI: split brain; same current GI, or the peer's
 *     current GI in my history: not behind.
 *  4. Staleness, only before a start: a record says what the peer's GI
 *     was when it was written.  The peer records every period while it
 *     runs the manager, and before the manager's first write.  If the
 *     peer was serving at its last record and that record is within one
 *     period (+ margin) of this node's own last record, the peer may have
 *     outlived this node and moved to a new current GI (DRBD makes one at
 *     the first write after losing its peer) without recording it: refuse.
 *     A serving peer whose record is more than a period older than mine
 *     stopped before me (a node that cannot record stops serving, see the
 *     agent's monitor); one more than a period newer recorded after I was
 *     gone, so its GI already reflects my absence.
 *
 * Overrides turn only 1, 2 and 4 into a start.
 */
#include "config.h"

#include "manager_quorum.h"

const char *manager_quorum_verdict_name(ManagerQuorumVerdict v)
{
	switch (v) {
	case MQ_START_SAME:
		return "start-same";
	case MQ_START_AHEAD:
		return "start-ahead";
	case MQ_START_OVERRIDE:
		return "start-override";
	case MQ_REFUSE_NO_PEER_RECORD:
		return "refuse-no-peer-record";
	case MQ_REFUSE_PEER_CLOCK:
		return "refuse-peer-clock";
	case MQ_REFUSE_PEER_STALE:
		return "refuse-peer-stale";
	case MQ_REFUSE_BEHIND:
		return "refuse-behind";
	case MQ_REFUSE_SPLIT_BRAIN:
		return "refuse-split-brain";
	}
	return "unknown";
}

gboolean manager_quorum_verdict_starts(ManagerQuorumVerdict v)
{
	return v == MQ_START_SAME || v == MQ_START_AHEAD || v == MQ_START_OVERRIDE;
}

static ManagerQuorumVerdict overridable(const ManagerQuorumFacts *f, ManagerQuorumVerdict v,
					char *why, char **reason)
{
	if (f->override) {
		*reason = g_strdup_printf("override_quorum=true: starting alone although %s", why);
		g_free(why);
		return MQ_START_OVERRIDE;
	}
	*reason =
		g_strdup_printf("refusing to start the manager alone on %s: %s; bring %s back, "
				"or set override_quorum=true once you know %s holds no newer data",
				f->self_name, why, f->peer_name, f->peer_name);
	g_free(why);
	return v;
}

ManagerQuorumVerdict manager_quorum_decide(const ManagerQuorumFacts *f, char **reason)
{
	const QuorumRecord *peer = f->peer_record;
	const QuorumRecord *self = f->self_record;
	g_autofree char *mine = drbd_uuid_to_string(f->self_gi->current);
	g_autofree char *theirs = NULL;
	g_autofree char *discard = NULL;
	gint64 band;

	if (reason == NULL)
		reason = &discard;
	*reason = NULL;
	if (peer == NULL)
		return overridable(f, MQ_REFUSE_NO_PEER_RECORD,
				   g_strdup_printf("there is no usable quorum-disk record of peer "
						   "%s (%s), so this node (current GI %s) cannot "
						   "know whether it is behind",
						   f->peer_name,
						   f->peer_problem ? f->peer_problem : "missing",
						   mine),
				   reason);
	theirs = drbd_uuid_to_string(peer->gi.current);
	if (peer->written > f->now + (gint64)f->margin_s)
		return overridable(f, MQ_REFUSE_PEER_CLOCK,
				   g_strdup_printf("the quorum-disk record of peer %s was written "
						   "%" G_GINT64_FORMAT " s in the future (clocks "
						   "disagree)",
						   f->peer_name, peer->written - f->now),
				   reason);

	if (f->self_gi->current == DRBD_GI_JUST_CREATED ||
	    drbd_gi_has_ancestor(&peer->gi, f->self_gi->current)) {
		*reason = g_strdup_printf(
			"refusing to start the manager alone on %s: it is behind: its current GI "
			"%s is in the history of peer %s, whose current GI is %s (recorded "
			"%" G_GINT64_FORMAT
			" s ago); bring %s back so DRBD resynchronizes this node from it",
			f->self_name, mine, f->peer_name, theirs, f->now - peer->written,
			f->peer_name);
		return MQ_REFUSE_BEHIND;
	}
	if (!drbd_uuid_equal(f->self_gi->current, peer->gi.current) &&
	    !drbd_gi_has_ancestor(f->self_gi, peer->gi.current) &&
	    peer->gi.current != DRBD_GI_JUST_CREATED) {
		*reason = g_strdup_printf(
			"refusing to start the manager alone on %s: its data diverged from peer "
			"%s (split brain): current GI %s here, %s on %s, and neither history "
			"holds the other's; choose the copy to keep with DRBD "
			"(docs/manager-ha.md)",
			f->self_name, f->peer_name, mine, theirs, f->peer_name);
		return MQ_REFUSE_SPLIT_BRAIN;
	}

	band = (gint64)MAX(peer->period_s, self ? self->period_s : 0) + (gint64)f->margin_s;
	if (peer->serving && (self == NULL || (peer->written > self->written - band &&
					       peer->written < self->written + band)))
		return overridable(
			f, MQ_REFUSE_PEER_STALE,
			self == NULL
				? g_strdup_printf("peer %s was running the manager at its last "
						  "record (GI %s) and this node has no record to "
						  "tell which of the two stopped last",
						  f->peer_name, theirs)
				: g_strdup_printf("peer %s was running the manager at its last "
						  "record (GI %s, written %" G_GINT64_FORMAT
						  " s from this node's last record, within one "
						  "period of %" G_GINT64_FORMAT
						  " s): it may have outlived this node and "
						  "written under a newer GI it did not record",
						  f->peer_name, theirs,
						  peer->written - self->written, band),
			reason);

	if (drbd_uuid_equal(f->self_gi->current, peer->gi.current)) {
		*reason = g_strdup_printf("starting alone on %s: same current GI %s as peer %s's "
					  "last record",
					  f->self_name, mine, f->peer_name);
		return MQ_START_SAME;
	}
	*reason = g_strdup_printf("starting alone on %s: it is ahead of peer %s: the peer's "
				  "current GI %s is in this node's history (current GI %s)",
				  f->self_name, f->peer_name, theirs, mine);
	return MQ_START_AHEAD;
}
