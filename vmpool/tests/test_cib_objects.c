/*
 * test_cib_objects.c: the CIB objects ICS writes, checked with XPath -- the
 * VM primitive and its constraints (the shapes ics-admin and the manager
 * share), the move constraint that crm_resource --clear also removes, and
 * which ids may go into an XPath expression.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ics/cib_objects.h"
#include "ics/xml.h"

#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define VM "web1"

static void expect(xmlDoc *doc, const char *xpath, const char *value)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *v = ics_xml_xpath_string(doc, xpath, &e);

	if (v == NULL)
		fail_msg("%s: %s", xpath, e->message);
	if (strcmp(v, value) != 0)
		fail_msg("%s = \"%s\", expected \"%s\"", xpath, v, value);
}

static void test_vm_objects(void **state)
{
	const IcsCibVmSpec spec = { .uuid = UUID,
				    .rsc_id = VM,
				    .name = "web1",
				    .pool_path = "/srv/ics/pools/shared",
				    .pool_name = "shared",
				    .vcpus = 1,
				    .memory_mib = 128 };
	g_autoptr(xmlDoc) p = ics_cib_vm_primitive(&spec);
	g_autoptr(xmlDoc) o = ics_cib_vm_order(&spec);
	g_autoptr(xmlDoc) c = ics_cib_vm_colocation(&spec);

	(void)state;
	expect(p, "/primitive/@id", VM);
	expect(p, "concat(/primitive/@class, ':', /primitive/@provider, ':', /primitive/@type)",
	       "ocf:ics:vm");
	expect(p, "/primitive/instance_attributes/nvpair[@name='uuid']/@value", UUID);
	expect(p, "/primitive/meta_attributes/nvpair[@name='target-role']/@value", "Stopped");
	expect(p, "/primitive/meta_attributes/nvpair[@name='resource-stickiness']/@value", "1000");
	/* start covers the wait for sanlock's expiry; a failed start is retried */
	expect(p, "/primitive/operations/op[@name='start']/@timeout", "150s");
	expect(p, "/primitive/meta_attributes/nvpair[@name='failure-timeout']/@value", "300s");
	expect(p, "/primitive/utilization/nvpair[@name='memory']/@value", "128");
	assert_int_equal(ics_xml_xpath_count(p, "//nvpair[@name='migration_unsafe']", NULL), 0);
	expect(p, "/primitive/instance_attributes/@id", VM "-instance_attributes");
	expect(o, "/rsc_order/@id", VM "-after-pool");
	expect(o, "/rsc_order/@first", "ics-pool-shared");
	expect(o, "/rsc_order/@then", VM);
	expect(c, "/rsc_colocation/@id", VM "-with-pool");
	expect(c, "/rsc_colocation/@rsc", VM);
	expect(c, "/rsc_colocation/@with-rsc", "ics-pool-shared");
}

static void test_ids(void **state)
{
	g_autofree char *a = ics_cib_vm_order_id(VM), *b = ics_cib_pool_clone_id("gold");
	g_autofree char *c = ics_cib_vm_colocation_id(VM);
	g_autofree char *m = ics_cib_move_constraint_id("d1");

	(void)state;
	assert_string_equal(a, VM "-after-pool");
	assert_string_equal(c, VM "-with-pool");
	assert_string_equal(b, "ics-pool-gold");
	assert_string_equal(m, "cli-prefer-d1");
}

static void test_move(void **state)
{
	g_autoptr(xmlDoc) l = ics_cib_move_constraint(VM, "node2");

	(void)state;
	/* What crm_resource --move --node node2 writes. */
	expect(l, "/rsc_location/@id", "cli-prefer-" VM);
	expect(l, "/rsc_location/@rsc", VM);
	expect(l, "/rsc_location/@node", "node2");
	expect(l, "/rsc_location/@role", "Started");
	expect(l, "/rsc_location/@score", "INFINITY");
}

static void test_id_valid(void **state)
{
	(void)state;
	assert_true(ics_cib_id_valid(VM));
	assert_true(ics_cib_id_valid("vm-" UUID));
	assert_true(ics_cib_id_valid("ics-pool-shared-rsc"));
	assert_true(ics_cib_id_valid("_x.y-z"));
	assert_false(ics_cib_id_valid(NULL));
	assert_false(ics_cib_id_valid(""));
	assert_false(ics_cib_id_valid("1abc"));
	assert_false(ics_cib_id_valid("-abc"));
	assert_false(ics_cib_id_valid("a'b"));
	assert_false(ics_cib_id_valid("x' or '1'='1"));
	assert_false(ics_cib_id_valid("a b"));
	assert_false(ics_cib_id_valid("a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_objects),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_id_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
