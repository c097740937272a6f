/*
 * test_drs_input.c: the ics-drs file format.  Valid files parse and write
 * back identically; every kind of inconsistency is rejected with the line
 * it is on and a reason; and a bounded, seeded fuzz loop of mutations of
 * a valid file never crashes (ASan/UBSan) and always gives either a
 * cluster or an ICS_ERROR with a message.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drs_test_util.h"

#define FUZZ_ROUNDS 4000

static const char *valid = "# a valid cluster\n"
			   "H\th1\t16\t65536\n"
			   "H\th2\t16\t65536\tmaintenance   # trailing comment\n"
			   "H\th3\t32\t131072\toff\n"
			   "\n"
			   "V\tweb1\t2\t4096\t1500\t3000\th1\n"
			   "V\tweb2\t2\t4096\t500\t2000\th1\r\n"
			   "V\tdb\t8\t32768\t6000\t30000\th2\n"
			   "A\tweb\tanti-affinity\tweb1,web2\n"
			   "A\tpair\taffinity\tweb1,db\n"
			   "P\tdb\th1,h2\n";

static void test_valid_round_trip(void **state)
{
	g_autoptr(IcsDrsCluster) c = test_parse(valid);
	g_autofree char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(ics_drs_cluster_n_hosts(c), 3);
	assert_int_equal(ics_drs_cluster_n_vms(c), 3);
	assert_int_equal(ics_drs_host_state(c, 1), ICS_DRS_HOST_MAINTENANCE);
	assert_int_equal(ics_drs_host_state(c, 2), ICS_DRS_HOST_OFF);
	assert_int_equal(drs_vm(c, 2)->pinned->len, 2);
	ics_drs_cluster_write(c, f);
	fclose(f);

	g_autoptr(IcsDrsCluster) again = test_parse(out);
	g_autofree char *out2 = NULL;
	size_t len2 = 0;
	f = open_memstream(&out2, &len2);
	ics_drs_cluster_write(again, f);
	fclose(f);
	assert_string_equal(out, out2);
}

static const struct {
	const char *text;
	const char *message; /* expected in the error */
	int code;
} bad[] = {
	{ "H\th1\t4\n", "test:1: 3 fields", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\tnope\n",
	  "test:2: VM \"v\" runs on unknown host \"nope\"", ICS_ERROR_PARSE },
	{ "H\th1\t-4\t1024\n", "test:1: cpu_cores -4 is negative", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t-512\t0\t0\th1\n", "test:2: mem_mib -512 is negative",
	  ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t-1\t0\th1\n", "test:2: cpu_used_milli -1 is negative",
	  ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nH\th1\t4\t1024\n", "test:2: host \"h1\" is defined twice",
	  ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\th1\n# x\nV\tv\t1\t512\t0\t0\th1\n",
	  "test:4: VM \"v\" is defined twice", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\th1\nH\th2\t4\t1024\n",
	  "test:3: host \"h2\" after VM lines", ICS_ERROR_PARSE },
	{ "H\th1\tfour\t1024\n", "test:1: cpu_cores \"four\" is not a decimal integer",
	  ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nX\tfoo\n", "test:2: unknown line kind \"X\"", ICS_ERROR_PARSE },
	{ "H h1 4 1024\n", "test:1: unknown line kind", ICS_ERROR_PARSE },
	{ "H\th1\t0\t1024\n", "test:1: host \"h1\": cores 0 is out of range", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\tbroken\n", "test:1: host state \"broken\"", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t1500\t0\th1\n",
	  "CPU use (millicores) 1500 is out of range", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t600\th1\n", "memory use (MiB) 600 is out of range",
	  ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\toff\nV\tv\t1\t512\t0\t0\th1\n",
	  "test:2: VM \"v\" runs on host \"h1\", which is off", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\th1\nA\tg\tanti-affinity\tv,w\n",
	  "test:3: rule group \"g\": unknown VM \"w\"", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\th1\nA\tg\tsometimes\tv\n",
	  "test:3: rule kind \"sometimes\"", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\th1\nP\tv\th9\n",
	  "test:3: VM \"v\" is pinned to unknown host \"h9\"", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nV\tv\t1\t512\t0\t0\th1\nP\tv\th1\nP\tv\th1\n",
	  "test:4: VM \"v\" is pinned twice", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\n\nV\t\t1\t512\t0\t0\th1\n", "test:3: field 2 is empty",
	  ICS_ERROR_PARSE },
	{ "# nothing\n", "no host (H) line", ICS_ERROR_PARSE },
	{ "H\th1\t4\t1024\nH\th2\t4\t1024\nV\ta\t1\t512\t0\t0\th1\nV\tb\t1\t256\t0\t0\th1\n"
	  "A\ttogether\taffinity\ta,b\nA\tapart\tanti-affinity\ta,b\n",
	  "affinity group \"together\" and anti-affinity group \"apart\"", ICS_ERROR_CONFLICT },
	{ "H\th1\t4\t1024\nH\th2\t4\t1024\nV\ta\t1\t512\t0\t0\th1\nV\tb\t1\t256\t0\t0\th1\n"
	  "P\ta\th1\nP\tb\th2\nA\ttogether\taffinity\ta,b\n",
	  "affinity group \"together\": its VMs' pinnings share no host", ICS_ERROR_CONFLICT },
	{ "H\th1\t4\t1024\nH\th2\t4\t1024\nV\ta\t1\t256\t0\t0\th1\nV\tb\t1\t256\t0\t0\th1\n"
	  "V\tc\t1\t256\t0\t0\th1\nA\tspread\tanti-affinity\ta,b,c\n",
	  "anti-affinity group \"spread\" has 3 VMs but they may run on only 2 hosts",
	  ICS_ERROR_CONFLICT },
};

static void test_rejections(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsDrsCluster) c =
			ics_drs_cluster_parse(bad[i].text, strlen(bad[i].text), "test", &err);
		if (c)
			fail_msg("case %zu parsed: %s", i, bad[i].text);
		assert_non_null(err);
		if (!strstr(err->message, bad[i].message))
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err->message,
				 bad[i].message);
		assert_true(err->domain == ICS_ERROR);
		assert_int_equal(err->code, bad[i].code);
	}
}

static void test_nul_byte(void **state)
{
	g_autoptr(GError) err = NULL;
	const char text[] = "H\th1\t4\t1024\0\n";

	assert_null(ics_drs_cluster_parse(text, sizeof(text) - 1, "test", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
}

static void test_missing_file(void **state)
{
	g_autoptr(GError) err = NULL;

	assert_null(ics_drs_cluster_load("/nonexistent/ics-drs-state.tsv", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

/* Characters that make mutations interesting for this format. */
static char interesting(GRand *r)
{
	static const char set[] = "\t\n#,-0123456789HVAPhv \r";

	if (g_rand_int_range(r, 0, 4) == 0)
		return (char)g_rand_int_range(r, 1, 256);
	return set[g_rand_int_range(r, 0, sizeof(set) - 1)];
}

static void test_fuzz(void **state)
{
	GRand *r = g_rand_new_with_seed(1234);
	gsize base_len = strlen(valid);
	guint parsed = 0;

	for (int round = 0; round < FUZZ_ROUNDS; round++) {
		GString *s = g_string_new_len(valid, (gssize)base_len);
		int n = 1 + g_rand_int_range(r, 0, 6);
		for (int m = 0; m < n && s->len > 0; m++) {
			gsize at = (gsize)g_rand_int_range(r, 0, (gint32)s->len);
			switch (g_rand_int_range(r, 0, 5)) {
			case 0: /* replace */
				s->str[at] = interesting(r);
				break;
			case 1: /* insert */
				g_string_insert_c(s, (gssize)at, interesting(r));
				break;
			case 2: { /* delete a run (MIN evaluates twice: draw first) */
				gsize run = (gsize)g_rand_int_range(r, 1, 8);

				g_string_erase(s, (gssize)at, (gssize)MIN(run, s->len - at));
				break;
			}
			case 3: { /* duplicate a slice somewhere */
				gsize want = (gsize)g_rand_int_range(r, 1, 40);
				gsize len = MIN(want, s->len - at);
				g_autofree char *slice = g_strndup(s->str + at, len);
				g_string_insert_len(s, g_rand_int_range(r, 0, (gint32)s->len),
						    slice, (gssize)len);
				break;
			}
			default: /* truncate */
				g_string_truncate(s, at);
				break;
			}
		}
		g_autoptr(GError) err = NULL;
		g_autoptr(IcsDrsCluster) c = ics_drs_cluster_parse(s->str, s->len, "fuzz", &err);
		if (c) {
			assert_null(err);
			parsed++;
			/* Whatever parses must also plan without trouble. */
			g_autoptr(IcsDrsPlan) p = ics_drs_plan(c, NULL);
			assert_non_null(p);
		} else {
			assert_non_null(err);
			assert_true(err->domain == ICS_ERROR);
			assert_true(g_str_has_prefix(err->message, "fuzz"));
		}
		g_string_free(s, TRUE);
	}
	/* The loop must exercise both outcomes to prove anything. */
	assert_true(parsed > 0);
	assert_true(parsed < FUZZ_ROUNDS);
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_round_trip),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests_name("drs_input", tests, NULL, NULL);
}
