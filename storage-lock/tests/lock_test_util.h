/*
 * lock_test_util.h: temporary pool directories for libicslock's tests.
 * Tests run on real lease files written by sanlock's direct mode (no
 * daemon); each test gets its own directory, removed afterwards.
 */
#ifndef ICS_LOCK_TEST_UTIL_H
#define ICS_LOCK_TEST_UTIL_H

#include <glib.h>
#include <glib/gstdio.h>

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

#endif
