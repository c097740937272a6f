/*
 * test_quorum_disk.c: the quorum-disk record on a real file -- round trip,
 * A/B copies (a torn write of one copy leaves the previous record
 * readable), damaged and foreign records rejected with a reason, the
 * slot order, a disk that is too small -- and a bounded, seeded mutation
 * fuzz of the block decoder (every mutation is either rejected or decodes
 * into a record that encodes back to a valid block).
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

#include "ics/error.h"
#include "quorum_disk.h"

#define FUZZ_SEED 20261126
#define FUZZ_ROUNDS 20000

typedef struct {
	char *dir;
	char *disk;
} Fixture;

static int setup(void **state)
{
	Fixture *f = g_new0(Fixture, 1);

	f->dir = g_dir_make_tmp("test-quorum-disk-XXXXXX", NULL);
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
	g_free(f->dir);
	g_free(f->disk);
	g_free(f);
	return 0;
}

static void make_record(QuorumRecord *r, const char *node, guint64 current)
{
	memset(r, 0, sizeof(*r));
	r->node = g_strdup(node);
	r->resource = g_strdup("ics-manager");
	r->written = 1795712675;
	r->period_s = 10;
	r->serving = TRUE;
	r->gi.current = current;
	r->gi.bitmap[r->gi.n_bitmap++] = 0xAABBCCDDEEFF0012ULL;
	r->gi.history[r->gi.n_history++] = 0x1111111111111110ULL;
	r->gi.history[r->gi.n_history++] = 0x2222222222222220ULL;
}

static void test_round_trip(void **state)
{
	Fixture *f = *state;
	g_auto(QuorumRecord) w = { 0 };
	g_auto(QuorumRecord) r = { 0 };
	g_autoptr(GError) error = NULL;

	make_record(&w, "node1", 0x1122334455667788ULL);
	assert_true(quorum_disk_write(f->disk, 0, &w, &error));
	assert_int_equal(w.seq, 1);
	assert_true(quorum_disk_read(f->disk, 0, "node1", &r, &error));
	assert_string_equal(r.node, "node1");
	assert_string_equal(r.resource, "ics-manager");
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.written, w.written);
	assert_int_equal(r.period_s, 10);
	assert_true(r.serving);
	assert_int_equal(r.gi.current, 0x1122334455667788ULL);
	assert_int_equal(r.gi.n_bitmap, 1);
	assert_int_equal(r.gi.n_history, 2);
	assert_int_equal(r.gi.history[1], 0x2222222222222220ULL);

	/* The other slot is untouched. */
	quorum_record_clear(&r);
	assert_false(quorum_disk_read(f->disk, 1, NULL, &r, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

static void test_sequence_and_torn_copy(void **state)
{
	Fixture *f = *state;
	g_auto(QuorumRecord) w = { 0 };
	g_auto(QuorumRecord) r = { 0 };
	g_autoptr(GError) error = NULL;
	guint8 junk[1000];
	int fd;

	make_record(&w, "node2", 0x1000000000000000ULL);
	assert_true(quorum_disk_write(f->disk, 1, &w, &error)); /* seq 1 -> copy B */
	w.gi.current = 0x2000000000000000ULL;
	assert_true(quorum_disk_write(f->disk, 1, &w, &error)); /* seq 2 -> copy A */
	assert_int_equal(w.seq, 2);
	assert_true(quorum_disk_read(f->disk, 1, "node2", &r, &error));
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.gi.current, 0x2000000000000000ULL);
	quorum_record_clear(&r);

	/* A torn third write (copy B, block 3) leaves seq 2 readable. */
	memset(junk, 'x', sizeof(junk));
	fd = open(f->disk, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 3 * QUORUM_BLOCK_SIZE + 100),
			 (ssize_t)sizeof(junk));
	assert_true(quorum_disk_read(f->disk, 1, "node2", &r, &error));
	assert_int_equal(r.seq, 2);
	quorum_record_clear(&r);

	/* Both copies damaged: rejected, naming both. */
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 2 * QUORUM_BLOCK_SIZE + 30),
			 (ssize_t)sizeof(junk));
	close(fd);
	assert_false(quorum_disk_read(f->disk, 1, "node2", &r, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_PARSE));
	assert_non_null(strstr(error->message, "copy A"));
	assert_non_null(strstr(error->message, "copy B"));
	g_clear_error(&error);

	/* The next write still works and wins. */
	w.gi.current = 0x3000000000000000ULL;
	assert_true(quorum_disk_write(f->disk, 1, &w, &error));
	assert_int_equal(w.seq, 1);
	assert_true(quorum_disk_read(f->disk, 1, "node2", &r, &error));
	assert_int_equal(r.gi.current, 0x3000000000000000ULL);
}

static void test_rejections(void **state)
{
	Fixture *f = *state;
	g_auto(QuorumRecord) w = { 0 };
	g_auto(QuorumRecord) r = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *small = g_build_filename(f->dir, "small", NULL);
	g_autofree char *missing = g_build_filename(f->dir, "missing", NULL);
	guint8 block[QUORUM_BLOCK_SIZE];

	make_record(&w, "node1", 0x1122334455667788ULL);
	assert_true(quorum_disk_write(f->disk, 0, &w, &error));
	/* Another pair's disk. */
	assert_false(quorum_disk_read(f->disk, 0, "node9", &r, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_PARSE));
	assert_non_null(strstr(error->message, "node9"));
	g_clear_error(&error);

	/* One flipped payload byte: checksum. */
	assert_true(quorum_record_encode(&w, block, &error));
	block[100] ^= 0x20;
	assert_false(quorum_record_decode(block, sizeof(block), &r, &error));
	assert_non_null(strstr(error->message, "checksum"));
	g_clear_error(&error);

	/* A newer format. */
	assert_true(quorum_record_encode(&w, block, &error));
	block[16] = '2';
	assert_false(quorum_record_decode(block, sizeof(block), &r, &error));
	assert_non_null(strstr(error->message, "format 2"));
	g_clear_error(&error);

	/* Bytes after the record. */
	assert_true(quorum_record_encode(&w, block, &error));
	block[QUORUM_BLOCK_SIZE - 1] = 1;
	assert_false(quorum_record_decode(block, sizeof(block), &r, &error));
	assert_non_null(strstr(error->message, "torn"));
	g_clear_error(&error);

	/* Too small, missing. */
	assert_true(g_file_set_contents(small, "", 0, NULL));
	assert_int_equal(truncate(small, 4096), 0);
	assert_false(quorum_disk_write(small, 0, &w, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	g_clear_error(&error);
	assert_false(quorum_disk_read(missing, 0, NULL, &r, &error));
	assert_true(g_error_matches(error, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(error->message, missing));
}

static void test_slots(void **state)
{
	(void)state;
	assert_int_equal(quorum_slot_of("node1", "node2"), 0);
	assert_int_equal(quorum_slot_of("node2", "node1"), 1);
}

/* Mutations of a valid block: flip bytes, zero ranges, truncate the
 * payload, splice digits into the header.  Decoding must never crash and
 * a record it accepts must encode again. */
static void test_fuzz_decoder(void **state)
{
	g_auto(QuorumRecord) w = { 0 };
	guint8 valid[QUORUM_BLOCK_SIZE], block[QUORUM_BLOCK_SIZE];
	GRand *rng = g_rand_new_with_seed(FUZZ_SEED);
	guint accepted = 0;

	(void)state;
	make_record(&w, "node1", 0x1122334455667788ULL);
	w.seq = 5;
	assert_true(quorum_record_encode(&w, valid, NULL));
	for (guint round = 0; round < FUZZ_ROUNDS; round++) {
		g_auto(QuorumRecord) r = { 0 };
		g_autoptr(GError) error = NULL;
		guint n = (guint)g_rand_int_range(rng, 1, 6);

		memcpy(block, valid, sizeof(block));
		for (guint m = 0; m < n; m++) {
			guint pos = (guint)g_rand_int_range(rng, 0, 600);

			switch (g_rand_int_range(rng, 0, 4)) {
			case 0:
				block[pos] ^= (guint8)(1u << g_rand_int_range(rng, 0, 8));
				break;
			case 1:
				memset(block + pos, 0, (gsize)g_rand_int_range(rng, 1, 64));
				break;
			case 2:
				block[pos] = (guint8)g_rand_int_range(rng, 0, 256);
				break;
			default:
				block[pos] = (guint8) "0123456789{}\":,\n "[g_rand_int_range(rng, 0,
											     17)];
				break;
			}
		}
		if (quorum_record_decode(block, sizeof(block), &r, &error)) {
			guint8 again[QUORUM_BLOCK_SIZE];
			g_auto(QuorumRecord) r2 = { 0 };

			accepted++;
			assert_true(quorum_record_encode(&r, again, NULL));
			assert_true(quorum_record_decode(again, sizeof(again), &r2, NULL));
			assert_string_equal(r2.node, r.node);
		} else {
			assert_non_null(error);
			assert_true(error->message[0] != '\0');
		}
	}
	/* Mutations outside the record (zeros over zeros) keep it valid. */
	assert_true(accepted > 0);
	g_rand_free(rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_and_torn_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_fuzz_decoder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
