/*
 * drbd_gi.h: DRBD data generation identifiers (GIs), as drbdmeta and
 * drbdsetup print them.
 *
 * A DRBD volume carries a "current" UUID that changes whenever its data
 * starts to diverge from what a peer may hold (promotion while alone, the
 * first write after losing a peer), the previous current UUIDs it moved on
 * from (the bitmap UUID of each peer it was cut off from, then the history
 * UUIDs), and the meaning of GIs is DRBD's: two volumes with the same
 * current UUID hold the same data; a volume that knows another's current
 * UUID in its bitmap or history has moved on from it (it is ahead).  Bit 0
 * of every UUID is DRBD's "was primary" flag and is ignored when comparing
 * (DRBD's own UUID_PRIMARY mask).
 *
 * ICS does not compute GIs: it reads them with DRBD's tools and parses two
 * formats, both real output of drbd-utils 9:
 *   - the get-gi line (drbdmeta get-gi, drbdsetup get-gi, drbdadm get-gi):
 *     "CURRENT:BITMAP:HISTORY1:HISTORY2:flags..." with 16 hex digits per
 *     UUID and 1-digit flags (7 flags for v08, 12 for v09);
 *   - dump-md (drbdmeta dump-md): the whole metadata as text, which alone
 *     has every peer's bitmap UUID and the full history (32 entries in v09,
 *     "uuid { current; bitmap; history1; history2; }" in v08).
 * Zero UUIDs are empty slots and are not kept.
 */
#ifndef ICS_DRBD_GI_H
#define ICS_DRBD_GI_H

#include <glib.h>

#define DRBD_GI_MAX_BITMAP 32  /* v09: one bitmap UUID per peer slot */
#define DRBD_GI_MAX_HISTORY 32 /* v09: HISTORY_UUIDS */
#define DRBD_GI_UUID_MASK (~(guint64)1)
/* The current UUID of metadata just made by create-md (UUID_JUST_CREATED). */
#define DRBD_GI_JUST_CREATED ((guint64)4)

typedef struct {
	guint64 current;
	guint64 bitmap[DRBD_GI_MAX_BITMAP]; /* non-zero bitmap UUIDs only */
	guint n_bitmap;
	guint64 history[DRBD_GI_MAX_HISTORY]; /* non-zero, newest first */
	guint n_history;
} DrbdGi;

/* Parse one get-gi line (leading/trailing blanks allowed; the show-gi
 * explanation lines around it are accepted too). */
gboolean drbd_gi_parse_line(const char *text, DrbdGi *gi, GError **error);

/* Parse drbdmeta dump-md output (v08 or v09). */
gboolean drbd_gi_parse_dump(const char *text, DrbdGi *gi, GError **error);

/* dump-md when the text starts with "# DRBD meta data dump" or has a
 * "version" line, the get-gi line otherwise. */
gboolean drbd_gi_parse(const char *text, DrbdGi *gi, GError **error);

/* Same UUID, ignoring DRBD's primary flag (bit 0). */
gboolean drbd_uuid_equal(guint64 a, guint64 b);

/* Does @gi know @uuid as its current, a bitmap or a history UUID?
 * Zero is never known. */
gboolean drbd_gi_knows(const DrbdGi *gi, guint64 uuid);

/* Does @gi know @uuid as a bitmap or history UUID (an ancestor)? */
gboolean drbd_gi_has_ancestor(const DrbdGi *gi, guint64 uuid);

/* "1122334455667788" (16 upper-case hex digits, DRBD's spelling). */
char *drbd_uuid_to_string(guint64 uuid);
gboolean drbd_uuid_parse(const char *text, guint64 *out);

/* Where drbdmeta finds a volume's metadata. */
typedef struct {
	const char *drbdmeta; /* program; NULL = "drbdmeta" from PATH */
	const char *minor;    /* "0" or "/dev/drbd0" */
	const char *format;   /* "v09" (default when NULL) or "v08" */
	const char *meta;     /* backing device / metadata device or file */
	const char *index;    /* "internal" (default), "flex-external" or N */
	guint timeout_ms;     /* 0 = 10 s */
} DrbdMetaSource;

/*
 * Read the GIs of a volume that is not attached to the kernel (DRBD keeps
 * an attached volume's metadata to itself), with
 * "drbdmeta --force MINOR FORMAT META INDEX dump-md".  --force only skips
 * the configured-minor check; dump-md never writes.  ICS_ERROR_NOT_FOUND
 * when drbdmeta is not installed, ICS_ERROR_EXEC with drbdmeta's own
 * message (e.g. "No valid meta data found") when it fails.
 */
gboolean drbd_gi_read_meta(const DrbdMetaSource *src, DrbdGi *gi, GError **error);

#endif /* ICS_DRBD_GI_H */
