/*
 * test_pool_fuzz.c: random bytes as pool.json and as the ids and leases
 * headers must give ics_pool_open a clear error, never a crash (run under
 * ASan/UBSan).  Seeded, so a failure is reproducible.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/lock.h"
#include "lock_internal.h"
#include "lock_test_util.h"

#define ROUNDS 300

static int setup(void **state)
{
	char *dir = test_pool_dir();
	IcsPoolInitOptions o = { .name = "gold", .lease_slots = 4 };

	assert_true(ics_pool_init(dir, &o, NULL));
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	test_rm_rf(*state);
	g_free(*state);
	return 0;
}

static void expect_clear_error(const char *dir)
{
	g_autoptr(GError) err = NULL;
	IcsPool *pool = ics_pool_open(dir, NULL, &err);

	if (pool) {   /* random bytes that happen to be valid: fine, but rare */
		ics_pool_free(pool);
		return;
	}
	assert_non_null(err);
	assert_true(err->domain == ICS_ERROR);
	assert_true(strlen(err->message) > 10);
}

static void test_fuzz_pool_json(void **state)
{
	g_autofree char *json = g_build_filename(*state, ".ics", "pool.json", NULL);
	g_autofree char *good = NULL;
	gsize good_len;
	GRand *r = g_rand_new_with_seed(42);

	assert_true(g_file_get_contents(json, &good, &good_len, NULL));
	for (int i = 0; i < ROUNDS; i++) {
		g_autofree char *buf = g_memdup2(good, good_len);
		gsize len = good_len;
		if (i % 3 == 0) {   /* pure noise */
			len = (gsize)g_rand_int_range(r, 0, 512);
			buf = g_realloc(buf, len + 1);
			for (gsize j = 0; j < len; j++)
				buf[j] = (char)g_rand_int_range(r, 0, 256);
		} else {            /* mutate a valid file */
			for (int m = 0; m < 1 + i % 5; m++)
				buf[g_rand_int_range(r, 0, (gint32)len)] = (char)g_rand_int_range(r, 0, 256);
		}
		assert_true(g_file_set_contents(json, buf, (gssize)len, NULL));
		expect_clear_error(*state);
	}
	g_rand_free(r);
}

static void fuzz_header(const char *path, guint32 seed)
{
	GRand *r = g_rand_new_with_seed(seed);
	g_autofree guint8 *good = ics_sectors_read(path, 0, 1, NULL);
	guint8 sector[512];

	assert_non_null(good);
	for (int i = 0; i < ROUNDS; i++) {
		memcpy(sector, good, 512);
		if (i % 2 == 0) {
			for (int j = 0; j < 512; j++)
				sector[j] = (guint8)g_rand_int_range(r, 0, 256);
		} else {
			for (int m = 0; m < 1 + i % 4; m++)
				sector[g_rand_int_range(r, 0, 200)] = (guint8)g_rand_int_range(r, 0, 256);
			if (i % 3 == 0) {   /* re-checksummed garbage reaches the field checks */
				IcsLeaderRecord lr;
				ics_leader_decode(sector, &lr);
				ics_leader_encode(&lr, sector);
			}
		}
		test_patch_sector(path, 0, sector);
		IcsPool *dir_state = NULL;
		(void)dir_state;
		g_autofree char *dir = g_path_get_dirname(path);
		g_autofree char *pooldir = g_path_get_dirname(dir);
		expect_clear_error(pooldir);
	}
	test_patch_sector(path, 0, good);
	g_rand_free(r);
}

static void test_fuzz_ids(void **state)
{
	g_autofree char *p = g_build_filename(*state, ".ics", "ids", NULL);

	fuzz_header(p, 7);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsPool) pool = ics_pool_open(*state, NULL, &err);
	assert_non_null(pool);   /* restored */
}

static void test_fuzz_leases(void **state)
{
	g_autofree char *p = g_build_filename(*state, ".ics", "leases", NULL);

	fuzz_header(p, 11);
}

static void test_truncated_files(void **state)
{
	g_autofree char *p = g_build_filename(*state, ".ics", "ids", NULL);
	g_autoptr(GError) err = NULL;

	assert_true(truncate(p, 100) == 0);
	assert_null(ics_pool_open(*state, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	g_clear_error(&err);
	unlink(p);
	assert_null(ics_pool_open(*state, NULL, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fuzz_pool_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_files, setup, teardown),
	};
	return cmocka_run_group_tests_name("pool_fuzz", tests, NULL, NULL);
}
