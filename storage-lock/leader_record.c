/*
 * leader_record.c: reading sanlock's on-disk leader records without the
 * daemon.
 *
 * Every sanlock area starts each lease with a 512-byte leader: the delta
 * lease of host N is sector N-1 of the ids file (magic 0x12212010), a paxos
 * (resource) lease starts with its leader at the lease's offset (magic
 * 0x06152010).  The layout is sanlock's struct leader_record, little-endian,
 * protected by crc32c (Castagnoli, seed ~1, no final inversion) over the
 * first 168 bytes.  Decoding it here lets init refuse to clobber live
 * leases, lets open tell a foreign or corrupt file from ours, and lets dump
 * and inspect work without a daemon.  Nothing here writes to a lease area.
 *
 * Two ways to read: ics_sectors_read serves inspection (init, open, dump):
 * it falls back to a cached read where the file system has no O_DIRECT
 * (tmpfs) and reads past the end of a sparse file as zeros.
 * ics_sector_read_direct serves every judgement of whether a host is alive
 * (the delta-lease reads of the takeover and of storage fencing): there a
 * cached sector could hide a renewal and a zero-filled one would read as a
 * free lease, so both are errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ics/error.h"
#include "lock_internal.h"

guint32 ics_crc32c(guint32 crc, const guint8 *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
	}
	return crc;
}

static guint32 get32(const guint8 *p)
{
	return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static guint64 get64(const guint8 *p)
{
	return (guint64)get32(p) | (guint64)get32(p + 4) << 32;
}

static void put32(guint8 *p, guint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (guint8)(v >> (8 * i));
}

static void put64(guint8 *p, guint64 v)
{
	put32(p, (guint32)v);
	put32(p + 4, (guint32)(v >> 32));
}

void ics_leader_decode(const guint8 *s, IcsLeaderRecord *lr)
{
	memset(lr, 0, sizeof(*lr));
	lr->blank = TRUE;
	for (int i = 0; i < ICS_SECTOR_SIZE; i++) {
		if (s[i]) {
			lr->blank = FALSE;
			break;
		}
	}
	lr->magic = get32(s + 0);
	lr->version = get32(s + 4);
	lr->flags = get32(s + 8);
	lr->sector_size = get32(s + 12);
	lr->num_hosts = get64(s + 16);
	lr->max_hosts = get64(s + 24);
	lr->owner_id = get64(s + 32);
	lr->owner_generation = get64(s + 40);
	lr->lver = get64(s + 48);
	memcpy(lr->space_name, s + 56, SANLK_NAME_LEN);
	memcpy(lr->resource_name, s + 104, SANLK_NAME_LEN);
	lr->timestamp = get64(s + 152);
	lr->checksum = get32(s + 168);
	lr->io_timeout = (guint16)(s[174] | s[175] << 8);
	lr->write_id = get64(s + 176);
	lr->write_generation = get64(s + 184);
	lr->write_timestamp = get64(s + 192);
	lr->checksum_ok = ics_crc32c(~1u, s, ICS_LEADER_CHECKSUM_LEN) == lr->checksum;
}

void ics_leader_encode(const IcsLeaderRecord *lr, guint8 *s)
{
	memset(s, 0, ICS_SECTOR_SIZE);
	put32(s + 0, lr->magic);
	put32(s + 4, lr->version);
	put32(s + 8, lr->flags);
	put32(s + 12, lr->sector_size);
	put64(s + 16, lr->num_hosts);
	put64(s + 24, lr->max_hosts);
	put64(s + 32, lr->owner_id);
	put64(s + 40, lr->owner_generation);
	put64(s + 48, lr->lver);
	memcpy(s + 56, lr->space_name, SANLK_NAME_LEN);
	memcpy(s + 104, lr->resource_name, SANLK_NAME_LEN);
	put64(s + 152, lr->timestamp);
	s[174] = (guint8)lr->io_timeout;
	s[175] = (guint8)(lr->io_timeout >> 8);
	put64(s + 176, lr->write_id);
	put64(s + 184, lr->write_generation);
	put64(s + 192, lr->write_timestamp);
	put32(s + 168, ics_crc32c(~1u, s, ICS_LEADER_CHECKSUM_LEN));
}

guint8 *ics_sectors_read(const char *path, guint64 offset, gsize count, GError **error)
{
	gsize len = count * ICS_SECTOR_SIZE;
	void *buf = NULL;
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && errno == EINVAL)
		fd = open(path, O_RDONLY | O_CLOEXEC); /* tmpfs: no O_DIRECT */
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open lease file %s", path);
		return NULL;
	}
	if (posix_memalign(&buf, 4096, len) != 0)
		g_error("out of memory");
	memset(buf, 0, len);
	gsize done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (guint8 *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ics_error_set_errno(
				error, errno,
				"cannot read lease file %s at offset %" G_GUINT64_FORMAT, path,
				offset + done);
			close(fd);
			free(buf);
			return NULL;
		}
		if (n == 0)
			break; /* past the end: zeros, like a sparse hole */
		done += (gsize)n;
	}
	close(fd);
	/* Hand out g_malloc memory so callers use g_free/g_autofree. */
	guint8 *out = g_memdup2(buf, len);
	free(buf);
	return out;
}

guint8 *ics_sector_read_direct(const char *path, guint64 offset, GError **error)
{
	void *buf = NULL;
	gsize done = 0;
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && errno == EINVAL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "lease file %s cannot be opened with O_DIRECT (its file system has no "
			    "direct I/O): a read could come from a cache, so it proves nothing; "
			    "pools must live on storage with direct I/O",
			    path);
		return NULL;
	}
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open lease file %s", path);
		return NULL;
	}
	if (posix_memalign(&buf, 4096, ICS_SECTOR_SIZE) != 0)
		g_error("out of memory");
	while (done < ICS_SECTOR_SIZE) {
		ssize_t n = pread(fd, (guint8 *)buf + done, ICS_SECTOR_SIZE - done,
				  (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				ics_error_set_errno(
					error, errno,
					"cannot read lease file %s at offset %" G_GUINT64_FORMAT,
					path, offset + done);
			else
				g_set_error(
					error, ICS_ERROR, ICS_ERROR_IO,
					"lease file %s ends at offset %" G_GUINT64_FORMAT
					" (short read): truncated? re-run 'ics-lease init' once no "
					"host uses the pool",
					path, offset + done);
			close(fd);
			free(buf);
			return NULL;
		}
		done += (gsize)n;
	}
	close(fd);
	guint8 *out = g_memdup2(buf, ICS_SECTOR_SIZE);
	free(buf);
	return out;
}

gboolean ics_leader_read(const char *path, guint64 offset, IcsLeaderRecord *lr, GError **error)
{
	g_autofree guint8 *s = ics_sectors_read(path, offset, 1, error);

	if (!s)
		return FALSE;
	ics_leader_decode(s, lr);
	return TRUE;
}

gboolean ics_leader_check(const IcsLeaderRecord *lr, guint32 magic, const char *lockspace,
			  const char *what, GError **error)
{
	if (lr->blank) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s is not initialized (all zeros); re-run 'ics-lease init'", what);
		return FALSE;
	}
	if (lr->magic != magic) {
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_PARSE,
			"%s is a foreign lease file (magic 0x%08x, expected 0x%08x): not a sanlock "
			"area of this pool; check the path, remove the file only if nothing uses "
			"it",
			what, lr->magic, magic);
		return FALSE;
	}
	if (!lr->checksum_ok) {
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_PARSE,
			"%s is corrupt (leader checksum mismatch); re-run 'ics-lease init --force' "
			"once no host uses the pool",
			what);
		return FALSE;
	}
	if (lr->sector_size != ICS_SECTOR_SIZE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s has sector size %u, expected %d; re-run 'ics-lease init'", what,
			    lr->sector_size, ICS_SECTOR_SIZE);
		return FALSE;
	}
	if (lockspace && strcmp(lr->space_name, lockspace) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s is a foreign lease file: it belongs to lockspace \"%s\", expected "
			    "\"%s\"; check the path",
			    what, lr->space_name, lockspace);
		return FALSE;
	}
	return TRUE;
}
