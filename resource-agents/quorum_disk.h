/*
 * quorum_disk.h: the manager's quorum disk (white paper 5.4.1) -- a small
 * shared disk on which each of the two manager nodes records, on a period,
 * its DRBD generation identifiers, so that a node coming back alone can
 * tell whether it is behind the node that is still down.
 *
 * Layout (a file on shared storage or a small shared block device, at
 * least QUORUM_DISK_MIN_SIZE bytes, zero-filled when created):
 *
 *   block 0, 1   slot 0: the node whose name sorts first, copies A and B
 *   block 2, 3   slot 1: the other node, copies A and B
 *
 * Each block is QUORUM_BLOCK_SIZE (4096) bytes, so a write is aligned on
 * 512- and 4096-byte sectors.  A slot's record is written with a sequence
 * number seq = previous + 1 into copy seq % 2 with one aligned O_DIRECT
 * write followed by fdatasync (a buffered write + fdatasync where O_DIRECT
 * is refused, e.g. tmpfs in tests).  A write torn by a crash damages only
 * the copy being written: its checksum fails and the reader falls back to
 * the other copy, which holds the previous record.  This is why the choice
 * is A/B copies in place and not "temp file + rename": rename needs a
 * shared file system with atomic rename seen by both nodes, while the
 * quorum disk of the white paper is a bare shared disk; A/B copies work on
 * both.  The slot of a node is fixed by the two names (ordered with
 * strcmp), so the two writers never touch the same block and need no lock.
 *
 * A block holds one text header line and a JSON payload, then zeros:
 *
 *   ics-quorum-disk 1 <payload length> <sha256 of payload, hex>\n
 *   {"format":1,"node":"n1","resource":"ics-manager","seq":7,
 *    "written":1795712675,"period":10,"serving":true,
 *    "current":"1122334455667788","bitmap":["AABBCCDDEEFF0012"],
 *    "history":["1111111111111110","2222222222222220"]}
 *
 * Text, so that "dd | head -c 600" on any node shows what the agent saw.
 */
#ifndef ICS_QUORUM_DISK_H
#define ICS_QUORUM_DISK_H

#include <glib.h>

#include "drbd_gi.h"

#define QUORUM_BLOCK_SIZE 4096
#define QUORUM_DISK_MIN_SIZE (4 * QUORUM_BLOCK_SIZE)
#define QUORUM_RECORD_FORMAT 1

typedef struct {
	char *node;	  /* cluster node name of the writer */
	char *resource;	  /* DRBD resource the GIs belong to */
	guint64 seq;	  /* per-slot write sequence, >= 1 */
	gint64 written;	  /* wall clock (s) of the write */
	guint period_s;	  /* the writer's recording period (monitor interval) */
	gboolean serving; /* the writer ran (or was starting) the manager */
	DrbdGi gi;
} QuorumRecord;

void quorum_record_clear(QuorumRecord *rec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QuorumRecord, quorum_record_clear)

/* Encode @rec into @block (QUORUM_BLOCK_SIZE bytes, zero-padded). */
gboolean quorum_record_encode(const QuorumRecord *rec, guint8 *block, GError **error);

/*
 * Decode one block.  ICS_ERROR_NOT_FOUND for an all-zero block (never
 * written), ICS_ERROR_PARSE with the reason for anything else that is not
 * a complete, checksummed record of a known format (torn write, foreign
 * data, newer format).
 */
gboolean quorum_record_decode(const guint8 *block, gsize len, QuorumRecord *rec, GError **error);

/* Slot of @self given the other node @peer: 0 when @self sorts first. */
guint quorum_slot_of(const char *self, const char *peer);

/*
 * The record of a slot: the valid copy with the higher seq.  NOT_FOUND
 * when neither copy was ever written; PARSE naming both copies' problems
 * when neither is valid; NOT_FOUND/IO for the disk itself (the path names
 * it).  A valid copy whose node name is not @expect_node (when not NULL)
 * is PARSE: the disk belongs to another pair of nodes.
 */
gboolean quorum_disk_read(const char *path, guint slot, const char *expect_node, QuorumRecord *rec,
			  GError **error);

/*
 * Write @rec into its slot: seq is set to one more than the slot's valid
 * record (1 when none), the copy not holding that record is overwritten.
 * The disk must exist and be at least QUORUM_DISK_MIN_SIZE bytes.
 */
gboolean quorum_disk_write(const char *path, guint slot, QuorumRecord *rec, GError **error);

#endif /* ICS_QUORUM_DISK_H */
