/*
 * test_vm_resolve.c: finding a VM by uuid or name on a directory of pools
 * -- any case of the uuid, --pool restricting the search, a name on two
 * pools is ambiguous, an unknown one NOT_FOUND, directories that are not
 * pools ignored -- and list joining the CIB with the definitions.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cli_test_util.h"
#include "vm_backend.h"

#define U1 "6f1c3c0e-8d2a-4b7e-9c41-2f0d5e6a7b8c"
#define U2 "0e2b7c2a-1111-4222-8333-444455556666"
#define U3 "11111111-2222-4333-8444-555555555555"

typedef struct {
	char *dir, *gold, *silver;
	FakeCib fake;
	IcsAdmin adm;
} Fixture;

/* Save a definition straight to the pool (no uniqueness check). */
static void save(const char *pool, const char *uuid, const char *name)
{
	g_autoptr(IcsPool) p = ics_pool_open(pool, NULL, NULL);
	g_autoptr(json_t) j = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	g_autoptr(GError) e = NULL;
	int slot;

	assert_non_null(p);
	slot = ics_slot_alloc(p, uuid, &e);
	assert_true(slot > 0);
	j = json_pack("{s:s, s:s, s:i, s:i, s:{s:s, s:s, s:s, s:I}}", "uuid", uuid, "name", name,
		      "vcpus", 1, "memory_mib", 64, "lease", "lockspace", ics_pool_lockspace(p),
		      "name", uuid, "path", ics_pool_leases_path(p), "offset",
		      (json_int_t)slot * 1048576);
	m = ics_vm_meta_from_json(j, pool, &e);
	if (m == NULL)
		fail_msg("%s", e->message);
	assert_true(ics_vm_store_save(pool, m, &e));
}

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);
	g_autofree char *notpool = NULL;

	f->dir = g_dir_make_tmp("ics-cli-XXXXXX", NULL);
	f->gold = test_make_pool(f->dir, "gold");
	f->silver = test_make_pool(f->dir, "silver");
	notpool = g_build_filename(f->dir, "lost+found", NULL);
	g_mkdir(notpool, 0700);
	save(f->gold, U1, "web1");
	save(f->gold, U2, "db1");
	save(f->silver, U3, "db1");
	fake_init(&f->fake, &f->adm.cib);
	f->adm.pools_dir = f->dir;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;

	test_rm_rf(f->dir);
	fake_clear(&f->fake);
	g_free(f->gold);
	g_free(f->silver);
	g_free(f->dir);
	g_free(f);
	return 0;
}

static void test_pools(void **state)
{
	Fixture *f = *state;
	g_autoptr(GPtrArray) p = ics_admin_pools(&f->adm, NULL);

	assert_int_equal(p->len, 2);
	assert_string_equal(p->pdata[0], f->gold);
	assert_string_equal(p->pdata[1], f->silver);
}

static void test_by_name_and_uuid(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsAdminVm) a = ics_admin_vm_resolve(&f->adm, "web1", &e);
	g_autoptr(IcsAdminVm) b = ics_admin_vm_resolve(&f->adm, "6F1C3C0E-8D2A-4B7E-9C41-2F0D5E6A7B8C", &e);
	g_autoptr(IcsAdminVm) c = ics_admin_vm_resolve(&f->adm, U3, &e);

	assert_non_null(a);
	assert_string_equal(a->meta->uuid, U1);
	assert_string_equal(a->pool_path, f->gold);
	assert_non_null(b);
	assert_string_equal(b->meta->name, "web1");
	assert_non_null(c);
	assert_string_equal(c->pool_path, f->silver);
}

static void test_ambiguous_and_pool(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsAdminVm) a = ics_admin_vm_resolve(&f->adm, "db1", &e);
	g_autoptr(IcsAdminVm) b = NULL;

	assert_null(a);
	assert_int_equal(e->code, ICS_ERROR_CONFLICT);
	assert_non_null(strstr(e->message, "db1"));
	g_clear_error(&e);
	f->adm.pool = f->silver;
	b = ics_admin_vm_resolve(&f->adm, "db1", &e);
	assert_non_null(b);
	assert_string_equal(b->meta->uuid, U3);
}

static void test_not_found(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsAdminVm) a = ics_admin_vm_resolve(&f->adm, "nope", &e);
	g_autoptr(IcsAdminVm) b = NULL;
	g_autoptr(GError) e2 = NULL;

	assert_null(a);
	assert_int_equal(e->code, ICS_ERROR_NOT_FOUND);
	assert_non_null(strstr(e->message, "\"nope\""));
	f->adm.pool = f->silver;
	b = ics_admin_vm_resolve(&f->adm, "web1", &e2); /* on gold, not silver */
	assert_null(b);
	assert_int_equal(e2->code, ICS_ERROR_NOT_FOUND);
}

static void test_no_pools_dir(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	g_autoptr(IcsAdminVm) a = NULL;

	f->adm.pools_dir = "/nonexistent/pools";
	a = ics_admin_vm_resolve(&f->adm, "web1", &e);
	assert_null(a);
	assert_int_equal(e->code, ICS_ERROR_NOT_FOUND);
}

static void test_list(void **state)
{
	Fixture *f = *state;
	g_autoptr(GError) e = NULL;
	g_autoptr(json_t) recs = NULL;
	g_autofree char *query = g_strdup_printf(
		"<resources><primitive id='vm-" U1 "' class='ocf' provider='ics' type='vm'>"
		"<instance_attributes id='i1'><nvpair id='n1' name='uuid' value='" U1 "'/>"
		"<nvpair id='n2' name='pool' value='%s'/></instance_attributes></primitive>"
		"<primitive id='other' class='ocf' provider='heartbeat' type='Dummy'/>"
		"</resources>",
		f->gold);
	json_t *r;

	f->fake.query_xml = query;
	f->fake.mon_xml = "<pacemaker-result><resources><resource id='vm-" U1
			  "' role='Started' active='true'><node name='node2'/></resource>"
			  "</resources></pacemaker-result>";
	recs = ics_admin_vm_list(&f->adm, &e);
	assert_non_null(recs);
	assert_int_equal(json_array_size(recs), 3); /* web1 in the CIB, two db1 not */
	r = json_array_get(recs, 2);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "web1");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "Started");
	assert_string_equal(json_string_value(json_object_get(r, "node")), "node2");
	assert_int_equal(json_integer_value(json_object_get(r, "memory_mib")), 64);
	/* An old CIB's "vm-<uuid>": found by its uuid parameter. */
	assert_string_equal(json_string_value(json_object_get(r, "resource")), "vm-" U1);
	r = json_array_get(recs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "db1");
	assert_string_equal(json_string_value(json_object_get(r, "state")), "not-in-cib");
	assert_true(json_is_null(json_object_get(r, "node")) || json_object_get(r, "node") == NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_name_and_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_and_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pools_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
