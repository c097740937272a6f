/*
 * manager_quorum.h: may this manager node start alone? (white paper 5.4.1)
 *
 * Both manager nodes went down and only this one came back; its peer is
 * not a member of the cluster.  Starting the manager on this node's DRBD
 * copy is safe only if that copy holds every write the peer acknowledged,
 * i.e. this node is not behind.  The peer cannot be asked, but it left its
 * generation identifiers on the quorum disk.  The rule:
 *
 *   start alone only if this node's GIs know the peer's last recorded
 *   current GI (as current, bitmap or history UUID);
 *
 * everything that prevents applying the rule with confidence refuses, and
 * only those "cannot decide" refusals give way to the operator's
 * override_quorum=true.  A node that is known to be behind, or whose data
 * diverged from the peer's (split brain), is never started by the agent:
 * that needs a DRBD-level decision by the operator (docs/manager-ha.md).
 *
 * This is a pure function of the facts so that every row of the decision
 * table is a unit test; the agent gathers the facts (drbdmeta, the quorum
 * disk, the clock).
 */
#ifndef ICS_MANAGER_QUORUM_H
#define ICS_MANAGER_QUORUM_H

#include <glib.h>

#include "drbd_gi.h"
#include "quorum_disk.h"

typedef struct {
	const char *self_name;
	const char *peer_name;
	const DrbdGi *self_gi;		 /* read from the metadata now */
	const QuorumRecord *self_record; /* this node's last record, NULL if none */
	const QuorumRecord *peer_record; /* NULL: missing or unreadable */
	const char *peer_problem;	 /* why peer_record is NULL */
	gint64 now;			 /* wall clock, s */
	guint margin_s;			 /* clock skew allowance */
	gboolean override;		 /* override_quorum=true */
} ManagerQuorumFacts;

typedef enum {
	MQ_START_SAME,		  /* same current GI as the peer's record */
	MQ_START_AHEAD,		  /* the peer's current GI is in this node's history */
	MQ_START_OVERRIDE,	  /* undecidable, operator override */
	MQ_REFUSE_NO_PEER_RECORD, /* peer record missing, torn, foreign (overridable) */
	MQ_REFUSE_PEER_CLOCK,	  /* peer record written in the future (overridable) */
	MQ_REFUSE_PEER_STALE,	  /* peer record may predate its last GI (overridable) */
	MQ_REFUSE_BEHIND,	  /* this node's current GI is in the peer's history */
	MQ_REFUSE_SPLIT_BRAIN,	  /* neither knows the other's current GI */
} ManagerQuorumVerdict;

const char *manager_quorum_verdict_name(ManagerQuorumVerdict v);
gboolean manager_quorum_verdict_starts(ManagerQuorumVerdict v);

/* The decision; *reason gets one sentence naming both nodes and GIs. */
ManagerQuorumVerdict manager_quorum_decide(const ManagerQuorumFacts *facts, char **reason);

#endif /* ICS_MANAGER_QUORUM_H */
