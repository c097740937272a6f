/*
 * test_lease_slots.c: slot allocation on real files -- idempotent per owner,
 * never two owners on one slot even with concurrent allocators (forked
 * children), reuse after free, BUSY when full, sanlock's 48-byte name limit.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/lock.h"
#include "lock_internal.h"
#include "lock_test_util.h"

#define NCHILD 6

static int setup(void **state)
{
	char *dir = test_pool_dir();
	IcsPoolInitOptions o = { .name = "gold", .lease_slots = NCHILD };

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

static void test_alloc_idempotent(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsPool) pool = ics_pool_open(*state, NULL, &err);
	IcsLeaseInfo info;

	assert_int_equal(ics_slot_alloc(pool, "vm-a", &err), 1);
	assert_int_equal(ics_slot_alloc(pool, "vm-a", &err), 1);
	assert_int_equal(ics_slot_alloc(pool, "vm-b", &err), 2);
	assert_int_equal(ics_slot_lookup(pool, "vm-b", &err), 2);
	assert_true(ics_lease_inspect(pool, "vm-b", &info, &err));
	assert_int_equal(info.slot, 2);
	assert_int_equal(info.owner_host_id, 0);
	ics_lease_info_clear(&info);
	g_autoptr(GPtrArray) l = ics_slot_list(pool, &err);
	assert_int_equal(l->len, 2);
	assert_string_equal(((IcsSlot *)g_ptr_array_index(l, 0))->owner, "vm-a");
}

static void test_concurrent_alloc_distinct(void **state)
{
	pid_t pids[NCHILD];

	for (int i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			g_autofree char *owner = g_strdup_printf("vm-%d", i);
			IcsPool *pool = ics_pool_open(*state, NULL, NULL);
			int k = pool ? ics_slot_alloc(pool, owner, NULL) : -1;
			ics_pool_free(pool);
			_exit(k > 0 ? k : 255);
		}
	}
	gboolean seen[NCHILD + 1] = { FALSE };
	for (int i = 0; i < NCHILD; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		int k = WEXITSTATUS(st);
		assert_true(k >= 1 && k <= NCHILD);
		assert_false(seen[k]);
		seen[k] = TRUE;
	}
	g_autoptr(IcsPool) pool = ics_pool_open(*state, NULL, NULL);
	for (int i = 0; i < NCHILD; i++) {
		g_autofree char *owner = g_strdup_printf("vm-%d", i);
		IcsLeaseInfo info;
		assert_true(ics_lease_inspect(pool, owner, &info, NULL));   /* lease named after it */
		ics_lease_info_clear(&info);
	}
}

static void test_free_realloc_full(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsPool) pool = ics_pool_open(*state, NULL, &err);

	for (int i = 0; i < NCHILD; i++) {
		g_autofree char *owner = g_strdup_printf("vm-%d", i);
		assert_int_equal(ics_slot_alloc(pool, owner, &err), i + 1);
	}
	assert_int_equal(ics_slot_alloc(pool, "vm-late", &err), -1);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY));
	g_clear_error(&err);
	assert_true(ics_slot_release(pool, "vm-2", FALSE, &err));
	assert_int_equal(ics_slot_lookup(pool, "vm-2", &err), -1);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	g_clear_error(&err);
	assert_int_equal(ics_slot_alloc(pool, "vm-late", &err), 3);
	IcsLeaseInfo info;
	assert_true(ics_lease_inspect(pool, "vm-late", &info, &err));   /* re-initialised */
	ics_lease_info_clear(&info);
	assert_false(ics_slot_release(pool, "vm-unknown", FALSE, &err));
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

static void test_names(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsPool) pool = ics_pool_open(*state, NULL, &err);
	char n48[49], n49[50];

	memset(n48, 'a', 48);
	n48[48] = 0;
	memset(n49, 'b', 49);
	n49[49] = 0;
	assert_int_equal(ics_slot_alloc(pool, n48, &err), 1);
	assert_int_equal(ics_slot_alloc(pool, n49, &err), -1);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	g_clear_error(&err);
	assert_int_equal(ics_slot_alloc(pool, "a:b", &err), -1);
	g_clear_error(&err);
	assert_int_equal(ics_slot_alloc(pool, "../x", &err), -1);
	g_clear_error(&err);
	assert_int_equal(ics_slot_alloc(pool, "", &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_alloc_distinct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_realloc_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};
	return cmocka_run_group_tests_name("lease_slots", tests, NULL, NULL);
}
