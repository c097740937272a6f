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

/* A reboot reaches the test driver's running domain; the live XML is read
 * and turned into console information. */
static void test_reboot_and_console(void **state)
{
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *xml = NULL;
	g_autoptr(json_t) c = NULL;

	(void)state;
	if (!ics_cluster_node_reboot_domain("node1", "test:///default",
					    "6695eb01-f6a4-8304-79aa-97f2502e193f", &e))
		fail_msg("reboot: %s", e->message);
	assert_false(ics_cluster_node_reboot_domain("node1", "test:///default",
						    "11111111-2222-4333-8444-555555555555", &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
	xml = ics_cluster_node_domain_xml("node1", "test:///default",
					  "6695eb01-f6a4-8304-79aa-97f2502e193f", &e);
	assert_non_null(xml);
	c = ics_domain_console_json(xml, &e);
	assert_non_null(c);
	assert_true(json_is_array(json_object_get(c, "graphics")));
	assert_true(json_is_array(json_object_get(c, "serial")));
}

/* What a console client is told, from the XML ICS writes plus a VNC
 * display; the password stays out. */
static void test_console_json(void **state)
{
	static const char xml[] =
		"<domain type='qemu'><name>v</name><devices>"
		"<serial type='pty'><source path='/dev/pts/7'/><target port='0'/></serial>"
		"<console type='pty' tty='/dev/pts/7'><target type='serial' port='0'/></console>"
		"<graphics type='vnc' port='5901' autoport='yes' listen='0.0.0.0' "
		"passwd='secret'/></devices></domain>";
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) c = ics_domain_console_json(xml, &e);
	g_autofree char *text = NULL;
	json_t *g, *sp;

	(void)state;
	assert_non_null(c);
	g = json_array_get(json_object_get(c, "graphics"), 0);
	sp = json_array_get(json_object_get(c, "serial"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "type")), "vnc");
	assert_string_equal(json_string_value(json_object_get(g, "port")), "5901");
	assert_string_equal(json_string_value(json_object_get(sp, "type")), "pty");
	assert_string_equal(json_string_value(json_object_get(sp, "path")), "/dev/pts/7");
	assert_string_equal(json_string_value(json_object_get(sp, "port")), "0");
	text = json_dumps(c, 0);
	assert_null(strstr(text, "secret"));
	assert_null(ics_domain_console_json("<domain", &e));
}

/* Where the console proxy connects: only the VNC server of the live
 * domain, at an address the manager can reach. */
static void test_vnc_endpoint(void **state)
{
	static const struct {
		const char *graphics, *uri, *address; /* address NULL: refused */
		guint16 port;
		const char *password;
	} cases[] = {
		/* vnc_listen = the node's cluster address */
		{ "<graphics type='vnc' port='5901' listen='10.211.0.2' passwd='s3cret'/>",
		  "qemu+tcp://node2/system", "10.211.0.2", 5901, "s3cret" },
		/* every address: the node's own name from the URI */
		{ "<graphics type='vnc' port='5902' listen='0.0.0.0' passwd='pw'/>",
		  "qemu+tcp://node2/system", "node2", 5902, "pw" },
		/* loopback is reachable only when libvirtd is local */
		{ "<graphics type='vnc' port='5903' listen='127.0.0.1'/>", "qemu:///system",
		  "127.0.0.1", 5903, NULL },
		{ "<graphics type='vnc' port='5903' listen='127.0.0.1'/>",
		  "qemu+tcp://node2/system", NULL, 0, NULL },
		/* no TCP port (a socket), no VNC at all */
		{ "<graphics type='vnc' port='-1' autoport='yes'/>", "qemu:///system", NULL, 0,
		  NULL },
		{ "<graphics type='spice' port='5904'/>", "qemu:///system", NULL, 0, NULL },
	};

	(void)state;
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *xml = g_strdup_printf(
			"<domain type='qemu'><name>v</name><devices>%s</devices></domain>",
			cases[i].graphics);
		g_autofree char *address = NULL, *password = NULL;
		g_autoptr(GError) e = NULL;
		guint16 port = 0;
		gboolean ok = ics_domain_vnc_endpoint(xml, cases[i].uri, &address, &port,
						      &password, &e);

		if (cases[i].address == NULL) {
			if (ok)
				fail_msg("case %u: accepted %s", i, address);
			assert_non_null(e);
			assert_null(strstr(e->message, "s3cret"));
			continue;
		}
		if (!ok)
			fail_msg("case %u: %s", i, e->message);
		assert_string_equal(address, cases[i].address);
		assert_int_equal(port, cases[i].port);
		assert_true(g_strcmp0(password, cases[i].password) == 0);
	}
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
		cmocka_unit_test(test_reboot_and_console),
		cmocka_unit_test(test_console_json),
		cmocka_unit_test(test_vnc_endpoint),
		cmocka_unit_test(test_destroy_domain),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
