/*
 * test_cib_writes.c: every write of the adapter, run through libcib against
 * a copy of a captured CIB (libcib's file variant, selected by CIB_file:
 * the same request processing as the CIB manager, without a cluster), and
 * checked by querying the CIB back -- ids and shapes as Pacemaker's own
 * tools write them, errors for what does not exist, and the undo of a
 * half-made VM definition.  A VM's primitive is named after it by vmpool's
 * rule (a spec without a name gets the older "vm-<uuid>"), is found by its
 * uuid parameter whatever its id, and is renamed in one update.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cluster_test_util.h"
#include "ics/error.h"

#define UUID "0e2b1f6c-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define VM "vm-" UUID

typedef struct {
	char *dir;
	char *path;
	IcsCluster *cluster;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autofree char *src = fixture_path("cib-basic.xml");
	g_autofree char *text = NULL;
	gsize len;
	g_autoptr(GError) e = NULL;

	f->dir = g_dir_make_tmp("ics-cib-writes-XXXXXX", &e);
	assert_non_null(f->dir);
	f->path = g_build_filename(f->dir, "cib.xml", NULL);
	assert_true(g_file_get_contents(src, &text, &len, NULL));
	assert_true(g_file_set_contents(f->path, text, (gssize)len, NULL));
	g_setenv("CIB_file", f->path, TRUE);
	f->cluster = ics_cluster_connect(&e);
	if (f->cluster == NULL)
		fail_msg("connect to %s: %s", f->path, e->message);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	ics_cluster_free(f->cluster);
	g_unsetenv("CIB_file");
	g_unlink(f->path);
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static xmlDoc *query(Fixture *f)
{
	g_autoptr(GError) e = NULL;
	xmlDoc *d = ics_cluster_query(f->cluster, &e);

	if (d == NULL)
		fail_msg("query: %s", e->message);
	return d;
}

static int count(Fixture *f, const char *xpath)
{
	g_autoptr(xmlDoc) d = query(f);

	return ics_xml_xpath_count(d, xpath, NULL);
}

static char *value(Fixture *f, const char *xpath)
{
	g_autoptr(xmlDoc) d = query(f);
	g_autoptr(GError) e = NULL;
	char *v = ics_xml_xpath_string(d, xpath, &e);

	if (v == NULL)
		fail_msg("%s: %s", xpath, e->message);
	return v;
}

static void ok(gboolean r, GError *e)
{
	if (!r)
		fail_msg("%s", e ? e->message : "failed without an error");
}

static const IcsCibVmSpec spec = {
	.uuid = UUID,
	.pool_path = "/srv/ics/pools/shared",
	.pool_name = "shared",
	.vcpus = 2,
	.memory_mib = 256,
	.start = TRUE,
};

static void test_define_and_remove(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
	g_autofree char *role = NULL;

	ok(ics_cluster_define_vm(f->cluster, &spec, &e1), e1);
	assert_int_equal(count(f, "//resources/primitive[@id='" VM "' and @type='vm']"), 1);
	assert_int_equal(count(f, "//constraints/rsc_order[@id='" VM "-after-pool' and "
				  "@first='ics-pool-shared' and @then='" VM "']"),
			 1);
	assert_int_equal(count(f, "//constraints/rsc_colocation[@id='" VM "-with-pool']"), 1);
	/* Created Stopped, then started: one target-role, Started. */
	assert_int_equal(count(f, "//primitive[@id='" VM "']//nvpair[@name='target-role']"), 1);
	role = value(f, "//primitive[@id='" VM "']//nvpair[@name='target-role']/@value");
	assert_string_equal(role, "Started");

	/* Defined twice: a conflict naming the VM. */
	assert_false(ics_cluster_define_vm(f->cluster, &spec, &e2));
	assert_int_equal(e2->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e2->message, UUID));

	ok(ics_cluster_move(f->cluster, VM, "node2", &e3), e3);
	ok(ics_cluster_remove_resource(f->cluster, VM, &e3), e3);
	assert_int_equal(count(f, "//*[@id='" VM "']"), 0);
	assert_int_equal(count(f, "//constraints/*[@rsc='" VM "' or @then='" VM "']"), 0);
	/* The pool clone and everything else is still there. */
	assert_int_equal(count(f, "//clone[@id='ics-pool-shared']"), 1);
	assert_int_equal(count(f, "//primitive[@id='d1']"), 1);

	assert_false(ics_cluster_remove_resource(f->cluster, VM, &e4));
	assert_int_equal(e4->code, ICS_ERROR_NOT_FOUND);
}

/* Many VMs in one update: the one defined already gets CONFLICT, the one
 * with a bad id INVALID_ARGUMENT, the others are all written, stopped. */
static void test_define_many(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	IcsCibVmSpec s[4] = { spec, spec, spec, spec };
	const IcsCibVmSpec *specs[4] = { &s[0], &s[1], &s[2], &s[3] };
	GError *errors[4] = { NULL };

	ok(ics_cluster_define_vm(f->cluster, &spec, &e), e);
	s[0].uuid = "11111111-2222-4333-8444-555555555555";
	s[0].start = FALSE;
	s[1].uuid = "11111111-2222-4333-8444-666666666666";
	s[1].start = FALSE;
	s[2].uuid = "bad'id";
	assert_int_equal(ics_cluster_define_vms(f->cluster, specs, 4, errors), 2);
	assert_null(errors[0]);
	assert_null(errors[1]);
	assert_non_null(errors[2]);
	assert_int_equal(errors[2]->code, ICS_ERROR_INVALID_ARGUMENT);
	assert_non_null(errors[3]);
	assert_int_equal(errors[3]->code, ICS_ERROR_CONFLICT);
	assert_int_equal(count(f, "//resources/primitive[@type='vm']"), 3);
	assert_int_equal(count(f, "//constraints/rsc_order[@then='vm-11111111-2222-4333-8444-"
				  "666666666666']"),
			 1);
	assert_int_equal(count(f, "//primitive[@id='vm-11111111-2222-4333-8444-555555555555']"
				  "//nvpair[@name='target-role' and @value='Stopped']"),
			 1);
	for (guint i = 0; i < 4; i++)
		g_clear_error(&errors[i]);
}

/* Names: the id is the name, or the "vm-" form when the CIB has the name
 * already -- also for two VMs of one update. */
static void test_define_named(void **state)
{
	Fixture *f = *state;
	IcsCibVmSpec s[4] = { spec, spec, spec, spec };
	const IcsCibVmSpec *specs[4] = { &s[0], &s[1], &s[2], &s[3] };
	GError *errors[4] = { NULL };

	s[0].name = "web1";
	s[1].uuid = "11111111-2222-4333-8444-666666666666";
	s[1].name = "web1"; /* the write service refuses this; the ids stay apart */
	s[2].uuid = "11111111-2222-4333-8444-777777777777";
	s[2].name = "d1"; /* a Dummy of the CIB */
	s[3].uuid = "11111111-2222-4333-8444-888888888888";
	s[3].name = "2nd";
	assert_int_equal(ics_cluster_define_vms(f->cluster, specs, 4, errors), 4);
	assert_int_equal(count(f, "//primitive[@id='web1']//nvpair[@name='uuid' and "
				  "@value='" UUID "']"),
			 1);
	assert_int_equal(count(f, "//primitive[@id='vm-web1']//nvpair[@name='uuid' and "
				  "@value='11111111-2222-4333-8444-666666666666']"),
			 1);
	assert_int_equal(count(f, "//primitive[@id='vm-d1' and @type='vm']"), 1);
	assert_int_equal(count(f, "//primitive[@id='d1' and @type='Dummy']"), 1);
	assert_int_equal(count(f, "//primitive[@id='vm-2nd']"), 1);
	assert_int_equal(count(f, "//rsc_order[@id='vm-web1-after-pool' and @then='vm-web1']"), 1);
	assert_int_equal(count(f, "//rsc_colocation[@id='web1-with-pool' and @rsc='web1']"), 1);
}

/* A primitive a crm user made, under an id of its own: found by its uuid
 * (a define is CONFLICT naming it, an edit of the size reaches it). */
static void test_custom_id(void **state)
{
	Fixture *f = *state;
	g_autoptr(xmlDoc) prim = NULL;
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *rsc = NULL, *cpu = NULL;
	IcsCibVmSpec named = spec;
	IcsCibVmSpec bigger = spec;

	prim = ics_xml_parse_string("<primitive id='mine' class='ocf' provider='ics' type='vm'>"
				    "<instance_attributes id='mine-ia'><nvpair id='mine-u' "
				    "name='uuid' value='" UUID "'/></instance_attributes>"
				    "</primitive>",
				    -1, "primitive", &e);
	assert_non_null(prim);
	ok(ics_cluster_create(f->cluster, "resources", prim, &e), e);
	rsc = ics_cluster_vm_resource(f->cluster, UUID, &e);
	assert_string_equal(rsc, "mine");
	named.name = "web1";
	assert_false(ics_cluster_define_vm(f->cluster, &named, &e2));
	assert_int_equal(e2->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e2->message, "resource mine exists"));
	assert_int_equal(count(f, "//primitive[@id='web1']"), 0);
	bigger.vcpus = 8;
	ok(ics_cluster_set_vm_utilization(f->cluster, &bigger, &e), e);
	cpu = value(f, "//primitive[@id='mine']/utilization/nvpair[@name='cpu']/@value");
	assert_string_equal(cpu, "8");
}

/* A rename of a VM that may run (target-role Started) is refused, and the
 * CIB is as it was. */
static void test_rename_started_refused(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *id = NULL;
	IcsCibVmSpec s = spec;

	s.name = "web1";
	ok(ics_cluster_define_vm(f->cluster, &s, &e), e); /* start = TRUE */
	s.name = "shop";
	assert_false(ics_cluster_rename_vm(f->cluster, &s, &id, &e2));
	assert_null(id);
	assert_int_equal(e2->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e2->message, "target-role"));
	assert_int_equal(count(f, "//primitive[@id='web1']"), 1);
	assert_int_equal(count(f, "//*[starts-with(@id, 'shop')]"), 0);
}

static void test_target_role(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL, e3 = NULL;
	g_autofree char *v1 = NULL, *v2 = NULL, *set = NULL;

	/* d1 has a meta_attributes set (allow-migrate) but no target-role:
	 * it goes into that set. */
	ok(ics_cluster_set_target_role(f->cluster, "d1", "Stopped", &e), e);
	v1 = value(f, "//primitive[@id='d1']/meta_attributes/nvpair[@name='target-role']/@value");
	assert_string_equal(v1, "Stopped");
	set = value(f, "//primitive[@id='d1']/meta_attributes[nvpair/@name='target-role']/@id");
	assert_string_equal(set, "d1-meta");
	assert_int_equal(count(f, "//primitive[@id='d1']/meta_attributes"), 1);
	/* Again: updated in place, still one. */
	ok(ics_cluster_set_target_role(f->cluster, "d1", "Started", &e2), e2);
	assert_int_equal(count(f, "//primitive[@id='d1']//nvpair[@name='target-role']"), 1);
	v2 = value(f, "//primitive[@id='d1']//nvpair[@name='target-role']/@value");
	assert_string_equal(v2, "Started");
	/* The allow-migrate beside it is untouched. */
	assert_int_equal(count(f, "//primitive[@id='d1']//nvpair[@name='allow-migrate']"), 1);

	assert_false(ics_cluster_set_target_role(f->cluster, "nope", "Started", &e3));
	assert_int_equal(e3->code, ICS_ERROR_NOT_FOUND);
}

static void test_target_role_new_set(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	g_autofree char *id = NULL;

	/* fence-lab has no meta_attributes at all. */
	ok(ics_cluster_set_target_role(f->cluster, "fence-lab", "Stopped", &e), e);
	id = value(f, "//primitive[@id='fence-lab']/meta_attributes/nvpair/@id");
	assert_string_equal(id, "fence-lab-meta_attributes-target-role");
	/* A clone's own meta attributes (interleave) are where its role goes. */
	ok(ics_cluster_set_target_role(f->cluster, "ics-pool-shared", "Stopped", &e), e);
	assert_int_equal(
		count(f,
		      "//clone[@id='ics-pool-shared']/meta_attributes[@id='ics-pool-shared-meta']"
		      "/nvpair[@name='target-role' and @value='Stopped']"),
		1);
}

static void test_vm_utilization(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *cpu = NULL, *mem = NULL;
	IcsCibVmSpec bigger = spec;
	IcsCibVmSpec absent = spec;

	ok(ics_cluster_define_vm(f->cluster, &spec, &e), e);
	bigger.vcpus = 4;
	bigger.memory_mib = 1024;
	ok(ics_cluster_set_vm_utilization(f->cluster, &bigger, &e), e);
	/* Updated in the primitive's utilization set, one nvpair each. */
	assert_int_equal(count(f, "//primitive[@id='" VM "']/utilization/nvpair"), 2);
	cpu = value(f, "//primitive[@id='" VM "']/utilization/nvpair[@name='cpu']/@value");
	mem = value(f, "//primitive[@id='" VM "']/utilization/nvpair[@name='memory']/@value");
	assert_string_equal(cpu, "4");
	assert_string_equal(mem, "1024");
	/* target-role untouched. */
	assert_int_equal(count(f, "//primitive[@id='" VM "']//nvpair[@name='target-role' and "
				  "@value='Started']"),
			 1);

	absent.uuid = "11111111-2222-4333-8444-555555555555";
	assert_false(ics_cluster_set_vm_utilization(f->cluster, &absent, &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
}

static void test_move_clear(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL, e3 = NULL;
	g_autofree char *node = NULL;

	ok(ics_cluster_move(f->cluster, "d1", "node3", &e), e);
	ok(ics_cluster_move(f->cluster, "d1", "node1", &e), e);
	/* One constraint, the latest node. */
	assert_int_equal(count(f, "//rsc_location[@rsc='d1']"), 1);
	node = value(f, "//rsc_location[@id='cli-prefer-d1']/@node");
	assert_string_equal(node, "node1");
	assert_false(ics_cluster_move(f->cluster, "d1", "node9", &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
	assert_non_null(strstr(e2->message, "node9"));
	assert_false(ics_cluster_move(f->cluster, "d1", "node1' or 'x", &e3));
	assert_int_equal(e3->code, ICS_ERROR_INVALID_ARGUMENT);

	ok(ics_cluster_clear(f->cluster, "d1", &e), e);
	assert_int_equal(count(f, "//rsc_location[@rsc='d1']"), 0);
	/* Nothing to clear is no error. */
	ok(ics_cluster_clear(f->cluster, "d1", &e), e);
}

static void test_standby(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *p = NULL, *t = NULL;

	ok(ics_cluster_set_standby(f->cluster, "node2", TRUE, ICS_ATTR_PERMANENT, &e), e);
	/* The ids crm_attribute -N node2 -n standby -v on uses. */
	p = value(f, "//nodes/node[@id='2']/instance_attributes[@id='nodes-2']"
		     "/nvpair[@id='nodes-2-standby']/@value");
	assert_string_equal(p, "on");
	ok(ics_cluster_set_standby(f->cluster, "node3", TRUE, ICS_ATTR_TRANSIENT, &e), e);
	t = value(f, "//status/node_state[@id='3']/transient_attributes//nvpair[@name='standby']/"
		     "@value");
	assert_string_equal(t, "on");
	assert_int_equal(count(f, "//nodes/node[@id='3']//nvpair[@name='standby']"), 0);

	ok(ics_cluster_set_standby(f->cluster, "node2", FALSE, ICS_ATTR_PERMANENT, &e), e);
	ok(ics_cluster_set_standby(f->cluster, "node3", FALSE, ICS_ATTR_TRANSIENT, &e), e);
	assert_int_equal(count(f, "//nvpair[@name='standby']"), 0);
	/* Off when already off is no error. */
	ok(ics_cluster_set_standby(f->cluster, "node3", FALSE, ICS_ATTR_TRANSIENT, &e), e);

	assert_false(ics_cluster_set_standby(f->cluster, "node7", TRUE, ICS_ATTR_PERMANENT, &e2));
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
}

static void test_property(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autofree char *v = NULL, *v2 = NULL;

	/* An existing property is changed where it is (id opt-stonith-enabled). */
	ok(ics_cluster_set_property(f->cluster, "stonith-enabled", "false", &e), e);
	v = value(f, "//crm_config//nvpair[@id='opt-stonith-enabled']/@value");
	assert_string_equal(v, "false");
	assert_int_equal(count(f, "//crm_config//nvpair[@name='stonith-enabled']"), 1);
	ok(ics_cluster_set_property(f->cluster, "maintenance-mode", "true", &e), e);
	v2 = value(f, "//crm_config/cluster_property_set//nvpair[@name='maintenance-mode']/@value");
	assert_string_equal(v2, "true");
	ok(ics_cluster_set_property(f->cluster, "maintenance-mode", NULL, &e), e);
	assert_int_equal(count(f, "//nvpair[@name='maintenance-mode']"), 0);
	assert_false(ics_cluster_set_property(f->cluster, "bad name", "1", &e2));
	assert_int_equal(e2->code, ICS_ERROR_INVALID_ARGUMENT);
}

static void test_create_and_snapshot(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL, e2 = NULL;
	g_autoptr(xmlDoc) d = ics_xml_parse_string(
		"<primitive id='d2' class='ocf' provider='pacemaker' type='Dummy'/>", -1, "d2", &e);
	g_autofree char *crm_mon = g_find_program_in_path("crm_mon");

	assert_non_null(d);
	ok(ics_cluster_create(f->cluster, "resources", d, &e), e);
	assert_false(ics_cluster_create(f->cluster, "resources", d, &e2));
	assert_int_equal(e2->code, ICS_ERROR_CONFLICT);
	if (crm_mon) {
		g_autoptr(IcsClusterSnapshot) s = ics_cluster_snapshot(f->cluster, &e);

		if (s == NULL)
			fail_msg("%s", e->message);
		assert_non_null(ics_cluster_snapshot_resource(s, "d2"));
		assert_false(ics_cluster_snapshot_resource(s, "d2")->active);
	}
}

static void on_change(IcsCluster *cluster, IcsClusterChange what, gpointer data)
{
	(void)cluster;
	(void)what;
	(void)data;
	fail_msg("a CIB file sent a notification");
}

static void test_watch_needs_a_cluster(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;

	/* A CIB file sends no notifications: the error says so instead of a
	 * watch that never fires. */
	assert_int_equal(ics_cluster_watch(f->cluster, on_change, NULL, &e), 0);
	assert_non_null(e);
	assert_non_null(strstr(e->message, "cannot subscribe to CIB changes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_define_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_define_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_define_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_started_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_role_new_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_utilization, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_property, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_and_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_needs_a_cluster, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
