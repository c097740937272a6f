/*
 * test_takeover.c: ics_takeover_decide, the pure decision behind
 * fence-aware takeover -- every verdict of lock.h (ALLOW, NOT_NEEDED, WATCH
 * and each refusal), the margin boundary of the incarnation ordering, the
 * length of the renewal watch (sanlock's failing bound, from the owner's
 * io_timeout), a local daemon that lists another generation than the
 * owner's delta lease, what counts as a manual confirmation, and the check
 * of host id <-> node name against corosync's node list, with nodes named
 * the way Pacemaker names them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ics/lock.h"
#include "lock_internal.h"

#define T0 1800000000
#define SEEN 5000000 /* monotonic us when this host read the fencing history */

typedef struct {
	IcsHostInfo host;
	IcsDeltaLease delta;
	IcsFenceRecord fence;
	IcsDeltaWatch watch;
	GPtrArray *nodes;
	IcsTakeoverFacts facts;
} Case;

static void add_node(GPtrArray *nodes, guint64 id, const char *name)
{
	IcsCorosyncNode *n = g_new0(IcsCorosyncNode, 1);

	n->node_id = id;
	n->name = g_strdup(name);
	g_ptr_array_add(nodes, n);
}

/* The case every verdict starts from: node2 crashed, fenced (reboot) by
 * node1 after this host had watched its incarnation for ten minutes, and
 * its delta lease stood still for the whole watch afterwards. */
static void base(Case *c)
{
	if (c->nodes)
		g_ptr_array_unref(c->nodes);
	memset(c, 0, sizeof(*c));
	c->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)ics_corosync_node_free);
	add_node(c->nodes, 1, "node1");
	add_node(c->nodes, 2, "node2");
	add_node(c->nodes, 3, "node3");
	c->host = (IcsHostInfo){ .host_id = 2,
				 .generation = 5,
				 .timestamp = 900,
				 .state = ICS_HOST_FAILING,
				 .name = (char *)"node2",
				 .last_renewal_wall = T0,
				 .age_s = 4,
				 .first_seen_wall = T0 - 600 };
	c->delta = (IcsDeltaLease){
		.valid = TRUE, .generation = 5, .timestamp = 900, .name = "node2"
	};
	c->fence = (IcsFenceRecord){ .state = ICS_FENCE_DONE,
				     .target = (char *)"node2",
				     .action = (char *)"reboot",
				     .completed = T0 + 3,
				     .delegate = (char *)"node1",
				     .seen_mono = SEEN };
	c->watch = (IcsDeltaWatch){ .result = ICS_WATCH_STEADY,
				    .start_mono = SEEN + 1000,
				    .steady_ms = 10500,
				    .reads = 106 };
	c->facts = (IcsTakeoverFacts){ .owner_host_id = 2,
				       .owner_generation = 5,
				       .joined = TRUE,
				       .delta = &c->delta,
				       .host = &c->host,
				       .nodes = c->nodes,
				       .fence = &c->fence,
				       .watch = &c->watch,
				       .clock_margin_s = 1,
				       .io_timeout = 1 };
}

static int teardown(void **state)
{
	Case *c = *state;

	if (c->nodes)
		g_ptr_array_unref(c->nodes);
	g_free(c);
	return 0;
}

static int setup(void **state)
{
	*state = g_new0(Case, 1);
	return 0;
}

static IcsTakeoverVerdict decide(Case *c, const char *expect_in_reason)
{
	char *reason = NULL;
	IcsTakeoverVerdict v = ics_takeover_decide(&c->facts, &reason);

	assert_non_null(reason);
	if (expect_in_reason && !strstr(reason, expect_in_reason))
		fail_msg("reason \"%s\" lacks \"%s\"", reason, expect_in_reason);
	g_free(reason);
	return v;
}

static void test_allow(void **state)
{
	Case *c = *state;

	base(c);
	assert_int_equal(decide(c, "stood still for 10500 ms"), ICS_TAKEOVER_ALLOW);
	assert_int_equal(ics_takeover_decide(&c->facts, NULL), ICS_TAKEOVER_ALLOW);
	assert_string_equal(ics_takeover_verdict_name(ICS_TAKEOVER_ALLOW), "allow");
	c->fence.action = (char *)"off";
	assert_int_equal(decide(c, "fenced (off)"), ICS_TAKEOVER_ALLOW);
	/* the required watch: sanlock's failing bound 8 x io_timeout, + 1.5 s
	 * (its once-a-second check, the watch's poll) + margin */
	assert_int_equal(ics_takeover_watch_ms(1, 1), 10500);
	assert_int_equal(ics_takeover_watch_ms(2, 1), 18500);
	assert_int_equal(ics_takeover_watch_ms(10, 1), 82500);
	assert_int_equal(ics_takeover_watch_ms(0, 1), 10500);
}

static void test_not_needed(void **state)
{
	Case *c = *state;

	base(c);
	c->facts.owner_host_id = 0;
	assert_int_equal(decide(c, "free"), ICS_TAKEOVER_NOT_NEEDED);
	/* the owner re-joined: its delta lease has a newer generation */
	base(c);
	c->delta.generation = 6;
	assert_int_equal(decide(c, "generation 6"), ICS_TAKEOVER_NOT_NEEDED);
	/* released by an earlier takeover: the local daemon no longer lists the
	 * host, no fencing needs to be looked at (the liveness case) */
	base(c);
	c->delta.free = TRUE;
	c->delta.timestamp = 0;
	c->facts.host = NULL;
	c->facts.fence = NULL;
	c->facts.watch = NULL;
	assert_int_equal(decide(c, "reads free"), ICS_TAKEOVER_NOT_NEEDED);
	/* expired for the local daemon */
	base(c);
	c->host.state = ICS_HOST_DEAD;
	c->facts.fence = NULL;
	assert_int_equal(decide(c, "dead"), ICS_TAKEOVER_NOT_NEEDED);
	/* ... but DEAD of an older generation says nothing about this one */
	c->host.generation = 4;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_REFUSE_UNKNOWN);
	/* released or re-joined while this host watched */
	base(c);
	c->watch.result = ICS_WATCH_RELEASED;
	c->watch.steady_ms = 800;
	assert_int_equal(decide(c, "released"), ICS_TAKEOVER_NOT_NEEDED);
	c->watch.result = ICS_WATCH_REJOINED;
	assert_int_equal(decide(c, "re-joined"), ICS_TAKEOVER_NOT_NEEDED);
}

static void test_refuse_alive(void **state)
{
	Case *c = *state;

	base(c);
	c->host.state = ICS_HOST_ALIVE;
	c->fence.state = ICS_FENCE_NONE;
	assert_int_equal(decide(c, "renewing"), ICS_TAKEOVER_REFUSE_ALIVE);
	c->facts.fence = NULL;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_REFUSE_ALIVE);
}

static void test_refuse_not_confirmed(void **state)
{
	Case *c = *state;

	base(c);
	c->fence.state = ICS_FENCE_PENDING;
	c->fence.completed = 0;
	assert_int_equal(decide(c, "pending"), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
	base(c);
	c->fence.state = ICS_FENCE_FAILED;
	assert_int_equal(decide(c, "failed"), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
	/* an unfencing record never counts (hole 1 of issue 24) */
	base(c);
	c->fence.action = (char *)"on";
	assert_int_equal(decide(c, "only off or reboot"), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
	c->fence.action = NULL;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
}

static void test_refuse_manual(void **state)
{
	Case *c = *state;

	/* stonith_admin --confirm: refused, and said so */
	base(c);
	c->fence.action = (char *)"off";
	c->fence.delegate = (char *)"a human";
	c->fence.manual = TRUE;
	assert_int_equal(decide(c, "MANUAL"), ICS_TAKEOVER_REFUSE_MANUAL);
	assert_string_equal(ics_takeover_verdict_name(ICS_TAKEOVER_REFUSE_MANUAL), "refuse-manual");
	/* the operator's override: counts, still flagged, still watched */
	c->facts.accept_manual = TRUE;
	assert_int_equal(decide(c, "MANUAL"), ICS_TAKEOVER_ALLOW);
	c->watch.result = ICS_WATCH_RENEWED;
	assert_int_equal(decide(c, "MANUAL"), ICS_TAKEOVER_REFUSE_RENEWING);
}

static void test_watch(void **state)
{
	Case *c = *state;

	/* everything holds but the delta lease was not watched yet */
	base(c);
	c->facts.watch = NULL;
	assert_int_equal(decide(c, "10500 ms"), ICS_TAKEOVER_WATCH);
	assert_string_equal(ics_takeover_verdict_name(ICS_TAKEOVER_WATCH), "watch");
	/* the owner rewrote its delta lease after the fencing was seen done
	 * (hole 2: a mistaken confirmation, an asynchronous BMC) */
	base(c);
	c->watch.result = ICS_WATCH_RENEWED;
	c->watch.steady_ms = 1200;
	assert_int_equal(decide(c, "alive"), ICS_TAKEOVER_REFUSE_RENEWING);
	/* a watch that began before the fencing was seen proves nothing */
	base(c);
	c->watch.start_mono = SEEN - 1;
	assert_int_equal(decide(c, "before"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	c->watch.start_mono = SEEN;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_ALLOW);
	/* too short: 8 x io_timeout + 1.5 s + margin, boundary included;
	 * 3.28 s (a live host's renewal gap measured under 0.8 s storage
	 * stalls, which the old 3 s watch took for a dead host) is far too short */
	base(c);
	c->watch.steady_ms = 3280;
	assert_int_equal(decide(c, "3280 ms only"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	c->watch.steady_ms = 10499;
	assert_int_equal(decide(c, "10500 ms needed"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	c->watch.steady_ms = 10500;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_ALLOW);
	/* the owner's io_timeout (the larger of the pool's and its own) counts */
	c->facts.io_timeout = 10;
	assert_int_equal(decide(c, "82500 ms needed"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	c->watch.steady_ms = 82500;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_ALLOW);
}

static void test_refuse_stale(void **state)
{
	Case *c = *state;

	/* the fencing is older than the owner's incarnation (it rebooted after
	 * an earlier fencing, re-joined and took the lease again) */
	base(c);
	c->host.first_seen_wall = T0 - 10;
	c->fence.completed = T0 - 60;
	assert_int_equal(decide(c, "earlier incarnation"), ICS_TAKEOVER_REFUSE_STALE_FENCING);
	/* ... and while that incarnation renews, it is simply alive */
	c->host.state = ICS_HOST_ALIVE;
	assert_int_equal(decide(c, "older than its current incarnation"),
			 ICS_TAKEOVER_REFUSE_ALIVE);
	/* margin boundary: first seen + margin must be <= completion */
	base(c);
	c->host.first_seen_wall = T0 + 3; /* + 1 s margin > T0 + 3 */
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_REFUSE_STALE_FENCING);
	c->host.first_seen_wall = T0 + 2; /* T0 + 2 + 1 == completion: allowed */
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_ALLOW);
}

static void test_refuse_wrong_node(void **state)
{
	Case *c = *state;

	base(c);
	c->fence.target = (char *)"node3";
	assert_int_equal(decide(c, "node3"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
	/* the name on disk and the local daemon's name disagree */
	base(c);
	c->host.name = (char *)"node9";
	assert_int_equal(decide(c, "node9"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
	/* a fencing-history entry for a node corosync does not know */
	base(c);
	g_strlcpy(c->delta.name, "ghost", sizeof(c->delta.name));
	c->host.name = (char *)"ghost";
	c->fence.target = (char *)"ghost";
	assert_int_equal(decide(c, "not in corosync's node list"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
	/* two hosts started with the same sanlock name (-e node2): host 3
	 * holding the lease calls itself node2 */
	base(c);
	c->facts.owner_host_id = 3;
	c->host.host_id = 3;
	assert_int_equal(decide(c, "corosync's node 3 is \"node3\""),
			 ICS_TAKEOVER_REFUSE_WRONG_NODE);
	/* a host id that maps to two names */
	base(c);
	add_node(c->nodes, 2, "node2b");
	assert_int_equal(decide(c, "maps to 2 names"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
	/* a name that appears twice */
	base(c);
	add_node(c->nodes, 7, "node2");
	assert_int_equal(decide(c, "appears 2 times"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
	/* a host id not in the list */
	base(c);
	g_ptr_array_remove_index(c->nodes, 1);
	assert_int_equal(decide(c, "host id 2"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
}

static void test_refuse_unknown(void **state)
{
	Case *c = *state;

	base(c);
	c->facts.host = NULL; /* delta lease held, the daemon does not list it */
	assert_int_equal(decide(c, "not known to the local daemon"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(c);
	c->host.first_seen_wall = 0; /* incarnation never observed */
	assert_int_equal(decide(c, "never observed"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(c);
	c->fence.state = ICS_FENCE_NONE; /* failing, no fencing */
	assert_int_equal(decide(c, "no off/reboot fencing"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(c);
	c->host.host_id = 9; /* facts about another host */
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_REFUSE_UNKNOWN);
	/* a pool whose lockspace this host has not joined */
	base(c);
	c->facts.joined = FALSE;
	assert_int_equal(decide(c, "not joined"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	/* the owner's delta lease cannot be read, or is not one */
	base(c);
	c->facts.delta = NULL;
	assert_int_equal(decide(c, "cannot be read"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(c);
	c->delta.valid = FALSE;
	assert_int_equal(decide(c, "not a valid delta lease"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	/* corosync's node list unreadable */
	base(c);
	c->facts.nodes = NULL;
	assert_int_equal(decide(c, "node list is unknown"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	/* the local daemon has just joined and not read the hosts yet */
	base(c);
	c->facts.host = NULL;
	c->facts.hosts_busy = TRUE;
	assert_int_equal(decide(c, "has not read the other hosts yet"),
			 ICS_TAKEOVER_REFUSE_UNKNOWN);
}

/* Condition 4 orders the incarnation of the owner's delta lease against
 * the fencing with the local daemon's first_seen stamp: that stamp is of
 * the generation the daemon lists.  If the daemon still lists an older
 * generation, its stamp says nothing about generation g (finding 5). */
static void test_generation_not_seen(void **state)
{
	Case *c = *state;

	base(c);
	c->host.generation = 4;		    /* the daemon lists g-1 ... */
	c->host.first_seen_wall = T0 - 600; /* ... seen long before the fencing */
	assert_int_equal(decide(c, "has not seen generation 5"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	c->facts.watch = NULL; /* refused before any watch */
	assert_int_equal(decide(c, "has not seen generation 5"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	/* the same with the fencing record checked first: pending still wins */
	c->fence.state = ICS_FENCE_PENDING;
	assert_int_equal(decide(c, "pending"), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
	/* once the daemon lists generation 5 (first seen before the fencing) */
	base(c);
	c->host.generation = 5;
	assert_int_equal(decide(c, NULL), ICS_TAKEOVER_ALLOW);
}

/* A done off/reboot counts as a device's fencing only when it names the
 * device's executor: "a human" and no delegate at all are manual. */
static void test_manual_delegate(void **state)
{
	Case *c = *state;

	assert_true(ics_fence_delegate_manual("a human"));
	assert_true(ics_fence_delegate_manual(NULL));
	assert_true(ics_fence_delegate_manual(""));
	assert_false(ics_fence_delegate_manual("node1"));
	assert_false(ics_fence_delegate_manual("a humane node"));
	/* the decision on a record without delegate: refused as manual */
	base(c);
	c->fence.delegate = NULL;
	c->fence.manual = ics_fence_delegate_manual(c->fence.delegate);
	assert_int_equal(decide(c, "names no device"), ICS_TAKEOVER_REFUSE_MANUAL);
	c->fence.delegate = (char *)"";
	assert_int_equal(decide(c, "names no device"), ICS_TAKEOVER_REFUSE_MANUAL);
}

static void test_node_check(void **state)
{
	Case *c = *state;
	char *why = NULL;

	base(c);
	assert_true(ics_corosync_node_check(c->nodes, 2, "node2", &why));
	assert_null(why);
	assert_false(ics_corosync_node_check(c->nodes, 2, "node3", &why));
	assert_non_null(strstr(why, "calls itself"));
	g_free(why);
	assert_false(ics_corosync_node_check(c->nodes, 2, "", &why));
	g_free(why);
	assert_false(ics_corosync_node_check(NULL, 2, "node2", NULL));
}

static IcsCorosyncNode *node_new(guint64 id, const char *name, const char *ring0)
{
	IcsCorosyncNode *n = g_new0(IcsCorosyncNode, 1);

	n->node_id = id;
	n->name = g_strdup(name);
	n->ring0_addr = g_strdup(ring0);
	return n;
}

/* Nodelist entries without a name are named as Pacemaker names them:
 * ring0_addr unless it is an address, else the CIB's uname of the id. */
static void test_node_names_pacemaker(void **state)
{
	g_autoptr(GPtrArray) nodes =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_corosync_node_free);
	const char *cib = "<nodes><node id=\"1\" uname=\"alpha\"/>"
			  "<node id=\"2\" uname=\"beta\"><instance_attributes id=\"x\"/></node>"
			  "<node id=\"30\" uname=\"gamma\"/></nodes>";
	char *why = NULL;

	g_ptr_array_add(nodes, node_new(1, NULL, "10.0.0.1"));	    /* IPv4: from the CIB */
	g_ptr_array_add(nodes, node_new(2, NULL, "fd00::2"));	    /* IPv6: from the CIB */
	g_ptr_array_add(nodes, node_new(3, NULL, "delta.example")); /* a host name: itself */
	g_ptr_array_add(nodes, node_new(4, "epsilon", "10.0.0.4")); /* named: kept */
	g_ptr_array_add(nodes, node_new(5, NULL, "10.0.0.5"));	    /* nobody names it */
	/* without the CIB: only the host-name ring0_addr is a name */
	ics_corosync_nodes_name(nodes, NULL);
	assert_null(((IcsCorosyncNode *)g_ptr_array_index(nodes, 0))->name);
	assert_string_equal(((IcsCorosyncNode *)g_ptr_array_index(nodes, 2))->name,
			    "delta.example");
	ics_corosync_nodes_name(nodes, cib);
	assert_string_equal(((IcsCorosyncNode *)g_ptr_array_index(nodes, 0))->name, "alpha");
	assert_string_equal(((IcsCorosyncNode *)g_ptr_array_index(nodes, 1))->name, "beta");
	assert_string_equal(((IcsCorosyncNode *)g_ptr_array_index(nodes, 3))->name, "epsilon");
	assert_null(((IcsCorosyncNode *)g_ptr_array_index(nodes, 4))->name);
	/* the takeover's check accepts Pacemaker's name, never the address */
	assert_true(ics_corosync_node_check(nodes, 1, "alpha", NULL));
	assert_false(ics_corosync_node_check(nodes, 1, "10.0.0.1", NULL));
	/* and says what to do about a node nobody names */
	assert_false(ics_corosync_node_check(nodes, 5, "node5", &why));
	assert_non_null(strstr(why, "has no name"));
	assert_non_null(strstr(why, "10.0.0.5"));
	assert_non_null(strstr(why, "corosync.conf"));
	g_free(why);
	/* an unparsable CIB names nothing more */
	ics_corosync_nodes_name(nodes, "<nodes");
	assert_null(((IcsCorosyncNode *)g_ptr_array_index(nodes, 4))->name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_not_confirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_manual, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_wrong_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_not_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manual_delegate, setup, teardown),
		cmocka_unit_test(test_node_names_pacemaker),
	};
	return cmocka_run_group_tests_name("takeover", tests, NULL, NULL);
}
