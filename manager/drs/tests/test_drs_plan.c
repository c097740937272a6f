/*
 * test_drs_plan.c: the planner's promises: it never overcommits memory
 * (after every single move, HA reserve included), it respects pinning and
 * anti-affinity and repairs their violations, it evacuates hosts in
 * maintenance, waves serialize moves per host, planning again after
 * applying a plan proposes nothing (hysteresis), and an infeasible state
 * gives an empty plan with its reason.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drs_test_util.h"

/* Apply @p move by move, checking capacity and rules after each. */
static void apply_checked(IcsDrsCluster *c, const IcsDrsPlan *p, guint ha_pct)
{
	for (guint i = 0; i < p->moves->len; i++) {
		const IcsDrsMove *m = &g_array_index(p->moves, IcsDrsMove, i);
		const DrsVm *v = drs_vm(c, m->vm);
		assert_int_equal(v->host, m->from);
		assert_int_not_equal(m->from, m->to);
		assert_int_equal(ics_drs_host_state(c, m->to), ICS_DRS_HOST_ON);
		assert_true(drs_vm_may_run_on(v, m->to));
		ics_drs_cluster_move(c, m->vm, m->to);
		assert_true(test_host_alloc(c, m->to) <=
			    drs_host_capacity(drs_host(c, m->to), ha_pct));
		for (guint g = 0; v->groups && g < v->groups->len; g++) {
			const DrsRule *r = drs_rule(c, g_array_index(v->groups, guint, g));
			guint together = 0;
			if (r->kind != ICS_DRS_ANTI_AFFINITY)
				continue;
			for (guint k = 0; k < r->vms->len; k++)
				together +=
					drs_vm(c, g_array_index(r->vms, guint, k))->host == m->to;
			assert_int_equal(together, 1);
		}
	}
}

static void test_random_never_overcommits(void **state)
{
	GRand *r = g_rand_new_with_seed(11);
	guint moved = 0;

	for (int round = 0; round < 40; round++) {
		g_autofree char *text =
			test_random_cluster(r, 3 + round % 12, (3 + round % 12) * (2 + round % 9));
		g_autoptr(IcsDrsCluster) c = test_parse(text);
		IcsDrsPolicy pol = { .level = 1 + round % 5, .ha_reserve_pct = (round % 4) * 5 };
		g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);

		if (p->explanation && p->moves->len == 0)
			continue; /* the reserve made it infeasible: fine, nothing moved */
		apply_checked(c, p, pol.ha_reserve_pct);
		assert_true(p->after.objective <= p->before.objective + 1e-12);
		moved += p->moves->len;
	}
	assert_true(moved > 100);
	g_rand_free(r);
}

/* plan -> apply -> plan again is empty, at every level, in the exact
 * search of small clusters and the lazy one of large clusters. */
static void test_hysteresis(void **state)
{
	GRand *r = g_rand_new_with_seed(23);
	guint moved = 0;

	for (int round = 0; round < 32; round++) {
		gboolean large = round % 8 == 7;
		guint hosts = large ? 200 : 4 + round % 10;
		g_autofree char *text =
			test_random_cluster(r, hosts, large ? 420 : hosts * (3 + round % 7));
		g_autoptr(IcsDrsCluster) c = test_parse(text);
		IcsDrsPolicy pol = { .level = 2 + round % 4 };
		g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);
		moved += p->moves->len;
		ics_drs_plan_apply(c, p);
		g_autoptr(IcsDrsPlan) again = ics_drs_plan(c, &pol);
		assert_int_equal(again->moves->len, 0);
	}
	assert_true(moved > 100); /* the plans were not trivially empty */
	g_rand_free(r);
}

static void test_higher_level_moves_more(void **state)
{
	GRand *r = g_rand_new_with_seed(5);
	g_autofree char *text = test_random_cluster(r, 12, 100);
	g_autoptr(IcsDrsCluster) c = test_parse(text);
	IcsDrsPolicy l1 = { .level = 1 }, l2 = { .level = 2 }, l5 = { .level = 5 };
	g_autoptr(IcsDrsPlan) p1 = ics_drs_plan(c, &l1);
	g_autoptr(IcsDrsPlan) p2 = ics_drs_plan(c, &l2);
	g_autoptr(IcsDrsPlan) p5 = ics_drs_plan(c, &l5);

	assert_int_equal(p1->moves->len, 0); /* nothing to repair */
	assert_true(p2->moves->len > 0);
	assert_true(p5->moves->len >= p2->moves->len);
	assert_true(p5->after.hbal <= p2->after.hbal + 1e-12);
	assert_true(ics_drs_level_threshold(c, 2) > ics_drs_level_threshold(c, 3));
	g_rand_free(r);
}

static void test_maintenance_evacuation(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t8\t8192\tmaintenance\nH\th2\t8\t8192\nH\th3\t8\t8192\n"
			   "V\ta\t2\t2048\t500\t1000\th1\nV\tb\t2\t4096\t500\t1000\th1\n"
			   "V\tc\t2\t2048\t500\t1000\th1\nV\td\t1\t1024\t100\t100\th2\n");
	IcsDrsPolicy pol = { .level = 1 };
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);

	assert_int_equal(p->moves->len, 3);
	assert_null(p->explanation);
	apply_checked(c, p, 0);
	assert_int_equal(test_host_alloc(c, 0), 0);
	assert_int_equal(p->after.violations, 0);
}

/* Not enough room to evacuate: what fits moves, the rest is explained. */
static void test_maintenance_no_room(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t8\t8192\tmaintenance\nH\th2\t8\t4096\n"
			   "V\ta\t2\t3072\t0\t0\th1\nV\tb\t2\t3072\t0\t0\th1\n");
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, NULL);

	/* 6144 MiB needed, 4096 offered: infeasible as a whole. */
	assert_int_equal(p->moves->len, 0);
	assert_non_null(p->explanation);
	assert_non_null(strstr(p->explanation, "6144"));
}

static void test_infeasible_vm_too_large(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t8\t8192\nH\th2\t8\t8192\n"
			   "V\tbig\t2\t8000\t0\t0\th1\nV\tx\t1\t100\t0\t0\th1\n");
	IcsDrsPolicy pol = { .ha_reserve_pct = 10 }; /* 7373 MiB usable: "big" fits nowhere */
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);

	assert_int_equal(p->moves->len, 0);
	assert_non_null(strstr(p->explanation, "\"big\""));
}

static void test_anti_affinity(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t8\t16384\nH\th2\t8\t16384\nH\th3\t8\t16384\n"
			   "V\tdb1\t2\t2048\t100\t1000\th1\nV\tdb2\t2\t2048\t100\t1000\th1\n"
			   "V\tdb3\t2\t2048\t100\t1000\th2\nV\tx\t2\t2048\t1900\t2000\th3\n"
			   "A\tdbs\tanti-affinity\tdb1,db2,db3\n");
	IcsDrsPolicy pol = { .level = 1 };
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);

	assert_int_equal(p->moves->len, 1); /* one of db1/db2 to h3 */
	apply_checked(c, p, 0);
	assert_int_equal(p->after.violations, 0);
	g_autoptr(IcsDrsPlan) more = ics_drs_plan(c, NULL);
	apply_checked(c, more, 0);
}

static void test_pinning(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t8\t16384\nH\th2\t8\t16384\nH\th3\t8\t16384\n"
			   "V\tp\t4\t4096\t3000\t3000\th1\nV\tq\t4\t4096\t3000\t3000\th1\n"
			   "V\tr\t4\t4096\t3000\t3000\th1\nP\tp\th1\nP\tq\th2\nP\tr\th1,h3\n");
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, NULL);
	guint q;

	apply_checked(c, p, 0);
	assert_true(ics_drs_vm_lookup(c, "q", &q));
	assert_string_equal(ics_drs_host_name(c, ics_drs_vm_host(c, q)), "h2");
	for (guint i = 0; i < p->moves->len; i++)
		assert_string_not_equal(
			ics_drs_vm_name(c, g_array_index(p->moves, IcsDrsMove, i).vm), "p");
	assert_int_equal(p->after.violations, 0);
}

static void test_affinity_joins(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t8\t16384\nH\th2\t8\t16384\n"
			   "V\tweb\t2\t2048\t100\t1000\th1\nV\tapp\t2\t2048\t100\t1000\th2\n"
			   "A\tstack\taffinity\tweb,app\n");
	IcsDrsPolicy pol = { .level = 1 };
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);

	assert_int_equal(p->moves->len, 1);
	apply_checked(c, p, 0);
	assert_int_equal(ics_drs_vm_host(c, 0), ics_drs_vm_host(c, 1));
	/* Balance never splits the group again. */
	g_autoptr(IcsDrsPlan) again = ics_drs_plan(c, NULL);
	assert_int_equal(again->moves->len, 0);
}

/* A host takes part in at most N migrations of a wave, and never in a
 * move in after a move out in the same wave. */
static void test_waves(void **state)
{
	GRand *r = g_rand_new_with_seed(3);

	for (guint n = 1; n <= 3; n++) {
		g_autofree char *text = test_random_cluster(r, 10, 80);
		g_autoptr(IcsDrsCluster) c = test_parse(text);
		IcsDrsPolicy pol = { .level = 4, .moves_per_host = n };
		g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);
		g_autofree guint *count = g_new0(guint, ics_drs_cluster_n_hosts(c));
		g_autofree gboolean *out = g_new0(gboolean, ics_drs_cluster_n_hosts(c));
		guint wave = 0;

		assert_true(p->moves->len > 0);
		for (guint i = 0; i < p->moves->len; i++) {
			const IcsDrsMove *m = &g_array_index(p->moves, IcsDrsMove, i);
			assert_true(m->wave >= wave); /* in execution order */
			if (m->wave != wave) {
				wave = m->wave;
				memset(count, 0, sizeof(guint) * ics_drs_cluster_n_hosts(c));
				memset(out, 0, sizeof(gboolean) * ics_drs_cluster_n_hosts(c));
			}
			assert_false(out[m->to]);
			out[m->from] = TRUE;
			assert_true(++count[m->from] <= n);
			assert_true(++count[m->to] <= n);
		}
		assert_int_equal(p->n_waves, wave + 1);
		apply_checked(c, p, 0);
	}
	g_rand_free(r);
}

static void test_max_moves(void **state)
{
	GRand *r = g_rand_new_with_seed(9);
	g_autofree char *text = test_random_cluster(r, 8, 60);
	g_autoptr(IcsDrsCluster) c = test_parse(text);
	IcsDrsPolicy pol = { .level = 5, .max_moves = 3 };
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);

	assert_true(p->moves->len <= 3);
	assert_true(p->moves->len > 0);
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_never_overcommits),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_higher_level_moves_more),
		cmocka_unit_test(test_maintenance_evacuation),
		cmocka_unit_test(test_maintenance_no_room),
		cmocka_unit_test(test_infeasible_vm_too_large),
		cmocka_unit_test(test_anti_affinity),
		cmocka_unit_test(test_pinning),
		cmocka_unit_test(test_affinity_joins),
		cmocka_unit_test(test_waves),
		cmocka_unit_test(test_max_moves),
	};
	return cmocka_run_group_tests_name("drs_plan", tests, NULL, NULL);
}
