/*
 * test_drs_score.c: the hbal score and ICS's objective.
 *
 * The reference numbers for tests/data/hbal-small.tsv come from Ganeti's
 * own hbal (ganeti-htools 3.0.2, Debian 12), run on the same cluster
 * written by bench/drs/bench-drs's converter (htools text backend,
 * sharedfile instances, -U loads normalised by the mean host size):
 *
 *   hbal -t small.ganeti -U small.util -v -v -v -C
 *
 * which printed (components that are zero left out):
 *
 *   Initial coefficients: overall 1.02926974
 *      free_mem_cv 0.26557393 x0.50   vcpu_ratio_cv 0.35843022 x0.50
 *      cpu_load_cv 0.28397981 x1.00   mem_load_cv   0.12128578 x1.00
 *      (free_mem_cv_forth, vcpu_ratio_cv_forth: same values, x0.50)
 *   1. a n1 => n2  0.47265983
 *   2. e n3 => n1  0.41350384
 *   3. b n1 => n3  0.34461084
 *   Final coefficients: overall 0.34461084
 *      free_mem_cv 0.02946278  vcpu_ratio_cv 0.05892557
 *      cpu_load_cv 0.15712256  mem_load_cv   0.09909993
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

#define EPS 1e-7

static IcsDrsCluster *load_small(void)
{
	const char *src = g_getenv("ICS_SRCDIR");
	g_autofree char *path = g_build_filename(src ? src : "../../..", "manager", "drs", "tests",
						 "data", "hbal-small.tsv", NULL);
	g_autoptr(GError) err = NULL;
	IcsDrsCluster *c = ics_drs_cluster_load(path, &err);

	if (!c)
		fail_msg("%s", err->message);
	return c;
}

static void move(IcsDrsCluster *c, const char *vm, const char *host)
{
	guint v, h;

	assert_true(ics_drs_vm_lookup(c, vm, &v));
	assert_true(ics_drs_host_lookup(c, host, &h));
	ics_drs_cluster_move(c, v, h);
}

static void test_against_hbal(void **state)
{
	g_autoptr(IcsDrsCluster) c = load_small();
	IcsDrsScore s;

	ics_drs_score(c, 0, &s);
	assert_float_equal(s.free_mem_sd, 0.26557393, EPS);
	assert_float_equal(s.vcpu_sd, 0.35843022, EPS);
	assert_float_equal(s.cpu_load_sd, 0.28397981, EPS);
	assert_float_equal(s.mem_load_sd, 0.12128578, EPS);
	assert_float_equal(s.hbal, 1.02926974, EPS);
	assert_float_equal(s.objective, s.hbal, 1e-12);
	assert_int_equal(s.violations, 0);

	/* hbal's own steps and the score it printed after each. */
	move(c, "a", "n2");
	ics_drs_score(c, 0, &s);
	assert_float_equal(s.hbal, 0.47265983, EPS);
	move(c, "e", "n1");
	ics_drs_score(c, 0, &s);
	assert_float_equal(s.hbal, 0.41350384, EPS);
	move(c, "b", "n3");
	ics_drs_score(c, 0, &s);
	assert_float_equal(s.free_mem_sd, 0.02946278, EPS);
	assert_float_equal(s.vcpu_sd, 0.05892557, EPS);
	assert_float_equal(s.cpu_load_sd, 0.15712256, EPS);
	assert_float_equal(s.mem_load_sd, 0.09909993, EPS);
	assert_float_equal(s.hbal, 0.34461084, EPS);
}

/* ICS's plan on the same state: the same three moves, the same score. */
static void test_plan_matches_hbal(void **state)
{
	g_autoptr(IcsDrsCluster) c = load_small();
	g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, NULL);

	assert_int_equal(p->moves->len, 3);
	assert_float_equal(p->before.hbal, 1.02926974, EPS);
	assert_float_equal(p->after.hbal, 0.34461084, EPS);
	assert_null(p->explanation);
}

/* Two hosts of 4 cores and 1000 MiB, one VM (2 vcpus, 500 MiB, one core
 * busy, 250 MiB used) on the first: per-host values (0.5, 1), (0.5, 0),
 * (0.25, 0), (0.25, 0): standard deviations 0.25, 0.25, 0.125, 0.125. */
static void test_hand_computed(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse("H\th1\t4\t1000\nH\th2\t4\t1000\n"
						"V\tv\t2\t500\t1000\t250\th1\n");
	IcsDrsScore s;

	ics_drs_score(c, 0, &s);
	assert_float_equal(s.free_mem_sd, 0.25, 1e-12);
	assert_float_equal(s.vcpu_sd, 0.25, 1e-12);
	assert_float_equal(s.cpu_load_sd, 0.125, 1e-12);
	assert_float_equal(s.mem_load_sd, 0.125, 1e-12);
	assert_float_equal(s.hbal, 0.75, 1e-12);
	assert_float_equal(s.penalty, 0, 1e-12);
}

/* Statistics run over hosts that take VMs; VMs elsewhere are penalised. */
static void test_penalties(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(
		"H\th1\t4\t1000\nH\th2\t4\t1000\nH\th3\t4\t1000\tmaintenance\n"
		"V\tv1\t1\t100\t0\t0\th1\nV\tv2\t1\t100\t0\t0\th1\nV\tv3\t1\t100\t0\t0\th3\n"
		"V\tv4\t1\t100\t0\t0\th2\n"
		"A\tapart\tanti-affinity\tv1,v2\nA\ttogether\taffinity\tv1,v4\nP\tv4\th1\n");
	IcsDrsScore s;

	ics_drs_score(c, 0, &s);
	/* v3 on a host in maintenance (16), v1+v2 together (4), v1+v4 apart
	 * (4), v4 off its pinned host (4). */
	assert_float_equal(s.penalty, 16 + 4 + 4 + 4, 1e-9);
	assert_int_equal(s.violations, 4);
	assert_float_equal(s.objective, s.hbal + s.penalty, 1e-12);
}

/* Overcommit, counted against capacity less the HA reserve. */
static void test_overcommit(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse("H\th1\t4\t1000\nH\th2\t4\t1000\n"
						"V\tv1\t1\t900\t0\t0\th1\n");
	IcsDrsScore s;

	ics_drs_score(c, 0, &s);
	assert_float_equal(s.penalty, 0, 1e-12);
	ics_drs_score(c, 20, &s); /* usable 800: 100 over */
	assert_float_equal(s.penalty, 16.0 * 100 / 800, 1e-9);
	assert_int_equal(s.violations, 1);
}

/* The planner prices moves incrementally; the gains it reports must add
 * up to the difference of full recomputations. */
static void test_incremental_gains(void **state)
{
	GRand *r = g_rand_new_with_seed(7);

	for (int round = 0; round < 20; round++) {
		g_autofree char *text =
			test_random_cluster(r, 4 + round % 9, (4 + round % 9) * (2 + round % 8));
		g_autoptr(IcsDrsCluster) c = test_parse(text);
		IcsDrsPolicy pol = { .level = 5 };
		g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, &pol);
		IcsDrsScore before, after;
		double sum = 0;

		ics_drs_score(c, 0, &before);
		for (guint i = 0; i < p->moves->len; i++)
			sum += g_array_index(p->moves, IcsDrsMove, i).gain;
		ics_drs_plan_apply(c, p);
		ics_drs_score(c, 0, &after);
		assert_float_equal(before.objective, p->before.objective, 1e-9);
		assert_float_equal(after.objective, p->after.objective, 1e-9);
		assert_float_equal(sum, before.objective - after.objective, 1e-6);
		assert_true(after.objective <= before.objective + 1e-12);
	}
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_hbal),  cmocka_unit_test(test_plan_matches_hbal),
		cmocka_unit_test(test_hand_computed), cmocka_unit_test(test_penalties),
		cmocka_unit_test(test_overcommit),    cmocka_unit_test(test_incremental_gains),
	};
	return cmocka_run_group_tests_name("drs_score", tests, NULL, NULL);
}
