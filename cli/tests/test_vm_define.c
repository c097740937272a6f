/*
 * test_vm_define.c: define and undefine against a real pool in a temporary
 * directory and a fake Pacemaker -- one CIB update per define (the
 * primitive, named after the VM, and both constraints), the calls of
 * undefine in order, and nothing left behind (no slot, no definition, no
 * CIB object) when any step fails; names taken anywhere in the cluster are
 * refused, an id taken in the CIB gives the "vm-" form, and primitives of
 * older CIBs ("vm-<uuid>") are found by their uuid.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli_test_util.h"
#include "ics/vm_on_pool.h"
#include "vm_backend.h"

#define UUID "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"

typedef struct {
	char *dir;
	char *pool;
	FakeCib fake;
	IcsAdmin adm;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->dir = g_dir_make_tmp("ics-cli-XXXXXX", NULL);
	f->pool = test_make_pool(f->dir, "shared");
	fake_init(&f->fake, &f->adm.cib);
	f->adm.pools_dir = f->dir;
	f->adm.poll_ms = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	test_rm_rf(f->dir);
	fake_clear(&f->fake);
	g_free(f->pool);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static void request(Fixture *f, IcsAdminDefine *req, const char *name, const char *uuid)
{
	g_autofree char *disk = g_build_filename(f->pool, "disk.img", NULL);

	memset(req, 0, sizeof(*req));
	req->definition = json_pack("{s:s, s:s, s:i, s:i, s:s, s:[{s:s}]}", "uuid", uuid, "name",
				    name, "vcpus", 1, "memory_mib", 64, "virt_type", "qemu", "disks",
				    "path", disk);
	req->pool_path = g_strdup(f->pool);
	req->migration_unsafe = ICS_ADMIN_UNSAFE_AUTO;
}

static gboolean slot_taken(Fixture *f, const char *uuid)
{
	g_autoptr(IcsPool) p = ics_pool_open(f->pool, NULL, NULL);

	assert_non_null(p);
	return ics_slot_lookup(p, uuid, NULL) >= 0;
}

static gboolean defined(Fixture *f, const char *uuid)
{
	g_autoptr(IcsVmMeta) m = ics_vm_store_load(f->pool, uuid, NULL);

	return m != NULL;
}

static void test_define_ok(void **state)
{
	Fixture *f = *state;
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) rec = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	const char *text;
	int update;

	request(f, &req, "web1", UUID);
	req.start = TRUE;
	rec = ics_admin_vm_define(&f->adm, &req, &e);
	if (rec == NULL)
		fail_msg("%s", e->message);
	assert_string_equal(json_string_value(json_object_get(rec, "uuid")), UUID);
	assert_true(slot_taken(f, UUID));
	m = ics_vm_store_load(f->pool, UUID, &e);
	assert_non_null(m);
	assert_true(m->has_lease);
	assert_string_equal(m->lease_lockspace, "ics-shared");
	assert_true(m->lease_offset >= 1048576 && m->lease_offset % 1048576 == 0);
	/* One update: the primitive, already Started (Pacemaker sees it with
	 * its constraints or not at all), and both constraints. */
	update = fake_find(&f->fake,
			   "cibadmin --modify --allow-create --scope configuration --xml-text "
			   "<configuration><resources><primitive id=\"web1\"");
	assert_true(update >= 0);
	text = f->fake.calls->pdata[update];
	assert_non_null(strstr(text, "name=\"uuid\" value=\"" UUID "\""));
	assert_non_null(strstr(text, "name=\"target-role\" value=\"Started\""));
	assert_non_null(strstr(text, "<rsc_order id=\"web1-after-pool\""));
	assert_non_null(strstr(text, "<rsc_colocation id=\"web1-with-pool\""));
	assert_string_equal(json_string_value(json_object_get(rec, "resource")), "web1");
	/* A directory pool is not a cluster filesystem: auto sets migration_unsafe. */
	assert_non_null(strstr(text, "name=\"migration_unsafe\""));
	/* Nothing else was written. */
	for (guint i = 0; i < f->fake.calls->len; i++) {
		const char *c = f->fake.calls->pdata[i];

		if ((int)i != update && strstr(c, "--query") == NULL && strstr(c, "crm_mon") == NULL)
			fail_msg("another CIB call: %s", c);
	}
}

/* Fail each CIB step in turn: nothing of the VM may remain. */
static void check_rollback(Fixture *f, const char *fail_match, int status, int expect_code,
			   const char *const *expect_deletes)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) rec = NULL;

	g_ptr_array_set_size(f->fake.calls, 0);
	f->fake.fail_match = fail_match;
	f->fake.fail_status = status;
	request(f, &req, "web1", UUID);
	req.start = TRUE;
	rec = ics_admin_vm_define(&f->adm, &req, &e);
	assert_null(rec);
	assert_non_null(e);
	assert_int_equal(e->code, expect_code);
	assert_non_null(strstr(e->message, "vm \"web1\""));
	assert_false(slot_taken(f, UUID));
	assert_false(defined(f, UUID));
	for (int i = 0; expect_deletes[i]; i++)
		if (fake_find(&f->fake, expect_deletes[i]) < 0)
			fail_msg("after failing \"%s\": no call with \"%s\"", fail_match,
				 expect_deletes[i]);
}

static void test_rollback(void **state)
{
	Fixture *f = *state;
	static const char *const none[] = { NULL };

	/* The CIB refuses the update: the pool steps are undone, and there is
	 * nothing in the CIB to remove. */
	check_rollback(f, "--modify --allow-create", 1, ICS_ERROR_EXEC, none);
	assert_int_equal(fake_find(&f->fake, "--delete"), -1);
	/* cibadmin: 76 = CRM_EX_EXISTS. */
	check_rollback(f, "--modify --allow-create", 76, ICS_ERROR_CONFLICT, none);
}

static void test_rollback_on_cib_timeout(void **state)
{
	Fixture *f = *state;
	static const char *const none[] = { NULL };

	check_rollback(f, "--modify --allow-create", 124, ICS_ERROR_TIMEOUT, none);
}

/* A primitive of the VM's uuid already in the CIB (without a definition),
 * whatever its id: refused before anything is written. */
static void test_orphan_primitive(void **state)
{
	Fixture *f = *state;
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) rec = NULL;

	f->fake.query_xml = "<configuration><resources><primitive id=\"someone\" class=\"ocf\" "
			    "provider=\"ics\" type=\"vm\"><instance_attributes id=\"ia\">"
			    "<nvpair id=\"u\" name=\"uuid\" value=\"" UUID "\"/>"
			    "</instance_attributes></primitive></resources></configuration>";
	request(f, &req, "web1", UUID);
	rec = ics_admin_vm_define(&f->adm, &req, &e);
	assert_null(rec);
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e->message, "resource someone is already in the CIB"));
	assert_false(slot_taken(f, UUID));
	assert_false(defined(f, UUID));
	assert_int_equal(fake_find(&f->fake, "--modify"), -1);
}

static void test_invalid_touches_nothing(void **state)
{
	Fixture *f = *state;
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) rec = NULL;

	request(f, &req, "web1", UUID);
	json_object_set_new(req.definition, "vcpus", json_integer(0));
	rec = ics_admin_vm_define(&f->adm, &req, &e);
	assert_null(rec);
	assert_int_equal(e->code, ICS_ERROR_INVALID_ARGUMENT);
	assert_int_equal(f->fake.calls->len, 0);
	assert_false(slot_taken(f, UUID));

	/* A disk outside the pool is only found with the pool: still undone. */
	{
		g_auto(IcsAdminDefine) r2 = { 0 };
		g_autoptr(GError) e2 = NULL;
		g_autoptr(json_t) rec2 = NULL;

		request(f, &r2, "web1", UUID);
		json_object_set_new(r2.definition, "disks",
				    json_pack("[{s:s}]", "path", "/etc/passwd"));
		rec2 = ics_admin_vm_define(&f->adm, &r2, &e2);
		assert_null(rec2);
		assert_int_equal(e2->code, ICS_ERROR_INVALID_ARGUMENT);
		assert_false(slot_taken(f, UUID));
		/* The CIB was only read. */
		for (guint i = 0; i < f->fake.calls->len; i++)
			assert_non_null(strstr(f->fake.calls->pdata[i], "--query"));
	}
}

static void test_duplicates(void **state)
{
	Fixture *f = *state;
	g_auto(IcsAdminDefine) a = { 0 };
	g_auto(IcsAdminDefine) b = { 0 };
	g_auto(IcsAdminDefine) c = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(json_t) r = NULL;
	g_autoptr(json_t) r2 = NULL;
	g_autoptr(json_t) r3 = NULL;

	request(f, &a, "web1", UUID);
	r = ics_admin_vm_define(&f->adm, &a, &e);
	assert_non_null(r);
	request(f, &b, "web1", "0e2b7c2a-1111-4222-8333-444455556666");
	r2 = ics_admin_vm_define(&f->adm, &b, &e);
	assert_null(r2);
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	request(f, &c, "web2", UUID);
	r3 = ics_admin_vm_define(&f->adm, &c, &e2);
	assert_null(r3);
	assert_int_equal(e2->code, ICS_ERROR_CONFLICT);
	assert_true(defined(f, UUID)); /* the first one is untouched */
}

/* The primitive's id when the name cannot be one: another object of the
 * CIB has it, or it starts with a digit. */
static void test_resource_id_forms(void **state)
{
	Fixture *f = *state;
	g_auto(IcsAdminDefine) a = { 0 };
	g_auto(IcsAdminDefine) b = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) r = NULL;
	g_autoptr(json_t) r2 = NULL;

	f->fake.query_xml = "<configuration><resources><primitive id=\"web1\" class=\"ocf\" "
			    "provider=\"pacemaker\" type=\"Dummy\"/></resources></configuration>";
	request(f, &a, "web1", UUID);
	r = ics_admin_vm_define(&f->adm, &a, &e);
	if (r == NULL)
		fail_msg("%s", e->message);
	assert_string_equal(json_string_value(json_object_get(r, "resource")), "vm-web1");
	assert_true(fake_find(&f->fake, "<primitive id=\"vm-web1\"") >= 0);
	assert_true(fake_find(&f->fake, "<rsc_order id=\"vm-web1-after-pool\"") >= 0);

	f->fake.query_xml = NULL;
	request(f, &b, "1web", "0e2b7c2a-1111-4222-8333-444455556666");
	r2 = ics_admin_vm_define(&f->adm, &b, &e);
	if (r2 == NULL)
		fail_msg("%s", e->message);
	assert_string_equal(json_string_value(json_object_get(r2, "resource")), "vm-1web");
}

/* A VM of that name on a pool outside the pools directory that only the
 * CIB names: still refused, naming it. */
static void test_duplicate_on_cib_pool(void **state)
{
	Fixture *f = *state;
	g_autofree char *far_dir = g_dir_make_tmp("ics-cli-far-XXXXXX", NULL);
	g_autofree char *far = test_make_pool(far_dir, "far");
	g_autofree char *query = NULL;
	g_autoptr(IcsPool) pool = ics_pool_open(far, NULL, NULL);
	g_autoptr(json_t) def = json_pack("{s:s, s:s, s:i, s:i, s:s}", "uuid",
					  "0e2b7c2a-1111-4222-8333-444455556666", "name", "web1",
					  "vcpus", 1, "memory_mib", 64, "virt_type", "qemu");
	g_autoptr(IcsVmMeta) saved = NULL;
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) rec = NULL;

	assert_non_null(pool);
	saved = ics_vm_pool_save(pool, def, NULL, &e);
	if (saved == NULL)
		fail_msg("%s", e->message);
	query = g_strdup_printf("<configuration><resources><primitive id=\"web1\" class=\"ocf\" "
				"provider=\"ics\" type=\"vm\"><instance_attributes id=\"ia\">"
				"<nvpair id=\"u\" name=\"uuid\" value=\"0e2b7c2a-1111-4222-8333-"
				"444455556666\"/><nvpair id=\"p\" name=\"pool\" value=\"%s\"/>"
				"</instance_attributes></primitive></resources></configuration>",
				far);
	f->fake.query_xml = query;
	request(f, &req, "web1", UUID);
	rec = ics_admin_vm_define(&f->adm, &req, &e);
	assert_null(rec);
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e->message, "the name is taken"));
	assert_non_null(strstr(e->message, far));
	assert_false(defined(f, UUID));
	assert_int_equal(fake_find(&f->fake, "--modify"), -1);
	test_rm_rf(far_dir);
}

static void define_one(Fixture *f)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) rec = NULL;

	request(f, &req, "web1", UUID);
	rec = ics_admin_vm_define(&f->adm, &req, &e);
	assert_non_null(rec);
	g_ptr_array_set_size(f->fake.calls, 0);
}

static void test_undefine(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	int clear, cons, prim;

	define_one(f);
	f->fake.mon_xml = "<pacemaker-result><resources><resource id='web1' role='Stopped' "
			  "active='false'/></resources></pacemaker-result>";
	assert_true(ics_admin_vm_undefine(&f->adm, "web1", FALSE, 1, &e));
	clear = fake_find(&f->fake, "crm_resource --resource web1 --clear");
	cons = fake_find(&f->fake, "cibadmin --delete-all --force --xpath "
				   "/cib/configuration/constraints/*[@rsc='web1' or "
				   "@with-rsc='web1' or @first='web1' or @then='web1']");
	prim = fake_find(&f->fake,
			 "--delete --scope resources --xml-text <primitive id=\"web1\"/>");
	assert_true(clear >= 0 && cons > clear && prim > cons);
	assert_false(slot_taken(f, UUID));
	assert_false(defined(f, UUID));
}

static void test_undefine_running(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;

	define_one(f);
	f->fake.mon_xml = "<pacemaker-result><resources><resource id='web1' role='Started' "
			  "active='true'><node name='node1'/></resource>"
			  "</resources></pacemaker-result>";
	assert_false(ics_admin_vm_undefine(&f->adm, UUID, FALSE, 1, &e));
	assert_int_equal(e->code, ICS_ERROR_BUSY);
	assert_non_null(strstr(e->message, "node1"));
	assert_int_equal(fake_find(&f->fake, "--delete"), -1);
	assert_true(slot_taken(f, UUID));
	assert_true(defined(f, UUID));

	/* --force stops it first; the fake never reports it stopped: timeout,
	 * and still nothing is removed. */
	g_clear_error(&e);
	assert_false(ics_admin_vm_undefine(&f->adm, UUID, TRUE, 1, &e));
	assert_int_equal(e->code, ICS_ERROR_TIMEOUT);
	assert_true(fake_find(&f->fake, "--resource web1 --meta --set-parameter target-role "
					"--parameter-value Stopped") >= 0);
	assert_int_equal(fake_find(&f->fake, "--delete"), -1);
	assert_true(defined(f, UUID));
}

#define NODE_XML(name, standby)                                                         \
	"<node name='" name "' online='true' standby='" standby "' maintenance='false'" \
	" pending='false' unclean='false'/>"

static void test_migrate(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;

	define_one(f);
	f->fake.mon_xml = "<pacemaker-result><resources><resource id='web1' role='Started' "
			  "active='true'><node name='node2'/></resource>"
			  "</resources></pacemaker-result>";
	assert_true(ics_admin_vm_migrate(&f->adm, "web1", "node2", FALSE, 5, &e) == FALSE);
	assert_int_equal(e->code, ICS_ERROR_CONFLICT); /* already there */
	g_clear_error(&e);
	f->fake.mon_xml =
		"<pacemaker-result><nodes>" NODE_XML("node1", "false") NODE_XML("node2", "false")
			NODE_XML("node3", "true") "</nodes><resources><resource id='web1' "
						  "role='Started' active='true'>"
						  "<node name='node1'/></resource>"
						  "</resources></pacemaker-result>";
	/* Refused before anything is written: unknown node, node in standby. */
	assert_false(ics_admin_vm_migrate(&f->adm, "web1", "node9", FALSE, 1, &e));
	assert_int_equal(e->code, ICS_ERROR_NOT_FOUND);
	g_clear_error(&e);
	assert_false(ics_admin_vm_migrate(&f->adm, "web1", "node3", FALSE, 1, &e));
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_int_equal(fake_find(&f->fake, "--move"), -1);
	g_clear_error(&e);
	/* The fake keeps it on node1: times out, the move constraint stays. */
	assert_false(ics_admin_vm_migrate(&f->adm, "web1", "node2", FALSE, 1, &e));
	assert_int_equal(e->code, ICS_ERROR_TIMEOUT);
	assert_true(fake_find(&f->fake, "--resource web1 --move --node node2") >= 0);
	assert_int_equal(fake_find(&f->fake, "--clear"), -1);
	/* Without waiting: moved, constraint kept. */
	g_clear_error(&e);
	assert_true(ics_admin_vm_migrate(&f->adm, "web1", "node2", TRUE, 0, &e));
}

/* A primitive of a CIB written before names ("vm-<uuid>"): found by its
 * uuid parameter, started, stopped and removed with its constraints. */
static void test_old_primitive(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;

	define_one(f);
	f->fake.query_xml =
		"<resources><primitive id='vm-" UUID "' class='ocf' provider='ics' "
		"type='vm'><instance_attributes id='vm-" UUID "-ia'><nvpair id='vm-" UUID
		"-u' name='uuid' value='" UUID "'/></instance_attributes></primitive>"
		"</resources>";
	f->fake.mon_xml = "<pacemaker-result><resources><resource id='vm-" UUID
			  "' role='Stopped' active='false'/></resources></pacemaker-result>";
	assert_true(ics_admin_vm_set_running(&f->adm, "web1", TRUE, 0, &e));
	assert_true(fake_find(&f->fake, "--resource vm-" UUID " --meta --set-parameter "
					"target-role --parameter-value Started") >= 0);
	{
		g_autoptr(json_t) r = ics_admin_vm_show(&f->adm, "web1", &e);

		assert_non_null(r);
		assert_string_equal(json_string_value(json_object_get(r, "resource")), "vm-" UUID);
		assert_string_equal(json_string_value(json_object_get(r, "state")), "Stopped");
	}
	assert_true(ics_admin_vm_undefine(&f->adm, "web1", FALSE, 1, &e));
	assert_true(fake_find(&f->fake, "constraints/*[@rsc='vm-" UUID "'") >= 0);
	assert_true(fake_find(&f->fake, "<primitive id=\"vm-" UUID "\"/>") >= 0);
	assert_false(defined(f, UUID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_define_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_on_cib_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_primitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_touches_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resource_id_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_on_cib_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_primitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undefine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undefine_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
