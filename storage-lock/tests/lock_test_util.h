/*
 * lock_test_util.h: temporary pool directories for libicslock's tests.
 * Tests run on real lease files written by sanlock's direct mode (no
 * daemon); each test gets its own directory, removed afterwards.
 */
#ifndef ICS_LOCK_TEST_UTIL_H
#define ICS_LOCK_TEST_UTIL_H

#include <glib.h>
#include <glib/gstdio.h>

#include "ics/lock.h"

static G_GNUC_UNUSED char *test_pool_dir(void)
{
	char *d = g_dir_make_tmp("ics-lock-XXXXXX", NULL);

	g_assert(d);
	return d;
}

static G_GNUC_UNUSED void test_rm_rf(const char *path)
{
	const char *argv[] = { "rm", "-rf", path, NULL };

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

static G_GNUC_UNUSED void test_patch_sector(const char *path, guint64 offset, const guint8 *sector)
{
	FILE *f = fopen(path, "r+b");

	g_assert(f);
	g_assert(fseek(f, (long)offset, SEEK_SET) == 0);
	g_assert(fwrite(sector, 1, 512, f) == 512);
	fclose(f);
}

/* A pool of its own (io_timeout 1 s, 4 lease slots), as a cmocka fixture:
 * test_pool_setup and test_pool_teardown; the test's state is a TestPool. */
typedef struct {
	char *dir;
	IcsPool *pool;
} TestPool;

static G_GNUC_UNUSED int test_pool_setup(void **state)
{
	TestPool *f = g_new0(TestPool, 1);
	IcsPoolInitOptions o = { .name = "gold", .io_timeout = 1, .lease_slots = 4 };
	g_autoptr(GError) err = NULL;

	f->dir = test_pool_dir();
	if (!ics_pool_init(f->dir, &o, &err))
		g_error("pool init in %s: %s", f->dir, err->message);
	f->pool = ics_pool_open(f->dir, NULL, &err);
	if (f->pool == NULL)
		g_error("pool open in %s: %s", f->dir, err->message);
	*state = f;
	return 0;
}

static G_GNUC_UNUSED int test_pool_teardown(void **state)
{
	TestPool *f = *state;

	ics_pool_free(f->pool);
	test_rm_rf(f->dir);
	g_free(f->dir);
	g_free(f);
	return 0;
}

#endif
