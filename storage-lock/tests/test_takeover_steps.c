/*
 * test_takeover_steps.c: the order of the steps of ics_lease_takeover_run
 * (through its IcsTakeoverOps seam) and of ics_delta_free (through its
 * IcsSectorIo seam), with every step faked and logged.
 *
 * The safety argument needs the order, not only the verdict: the fencing is
 * read before the watch starts; the watch is as long as the OWNER's
 * io_timeout demands; nothing is written unless the verdict is ALLOW and it
 * is not a dry run; the write frees exactly the sector the watch last read,
 * within io_timeout of that read, and is read back.  A host list that is
 * not ready right after a join is read again, not taken for "unknown".
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

#define T0 1800000000

/* ---- a scripted world ------------------------------------------------- */

typedef struct {
	GString *log;	  /* "inspect hosts delta nodes fence watch free" */
	guint hosts_busy; /* pool_hosts answers BUSY this many times */
	IcsHostState state;
	guint64 daemon_generation;
	IcsFenceState fence_state;
	const char *delegate;
	guint delta_io_timeout; /* what the owner wrote into its delta lease */
	IcsWatchResult watch_result;
	guint watched_ms; /* the duration the watch was asked for */
	gint64 fence_seen_mono;
	gint64 watch_start_mono;
	IcsDeltaFreeResult free_result;
	gboolean free_fails;
} World;

static World w;

static void step(const char *name)
{
	g_string_append_printf(w.log, "%s%s", w.log->len ? " " : "", name);
}

static gboolean f_inspect(IcsPool *pool, const char *owner, IcsLeaseInfo *info, GError **error)
{
	step("inspect");
	memset(info, 0, sizeof(*info));
	info->owner = g_strdup(owner);
	info->owner_host_id = 2;
	info->owner_generation = 5;
	return TRUE;
}

static GPtrArray *f_hosts(IcsPool *pool, GError **error)
{
	GPtrArray *a;
	IcsHostInfo *h;

	step("hosts");
	if (w.hosts_busy > 0) {
		w.hosts_busy--;
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY, "hosts not ready");
		return NULL;
	}
	a = g_ptr_array_new_with_free_func((GDestroyNotify)ics_host_info_free);
	h = g_new0(IcsHostInfo, 1);
	h->host_id = 2;
	h->generation = w.daemon_generation;
	h->state = w.state;
	h->name = g_strdup("node2");
	h->first_seen_wall = T0 - 600;
	g_ptr_array_add(a, h);
	return a;
}

static gboolean f_delta_read(IcsPool *pool, guint64 id, IcsDeltaLease *out, GError **error)
{
	step("delta");
	memset(out, 0, sizeof(*out));
	out->valid = TRUE;
	out->generation = 5;
	out->timestamp = 900;
	out->io_timeout = w.delta_io_timeout;
	g_strlcpy(out->name, "node2", sizeof(out->name));
	return TRUE;
}

static GPtrArray *f_nodes(GError **error)
{
	GPtrArray *a = g_ptr_array_new_with_free_func((GDestroyNotify)ics_corosync_node_free);

	step("nodes");
	for (guint i = 1; i <= 3; i++) {
		IcsCorosyncNode *n = g_new0(IcsCorosyncNode, 1);

		n->node_id = i;
		n->name = g_strdup_printf("node%u", i);
		g_ptr_array_add(a, n);
	}
	return a;
}

static gboolean f_fence(const char *node, IcsFenceRecord *rec, GError **error)
{
	step("fence");
	memset(rec, 0, sizeof(*rec));
	rec->state = w.fence_state;
	rec->target = g_strdup(node);
	rec->action = g_strdup("reboot");
	rec->delegate = g_strdup(w.delegate);
	rec->manual = rec->state == ICS_FENCE_DONE && ics_fence_delegate_manual(w.delegate);
	rec->completed = T0;
	rec->seen_mono = w.fence_seen_mono = g_get_monotonic_time();
	return TRUE;
}

static gboolean f_watch(IcsPool *pool, guint64 id, guint64 gen, guint duration_ms, guint poll_ms,
			IcsDeltaWatch *out, GError **error)
{
	step("watch");
	memset(out, 0, sizeof(*out));
	w.watched_ms = duration_ms;
	out->result = w.watch_result;
	out->start_mono = w.watch_start_mono = g_get_monotonic_time();
	out->steady_ms = w.watch_result == ICS_WATCH_STEADY ? duration_ms : 1200;
	out->last_read_mono = out->start_mono + (gint64)out->steady_ms * 1000;
	return TRUE;
}

static gboolean f_free(IcsPool *pool, guint64 id, guint64 gen, const IcsDeltaWatch *watch,
		       guint io_timeout_s, IcsDeltaFreeResult *out, GError **error)
{
	step("free");
	if (w.free_fails) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "SAFETY: written by someone else");
		return FALSE;
	}
	*out = w.free_result;
	return TRUE;
}

static void f_sleep(guint ms)
{
	step("sleep");
}

static const IcsTakeoverOps fake_ops = {
	.lease_inspect = f_inspect,
	.pool_hosts = f_hosts,
	.delta_read = f_delta_read,
	.corosync_nodes = f_nodes,
	.fence_history_last = f_fence,
	.delta_watch = f_watch,
	.delta_free = f_free,
	.sleep_ms = f_sleep,
};

static int reset(void **state)
{
	if (w.log)
		g_string_free(w.log, TRUE);
	memset(&w, 0, sizeof(w));
	w.log = g_string_new(NULL);
	w.state = ICS_HOST_FAILING;
	w.daemon_generation = 5;
	w.fence_state = ICS_FENCE_DONE;
	w.delegate = "node1";
	w.delta_io_timeout = 1;
	w.watch_result = ICS_WATCH_STEADY;
	w.free_result = ICS_DELTA_FREED;
	return 0;
}

static int done(void **state)
{
	g_string_free(w.log, TRUE);
	w.log = NULL;
	return 0;
}

static IcsTakeoverVerdict run(gboolean dry_run, gboolean *ok, char **reason)
{
	IcsPool pool = { .name = (char *)"gold", .io_timeout = 1 };
	IcsTakeoverOptions o = { .dry_run = dry_run };
	IcsTakeoverVerdict v = ICS_TAKEOVER_WATCH;
	g_autoptr(GError) err = NULL;
	char *why = NULL;

	*ok = ics_lease_takeover_run_with(&fake_ops, &pool, "vm-a", &o, &v, &why, &err);
	if (reason)
		*reason = *ok ? why : g_strdup(err->message);
	else
		g_free(why);
	return v;
}

/* ---- the takeover's steps --------------------------------------------- */

static void test_allow_order(void **state)
{
	gboolean ok;

	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_ALLOW);
	assert_true(ok);
	/* gather (fencing last), watch, then the one write */
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence watch free");
	/* the watch began after the fencing was read */
	assert_true(w.watch_start_mono >= w.fence_seen_mono);
	assert_int_equal(w.watched_ms, 10500);
}

static void test_dry_run_writes_nothing(void **state)
{
	gboolean ok;

	assert_int_equal(run(TRUE, &ok, NULL), ICS_TAKEOVER_ALLOW);
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence watch");
}

/* Refusals before the watch neither watch nor write; a refusal after it
 * never writes. */
static void test_refusals_write_nothing(void **state)
{
	gboolean ok;

	w.delegate = "a human";
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_REFUSE_MANUAL);
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence");
	reset(state);
	w.fence_state = ICS_FENCE_PENDING;
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_REFUSE_NOT_CONFIRMED);
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence");
	reset(state);
	w.daemon_generation = 4;
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_REFUSE_UNKNOWN);
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence");
	reset(state);
	w.watch_result = ICS_WATCH_RENEWED;
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_REFUSE_RENEWING);
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence watch");
	/* DEAD for the local daemon: sanlock grants it, nothing to watch */
	reset(state);
	w.state = ICS_HOST_DEAD;
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_NOT_NEEDED);
	assert_string_equal(w.log->str, "inspect hosts delta nodes fence");
}

/* The watch lasts as long as the owner's own io_timeout demands. */
static void test_watch_uses_owner_io_timeout(void **state)
{
	gboolean ok;

	w.delta_io_timeout = 10; /* joined without -o: sanlock's default */
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_ALLOW);
	assert_int_equal(w.watched_ms, 82500);
	reset(state);
	w.delta_io_timeout = 0; /* not recorded: the pool's */
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_ALLOW);
	assert_int_equal(w.watched_ms, 10500);
}

/* What the write finds decides too: a changed sector is a live host, a
 * stale watch says nothing, a bad read-back is an error. */
static void test_free_outcomes(void **state)
{
	gboolean ok;
	char *why = NULL;

	w.free_result = ICS_DELTA_CHANGED;
	assert_int_equal(run(FALSE, &ok, &why), ICS_TAKEOVER_REFUSE_RENEWING);
	assert_true(ok);
	assert_non_null(strstr(why, "changed after the watch"));
	g_clear_pointer(&why, g_free);
	reset(state);
	w.free_result = ICS_DELTA_WATCH_STALE;
	assert_int_equal(run(FALSE, &ok, &why), ICS_TAKEOVER_REFUSE_UNKNOWN);
	assert_non_null(strstr(why, "more than io_timeout"));
	g_clear_pointer(&why, g_free);
	reset(state);
	w.free_fails = TRUE;
	run(FALSE, &ok, &why);
	assert_false(ok);
	assert_non_null(strstr(why, "SAFETY"));
	g_free(why);
}

/* Just joined: the daemon has not read the hosts yet.  Read again (this is
 * what ocf:ics:manager's comment promises), not refused at once. */
static void test_hosts_busy_retried(void **state)
{
	gboolean ok;
	char *why = NULL;

	w.hosts_busy = 2;
	assert_int_equal(run(FALSE, &ok, NULL), ICS_TAKEOVER_ALLOW);
	assert_string_equal(w.log->str,
			    "inspect hosts sleep hosts sleep hosts delta nodes fence watch free");
	/* still not ready after 2 x io_timeout + 1 s: refused, saying why */
	reset(state);
	w.hosts_busy = 1000;
	assert_int_equal(run(FALSE, &ok, &why), ICS_TAKEOVER_REFUSE_UNKNOWN);
	assert_non_null(strstr(why, "has not read the other hosts yet"));
	assert_null(strstr(w.log->str, "free"));
	g_free(why);
}

/* ---- ics_delta_free's steps -------------------------------------------- */

typedef struct {
	GString *log;
	guint8 disk[512]; /* the sector on "disk" */
	gint64 now;
	gboolean rejoin_after_write; /* the host writes generation 6 right after us */
} Disk;

static Disk d;

static guint8 *d_read(const char *path, guint64 off, GError **error)
{
	g_string_append(d.log, d.log->len ? " read" : "read");
	return g_memdup2(d.disk, sizeof(d.disk));
}

static gboolean d_write(const char *path, guint64 off, const guint8 *s, GError **error)
{
	g_string_append(d.log, " write");
	memcpy(d.disk, s, sizeof(d.disk));
	if (d.rejoin_after_write) {
		IcsLeaderRecord lr;

		ics_leader_decode(d.disk, &lr);
		lr.owner_generation = 6;
		lr.timestamp = 4000;
		ics_leader_encode(&lr, d.disk);
	}
	return TRUE;
}

static gint64 d_now(void)
{
	return d.now;
}

static const IcsSectorIo disk_io = { .read = d_read, .write = d_write, .now_mono = d_now };

/* A renewed delta lease of host 2, generation 5, with a request bitmap. */
static void d_reset(IcsDeltaWatch *watch)
{
	IcsLeaderRecord lr = { 0 };

	if (d.log)
		g_string_free(d.log, TRUE);
	memset(&d, 0, sizeof(d));
	d.log = g_string_new(NULL);
	lr.magic = ICS_DELTA_MAGIC;
	lr.version = 0x00030002;
	lr.sector_size = 512;
	lr.max_hosts = 1;
	lr.owner_id = 2;
	lr.owner_generation = 5;
	lr.timestamp = 900;
	lr.io_timeout = 1;
	g_strlcpy(lr.space_name, "ics-gold", sizeof(lr.space_name));
	g_strlcpy(lr.resource_name, "node2", sizeof(lr.resource_name));
	ics_leader_encode(&lr, d.disk);
	d.disk[256] = 0x04;
	memset(watch, 0, sizeof(*watch));
	watch->result = ICS_WATCH_STEADY;
	watch->last_read_mono = 50 * G_USEC_PER_SEC;
	memcpy(watch->last_sector, d.disk, sizeof(d.disk));
	d.now = watch->last_read_mono + 200 * G_TIME_SPAN_MILLISECOND;
}

static void test_free_order(void **state)
{
	IcsPool pool = { .name = (char *)"gold", .ids_path = (char *)"/fake/ids", .io_timeout = 1 };
	g_autoptr(GError) err = NULL;
	IcsDeltaWatch watch;
	IcsDeltaFreeResult r;
	IcsLeaderRecord lr;

	/* read, compare, write, read back */
	d_reset(&watch);
	assert_true(ics_delta_free_with(&disk_io, &pool, 2, 5, &watch, 1, &r, &err));
	assert_int_equal(r, ICS_DELTA_FREED);
	assert_string_equal(d.log->str, "read write read");
	ics_leader_decode(d.disk, &lr);
	assert_int_equal(lr.timestamp, 0);
	assert_int_equal(lr.owner_generation, 5);
	assert_true(lr.checksum_ok);
	assert_int_equal(d.disk[256], 0); /* as sanlock's release: bitmap cleared */
	/* the sector changed after the watch (a renewal, a re-join): no write */
	d_reset(&watch);
	d.disk[152] ^= 1;
	assert_true(ics_delta_free_with(&disk_io, &pool, 2, 5, &watch, 1, &r, &err));
	assert_int_equal(r, ICS_DELTA_CHANGED);
	assert_string_equal(d.log->str, "read");
	/* more than io_timeout since the watch's last read: not even a read */
	d_reset(&watch);
	d.now = watch.last_read_mono + 1001 * G_TIME_SPAN_MILLISECOND;
	assert_true(ics_delta_free_with(&disk_io, &pool, 2, 5, &watch, 1, &r, &err));
	assert_int_equal(r, ICS_DELTA_WATCH_STALE);
	assert_string_equal(d.log->str, "");
	/* ... measured against the owner's io_timeout */
	d_reset(&watch);
	d.now = watch.last_read_mono + 9 * G_USEC_PER_SEC;
	assert_true(ics_delta_free_with(&disk_io, &pool, 2, 5, &watch, 10, &r, &err));
	assert_int_equal(r, ICS_DELTA_FREED);
	/* written over right after our write: the read-back says so, loudly */
	d_reset(&watch);
	d.rejoin_after_write = TRUE;
	assert_false(ics_delta_free_with(&disk_io, &pool, 2, 5, &watch, 1, &r, &err));
	assert_string_equal(d.log->str, "read write read");
	assert_non_null(strstr(err->message, "SAFETY"));
	assert_non_null(strstr(err->message, "generation 6"));
	g_string_free(d.log, TRUE);
	d.log = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_allow_order, reset, done),
		cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, reset, done),
		cmocka_unit_test_setup_teardown(test_refusals_write_nothing, reset, done),
		cmocka_unit_test_setup_teardown(test_watch_uses_owner_io_timeout, reset, done),
		cmocka_unit_test_setup_teardown(test_free_outcomes, reset, done),
		cmocka_unit_test_setup_teardown(test_hosts_busy_retried, reset, done),
		cmocka_unit_test(test_free_order),
	};
	return cmocka_run_group_tests_name("takeover_steps", tests, NULL, NULL);
}
