/*
 * test_change_hint.c: what a cib_diff_notify message says changed --
 * real messages captured from the lab (a node attribute, operation history)
 * and the shapes around them (resources, constraints, properties, a diff
 * that only moves the version, v1 diffs and messages without a diff).
 */
#include "config.h"

#include <string.h>

#include "cluster_test_util.h"

static IcsClusterChange hint_of(const char *xml)
{
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) d = ics_xml_parse_string(xml, -1, "notify", &e);

	if (d == NULL)
		fail_msg("%s", e->message);
	return ics_cluster_change_from_notify(xmlDocGetRootElement(d));
}

static char *notify_with(const char *paths)
{
	GString *s = g_string_new("<notify t='cib_notify' subt='cib_diff_notify'>"
				  "<cib_update_result><diff format='2'>"
				  "<change operation='modify' path='/cib'/>");
	g_auto(GStrv) p = g_strsplit(paths, " ", -1);

	for (int i = 0; p[i]; i++)
		g_string_append_printf(s, "<change operation='create' path=\"%s\"/>", p[i]);
	g_string_append(s, "</diff></cib_update_result></notify>");
	return g_string_free(s, FALSE);
}

static void test_captured(void **state)
{
	g_autoptr(xmlDoc) d = load_fixture("notify-diff.xml");
	IcsClusterChange want[] = { ICS_CLUSTER_CHANGE_NODES, ICS_CLUSTER_CHANGE_STATUS,
				    ICS_CLUSTER_CHANGE_STATUS };
	int i = 0;

	(void)state;
	for (xmlNode *n = xmlDocGetRootElement(d)->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		assert_true(i < 3);
		assert_int_equal(ics_cluster_change_from_notify(n), want[i]);
		i++;
	}
	assert_int_equal(i, 3);
}

static void test_sections(void **state)
{
	g_autofree char *r = notify_with("/cib/configuration/resources/primitive[@id='d1']");
	g_autofree char *c = notify_with("/cib/configuration/constraints");
	g_autofree char *p =
		notify_with("/cib/configuration/crm_config/cluster_property_set[@id='x']"
			    " /cib/configuration/rsc_defaults");
	g_autofree char *m =
		notify_with("/cib/configuration/resources /cib/status/node_state[@id='1']");
	g_autofree char *all = notify_with("/cib/configuration");

	(void)state;
	assert_int_equal(hint_of(r), ICS_CLUSTER_CHANGE_RESOURCES);
	assert_int_equal(hint_of(c), ICS_CLUSTER_CHANGE_CONSTRAINTS);
	assert_int_equal(hint_of(p), ICS_CLUSTER_CHANGE_PROPERTIES);
	assert_int_equal(hint_of(m), ICS_CLUSTER_CHANGE_RESOURCES | ICS_CLUSTER_CHANGE_STATUS);
	/* The whole configuration replaced: everything may have changed. */
	assert_int_equal(hint_of(all), ICS_CLUSTER_CHANGE_ALL);
	/* "/cib/configuration/resourcesX" is not the resources section. */
	{
		g_autofree char *x = notify_with("/cib/configuration/resourcesX");

		assert_int_equal(hint_of(x), ICS_CLUSTER_CHANGE_PROPERTIES);
	}
}

static void test_version_only(void **state)
{
	(void)state;
	assert_int_equal(hint_of("<notify><cib_update_result><diff format='2'>"
				 "<change operation='modify' path='/cib'/></diff>"
				 "</cib_update_result></notify>"),
			 0);
}

static void test_unknown_means_all(void **state)
{
	(void)state;
	assert_int_equal(
		hint_of("<notify><cib_update_result><diff format='1'>"
			"<diff-added/><diff-removed/></diff></cib_update_result></notify>"),
		ICS_CLUSTER_CHANGE_ALL);
	assert_int_equal(hint_of("<notify/>"), ICS_CLUSTER_CHANGE_ALL);
	assert_int_equal(
		hint_of("<notify><cib_update_result><diff format='2'>"
			"<change operation='delete'/></diff></cib_update_result></notify>"),
		ICS_CLUSTER_CHANGE_ALL);
	assert_int_equal(ics_cluster_change_from_notify(NULL), ICS_CLUSTER_CHANGE_ALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_version_only),
		cmocka_unit_test(test_unknown_means_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
