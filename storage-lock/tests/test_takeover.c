/*
 * test_takeover.c: ics_takeover_decide, the pure decision behind
 * fence-aware takeover -- ALLOW and every refusal of lock.h, including the
 * margin boundaries of the incarnation and renewal orderings.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ics/lock.h"

#define T0 1800000000

typedef struct {
	IcsHostInfo host;
	IcsFenceRecord fence;
	IcsTakeoverFacts facts;
} Case;

static void base(Case *c)
{
	memset(c, 0, sizeof(*c));
	c->host = (IcsHostInfo){ .host_id = 2, .generation = 5, .timestamp = 900,
				 .state = ICS_HOST_FAILING, .name = (char *)"node2",
				 .last_renewal_wall = T0, .age_s = 4,
				 .first_seen_wall = T0 - 600 };
	c->fence = (IcsFenceRecord){ .state = ICS_FENCE_DONE, .target = (char *)"node2",
				     .action = (char *)"reboot", .completed = T0 + 3,
				     .delegate = (char *)"node1" };
	c->facts = (IcsTakeoverFacts){ .owner_host_id = 2, .owner_generation = 5,
				       .host = &c->host, .fence = &c->fence, .clock_margin_s = 1,
				       .io_timeout = 1 };
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
	Case c;

	base(&c);
	assert_int_equal(decide(&c, "fenced"), ICS_TAKEOVER_ALLOW);
	assert_int_equal(ics_takeover_decide(&c.facts, NULL), ICS_TAKEOVER_ALLOW);
	assert_string_equal(ics_takeover_verdict_name(ICS_TAKEOVER_ALLOW), "allow");
}

static void test_not_needed(void **state)
{
	Case c;

	base(&c);
	c.host.generation = 6;   /* owner re-joined */
	assert_int_equal(decide(&c, "generation 6"), ICS_TAKEOVER_NOT_NEEDED);
	base(&c);
	c.facts.owner_host_id = 0;
	assert_int_equal(decide(&c, "free"), ICS_TAKEOVER_NOT_NEEDED);
	base(&c);
	c.host.state = ICS_HOST_DEAD;
	assert_int_equal(decide(&c, "dead"), ICS_TAKEOVER_NOT_NEEDED);
}

static void test_refuse_alive(void **state)
{
	Case c;

	base(&c);
	c.host.state = ICS_HOST_ALIVE;
	c.fence.state = ICS_FENCE_NONE;
	assert_int_equal(decide(&c, "renewing"), ICS_TAKEOVER_REFUSE_ALIVE);
	c.facts.fence = NULL;
	assert_int_equal(decide(&c, NULL), ICS_TAKEOVER_REFUSE_ALIVE);
}

static void test_refuse_not_confirmed(void **state)
{
	Case c;

	base(&c);
	c.fence.state = ICS_FENCE_PENDING;
	c.fence.completed = 0;
	assert_int_equal(decide(&c, "pending"), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
	base(&c);
	c.fence.state = ICS_FENCE_FAILED;
	assert_int_equal(decide(&c, "failed"), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
}

static void test_refuse_stale(void **state)
{
	Case c;

	/* the fencing is older than the owner's incarnation (it rebooted after
	 * an earlier fencing, re-joined and took the lease again) */
	base(&c);
	c.host.first_seen_wall = T0 - 10;
	c.fence.completed = T0 - 60;
	assert_int_equal(decide(&c, "earlier incarnation"), ICS_TAKEOVER_REFUSE_STALE_FENCING);
	/* ... and while that incarnation renews, it is simply alive */
	c.host.state = ICS_HOST_ALIVE;
	assert_int_equal(decide(&c, "older than its current incarnation"), ICS_TAKEOVER_REFUSE_ALIVE);
	/* margin boundary: first seen + margin must be <= completion */
	base(&c);
	c.host.first_seen_wall = T0 + 3;       /* + 1 s margin > T0 + 3 */
	assert_int_equal(decide(&c, NULL), ICS_TAKEOVER_REFUSE_STALE_FENCING);
	c.host.first_seen_wall = T0 + 2;       /* T0 + 2 + 1 == completion: allowed */
	assert_int_equal(decide(&c, NULL), ICS_TAKEOVER_ALLOW);
	/* a renewal seen after the fencing, past the observation lag */
	base(&c);
	c.host.last_renewal_wall = T0 + 3 + 1 + 2 + 1;
	assert_int_equal(decide(&c, "may be alive"), ICS_TAKEOVER_REFUSE_STALE_FENCING);
	c.host.last_renewal_wall = T0 + 3 + 1 + 2;   /* within the lag: allowed */
	assert_int_equal(decide(&c, NULL), ICS_TAKEOVER_ALLOW);
}

static void test_refuse_wrong_node(void **state)
{
	Case c;

	base(&c);
	c.fence.target = (char *)"node3";
	assert_int_equal(decide(&c, "node3"), ICS_TAKEOVER_REFUSE_WRONG_NODE);
	base(&c);
	c.host.name = NULL;   /* cannot match a fencing to a nameless host */
	assert_int_equal(decide(&c, NULL), ICS_TAKEOVER_REFUSE_WRONG_NODE);
}

static void test_refuse_unknown(void **state)
{
	Case c;

	base(&c);
	c.facts.host = NULL;
	assert_int_equal(decide(&c, "not known"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(&c);
	c.host.first_seen_wall = 0;   /* incarnation never observed */
	assert_int_equal(decide(&c, "never observed"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(&c);
	c.fence.state = ICS_FENCE_NONE;   /* failing, no fencing */
	assert_int_equal(decide(&c, "no fencing"), ICS_TAKEOVER_REFUSE_UNKNOWN);
	base(&c);
	c.host.host_id = 9;   /* facts about another host */
	assert_int_equal(decide(&c, NULL), ICS_TAKEOVER_REFUSE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_not_needed),
		cmocka_unit_test(test_refuse_alive),
		cmocka_unit_test(test_refuse_not_confirmed),
		cmocka_unit_test(test_refuse_stale),
		cmocka_unit_test(test_refuse_wrong_node),
		cmocka_unit_test(test_refuse_unknown),
	};
	return cmocka_run_group_tests_name("takeover", tests, NULL, NULL);
}
