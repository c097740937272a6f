/*
 * test_cib_xml.c: the CIB objects of a VM, checked with XPath -- primitive
 * class/provider/type, params, meta, utilization, operations, the order and
 * colocation with the pool clone -- and reading a VM's state out of
 * crm_mon's XML.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cib_ops.h"
#include "ics/error.h"
#include "ics/xml.h"

#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define VM "vm-" UUID

static const IcsCibVmSpec spec = {
	.uuid = UUID,
	.rsc_id = VM,
	.name = "web1",
	.pool_path = "/srv/ics/pools/shared",
	.pool_name = "shared",
	.vcpus = 2,
	.memory_mib = 256,
	.migration_unsafe = TRUE,
	.start = FALSE,
};

static void expect(xmlDoc *doc, const char *xpath, const char *value)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *v = ics_xml_xpath_string(doc, xpath, &e);

	if (v == NULL)
		fail_msg("%s: %s", xpath, e->message);
	if (strcmp(v, value) != 0)
		fail_msg("%s = \"%s\", expected \"%s\"", xpath, v, value);
}

static int count(xmlDoc *doc, const char *xpath)
{
	return ics_xml_xpath_count(doc, xpath, NULL);
}

static void test_primitive(void **state)
{
	g_autoptr(xmlDoc) d = ics_cib_vm_primitive(&spec);

	(void)state;
	expect(d, "/primitive/@id", VM);
	expect(d, "/primitive/@class", "ocf");
	expect(d, "/primitive/@provider", "ics");
	expect(d, "/primitive/@type", "vm");
	expect(d, "/primitive/instance_attributes/nvpair[@name='uuid']/@value", UUID);
	expect(d, "/primitive/instance_attributes/nvpair[@name='pool']/@value",
	       "/srv/ics/pools/shared");
	expect(d, "/primitive/instance_attributes/nvpair[@name='migration_unsafe']/@value", "true");
	expect(d, "/primitive/meta_attributes/nvpair[@name='allow-migrate']/@value", "true");
	expect(d, "/primitive/meta_attributes/nvpair[@name='resource-stickiness']/@value", "1000");
	expect(d, "/primitive/meta_attributes/nvpair[@name='target-role']/@value", "Stopped");
	expect(d, "/primitive/utilization/nvpair[@name='cpu']/@value", "2");
	expect(d, "/primitive/utilization/nvpair[@name='memory']/@value", "256");
	expect(d, "/primitive/operations/op[@name='monitor']/@interval", "5s");
	expect(d, "/primitive/operations/op[@name='monitor']/@timeout", "30s");
	expect(d, "/primitive/operations/op[@name='start']/@timeout", "150s");
	expect(d, "/primitive/operations/op[@name='stop']/@timeout", "90s");
	expect(d, "/primitive/operations/op[@name='migrate_to']/@timeout", "120s");
	expect(d, "/primitive/operations/op[@name='migrate_from']/@timeout", "120s");
	assert_int_equal(count(d, "/primitive/operations/op"), 5);
	/* Every element that Pacemaker requires an id of has a unique one. */
	assert_int_equal(count(d, "//*[not(@id)]"), 1); /* only <operations> */
	assert_int_equal(count(d, "//*[@id=preceding::*/@id or @id=ancestor::*/@id]"), 0);
}

static void test_primitive_safe_started(void **state)
{
	IcsCibVmSpec s = spec;
	g_autoptr(xmlDoc) d = NULL;

	(void)state;
	s.migration_unsafe = FALSE;
	s.start = TRUE;
	d = ics_cib_vm_primitive(&s);
	assert_int_equal(count(d, "//nvpair[@name='migration_unsafe']"), 0);
	expect(d, "/primitive/meta_attributes/nvpair[@name='target-role']/@value", "Started");
}

static void test_escaping(void **state)
{
	IcsCibVmSpec s = spec;
	g_autoptr(xmlDoc) d = NULL;

	(void)state;
	s.pool_path = "/srv/a\"b<c>&d";
	d = ics_cib_vm_primitive(&s);
	expect(d, "//nvpair[@name='pool']/@value", "/srv/a\"b<c>&d");
}

static void test_constraints(void **state)
{
	g_autoptr(xmlDoc) o = ics_cib_vm_order(&spec);
	g_autoptr(xmlDoc) c = ics_cib_vm_colocation(&spec);

	(void)state;
	expect(o, "/rsc_order/@id", VM "-after-pool");
	expect(o, "/rsc_order/@kind", "Mandatory");
	expect(o, "/rsc_order/@first", "ics-pool-shared");
	expect(o, "/rsc_order/@then", VM);
	expect(c, "/rsc_colocation/@id", VM "-with-pool");
	expect(c, "/rsc_colocation/@score", "INFINITY");
	expect(c, "/rsc_colocation/@rsc", VM);
	expect(c, "/rsc_colocation/@with-rsc", "ics-pool-shared");
}

static const char mon_xml[] =
	"<pacemaker-result api-version='2.25' request='crm_mon --output-as=xml'>"
	"<resources>"
	"<clone id='ics-pool-shared' multi_state='false' unique='false'>"
	"<resource id='pool-shared' resource_agent='ocf:ics:pool' role='Started' active='true'"
	" nodes_running_on='1'><node name='node1' id='1' cached='true'/></resource>"
	"</clone>"
	"<resource id='" VM "' resource_agent='ocf:ics:vm' role='Started' active='true'"
	" nodes_running_on='1'><node name='node2' id='2' cached='true'/></resource>"
	"<resource id='vm-other' resource_agent='ocf:ics:vm' role='Stopped' active='false'"
	" nodes_running_on='0'/>"
	"</resources></pacemaker-result>";

static void test_resource_state(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) d = ics_xml_parse_string(mon_xml, -1, "crm_mon", &e);
	g_autofree char *role = NULL, *node = NULL, *r2 = NULL, *n2 = NULL, *r3 = NULL, *n3 = NULL;
	g_autofree char *r4 = NULL, *n4 = NULL;

	(void)state;
	assert_non_null(d);
	assert_true(ics_cib_resource_state(d, VM, &role, &node));
	assert_string_equal(role, "Started");
	assert_string_equal(node, "node2");
	assert_true(ics_cib_resource_state(d, "vm-other", &r2, &n2));
	assert_string_equal(r2, "Stopped");
	assert_null(n2);
	assert_false(ics_cib_resource_state(d, "vm-none", &r3, &n3));
	assert_null(r3);
	/* An id with a quote cannot break out of the expression. */
	assert_false(ics_cib_resource_state(d, "x' or '1'='1", &r4, &n4));
}

/* The <nodes> of crm_mon 2.1.5's XML (attributes as it writes them). */
static const char nodes_xml[] =
	"<pacemaker-result api-version='2.25' request='crm_mon --output-as=xml'><nodes>"
	"<node name='node1' id='1' online='true' standby='false' standby_onfail='false'"
	" maintenance='false' pending='false' unclean='false' shutdown='false'"
	" expected_up='true' is_dc='true' resources_running='2' type='member'/>"
	"<node name='node2' id='2' online='true' standby='true' standby_onfail='false'"
	" maintenance='false' pending='false' unclean='false' shutdown='false'"
	" expected_up='true' is_dc='false' resources_running='0' type='member'/>"
	"<node name='node3' id='3' online='false' standby='false' standby_onfail='false'"
	" maintenance='false' pending='false' unclean='false' shutdown='false'"
	" expected_up='false' is_dc='false' resources_running='0' type='member'/>"
	"</nodes></pacemaker-result>";

static void test_node_usable(void **state)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) d = ics_xml_parse_string(nodes_xml, -1, "crm_mon", &e);

	(void)state;
	assert_non_null(d);
	assert_true(ics_cib_node_usable(d, "node1", &e));
	assert_false(ics_cib_node_usable(d, "node2", &e));
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(e->message, "standby"));
	g_clear_error(&e);
	assert_false(ics_cib_node_usable(d, "node3", &e));
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(e->message, "offline"));
	g_clear_error(&e);
	assert_false(ics_cib_node_usable(d, "node9", &e));
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(e->message, "node1, node2, node3"));
}

static void test_ids(void **state)
{
	g_autofree char *a = ics_cib_vm_resource_id(NULL, UUID, NULL, NULL);
	g_autofree char *b = ics_cib_pool_clone_id("gold");

	(void)state;
	assert_string_equal(a, VM); /* no name: the id of every VM before names */
	assert_string_equal(b, "ics-pool-gold");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primitive),
		cmocka_unit_test(test_primitive_safe_started),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_resource_state),
		cmocka_unit_test(test_node_usable),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
