/*
 * test_admin_volume.c: `ics-admin volume list|show|create|resize|delete`
 * against a real in-process ics-managerd whose pool "shared" is served by
 * libvirt's in-memory test driver (test:///default): the table and JSON
 * outputs, a thick creation followed as a task, the exit status of bad
 * sizes (2), a shrink or a volume in use (4), an unknown volume (3), and
 * missing options.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "admin_api_test_util.h"
#include "ics/manager/volumes.h"

static json_t *one_pool(void *self, GError **error)
{
	(void)self, (void)error;
	return json_pack("[{s:s, s:s, s:[s]}]", "name", "shared", "path", "/srv/ics/pools/shared",
			 "active_on", "node1");
}

static gboolean defined(void *self, const IcsVmMeta *vm, GError **error)
{
	(void)self, (void)vm, (void)error;
	return TRUE;
}

static const IcsClusterOps pools_only = {
	.define_vm = defined,
	.pools = one_pool,
};

static int setup(void **state)
{
	ApiTest *t = api_test_start_with(TRUE, &pools_only);

	/* Before any request: the test driver instead of qemu:///system. */
	ics_volumes_free(t->m->volumes);
	t->m->volumes = ics_volumes_new("test:///default");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	api_test_stop(*state);
	return 0;
}

static void test_volume_commands(void **state)
{
	ApiTest *t = *state;
	g_auto(CliRun) r = { 0 };
	g_autoptr(json_t) j = NULL;

	api_test_login_admin(t);
	assert_int_equal(cli_run(&r, NULL, "volume", "create", "shared", "disk1.qcow2", "--size",
				 "10G", NULL),
			 0);
	assert_string_equal(r.out, "/srv/ics/pools/shared/disk1.qcow2\n");
	assert_int_equal(cli_run(&r, NULL, "volume", "create", "shared", "big.raw", "--size", "1G",
				 "--format", "raw", "--thick", NULL),
			 0);
	assert_int_equal(cli_run(&r, NULL, "volume", "list", "shared", NULL), 0);
	assert_non_null(strstr(r.out, "NAME"));
	assert_non_null(strstr(r.out, "disk1.qcow2  qcow2   10.0G"));
	assert_non_null(strstr(r.out, "big.raw"));
	assert_int_equal(cli_run(&r, NULL, "volume", "show", "shared", "big.raw", "--json", NULL),
			 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "allocation_bytes")), 1 << 30);
	assert_int_equal(cli_run(&r, NULL, "volume", "show", "shared", "disk1.qcow2", NULL), 0);
	assert_non_null(strstr(r.out, "capacity:  10.0G"));
	assert_non_null(strstr(r.out, "used by:   -"));

	/* Bad input and refusals. */
	assert_int_equal(
		cli_run(&r, NULL, "volume", "create", "shared", "x.raw", "--size", "10X", NULL), 2);
	assert_non_null(strstr(r.err, "10X"));
	assert_int_equal(cli_run(&r, NULL, "volume", "create", "shared", "x.raw", NULL), 2);
	assert_int_equal(cli_run(&r, NULL, "volume", "create", "shared", "disk1.qcow2", "--size",
				 "1G", NULL),
			 4);
	assert_int_equal(cli_run(&r, NULL, "volume", "resize", "shared", "disk1.qcow2", "--size",
				 "5G", NULL),
			 4);
	assert_non_null(strstr(r.err, "only grow"));
	assert_int_equal(cli_run(&r, NULL, "volume", "show", "shared", "nope.raw", NULL), 3);
	assert_int_equal(cli_run(&r, NULL, "volume", "list", "nopool", NULL), 3);
	assert_int_equal(
		cli_run(&r, NULL, "volume", "create", "shared", "../x", "--size", "1G", NULL), 2);
	assert_int_equal(cli_run(&r, NULL, "volume", "frobnicate", NULL), 2);
	assert_int_equal(cli_run(&r, NULL, "vm", "create", "--name", "db1", "--vcpus",
				 "1", "--memory", "128", NULL),
			 0);
	{
		g_autofree char *def = g_build_filename(t->state_dir, "db2.json", NULL);

		assert_true(g_file_set_contents(
			def,
			"{\"name\": \"db2\", \"vcpus\": 1, \"memory_mib\": 128, \"disks\": "
			"[{\"path\": \"/srv/ics/pools/shared/disk1.qcow2\", \"format\": "
			"\"qcow2\"}]}",
			-1, NULL));
		assert_int_equal(
			cli_run(&r, NULL, "vm", "create", "--from-json", def, NULL), 0);
	}
	assert_int_equal(cli_run(&r, NULL, "volume", "delete", "shared", "disk1.qcow2", NULL), 4);
	assert_non_null(strstr(r.err, "db2"));
	assert_int_equal(cli_run(&r, NULL, "volume", "delete", "shared", "big.raw", NULL), 0);
	assert_int_equal(cli_run(&r, NULL, "volume", "show", "shared", "big.raw", NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_volume_commands, setup, teardown),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
