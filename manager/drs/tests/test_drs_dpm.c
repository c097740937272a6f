/*
 * test_drs_dpm.c: power proposals.  Below the low mark, hosts are powered
 * off with an evacuation that fits and keeps one host's worth of memory
 * free; above the high mark, off hosts are powered on; in between, and
 * when the HA reserve forbids it, nothing happens, with a reason.
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

static void apply(IcsDrsCluster *c, const IcsDrsDpmPlan *p)
{
	for (guint i = 0; i < p->actions->len; i++) {
		const IcsDrsPowerAction *a = g_ptr_array_index(p->actions, i);
		for (guint j = 0; j < a->evacuation->len; j++) {
			const IcsDrsMove *m = &g_array_index(a->evacuation, IcsDrsMove, j);
			assert_int_equal(m->from, a->host);
			assert_int_equal(ics_drs_host_state(c, m->to), ICS_DRS_HOST_ON);
			ics_drs_cluster_move(c, m->vm, m->to);
			assert_true(test_host_alloc(c, m->to) <= drs_host(c, m->to)->mem_mib);
		}
		if (!a->power_on)
			assert_int_equal(test_host_alloc(c, a->host), 0);
		ics_drs_cluster_set_host_state(c, a->host,
					       a->power_on ? ICS_DRS_HOST_ON : ICS_DRS_HOST_OFF);
	}
}

static const char *idle = "H\th1\t16\t65536\nH\th2\t16\t65536\nH\th3\t16\t65536\nH\th4\t16\t65536\n"
			  "H\th5\t16\t65536\nH\th6\t16\t65536\n"
			  "V\ta\t2\t4096\t500\t2000\th1\nV\tb\t2\t4096\t500\t2000\th2\n"
			  "V\tc\t2\t4096\t500\t2000\th3\nV\td\t2\t4096\t500\t2000\th4\n"
			  "V\te\t2\t4096\t500\t2000\th5\nV\tf\t2\t4096\t500\t2000\th6\n";

static void test_power_off_when_idle(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(idle);
	g_autoptr(IcsDrsDpmPlan) p = ics_drs_dpm(c, NULL);

	assert_true(p->demand_before < 30);
	/* Down to the minimum of two hosts: 24 GiB still fits on one. */
	assert_int_equal(p->actions->len, 4);
	assert_null(p->explanation);
	apply(c, p);
	guint on = 0;
	for (guint h = 0; h < ics_drs_cluster_n_hosts(c); h++)
		on += ics_drs_host_state(c, h) == ICS_DRS_HOST_ON;
	assert_int_equal(on, 2);

	/* Nothing more to do: the state is stable. */
	g_autoptr(IcsDrsDpmPlan) again = ics_drs_dpm(c, NULL);
	assert_int_equal(again->actions->len, 0);
	assert_non_null(again->explanation);
}

/* The HA reserve: the remaining hosts less the largest must hold all. */
static void test_power_off_keeps_ha_reserve(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(
		"H\th1\t64\t16384\nH\th2\t64\t16384\nH\th3\t64\t16384\n"
		"V\ta\t1\t4096\t0\t0\th1\nV\tb\t1\t4096\t0\t0\th2\nV\tc\t1\t4096\t0\t0\th3\n");
	IcsDrsDpmPolicy pol = { .low_pct = 30, .high_pct = 80, .min_hosts = 1 };
	g_autoptr(IcsDrsDpmPlan) p = ics_drs_dpm(c, &pol);

	/* 12 GiB on 3 x 16: demand 25%.  Two hosts left: 32 - 16 = 16 >= 12
	 * holds, but demand would be 37.5% <= 55%: one host goes.  One host
	 * left would lose the reserve. */
	assert_int_equal(p->actions->len, 1);
	apply(c, p);
}

static void test_power_on_when_busy(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(
		"H\th1\t4\t16384\nH\th2\t4\t16384\nH\th3\t4\t16384\toff\nH\th4\t8\t32768\toff\n"
		"V\ta\t4\t8192\t3800\t8000\th1\nV\tb\t4\t8192\t3700\t8000\th2\n");
	g_autoptr(IcsDrsDpmPlan) p = ics_drs_dpm(c, NULL);

	assert_true(p->demand_before > 80);
	assert_true(p->actions->len >= 1);
	const IcsDrsPowerAction *a = g_ptr_array_index(p->actions, 0);
	assert_true(a->power_on);
	assert_string_equal(ics_drs_host_name(c, a->host), "h4"); /* largest first */
	assert_true(p->demand_after <= 55);
}

static void test_between_marks(void **state)
{
	g_autoptr(IcsDrsCluster) c =
		test_parse("H\th1\t4\t16384\nH\th2\t4\t16384\n"
			   "V\ta\t4\t8192\t2000\t8000\th1\nV\tb\t4\t8192\t2000\t8000\th2\n");
	g_autoptr(IcsDrsDpmPlan) p = ics_drs_dpm(c, NULL);

	assert_int_equal(p->actions->len, 0);
	assert_non_null(strstr(p->explanation, "between"));
}

static void test_anti_affinity_blocks_power_off(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(
		"H\th1\t16\t65536\nH\th2\t16\t65536\nH\th3\t16\t65536\n"
		"V\ta\t1\t1024\t0\t0\th1\nV\tb\t1\t1024\t0\t0\th2\nV\tc\t1\t1024\t0\t0\th3\n"
		"A\tspread\tanti-affinity\ta,b,c\n");
	IcsDrsDpmPolicy pol = { .min_hosts = 1 };
	g_autoptr(IcsDrsDpmPlan) p = ics_drs_dpm(c, &pol);

	assert_int_equal(p->actions->len, 0);
	assert_non_null(p->explanation);
}

/* An evacuated affinity group stays together. */
static void test_evacuation_keeps_affinity(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(
		"H\th1\t16\t65536\nH\th2\t16\t65536\nH\th3\t16\t65536\nH\th4\t16\t65536\n"
		"V\tx\t1\t1024\t0\t0\th1\nV\ty\t1\t1024\t0\t0\th1\n"
		"V\ta\t1\t4096\t0\t0\th2\nV\tb\t1\t4096\t0\t0\th3\nV\td\t1\t4096\t0\t0\th4\n"
		"A\tpair\taffinity\tx,y\n");
	g_autoptr(IcsDrsDpmPlan) p = ics_drs_dpm(c, NULL);
	IcsDrsScore s;

	assert_true(p->actions->len >= 1);
	assert_string_equal(ics_drs_host_name(c, ((IcsDrsPowerAction *)g_ptr_array_index(
							  p->actions, 0))->host),
			    "h1");
	apply(c, p);
	assert_int_equal(ics_drs_vm_host(c, 0), ics_drs_vm_host(c, 1));
	ics_drs_score(c, 0, &s);
	assert_int_equal(s.violations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_off_when_idle),
		cmocka_unit_test(test_power_off_keeps_ha_reserve),
		cmocka_unit_test(test_power_on_when_busy),
		cmocka_unit_test(test_between_marks),
		cmocka_unit_test(test_anti_affinity_blocks_power_off),
		cmocka_unit_test(test_evacuation_keeps_affinity),
	};
	return cmocka_run_group_tests_name("drs_dpm", tests, NULL, NULL);
}
