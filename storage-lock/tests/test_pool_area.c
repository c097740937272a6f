/*
 * test_pool_area.c: pool init/open on real lease files (sanlock direct mode,
 * no daemon): a valid area that sanlock itself reads back, and every refusal
 * of init and open -- missing path, foreign file, wrong sector size, live
 * lease owner (simulated by editing the on-disk leader record IN THIS TEST
 * ONLY: sanlock has no daemonless call that sets an owner), --force, host id
 * range, wrong uuid.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_direct.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/lock.h"
#include "lock_internal.h"
#include "lock_test_util.h"

static int setup(void **state)
{
	*state = test_pool_dir();
	return 0;
}

static int teardown(void **state)
{
	test_rm_rf(*state);
	g_free(*state);
	return 0;
}

static void init_ok(const char *dir, const char *name)
{
	g_autoptr(GError) err = NULL;
	IcsPoolInitOptions o = { .name = name, .io_timeout = 3, .lease_slots = 8 };

	assert_true(ics_pool_init(dir, &o, &err));
	assert_null(err);
}

static void test_init_valid(void **state)
{
	const char *dir = *state;
	g_autoptr(GError) err = NULL;
	g_autofree char *out = NULL;

	init_ok(dir, "gold");
	g_autoptr(IcsPool) pool = ics_pool_open(dir, NULL, &err);
	assert_non_null(pool);
	assert_string_equal(ics_pool_lockspace(pool), "ics-gold");
	assert_int_equal(ics_pool_io_timeout(pool), 3);
	assert_int_equal(ics_pool_lease_slots(pool), 8);
	/* sanlock itself reads the area back with our name and io_timeout. */
	g_autofree char *spec = g_strdup_printf("ics-gold:1:%s:0", ics_pool_ids_path(pool));
	const char *argv[] = { "sanlock", "direct", "read_leader", "-s", spec, NULL };
	assert_true(ics_exec_simple(argv, 10000, &out, &err));
	assert_non_null(strstr(out, "space_name ics-gold"));
	assert_non_null(strstr(out, "io_timeout 3"));
	assert_non_null(strstr(out, "sector_size 512"));
	g_autofree char *spec2 = g_strdup_printf("ics-gold:ics-manager:%s:0", ics_pool_leases_path(pool));
	const char *argv2[] = { "sanlock", "direct", "read_leader", "-r", spec2, NULL };
	g_clear_pointer(&out, g_free);
	assert_true(ics_exec_simple(argv2, 10000, &out, &err));
	assert_non_null(strstr(out, "resource_name ics-manager"));
	/* Our own reader agrees with sanlock's checksum. */
	IcsLeaderRecord lr;
	assert_true(ics_leader_read(ics_pool_ids_path(pool), 0, &lr, &err));
	assert_true(lr.checksum_ok);
	assert_int_equal(lr.magic, ICS_DELTA_MAGIC);
}

static void test_init_missing_path(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *p = g_build_filename(*state, "nope", NULL);
	IcsPoolInitOptions o = { .name = "gold" };

	assert_false(ics_pool_init(p, &o, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
}

static void test_init_bad_names(void **state)
{
	g_autoptr(GError) err = NULL;
	IcsPoolInitOptions o = { .name = "Gold!" };

	assert_false(ics_pool_init(*state, &o, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

static void test_init_refuses_foreign(void **state)
{
	const char *dir = *state;
	g_autoptr(GError) err = NULL;
	g_autofree char *ics = g_build_filename(dir, ".ics", NULL);
	g_autofree char *ids = g_build_filename(ics, "ids", NULL);
	guint8 garbage[4096];

	g_mkdir(ics, 0755);
	for (gsize i = 0; i < sizeof(garbage); i++)
		garbage[i] = (guint8)(i * 7 + 1);
	assert_true(g_file_set_contents(ids, (char *)garbage, sizeof(garbage), NULL));
	IcsPoolInitOptions o = { .name = "gold", .force = TRUE };
	assert_false(ics_pool_init(dir, &o, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_non_null(strstr(err->message, "foreign lease file"));
	/* Nothing overwritten. */
	g_autofree char *back = NULL;
	gsize len;
	assert_true(g_file_get_contents(ids, &back, &len, NULL));
	assert_int_equal(len, sizeof(garbage));
	assert_memory_equal(back, garbage, sizeof(garbage));

	/* Another pool's lockspace is foreign too. */
	test_rm_rf(ics);
	init_ok(dir, "silver");
	g_clear_error(&err);
	IcsPoolInitOptions o2 = { .name = "gold" };
	assert_false(ics_pool_init(dir, &o2, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_non_null(strstr(err->message, "ics-silver"));
}

static void test_wrong_sector_size(void **state)
{
	const char *dir = *state;
	g_autoptr(GError) err = NULL;

	init_ok(dir, "gold");
	g_autofree char *ids = g_build_filename(dir, ".ics", "ids", NULL);
	/* Rewrite the lockspace with 4096-byte sectors through sanlock. */
	struct sanlk_lockspace ls;
	memset(&ls, 0, sizeof(ls));
	strcpy(ls.name, "ics-gold");
	g_strlcpy(ls.host_id_disk.path, ids, sizeof(ls.host_id_disk.path));
	ls.flags = SANLK_LSF_SECTOR4K | SANLK_LSF_ALIGN8M;
	assert_int_equal(sanlock_direct_write_lockspace(&ls, 2000, 0, 1), 0);
	assert_null(ics_pool_open(dir, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_non_null(strstr(err->message, "sector size 4096, expected 512"));
	g_clear_error(&err);
	IcsPoolInitOptions o = { .name = "gold", .force = TRUE };
	assert_false(ics_pool_init(dir, &o, &err));
	assert_non_null(strstr(err->message, "sector size 4096"));
}

/* Mark slot @k's lease as held by host 2 (test-only on-disk edit). */
static void fake_owner(IcsPool *pool, guint k)
{
	IcsLeaderRecord lr;
	guint8 sector[512];

	assert_true(ics_leader_read(ics_pool_leases_path(pool), ics_slot_offset(k), &lr, NULL));
	lr.owner_id = 2;
	lr.owner_generation = 1;
	lr.lver = 1;
	lr.timestamp = 12345;
	ics_leader_encode(&lr, sector);
	test_patch_sector(ics_pool_leases_path(pool), ics_slot_offset(k), sector);
}

static void test_reinit_refuses_owned_lease(void **state)
{
	const char *dir = *state;
	g_autoptr(GError) err = NULL;

	init_ok(dir, "gold");
	g_autoptr(IcsPool) pool = ics_pool_open(dir, NULL, &err);
	assert_non_null(pool);
	int k = ics_slot_alloc(pool, "vm-a", &err);
	assert_int_equal(k, 1);
	/* A free lease does not block re-init... */
	IcsPoolInitOptions o = { .name = "gold", .io_timeout = 3, .lease_slots = 8 };
	assert_true(ics_pool_init(dir, &o, &err));
	k = ics_slot_alloc(pool, "vm-a", &err);
	assert_int_equal(k, 1);
	fake_owner(pool, 1);
	IcsLeaseInfo info;
	assert_true(ics_lease_inspect(pool, "vm-a", &info, &err));
	assert_int_equal(info.owner_host_id, 2);
	ics_lease_info_clear(&info);
	/* ...an owned one does, and slot free too... */
	assert_false(ics_pool_init(dir, &o, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(err->message, "owned by host 2"));
	g_clear_error(&err);
	assert_false(ics_slot_release(pool, "vm-a", FALSE, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY));
	g_clear_error(&err);
	/* ...unless forced. */
	o.force = TRUE;
	assert_true(ics_pool_init(dir, &o, &err));
	assert_null(err);
	assert_int_equal(ics_slot_lookup(pool, "vm-a", NULL), -1);
}

static void test_reinit_refuses_renewing_host(void **state)
{
	const char *dir = *state;
	g_autoptr(GError) err = NULL;
	IcsLeaderRecord lr;
	guint8 sector[512];

	init_ok(dir, "gold");
	g_autoptr(IcsPool) pool = ics_pool_open(dir, NULL, &err);
	IcsPoolInitOptions o = { .name = "gold", .io_timeout = 1, .lease_slots = 8 };
	assert_true(ics_pool_init(dir, &o, &err));
	/* A child plays a renewing host 3: its timestamp moves every 200 ms. */
	assert_true(ics_leader_read(ics_pool_ids_path(pool), ics_host_offset(3), &lr, NULL));
	g_strlcpy(lr.resource_name, "node3", sizeof(lr.resource_name));
	lr.owner_id = 3;
	lr.owner_generation = 1;
	pid_t pid = fork();
	if (pid == 0) {
		for (guint64 t = 100; t < 200; t++) {
			lr.timestamp = t;
			ics_leader_encode(&lr, sector);
			test_patch_sector(ics_pool_ids_path(pool), ics_host_offset(3), sector);
			g_usleep(200000);
		}
		_exit(0);
	}
	g_usleep(300000);
	assert_false(ics_pool_init(dir, &o, &err));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	assert_non_null(strstr(err->message, "host 3 (node3) is renewing"));
	/* Stopped renewing (a crashed host holding nothing): re-init is allowed. */
	g_clear_error(&err);
	assert_true(ics_pool_init(dir, &o, &err));
}

static void test_host_id_range(void **state)
{
	g_autoptr(GError) err = NULL;

	assert_false(ics_lock_host_id_valid(0, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	g_clear_error(&err);
	assert_false(ics_lock_host_id_valid(2001, &err));
	assert_non_null(strstr(err->message, "2001"));
	assert_true(ics_lock_host_id_valid(1, NULL));
	assert_true(ics_lock_host_id_valid(2000, NULL));
}

static void test_open_wrong_uuid(void **state)
{
	const char *dir = *state;
	g_autoptr(GError) err = NULL;
	IcsPoolInitOptions o = { .name = "gold", .uuid = "0e4b5a50-2f5e-4b5c-9d55-0a1c2d3e4f50" };

	assert_true(ics_pool_init(dir, &o, &err));
	g_autoptr(IcsPool) ok = ics_pool_open(dir, "0E4B5A50-2F5E-4B5C-9D55-0A1C2D3E4F50", &err);
	assert_non_null(ok);
	assert_null(ics_pool_open(dir, "11111111-2222-3333-4444-555555555555", &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT));
	g_clear_error(&err);
	g_autofree char *other = g_build_filename(dir, "empty", NULL);
	g_mkdir(other, 0755);
	assert_null(ics_pool_open(other, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_missing_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_refuses_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_sector_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinit_refuses_owned_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinit_refuses_renewing_host, setup, teardown),
		cmocka_unit_test(test_host_id_range),
		cmocka_unit_test_setup_teardown(test_open_wrong_uuid, setup, teardown),
	};
	return cmocka_run_group_tests_name("pool_area", tests, NULL, NULL);
}
