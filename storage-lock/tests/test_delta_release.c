/*
 * test_delta_release.c: freeing a fenced host's delta lease in-process, on
 * real ids files -- the bytes written are exactly those of `sanlock direct
 * release_id` on a copy of the same file, sanlock then reads the host as
 * free, and a sector changed after the watch is never written -- and the
 * strict reads every liveness judgement uses: no O_DIRECT (tmpfs) and a
 * truncated ids file are errors, never a cached or zero-filled "free"
 * sector, so a watch cannot end STEADY on them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/lock.h"
#include "lock_internal.h"
#include "lock_test_util.h"

/* Host @id's delta lease as its daemon renews it: generation @gen, a
 * request bit for host 3 in the bitmap after the leader record. */
static void write_renewed(const char *ids, const char *lockspace, guint64 id, guint64 gen,
			  guint64 ts)
{
	IcsLeaderRecord lr = { 0 };
	guint8 sector[512];

	lr.magic = ICS_DELTA_MAGIC;
	lr.version = 0x00030002;
	lr.sector_size = 512;
	lr.max_hosts = 1;
	lr.owner_id = id;
	lr.owner_generation = gen;
	lr.timestamp = ts;
	lr.io_timeout = 1;
	lr.write_id = id;
	lr.write_generation = gen;
	lr.write_timestamp = ts;
	g_strlcpy(lr.space_name, lockspace, sizeof(lr.space_name));
	g_strlcpy(lr.resource_name, "node2", sizeof(lr.resource_name));
	ics_leader_encode(&lr, sector);
	sector[256] = 0x04;
	test_patch_sector(ids, (id - 1) * 512, sector);
}

static guint8 *sector_of(const char *path, guint64 id)
{
	g_autofree char *all = NULL;
	gsize len = 0;

	assert_true(g_file_get_contents(path, &all, &len, NULL));
	assert_true(len >= id * 512);
	return g_memdup2(all + (id - 1) * 512, 512);
}

static int run(const char *const *argv)
{
	gint status = -1;

	assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
					 G_SPAWN_STDERR_TO_DEV_NULL,
				 NULL, NULL, NULL, NULL, &status, NULL));
	return status;
}

/* What we write is what sanlock writes, and sanlock reads it as free. */
static void test_same_bytes_as_sanlock(void **state)
{
	TestPool *f = *state;
	const char *ids = ics_pool_ids_path(f->pool);
	const char *ls = ics_pool_lockspace(f->pool);
	g_autofree char *copy = g_build_filename(f->dir, "ids-copy", NULL);
	g_autofree char *spec = g_strdup_printf("%s:2:%s:0", ls, copy);
	const char *cp[] = { "cp", ids, copy, NULL };
	const char *rel[] = { "sanlock", "direct", "release_id", "-s", spec, NULL };
	g_autoptr(GError) err = NULL;
	g_autofree guint8 *theirs = NULL, *ours = NULL;
	IcsDeltaWatch w;
	IcsDeltaFreeResult r;
	IcsDeltaLease d;

	write_renewed(ids, ls, 2, 5, 900);
	assert_int_equal(run(cp), 0);
	assert_int_equal(run(rel), 0);
	assert_true(ics_delta_watch(f->pool, 2, 5, 200, 50, &w, &err));
	assert_int_equal(w.result, ICS_WATCH_STEADY);
	assert_true(ics_delta_free(f->pool, 2, 5, &w, 1, &r, &err));
	assert_int_equal(r, ICS_DELTA_FREED);
	theirs = sector_of(copy, 2);
	ours = sector_of(ids, 2);
	assert_memory_equal(ours, theirs, 512);
	/* and the pure encoder agrees */
	{
		guint8 freed[512];

		ics_delta_sector_freed(w.last_sector, freed);
		assert_memory_equal(freed, theirs, 512);
	}
	assert_true(ics_delta_read(f->pool, 2, &d, &err));
	assert_true(d.free);
	assert_int_equal(d.generation, 5);
	assert_string_equal(d.name, "node2");
	/* sanlock's own reader agrees: a released host id (timestamp 0) */
	{
		g_autofree char *out = NULL;
		g_autofree char *lsarg = g_strdup_printf("%s:0", ids);
		const char *dump[] = { "sanlock", "direct", "dump", lsarg, NULL };

		assert_true(g_spawn_sync(NULL, (char **)dump, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
					 &out, NULL, NULL, NULL));
		assert_non_null(strstr(out, "node2"));
		/* "offset lockspace resource timestamp own gen lver": ts 0 */
		assert_non_null(strstr(out, " 0000000000 0002 0005"));
	}
}

/* A host that renewed (or re-joined) after the watch keeps its lease. */
static void test_changed_after_watch(void **state)
{
	TestPool *f = *state;
	const char *ids = ics_pool_ids_path(f->pool);
	g_autoptr(GError) err = NULL;
	g_autofree guint8 *before = NULL, *after = NULL;
	IcsDeltaWatch w;
	IcsDeltaFreeResult r;

	write_renewed(ids, ics_pool_lockspace(f->pool), 2, 5, 900);
	assert_true(ics_delta_watch(f->pool, 2, 5, 100, 50, &w, &err));
	write_renewed(ids, ics_pool_lockspace(f->pool), 2, 6, 3); /* re-joined: g+1 */
	before = sector_of(ids, 2);
	assert_true(ics_delta_free(f->pool, 2, 5, &w, 1, &r, &err));
	assert_int_equal(r, ICS_DELTA_CHANGED);
	after = sector_of(ids, 2);
	assert_memory_equal(before, after, 512);
	/* a watch older than io_timeout writes nothing either */
	write_renewed(ids, ics_pool_lockspace(f->pool), 2, 5, 900);
	assert_true(ics_delta_watch(f->pool, 2, 5, 100, 50, &w, &err));
	w.last_read_mono -= 2 * G_USEC_PER_SEC;
	assert_true(ics_delta_free(f->pool, 2, 5, &w, 1, &r, &err));
	assert_int_equal(r, ICS_DELTA_WATCH_STALE);
	g_free(after);
	after = sector_of(ids, 2);
	assert_int_equal(after[152], 900 & 0xff); /* still renewed, not freed */
}

/* The watch keeps what it last read, and when. */
static void test_watch_keeps_last_read(void **state)
{
	TestPool *f = *state;
	g_autoptr(GError) err = NULL;
	g_autofree guint8 *disk = NULL;
	IcsDeltaWatch w;

	write_renewed(ics_pool_ids_path(f->pool), ics_pool_lockspace(f->pool), 2, 5, 900);
	assert_true(ics_delta_watch(f->pool, 2, 5, 300, 50, &w, &err));
	assert_int_equal(w.result, ICS_WATCH_STEADY);
	assert_true(w.last_read_mono >= w.start_mono + 300 * G_TIME_SPAN_MILLISECOND);
	assert_true(w.steady_ms >= 300);
	disk = sector_of(ics_pool_ids_path(f->pool), 2);
	assert_memory_equal(w.last_sector, disk, 512);
}

/* A truncated ids file reads as an error, not as free zeros: the watch and
 * the read refuse instead of finding the owner "released". */
static void test_short_read_refused(void **state)
{
	TestPool *f = *state;
	g_autoptr(GError) err = NULL;
	IcsDeltaWatch w;
	IcsDeltaLease d;

	assert_int_equal(truncate(ics_pool_ids_path(f->pool), 512), 0);
	assert_false(ics_delta_read(f->pool, 2, &d, &err));
	assert_non_null(strstr(err->message, "short read"));
	g_clear_error(&err);
	assert_false(ics_delta_watch(f->pool, 2, 5, 100, 50, &w, &err));
	assert_non_null(strstr(err->message, "short read"));
}

/* A file system without O_DIRECT (procfs here; tmpfs before Linux 6.6): a
 * cached read proves nothing, so the strict read is an error where the
 * inspection read falls back. */
static void test_no_direct_io_refused(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autofree guint8 *cached = NULL;

	assert_null(ics_sector_read_direct("/proc/self/status", 0, &err));
	assert_non_null(strstr(err->message, "O_DIRECT"));
	g_clear_error(&err);
	cached = ics_sectors_read("/proc/self/status", 0, 1, &err);
	assert_non_null(cached);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_bytes_as_sanlock, test_pool_setup, test_pool_teardown),
		cmocka_unit_test_setup_teardown(test_changed_after_watch, test_pool_setup, test_pool_teardown),
		cmocka_unit_test_setup_teardown(test_watch_keeps_last_read, test_pool_setup, test_pool_teardown),
		cmocka_unit_test_setup_teardown(test_short_read_refused, test_pool_setup, test_pool_teardown),
		cmocka_unit_test(test_no_direct_io_refused),
	};
	return cmocka_run_group_tests_name("delta_release", tests, NULL, NULL);
}
