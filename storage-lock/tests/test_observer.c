/*
 * test_observer.c: the record of when this host first saw each host's
 * generation -- the upper bound of an incarnation's join that orders it
 * against a fencing (docs/lease-takeover.md, condition 3).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "ics/lock.h"
#include "lock_internal.h"

#define T0 1800000000

static GPtrArray *hosts1(guint64 id, guint64 gen, IcsHostState state)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)ics_host_info_free);
	IcsHostInfo *h = g_new0(IcsHostInfo, 1);

	h->host_id = id;
	h->generation = gen;
	h->state = state;
	g_ptr_array_add(a, h);
	return a;
}

static gint64 first_seen(const IcsPool *pool, guint64 id, guint64 gen, gint64 now)
{
	g_autoptr(GPtrArray) a = hosts1(id, gen, ICS_HOST_ALIVE);

	ics_observer_merge(pool, a, now);
	return ((IcsHostInfo *)g_ptr_array_index(a, 0))->first_seen_wall;
}

static void test_stamps(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("ics-observer-XXXXXX", NULL);
	IcsPool pool = { .name = (char *)"p", .lockspace = (char *)"ics-p" };

	g_setenv("ICS_LOCK_STATE_DIR", dir, TRUE);
	/* a generation seen for the first time is stamped now ... */
	assert_int_equal(first_seen(&pool, 2, 5, T0), T0);
	/* ... and keeps that stamp while it does not change */
	assert_int_equal(first_seen(&pool, 2, 5, T0 + 100), T0);
	/* a new incarnation (re-join) is stamped anew */
	assert_int_equal(first_seen(&pool, 2, 6, T0 + 200), T0 + 200);
	assert_int_equal(first_seen(&pool, 2, 6, T0 + 300), T0 + 200);
	/* other hosts are independent */
	assert_int_equal(first_seen(&pool, 3, 1, T0 + 400), T0 + 400);
	assert_int_equal(first_seen(&pool, 2, 6, T0 + 500), T0 + 200);
	/* free hosts are not stamped */
	g_autoptr(GPtrArray) f = hosts1(4, 0, ICS_HOST_FREE);
	ics_observer_merge(&pool, f, T0);
	assert_int_equal(((IcsHostInfo *)g_ptr_array_index(f, 0))->first_seen_wall, 0);

	g_autofree char *path = g_build_filename(dir, "ics-p.json", NULL);
	assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	/* a corrupt file is replaced, and stamps restart (later = safer) */
	assert_true(g_file_set_contents(path, "{not json", -1, NULL));
	assert_int_equal(first_seen(&pool, 2, 6, T0 + 600), T0 + 600);
	g_unlink(path);
	g_rmdir(dir);
}

static void test_unwritable_dir(void **state)
{
	IcsPool pool = { .name = (char *)"p", .lockspace = (char *)"ics-p" };

	/* cannot persist: the stamp is still "now", the call does not fail */
	g_setenv("ICS_LOCK_STATE_DIR", "/proc/ics-no-such-dir", TRUE);
	assert_int_equal(first_seen(&pool, 2, 5, T0), T0);
	assert_int_equal(first_seen(&pool, 2, 5, T0 + 9), T0 + 9);
}

/* A pool re-initialised under the same name (new uuid, generations from 1
 * again) must not inherit the old pool's stamps. */
static void test_reinitialised_pool(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("ics-observer-XXXXXX", NULL);
	IcsPool old = { .name = (char *)"p", .lockspace = (char *)"ics-p",
			.uuid = (char *)"11111111-1111-1111-1111-111111111111" };
	IcsPool fresh = old;

	fresh.uuid = (char *)"22222222-2222-2222-2222-222222222222";
	g_setenv("ICS_LOCK_STATE_DIR", dir, TRUE);
	assert_int_equal(first_seen(&old, 2, 1, T0), T0);
	assert_int_equal(first_seen(&old, 2, 1, T0 + 50), T0);
	/* same host id and generation on the new pool: stamped anew */
	assert_int_equal(first_seen(&fresh, 2, 1, T0 + 100), T0 + 100);
	assert_int_equal(first_seen(&fresh, 2, 1, T0 + 150), T0 + 100);
	/* and the file now belongs to the new pool */
	g_autofree char *path = g_build_filename(dir, "ics-p.json", NULL);
	g_autofree char *text = NULL;
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_non_null(strstr(text, fresh.uuid));
	assert_non_null(strstr(text, "boot_id"));
	g_unlink(path);
	g_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamps),
		cmocka_unit_test(test_unwritable_dir),
		cmocka_unit_test(test_reinitialised_pool),
	};
	return cmocka_run_group_tests_name("observer", tests, NULL, NULL);
}
