/*
 * delta_release.c: freeing a fenced host's delta lease -- the takeover's
 * one write -- exactly where the renewal watch left it.
 *
 * Freeing host H's delta lease (timestamp 0) makes every paxos lease of its
 * incarnation (H, g) free for sanlock.  `sanlock direct release_id` does it,
 * but it frees whatever is on disk at the moment it runs: had this host
 * stalled after its watch, and H rebooted and re-joined as (H, g+1) and
 * taken leases meanwhile, release_id would free the new incarnation's
 * leases under a live host.  So the sector is freed here, in-process:
 *
 *   1. the watch's last read began at most io_timeout ago (a watch that old
 *      no longer says anything about now: WATCH_STALE, nothing written);
 *   2. the sector is read again (O_DIRECT) and must equal, byte for byte,
 *      what the watch last read (CHANGED otherwise, nothing written);
 *   3. the freed sector is written with O_DIRECT | O_SYNC: the same bytes
 *      `sanlock direct release_id` writes (delta_lease_release: the 200-byte
 *      leader as read, timestamp 0, checksum over the first 168 bytes, the
 *      rest of the sector zero), so sanlock reads it as its own
 *      (test_delta_release compares the two byte for byte);
 *   4. the sector is read back: it must show generation g with timestamp 0.
 *      Anything else means someone wrote the sector between 2 and 4 -- H
 *      itself, re-joining or completing a renewal that was in flight -- and
 *      is an error that says SAFETY, never a success.
 * Between 2 and 3 a write by H can still land (there is no compare-and-swap
 * on a disk sector).  sanlock's own protocol covers it: a renewal of H that
 * lands after our write was begun before the watch ended, and H's daemon
 * publishes a renewal only after its write completed, so its deadline for
 * killing its lease holders had already passed (docs/lease-takeover.md, A3);
 * a re-join reads, waits and reads again, and fails on our write.  The
 * read-back catches what landed before it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ics/error.h"
#include "lock_internal.h"

/* sizeof(struct leader_record) of sanlock 3.x: what delta_lease_release keeps */
#define LEADER_RECORD_LEN 200
#define TIMESTAMP_OFFSET 152
#define CHECKSUM_OFFSET 168

void ics_delta_sector_freed(const guint8 *sector, guint8 *out)
{
	guint32 crc;

	memset(out, 0, ICS_SECTOR_SIZE);
	memcpy(out, sector, LEADER_RECORD_LEN);
	memset(out + TIMESTAMP_OFFSET, 0, 8);
	crc = ics_crc32c(~1u, out, ICS_LEADER_CHECKSUM_LEN);
	for (int i = 0; i < 4; i++)
		out[CHECKSUM_OFFSET + i] = (guint8)(crc >> (8 * i));
}

static gboolean sector_write_direct(const char *path, guint64 offset, const guint8 *sector,
				    GError **error)
{
	void *buf = NULL;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_DIRECT | O_SYNC | O_CLOEXEC);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open lease file %s for a direct write",
				    path);
		return FALSE;
	}
	if (posix_memalign(&buf, 4096, ICS_SECTOR_SIZE) != 0)
		g_error("out of memory");
	memcpy(buf, sector, ICS_SECTOR_SIZE);
	do
		n = pwrite(fd, buf, ICS_SECTOR_SIZE, (off_t)offset);
	while (n < 0 && errno == EINTR);
	free(buf);
	if (n != ICS_SECTOR_SIZE) {
		if (n < 0)
			ics_error_set_errno(
				error, errno,
				"cannot write lease file %s at offset %" G_GUINT64_FORMAT, path,
				offset);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "short write to lease file %s at offset %" G_GUINT64_FORMAT,
				    path, offset);
		close(fd);
		return FALSE;
	}
	if (close(fd) < 0) {
		ics_error_set_errno(error, errno, "cannot write lease file %s", path);
		return FALSE;
	}
	return TRUE;
}

static gint64 mono_now(void)
{
	return g_get_monotonic_time();
}

const IcsSectorIo ics_sector_io_direct = {
	.read = ics_sector_read_direct,
	.write = sector_write_direct,
	.now_mono = mono_now,
};

gboolean ics_delta_free_with(const IcsSectorIo *io, IcsPool *pool, guint64 host_id,
			     guint64 generation, const IcsDeltaWatch *watch, guint io_timeout_s,
			     IcsDeltaFreeResult *out, GError **error)
{
	const guint64 off = ics_host_offset(host_id);
	g_autofree guint8 *now_sector = NULL;
	g_autofree guint8 *back = NULL;
	guint8 freed[ICS_SECTOR_SIZE];
	IcsLeaderRecord lr;
	gint64 age_ms;

	*out = ICS_DELTA_CHANGED;
	if (!ics_lock_host_id_valid(host_id, error))
		return FALSE;
	age_ms = (io->now_mono() - watch->last_read_mono) / G_TIME_SPAN_MILLISECOND;
	if (age_ms > (gint64)MAX(io_timeout_s, 1u) * 1000) {
		*out = ICS_DELTA_WATCH_STALE;
		return TRUE;
	}
	now_sector = io->read(pool->ids_path, off, error);
	if (!now_sector) {
		ics_error_prefix(error,
				 "pool \"%s\": freeing host %" G_GUINT64_FORMAT "'s delta lease: ",
				 pool->name, host_id);
		return FALSE;
	}
	if (memcmp(now_sector, watch->last_sector, ICS_SECTOR_SIZE) != 0)
		return TRUE; /* CHANGED: nothing written */
	ics_delta_sector_freed(now_sector, freed);
	if (!io->write(pool->ids_path, off, freed, error) ||
	    !(back = io->read(pool->ids_path, off, error))) {
		ics_error_prefix(error,
				 "pool \"%s\": freeing host %" G_GUINT64_FORMAT "'s delta lease: ",
				 pool->name, host_id);
		return FALSE;
	}
	ics_leader_decode(back, &lr);
	if (lr.magic != ICS_DELTA_MAGIC || !lr.checksum_ok || lr.owner_generation != generation ||
	    lr.timestamp != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "pool \"%s\": SAFETY: host %" G_GUINT64_FORMAT "'s delta lease was "
			    "written by someone else right after this host freed generation "
			    "%" G_GUINT64_FORMAT ": it reads generation %" G_GUINT64_FORMAT
			    ", timestamp %" G_GUINT64_FORMAT
			    "%s; the host may be alive or re-joining: check it, do not "
			    "force anything",
			    pool->name, host_id, generation, lr.owner_generation, lr.timestamp,
			    lr.checksum_ok ? "" : " (bad checksum)");
		return FALSE;
	}
	*out = ICS_DELTA_FREED;
	return TRUE;
}

gboolean ics_delta_free(IcsPool *pool, guint64 host_id, guint64 generation,
			const IcsDeltaWatch *watch, guint io_timeout_s, IcsDeltaFreeResult *out,
			GError **error)
{
	return ics_delta_free_with(&ics_sector_io_direct, pool, host_id, generation, watch,
				   io_timeout_s, out, error);
}
