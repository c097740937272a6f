/*
 * test_delta_watch.c: reading a host's delta lease from the pool and
 * watching it stand still -- on a real ids file written by sanlock's direct
 * mode: a never-joined host reads free, a host's delta lease released by
 * `sanlock direct release_id` reads free, and a watch ends STEADY,
 * RENEWED, RELEASED or REJOINED as the sector is (or is not) rewritten
 * while it runs.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ics/lock.h"
#include "lock_internal.h"
#include "lock_test_util.h"

/* Write host @id's delta lease as its daemon would (test-only edit). */
static void write_delta(IcsPool *pool, guint64 id, guint64 gen, guint64 ts)
{
	IcsLeaderRecord lr = { 0 };
	guint8 sector[512];

	lr.magic = ICS_DELTA_MAGIC;
	lr.version = 0x00030002;
	lr.sector_size = 512;
	lr.num_hosts = 2000;
	lr.max_hosts = 1;
	lr.owner_id = id;
	lr.owner_generation = gen;
	lr.timestamp = ts;
	lr.io_timeout = 1;
	g_strlcpy(lr.space_name, ics_pool_lockspace(pool), sizeof(lr.space_name));
	g_strlcpy(lr.resource_name, "node2", sizeof(lr.resource_name));
	ics_leader_encode(&lr, sector);
	test_patch_sector(ics_pool_ids_path(pool), (id - 1) * 512, sector);
}

static void test_read(void **state)
{
	TestPool *f = *state;
	g_autoptr(GError) err = NULL;
	IcsDeltaLease d;

	/* never joined: free */
	assert_true(ics_delta_read(f->pool, 2, &d, &err));
	assert_true(d.valid);
	assert_true(d.free);
	write_delta(f->pool, 2, 5, 900);
	assert_true(ics_delta_read(f->pool, 2, &d, &err));
	assert_true(d.valid);
	assert_false(d.free);
	assert_int_equal(d.generation, 5);
	assert_int_equal(d.timestamp, 900);
	assert_string_equal(d.name, "node2");
	/* released the way a takeover does it, by sanlock itself */
	g_autofree char *spec = g_strdup_printf("%s:2:%s:0", ics_pool_lockspace(f->pool),
						ics_pool_ids_path(f->pool));
	const char *argv[] = { "sanlock", "direct", "release_id", "-s", spec, NULL };
	gint status = -1;
	assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
					 G_SPAWN_STDERR_TO_DEV_NULL,
				 NULL, NULL, NULL, NULL, &status, NULL));
	assert_int_equal(status, 0);
	assert_true(ics_delta_read(f->pool, 2, &d, &err));
	assert_true(d.free);
	assert_int_equal(d.generation, 5);
	/* host ids out of range are refused */
	assert_false(ics_delta_read(f->pool, 0, &d, &err));
	g_clear_error(&err);
	assert_false(ics_delta_read(f->pool, 2001, &d, &err));
}

static void test_steady(void **state)
{
	TestPool *f = *state;
	g_autoptr(GError) err = NULL;
	IcsDeltaWatch w;

	write_delta(f->pool, 2, 5, 900);
	assert_true(ics_delta_watch(f->pool, 2, 5, 300, 50, &w, &err));
	assert_int_equal(w.result, ICS_WATCH_STEADY);
	assert_true(w.steady_ms >= 300);
	assert_true(w.reads >= 4);
	assert_string_equal(ics_watch_result_name(w.result), "steady");
	/* already free or of another generation when the watch starts */
	assert_true(ics_delta_watch(f->pool, 3, 1, 300, 50, &w, &err));
	assert_int_equal(w.result, ICS_WATCH_RELEASED);
	assert_true(ics_delta_watch(f->pool, 2, 4, 300, 50, &w, &err));
	assert_int_equal(w.result, ICS_WATCH_REJOINED);
}

typedef struct {
	IcsPool *pool;
	guint64 gen, ts;
} Writer;

static gpointer writer(gpointer p)
{
	Writer *w = p;

	g_usleep(150 * 1000);
	write_delta(w->pool, 2, w->gen, w->ts);
	return NULL;
}

/* Watch host 2 (generation 5, timestamp 900) while another thread rewrites
 * its delta lease after 150 ms. */
static IcsDeltaWatch watch_with_write(IcsPool *pool, guint64 gen, guint64 ts)
{
	Writer wr = { pool, gen, ts };
	g_autoptr(GError) err = NULL;
	IcsDeltaWatch w;
	GThread *t;

	write_delta(pool, 2, 5, 900);
	t = g_thread_new("writer", writer, &wr);
	assert_true(ics_delta_watch(pool, 2, 5, 2000, 20, &w, &err));
	g_thread_join(t);
	return w;
}

static void test_changes(void **state)
{
	TestPool *f = *state;
	IcsDeltaWatch w;

	/* a renewal ends the watch */
	w = watch_with_write(f->pool, 5, 902);
	assert_int_equal(w.result, ICS_WATCH_RENEWED);
	/* a byte-identical rewrite cannot be told from no write (sanlock never
	 * makes one: every renewal carries a new timestamp) */
	w = watch_with_write(f->pool, 5, 900);
	assert_int_equal(w.result, ICS_WATCH_STEADY);
	w = watch_with_write(f->pool, 5, 0);
	assert_int_equal(w.result, ICS_WATCH_RELEASED);
	w = watch_with_write(f->pool, 6, 3);
	assert_int_equal(w.result, ICS_WATCH_REJOINED);
}

static void test_unreadable(void **state)
{
	TestPool *f = *state;
	g_autoptr(GError) err = NULL;
	IcsDeltaWatch w;

	assert_int_equal(g_unlink(ics_pool_ids_path(f->pool)), 0);
	assert_false(ics_delta_watch(f->pool, 2, 5, 300, 50, &w, &err));
	assert_non_null(strstr(err->message, "watching host 2's delta lease"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, test_pool_setup, test_pool_teardown),
		cmocka_unit_test_setup_teardown(test_steady, test_pool_setup, test_pool_teardown),
		cmocka_unit_test_setup_teardown(test_changes, test_pool_setup, test_pool_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, test_pool_setup, test_pool_teardown),
	};
	return cmocka_run_group_tests_name("delta_watch", tests, NULL, NULL);
}
