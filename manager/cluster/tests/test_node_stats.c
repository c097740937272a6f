/*
 * test_node_stats.c: node statistics through libvirt's test driver
 * (test:///default runs inside this process: a host with 16 CPUs and one
 * running domain "test") and an unreachable libvirtd.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ics/cluster.h"
#include "ics/error.h"
#include "ics/json.h"

static void test_default_driver(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsNodeStats) s = ics_cluster_node_stats("node1", "test:///default", &e);
	const IcsDomainStats *d;
	g_autoptr(json_t) j = NULL;

	(void)state;
	if (s == NULL)
		fail_msg("%s", e->message);
	assert_string_equal(s->node, "node1");
	assert_non_null(s->hostname);
	assert_int_equal(s->cpus, 16);
	assert_true(s->memory_total_kib > 0);
	assert_true(s->memory_free_kib <= s->memory_total_kib);
	assert_int_equal(s->domains->len, 1);
	d = g_ptr_array_index(s->domains, 0);
	assert_string_equal(d->name, "test");
	assert_non_null(d->uuid);
	assert_int_equal(strlen(d->uuid), 36);
	assert_true(d->active);
	assert_true(d->memory_max_kib > 0);
	assert_true(d->memory_kib > 0 && d->memory_kib <= d->memory_max_kib);
	assert_true(d->vcpus >= 1);

	j = ics_node_stats_to_json(s);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "cpus")), 16);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "domains"), 0), "name")),
			    "test");
}

static void test_unreachable(void **state)
{
	g_autoptr(GError) e = NULL;

	(void)state;
	/* Nothing listens on port 1 of the loopback: refused at once. */
	assert_null(ics_cluster_node_stats("nodeX", "qemu+tcp://127.0.0.1:1/system", &e));
	assert_int_equal(e->code, ICS_ERROR_UNAVAILABLE);
	assert_non_null(strstr(e->message, "nodeX"));
	assert_non_null(strstr(e->message, "127.0.0.1:1"));
}

/* A forced stop: the test driver's running domain "test" is destroyed; an
 * unknown uuid and an unreachable libvirtd are errors that say so. */
static void test_destroy_domain(void **state)
{
	g_autoptr(GError) e = NULL, e2 = NULL, e3 = NULL;

	(void)state;
	if (!ics_cluster_node_destroy_domain("node1", "test:///default",
					     "6695eb01-f6a4-8304-79aa-97f2502e193f", &e))
		fail_msg("destroy: %s", e->message);
	assert_false(ics_cluster_node_destroy_domain("node1", "test:///default",
						     "11111111-2222-4333-8444-555555555555", &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
	assert_false(ics_cluster_node_destroy_domain("nodeX", "qemu+tcp://127.0.0.1:1/system",
						     "6695eb01-f6a4-8304-79aa-97f2502e193f", &e3));
	assert_int_equal(e3->code, ICS_ERROR_UNAVAILABLE);
	assert_non_null(strstr(e3->message, "nodeX"));
}

static void test_uri(void **state)
{
	g_autofree char *u = ics_node_libvirt_uri("node2");

	(void)state;
	assert_string_equal(u, "qemu+tcp://node2/system");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_driver),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_destroy_domain),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
