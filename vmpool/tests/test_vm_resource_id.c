/*
 * test_vm_resource_id.c: the resource id of a VM -- the rule (names that
 * are ids, names that are not: leading digits, dots, spaces, unicode, the
 * reserved "ics-" prefix; collisions with other objects, with another VM's
 * derived ids, with the VMs of the same update), the look-up of a VM's
 * primitive by its uuid whatever its id (old "vm-<uuid>" ones included),
 * the query a define sends, and the update that renames a stopped VM,
 * checked with XPath on a CIB that holds a bit of everything.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ics/cib_objects.h"
#include "ics/error.h"
#include "ics/xml.h"

#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define U_WEB "0e2b1f6c-1111-4222-8333-444455556666"
#define U_OLD "9a8b7c6d-1111-4222-8333-444455556666"
#define U_RUN "1c2d3e4f-1111-4222-8333-444455556666"

/* An ocf:ics:vm primitive as ICS writes it, and its two constraints. */
static char *vm_objects(const char *id, const char *uuid, const char *role, GString *cons)
{
	g_string_append_printf(cons,
			       "<rsc_order id='%s-after-pool' kind='Mandatory' "
			       "first='ics-pool-shared' then='%s'/>"
			       "<rsc_colocation id='%s-with-pool' score='INFINITY' rsc='%s' "
			       "with-rsc='ics-pool-shared'/>",
			       id, id, id, id);
	return g_strdup_printf(
		"<primitive id='%1$s' class='ocf' provider='ics' type='vm'>"
		"<instance_attributes id='%1$s-instance_attributes'>"
		"<nvpair id='%1$s-instance_attributes-uuid' name='uuid' value='%2$s'/>"
		"<nvpair id='%1$s-instance_attributes-pool' name='pool' "
		"value='/srv/ics/pools/shared'/></instance_attributes>"
		"<meta_attributes id='%1$s-meta_attributes'>"
		"<nvpair id='%1$s-meta_attributes-target-role' name='target-role' value='%3$s'/>"
		"</meta_attributes><utilization id='%1$s-utilization'>"
		"<nvpair id='%1$s-utilization-cpu' name='cpu' value='1'/>"
		"<nvpair id='%1$s-utilization-memory' name='memory' value='64'/></utilization>"
		"<operations><op id='%1$s-monitor-interval-5s' name='monitor' interval='5s' "
		"timeout='30s'/></operations></primitive>",
		id, uuid, role);
}

/* A CIB with a stonith device, a pool clone, a user's Dummy (with a uuid
 * parameter of its own), a VM named by ICS ("web1", stopped, with a move
 * constraint and a location of the user's), an old "vm-<uuid>" VM and a
 * running one.  g_free. */
static char *cib_text(void)
{
	g_autoptr(GString) cons = g_string_new(NULL);
	g_autofree char *web1 = vm_objects("web1", U_WEB, "Stopped", cons);
	g_autofree char *old = vm_objects("vm-" U_OLD, U_OLD, "Stopped", cons);
	g_autofree char *run1 = vm_objects("run1", U_RUN, "Started", cons);

	return g_strconcat(
		"<cib><configuration><crm_config><cluster_property_set "
		"id='cib-bootstrap-options'><nvpair id='opt-stonith-enabled' "
		"name='stonith-enabled' value='true'/></cluster_property_set></crm_config>"
		"<nodes/><resources>"
		"<primitive id='fence-lab' class='stonith' type='fence_ics_lab'/>"
		"<clone id='ics-pool-shared'><primitive id='ics-pool-shared-rsc' class='ocf' "
		"provider='ics' type='pool'/></clone>"
		"<primitive id='d1' class='ocf' provider='pacemaker' type='Dummy'>"
		"<instance_attributes id='d1-ia'><nvpair id='d1-uuid' name='uuid' value='" UUID
		"'/></instance_attributes></primitive>",
		web1, old, run1, "</resources><constraints>", cons->str,
		"<rsc_location id='cli-prefer-web1' rsc='web1' role='Started' node='node2' "
		"score='INFINITY'/>"
		"<rsc_location id='loc-web1' rsc='web1' node='node3' score='100'/>"
		"</constraints></configuration><status/></cib>",
		NULL);
}

static xmlDoc *parse(const char *text)
{
	g_autoptr(GError) e = NULL;
	xmlDoc *d = ics_xml_parse_string(text, -1, "test CIB", &e);

	if (d == NULL)
		fail_msg("%s", e->message);
	return d;
}

static xmlDoc *cib(void)
{
	g_autofree char *text = cib_text();

	return parse(text);
}

static char *rule(const char *name, const char *uuid, GHashTable *taken)
{
	g_autoptr(GError) e = NULL;
	char *id = ics_cib_vm_resource_id(name, uuid, taken, &e);

	if (id == NULL)
		fail_msg("rule(%s): %s", name, e->message);
	return id;
}

static void expect_rule(const char *name, GHashTable *taken, const char *want)
{
	g_autofree char *id = rule(name, UUID, taken);

	if (strcmp(id, want) != 0)
		fail_msg("rule(\"%s\") = \"%s\", expected \"%s\"", name ? name : "(null)", id,
			 want);
	assert_true(ics_cib_id_valid(id));
}

static void test_rule_names(void **state)
{
	g_autofree char *long_name = g_strnfill(300, 'a');
	g_autofree char *long_want = g_strconcat("vm-", long_name, NULL);

	(void)state;
	/* A name that is an id is the id. */
	expect_rule("web1", NULL, "web1");
	expect_rule("db.prod", NULL, "db.prod");
	expect_rule("_x-1", NULL, "_x-1");
	expect_rule("demo-vm1", NULL, "demo-vm1");
	expect_rule("vm-a", NULL, "vm-a");
	/* Not an id: "vm-" + the name, odd characters made '_'. */
	expect_rule("1web", NULL, "vm-1web");
	expect_rule("2024.db", NULL, "vm-2024.db");
	expect_rule(".hidden", NULL, "vm-.hidden");
	expect_rule("my vm", NULL, "vm-my_vm");
	expect_rule("a  /  b", NULL, "vm-a_b");
	expect_rule("web'1", NULL, "vm-web_1");
	expect_rule("caf\xc3\xa9", NULL, "vm-caf_");
	expect_rule("\xe6\x97\xa5\xe6\x9c\xac-1", NULL, "vm-_-1");
	/* ICS's own objects' prefix. */
	expect_rule("ics-manager", NULL, "vm-ics-manager");
	/* Nothing left of the name: the id of every VM before names. */
	expect_rule("\xe2\x98\x83", NULL, "vm-" UUID);
	expect_rule("", NULL, "vm-" UUID);
	expect_rule(NULL, NULL, "vm-" UUID);
	/* Ids stay within 255 characters. */
	long_want[3 + 200] = '\0';
	expect_rule(long_name, NULL, long_want);
}

static void test_rule_collisions(void **state)
{
	g_autoptr(xmlDoc) d = cib();
	g_autoptr(GHashTable) taken = ics_cib_ids(d);
	g_autoptr(GError) e = NULL;

	(void)state;
	assert_true(g_hash_table_contains(taken, "web1-utilization-cpu"));
	/* Another object has the name: the "vm-" form. */
	expect_rule("d1", taken, "vm-d1");
	expect_rule("fence-lab", taken, "vm-fence-lab");
	expect_rule("cib-bootstrap-options", taken, "vm-cib-bootstrap-options");
	expect_rule("opt-stonith-enabled", taken, "vm-opt-stonith-enabled");
	/* Another VM has it (ICS refuses the name before; the rule alone
	 * still never shares an id). */
	expect_rule("web1", taken, "vm-web1");
	/* The name is the id of an element inside another VM. */
	expect_rule("web1-utilization", taken, "vm-web1-utilization");
	/* The name is free, but an id derived from it is not. */
	g_hash_table_add(taken, g_strdup("x-after-pool"));
	expect_rule("x", taken, "vm-x");
	g_hash_table_add(taken, g_strdup("vm-x-meta_attributes-target-role"));
	expect_rule("x", taken, "vm-x-6f1c3c0e");
	g_hash_table_add(taken, g_strdup("vm-x-6f1c3c0e"));
	expect_rule("x", taken, "vm-x-" UUID);
	g_hash_table_add(taken, g_strdup("vm-x-" UUID "-with-pool"));
	assert_null(ics_cib_vm_resource_id("x", UUID, taken, &e));
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(e->message, "x, vm-x, vm-x-6f1c3c0e, vm-x-" UUID));
	/* Two VMs of one update: the second sees the first's ids. */
	{
		g_autofree char *a = rule("web2", UUID, taken);
		g_autofree char *b = NULL;

		ics_cib_vm_take_ids(a, taken);
		assert_true(g_hash_table_contains(taken, "web2-with-pool"));
		b = rule("web2", U_WEB, taken);
		assert_string_equal(a, "web2");
		assert_string_equal(b, "vm-web2");
	}
	/* The old form is taken by the old VM. */
	g_clear_error(&e);
	{
		g_autofree char *id = ics_cib_vm_resource_id(NULL, U_OLD, taken, &e);

		assert_null(id);
		assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_CONFLICT));
	}
}

static void test_find(void **state)
{
	g_autoptr(xmlDoc) d = cib();
	g_autofree char *a = ics_cib_vm_find_id(d, U_WEB);
	g_autofree char *b = ics_cib_vm_find_id(d, "9A8B7C6D-1111-4222-8333-444455556666");
	g_autofree char *c = ics_cib_vm_find_id(d, UUID);

	(void)state;
	assert_string_equal(a, "web1");
	assert_string_equal(b, "vm-" U_OLD); /* an old primitive, any case */
	assert_null(c);			     /* d1 has a uuid parameter but is no VM */
	assert_null(ics_cib_vm_find(d, NULL));
	assert_null(ics_cib_vm_find(NULL, U_WEB));
}

static void test_define_xpath(void **state)
{
	g_autoptr(xmlDoc) d = cib();
	const IcsCibVmSpec a = { .uuid = UUID, .name = "d1" };
	const IcsCibVmSpec b = { .uuid = U_WEB, .name = "other" };
	const IcsCibVmSpec bad = { .uuid = "x' or '1'='1", .name = "d2" };
	const IcsCibVmSpec *specs[] = { &a, NULL, &b };
	const IcsCibVmSpec *bads[] = { &bad };
	g_autoptr(GError) e = NULL;
	g_autofree char *xp = ics_cib_vm_define_xpath(specs, 3, &e);
	g_autofree char *bxp = NULL;
	g_autofree char *found = NULL;
	g_autoptr(GHashTable) ids = NULL;
	g_autoptr(xmlXPathContext) ctx = NULL;
	g_autoptr(xmlXPathObject) res = NULL;

	(void)state;
	if (xp == NULL)
		fail_msg("%s", e->message);
	ctx = xmlXPathNewContext(d);
	res = xmlXPathEvalExpression(BAD_CAST xp, ctx);
	assert_non_null(res);
	assert_non_null(res->nodesetval);
	/* d1 and what is in it, and web1 by its uuid; nothing else. */
	ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < res->nodesetval->nodeNr; i++) {
		g_autoptr(xmlChar) id = xmlGetProp(res->nodesetval->nodeTab[i], BAD_CAST "id");

		g_hash_table_add(ids, g_strdup((const char *)id));
	}
	assert_true(g_hash_table_contains(ids, "d1"));
	assert_true(g_hash_table_contains(ids, "d1-ia"));
	assert_true(g_hash_table_contains(ids, "web1"));
	assert_false(g_hash_table_contains(ids, "fence-lab"));
	assert_int_equal(g_hash_table_size(ids), 4); /* d1, d1-ia, d1-uuid, web1 */
	found = ics_cib_vm_find_id(d, U_WEB);
	assert_string_equal(found, "web1");
	/* uuids go into the expression: only real ones. */
	bxp = ics_cib_vm_define_xpath(bads, 1, &e);
	assert_null(bxp);
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static xmlDoc *rename_ok(xmlDoc *d, const char *uuid, const char *name, const char *want_id)
{
	const IcsCibVmSpec s = { .uuid = uuid, .name = name, .vcpus = 4, .memory_mib = 512 };
	g_autoptr(GError) e = NULL;
	g_autofree char *id = NULL;
	xmlDoc *u = ics_cib_vm_rename(d, &s, &id, &e);

	if (u == NULL)
		fail_msg("rename %s to %s: %s", uuid, name, e->message);
	assert_string_equal(id, want_id);
	return u;
}

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

static void test_rename_stopped(void **state)
{
	g_autoptr(xmlDoc) d = cib();
	g_autoptr(xmlDoc) u = rename_ok(d, U_WEB, "shop", "shop");

	(void)state;
	/* The old primitive goes, the new one carries everything, renamed. */
	assert_int_equal(count(u, "/configuration/resources/primitive[@id='web1' and "
				  "@__delete__='true' and not(*)]"),
			 1);
	assert_int_equal(count(u, "/configuration/resources/primitive[@id='shop']"), 1);
	assert_int_equal(count(u, "//primitive[@id='shop']//*[starts-with(@id, 'web1')]"), 0);
	expect(u, "//primitive[@id='shop']/instance_attributes/nvpair[@name='uuid']/@value", U_WEB);
	expect(u, "//primitive[@id='shop']/instance_attributes/nvpair[@name='uuid']/@id",
	       "shop-instance_attributes-uuid");
	expect(u, "//primitive[@id='shop']//nvpair[@name='target-role']/@value", "Stopped");
	expect(u, "//primitive[@id='shop']/utilization/nvpair[@name='cpu']/@value", "4");
	expect(u, "//primitive[@id='shop']/utilization/nvpair[@name='memory']/@value", "512");
	expect(u, "//primitive[@id='shop']/operations/op/@id", "shop-monitor-interval-5s");
	/* Its constraints follow: ICS's and crm_resource's by id, the user's
	 * location in place. */
	assert_int_equal(count(u, "//rsc_order[@id='web1-after-pool' and @__delete__]"), 1);
	expect(u, "//rsc_order[@id='shop-after-pool']/@then", "shop");
	expect(u, "//rsc_order[@id='shop-after-pool']/@first", "ics-pool-shared");
	assert_int_equal(count(u, "//rsc_colocation[@id='web1-with-pool' and @__delete__]"), 1);
	expect(u, "//rsc_colocation[@id='shop-with-pool']/@rsc", "shop");
	assert_int_equal(count(u, "//rsc_location[@id='cli-prefer-web1' and @__delete__]"), 1);
	expect(u, "//rsc_location[@id='cli-prefer-shop']/@rsc", "shop");
	expect(u, "//rsc_location[@id='cli-prefer-shop']/@node", "node2");
	expect(u, "//rsc_location[@id='loc-web1']/@rsc", "shop");
	assert_int_equal(count(u, "//rsc_location[@id='loc-web1' and (@__delete__ or @node)]"), 0);
	/* Nothing of the other VMs. */
	assert_int_equal(count(u, "//*[contains(@id, '" U_OLD "') or starts-with(@id, 'run1')]"),
			 0);
}

static void test_rename_old_and_taken(void **state)
{
	g_autoptr(xmlDoc) d = cib();
	g_autoptr(xmlDoc) u = rename_ok(d, U_OLD, "legacy", "legacy");
	g_autoptr(xmlDoc) u2 = rename_ok(d, U_OLD, "d1", "vm-d1");
	g_autoptr(xmlDoc) u3 = rename_ok(d, U_WEB, "3tier", "vm-3tier");

	(void)state;
	/* An old "vm-<uuid>" VM gets the id of its name at its rename. */
	assert_int_equal(count(u, "//primitive[@id='vm-" U_OLD "' and @__delete__]"), 1);
	expect(u, "//rsc_colocation[@id='legacy-with-pool']/@rsc", "legacy");
	/* The name's id is another object's: the "vm-" form. */
	expect(u2, "//rsc_order[@id='vm-d1-after-pool']/@then", "vm-d1");
	expect(u3, "//rsc_location[@id='loc-web1']/@rsc", "vm-3tier");
}

static void test_rename_same_id(void **state)
{
	g_autoptr(xmlDoc) d = cib();
	g_autoptr(xmlDoc) u = rename_ok(d, U_WEB, "web1", "web1");
	g_autoptr(xmlDoc) r = rename_ok(d, U_RUN, "run1", "run1");

	(void)state;
	/* Same id: no delete, only the size -- also while it runs. */
	assert_int_equal(count(u, "//*[@__delete__]"), 0);
	assert_int_equal(count(u, "//constraints/*"), 0);
	expect(u, "//primitive[@id='web1']/utilization/nvpair[@name='cpu']/@value", "4");
	expect(r, "//primitive[@id='run1']/utilization/nvpair[@name='memory']/@value", "512");
}

static void rename_refused(const char *text, const char *uuid, const char *name, int code,
			   const char *words)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) d = parse(text);
	const IcsCibVmSpec s = { .uuid = uuid, .name = name, .vcpus = 1, .memory_mib = 64 };
	g_autofree char *id = NULL;
	g_autoptr(xmlDoc) u = NULL;

	u = ics_cib_vm_rename(d, &s, &id, &e);
	assert_null(u);
	assert_null(id);
	if (!g_error_matches(e, ICS_ERROR, code) || strstr(e->message, words) == NULL)
		fail_msg("rename %s to %s: %s", uuid, name, e ? e->message : "no error");
}

static void test_rename_refused(void **state)
{
	g_autofree char *text = cib_text();
	g_autofree char *in_set = NULL;
	g_autofree char *in_group = NULL;
	g_autofree char *custom = NULL;
	GString *s;

	(void)state;
	/* It may run: Pacemaker would stop one resource and start another. */
	rename_refused(text, U_RUN, "run2", ICS_ERROR_CONFLICT, "target-role");
	rename_refused(text, UUID, "x", ICS_ERROR_NOT_FOUND, "no ocf:ics:vm primitive");
	/* Named in a resource set. */
	s = g_string_new(text);
	g_string_replace(s, "</constraints>",
			 "<rsc_order id='o-set'><resource_set id='o-set-0'><resource_ref "
			 "id='d1'/><resource_ref id='web1'/></resource_set></rsc_order>"
			 "</constraints>",
			 1);
	in_set = g_string_free(s, FALSE);
	rename_refused(in_set, U_WEB, "shop", ICS_ERROR_CONFLICT, "rsc_order \"o-set\"");
	/* Inside a group. */
	s = g_string_new(text);
	g_string_replace(s, "<primitive id='web1'", "<group id='g1'><primitive id='web1'", 1);
	g_string_replace(s, "</primitive><primitive id='vm-",
			 "</primitive></group><primitive id='vm-", 1);
	in_group = g_string_free(s, FALSE);
	rename_refused(in_group, U_WEB, "shop", ICS_ERROR_CONFLICT, "group \"g1\"");
	/* An id of the user's inside the primitive follows the new id and
	 * finds it taken. */
	s = g_string_new(text);
	g_string_replace(s, "<operations>", "<meta_attributes id='web1-mine'/><operations>", 1);
	g_string_replace(s, "</resources>",
			 "<primitive id='x1' class='ocf' provider='pacemaker' type='Dummy'>"
			 "<meta_attributes id='shop-mine'/></primitive></resources>",
			 1);
	custom = g_string_free(s, FALSE);
	rename_refused(custom, U_WEB, "shop", ICS_ERROR_CONFLICT, "\"shop-mine\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_names),     cmocka_unit_test(test_rule_collisions),
		cmocka_unit_test(test_find),	       cmocka_unit_test(test_define_xpath),
		cmocka_unit_test(test_rename_stopped), cmocka_unit_test(test_rename_old_and_taken),
		cmocka_unit_test(test_rename_same_id), cmocka_unit_test(test_rename_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
