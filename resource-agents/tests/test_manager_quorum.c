/*
 * test_manager_quorum.c: the start-alone decision (white paper 5.4.1),
 * every row of its table, with both nodes' GIs taken from real DRBD
 * metadata (drbdmeta create-md + set-gi on files, read back with the
 * agent's reader) and the records going through a real quorum-disk file.
 *
 * The GI stories follow DRBD: X is the data both nodes shared; a node that
 * goes on alone moves X to its bitmap UUID and gets a new current UUID.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drbd_fixture.h"
#include "ics/error.h"
#include "manager_quorum.h"

#define NOW 1795712675
#define PERIOD 10

/* UUIDs of the stories (bit 0 clear; DRBD sets it on a primary). */
#define X "5A5A5A5A5A5A5A5A"  /* shared data */
#define H1 "3030303030303030" /* older history */
#define H2 "4040404040404040"
#define Y "7B7B7B7B7B7B7B7A" /* new data on one node alone */
#define Z "9C9C9C9C9C9C9C9C" /* new data on the other node alone */
#define ZERO "0000000000000000"

typedef struct {
	char *dir;
	char *drbdmeta;
	char *disk;
	DrbdGi self_gi;
	DrbdGi peer_gi;
	QuorumRecord self_rec; /* as read back from the disk */
	QuorumRecord peer_rec;
	char *peer_problem;
	gboolean have_self_rec, have_peer_rec;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->dir = g_dir_make_tmp("test-manager-quorum-XXXXXX", NULL);
	f->drbdmeta = fixture_drbdmeta();
	f->disk = g_build_filename(f->dir, "quorum", NULL);
	assert_true(g_file_set_contents(f->disk, "", 0, NULL));
	assert_int_equal(truncate(f->disk, QUORUM_DISK_MIN_SIZE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	quorum_record_clear(&f->self_rec);
	quorum_record_clear(&f->peer_rec);
	g_free(f->peer_problem);
	g_free(f->dir);
	g_free(f->drbdmeta);
	g_free(f->disk);
	g_free(f);
	return 0;
}

/* Real metadata for @node with GIs "CURRENT:BITMAP:H1:H2", read back. */
static void metadata(Fixture *f, const char *node, const char *uuids, DrbdGi *gi)
{
	g_autofree char *file = g_build_filename(f->dir, node, NULL);
	DrbdMetaSource src = { .drbdmeta = f->drbdmeta, .minor = "0", .meta = file };
	g_autoptr(GError) error = NULL;

	if (f->drbdmeta == NULL) {
		print_message("drbdmeta not installed (drbd-utils)\n");
		skip();
	}
	assert_true(fixture_create_md(f->drbdmeta, "v09", file));
	assert_true(fixture_set_gi(f->drbdmeta, "v09", file, uuids));
	if (!drbd_gi_read_meta(&src, gi, &error))
		fail_msg("%s", error->message);
}

/* Record @node's GIs on the quorum disk, as the agent does. */
static void record(Fixture *f, const char *node, const DrbdGi *gi, gint64 written, gboolean serving)
{
	QuorumRecord r = { .node = (char *)node,
			   .resource = (char *)"ics-manager",
			   .written = written,
			   .period_s = PERIOD,
			   .serving = serving,
			   .gi = *gi };
	g_autoptr(GError) error = NULL;

	assert_true(quorum_disk_write(
		f->disk, quorum_slot_of(node, g_str_equal(node, "node1") ? "node2" : "node1"), &r,
		&error));
}

/* Read both records back from the disk, the agent's way. */
static void read_back(Fixture *f)
{
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;

	quorum_record_clear(&f->self_rec);
	quorum_record_clear(&f->peer_rec);
	g_clear_pointer(&f->peer_problem, g_free);
	f->have_self_rec = quorum_disk_read(f->disk, quorum_slot_of("node1", "node2"), "node1",
					    &f->self_rec, &e1);
	f->have_peer_rec = quorum_disk_read(f->disk, quorum_slot_of("node2", "node1"), "node2",
					    &f->peer_rec, &e2);
	if (!f->have_peer_rec)
		f->peer_problem = g_strdup(e2->message);
}

static ManagerQuorumVerdict decide(Fixture *f, gboolean override, char **reason)
{
	ManagerQuorumFacts facts = {
		.self_name = "node1",
		.peer_name = "node2",
		.self_gi = &f->self_gi,
		.self_record = f->have_self_rec ? &f->self_rec : NULL,
		.peer_record = f->have_peer_rec ? &f->peer_rec : NULL,
		.peer_problem = f->peer_problem,
		.now = NOW,
		.margin_s = 2,
		.override = override,
	};

	read_back(f);
	facts.self_record = f->have_self_rec ? &f->self_rec : NULL;
	facts.peer_record = f->have_peer_rec ? &f->peer_rec : NULL;
	facts.peer_problem = f->peer_problem;
	return manager_quorum_decide(&facts, reason);
}

#define EXPECT(f, override, verdict, ...)                                                          \
	do {                                                                                       \
		g_autofree char *reason_ = NULL;                                                   \
		const char *needles_[] = { __VA_ARGS__, NULL };                                    \
		ManagerQuorumVerdict v_ = decide((f), (override), &reason_);                       \
		if (v_ != (verdict))                                                               \
			fail_msg("got %s, want %s: %s", manager_quorum_verdict_name(v_),           \
				 manager_quorum_verdict_name(verdict), reason_);                   \
		for (guint i_ = 0; needles_[i_] != NULL; i_++)                                     \
			if (strstr(reason_, needles_[i_]) == NULL)                                 \
				fail_msg("'%s' not in '%s'", needles_[i_], reason_);               \
	} while (0)

/* Both stopped together while connected, peer standby: same GIs. */
static void test_equal(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 100, TRUE);
	record(f, "node2", &f->peer_gi, NOW - 95, FALSE);
	EXPECT(f, FALSE, MQ_START_SAME, X, "node2");
	assert_true(manager_quorum_verdict_starts(MQ_START_SAME));
}

/* The peer died first; this node went on alone (X -> bitmap, new Y). */
static void test_ahead(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", Y ":" X ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node2", &f->peer_gi, NOW - 3600, TRUE);
	record(f, "node1", &f->self_gi, NOW - 60, TRUE);
	EXPECT(f, FALSE, MQ_START_AHEAD, X, Y, "ahead");
}

/* This node died first; the peer went on alone (Z) and recorded it. */
static void test_behind(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", Z ":" X ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 3600, TRUE);
	record(f, "node2", &f->peer_gi, NOW - 60, TRUE);
	EXPECT(f, FALSE, MQ_REFUSE_BEHIND, "behind", X, Z, "node2");
	/* The override does not start a node that is known to be behind. */
	EXPECT(f, TRUE, MQ_REFUSE_BEHIND, "behind");
}

/* Both went on alone from X: Y here, Z there. */
static void test_split_brain(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", Y ":" X ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", Z ":" X ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 60, TRUE);
	record(f, "node2", &f->peer_gi, NOW - 3600, TRUE);
	EXPECT(f, FALSE, MQ_REFUSE_SPLIT_BRAIN, "split brain", Y, Z);
	EXPECT(f, TRUE, MQ_REFUSE_SPLIT_BRAIN, "split brain");
}

static void test_peer_missing(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	record(f, "node1", &f->self_gi, NOW - 60, TRUE);
	EXPECT(f, FALSE, MQ_REFUSE_NO_PEER_RECORD, "never written", "node2", X,
	       "override_quorum=true");
	EXPECT(f, TRUE, MQ_START_OVERRIDE, "override_quorum=true", "never written");
}

static void test_peer_corrupt(void **state)
{
	Fixture *f = *state;
	guint slot = quorum_slot_of("node2", "node1");
	char junk[64];
	int fd;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 60, TRUE);
	record(f, "node2", &f->peer_gi, NOW - 3600, FALSE);
	/* Damage the peer's only copy (seq 1 = copy B) inside its payload. */
	memset(junk, '#', sizeof(junk));
	fd = open(f->disk, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), (slot * 2 + 1) * QUORUM_BLOCK_SIZE + 150),
			 (ssize_t)sizeof(junk));
	close(fd);
	EXPECT(f, FALSE, MQ_REFUSE_NO_PEER_RECORD, "checksum", "node2");
	EXPECT(f, TRUE, MQ_START_OVERRIDE, "checksum");
}

/* The peer was serving and its last record is within one period of mine:
 * it may have outlived this node without recording its new GI. */
static void test_peer_stale(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 100, FALSE);
	record(f, "node2", &f->peer_gi, NOW - 96, TRUE);
	EXPECT(f, FALSE, MQ_REFUSE_PEER_STALE, "outlived", "node2", X);
	EXPECT(f, TRUE, MQ_START_OVERRIDE, "outlived");
}

/* Serving peer, and this node has no record at all: cannot order. */
static void test_peer_serving_no_self_record(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node2", &f->peer_gi, NOW - 96, TRUE);
	EXPECT(f, FALSE, MQ_REFUSE_PEER_STALE, "no record");
}

/* The serving peer recorded well after this node's last record (it saw
 * this node gone and still had X): not stale, same data. */
static void test_peer_recorded_after(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 300, FALSE);
	record(f, "node2", &f->peer_gi, NOW - 200, TRUE);
	EXPECT(f, FALSE, MQ_START_SAME, X);
}

static void test_peer_clock(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", X ":" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 60, TRUE);
	record(f, "node2", &f->peer_gi, NOW + 600, FALSE);
	EXPECT(f, FALSE, MQ_REFUSE_PEER_CLOCK, "future");
}

/* Metadata just created on this node (a replaced disk): behind. */
static void test_fresh_metadata(void **state)
{
	Fixture *f = *state;
	g_autofree char *file = g_build_filename(f->dir, "node1", NULL);
	DrbdMetaSource src = { .drbdmeta = f->drbdmeta, .minor = "0", .meta = file };

	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	assert_true(fixture_create_md(f->drbdmeta, "v09", file));
	assert_true(drbd_gi_read_meta(&src, &f->self_gi, NULL));
	record(f, "node2", &f->peer_gi, NOW - 3600, FALSE);
	EXPECT(f, FALSE, MQ_REFUSE_BEHIND, "0000000000000004");
}

/* A primary's UUIDs carry bit 0 set: still the same data. */
static void test_primary_bit(void **state)
{
	Fixture *f = *state;

	metadata(f, "node1", "5A5A5A5A5A5A5A5B:" ZERO ":" H1 ":" H2, &f->self_gi);
	metadata(f, "node2", X ":" ZERO ":" H1 ":" H2, &f->peer_gi);
	record(f, "node1", &f->self_gi, NOW - 100, TRUE);
	record(f, "node2", &f->peer_gi, NOW - 3600, FALSE);
	EXPECT(f, FALSE, MQ_START_SAME, "node2");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_equal),
		T(test_ahead),
		T(test_behind),
		T(test_split_brain),
		T(test_peer_missing),
		T(test_peer_corrupt),
		T(test_peer_stale),
		T(test_peer_serving_no_self_record),
		T(test_peer_recorded_after),
		T(test_peer_clock),
		T(test_fresh_metadata),
		T(test_primary_bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
