/*
 * quorum_disk.c: encoding, reading and writing quorum-disk records.
 *
 * The format and the A/B-copy write discipline are described in
 * quorum_disk.h.  The decoder is the part that sees foreign or damaged
 * bytes (a torn write, a disk that is not a quorum disk, a newer format),
 * so it trusts nothing: the header is parsed within a bounded prefix, the
 * length is checked against the block before the checksum is computed,
 * the checksum is checked before the JSON is parsed, and every member is
 * typed.  A record that fails any check is rejected with a reason; it is
 * never half-used.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/json.h"
#include "quorum_disk.h"

#define HEADER_MAGIC "ics-quorum-disk"
#define HEADER_MAX 128

void quorum_record_clear(QuorumRecord *rec)
{
	if (rec == NULL)
		return;
	g_free(rec->node);
	g_free(rec->resource);
	memset(rec, 0, sizeof(*rec));
}

static json_t *uuid_array(const guint64 *uuids, guint n)
{
	json_t *a = json_array();

	for (guint i = 0; i < n; i++) {
		g_autofree char *s = drbd_uuid_to_string(uuids[i]);

		json_array_append_new(a, json_string(s));
	}
	return a;
}

gboolean quorum_record_encode(const QuorumRecord *rec, guint8 *block, GError **error)
{
	g_autofree char *cur = drbd_uuid_to_string(rec->gi.current);
	g_autoptr(json_t) j = NULL;
	g_autofree char *payload = NULL;
	g_autofree char *sum = NULL;
	g_autofree char *header = NULL;
	gsize plen, hlen;

	if (rec->node == NULL || rec->node[0] == '\0' || rec->resource == NULL)
		return ics_error_invalid(error, "quorum record: node and resource are needed");
	j = json_pack("{s:i, s:s, s:s, s:I, s:I, s:i, s:b, s:s, s:o, s:o}", "format",
		      QUORUM_RECORD_FORMAT, "node", rec->node, "resource", rec->resource, "seq",
		      (json_int_t)rec->seq, "written", (json_int_t)rec->written, "period",
		      (int)rec->period_s, "serving", rec->serving, "current", cur, "bitmap",
		      uuid_array(rec->gi.bitmap, rec->gi.n_bitmap), "history",
		      uuid_array(rec->gi.history, rec->gi.n_history));
	if (j == NULL)
		return ics_error_invalid(error, "quorum record: node or resource is not UTF-8");
	payload = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	plen = strlen(payload);
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)payload, plen);
	header = g_strdup_printf(HEADER_MAGIC " %d %" G_GSIZE_FORMAT " %s\n", QUORUM_RECORD_FORMAT,
				 plen, sum);
	hlen = strlen(header);
	if (hlen + plen > QUORUM_BLOCK_SIZE)
		return ics_error_invalid(error,
					 "quorum record of node %s is %" G_GSIZE_FORMAT
					 " bytes, more than a block (%d)",
					 rec->node, hlen + plen, QUORUM_BLOCK_SIZE);
	memset(block, 0, QUORUM_BLOCK_SIZE);
	memcpy(block, header, hlen);
	memcpy(block + hlen, payload, plen);
	return TRUE;
}

static gboolean bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean bad(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s", msg);
	return FALSE;
}

static gboolean read_uuid_array(const json_t *j, const char *key, guint64 *out, guint *n, guint max,
				GError **error)
{
	const json_t *a = json_object_get(j, key);
	size_t i;
	const json_t *v;

	if (!json_is_array(a))
		return bad(error, "member \"%s\" is not an array", key);
	if (json_array_size(a) > max)
		return bad(error, "member \"%s\" has %zu UUIDs, at most %u", key,
			   json_array_size(a), max);
	*n = 0;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || !drbd_uuid_parse(json_string_value(v), &out[*n]))
			return bad(error, "member \"%s\"[%zu] is not a 16-digit UUID", key, i);
		(*n)++;
	}
	return TRUE;
}

static gboolean decode_payload(const char *payload, gsize plen, QuorumRecord *rec, GError **error)
{
	json_error_t jerr;
	g_autoptr(json_t) j = json_loadb(payload, plen, JSON_REJECT_DUPLICATES, &jerr);
	gint64 format, seq, written, period;
	const char *node, *resource, *cur;
	gboolean serving;

	if (j == NULL)
		return bad(error, "payload is not JSON: %s", jerr.text);
	if (!ics_json_require_object(j, "payload", error) ||
	    !ics_json_get_int(j, "format", &format, error))
		return FALSE;
	if (format != QUORUM_RECORD_FORMAT)
		return bad(error, "record format %" G_GINT64_FORMAT " (this agent reads %d)",
			   format, QUORUM_RECORD_FORMAT);
	if (!(node = ics_json_get_string(j, "node", error)) ||
	    !(resource = ics_json_get_string(j, "resource", error)) ||
	    !ics_json_get_int(j, "seq", &seq, error) ||
	    !ics_json_get_int(j, "written", &written, error) ||
	    !ics_json_get_int(j, "period", &period, error) ||
	    !ics_json_get_bool(j, "serving", &serving, error) ||
	    !(cur = ics_json_get_string(j, "current", error)))
		return FALSE;
	if (node[0] == '\0' || seq < 1 || written < 0 || period < 0 || period > 86400)
		return bad(error, "member out of range (node empty, seq < 1, written < 0 or "
				  "period not in 0..86400)");
	memset(rec, 0, sizeof(*rec));
	if (!drbd_uuid_parse(cur, &rec->gi.current))
		return bad(error, "member \"current\" is not a 16-digit UUID");
	if (!read_uuid_array(j, "bitmap", rec->gi.bitmap, &rec->gi.n_bitmap, DRBD_GI_MAX_BITMAP,
			     error) ||
	    !read_uuid_array(j, "history", rec->gi.history, &rec->gi.n_history, DRBD_GI_MAX_HISTORY,
			     error))
		return FALSE;
	rec->node = g_strdup(node);
	rec->resource = g_strdup(resource);
	rec->seq = (guint64)seq;
	rec->written = written;
	rec->period_s = (guint)period;
	rec->serving = serving;
	return TRUE;
}

gboolean quorum_record_decode(const guint8 *block, gsize len, QuorumRecord *rec, GError **error)
{
	char header[HEADER_MAX + 1];
	const char *nl;
	gsize hlen, i;
	int format;
	unsigned long long plen;
	char sum_hex[65];
	g_autofree char *sum = NULL;
	char tail;

	memset(rec, 0, sizeof(*rec));
	for (i = 0; i < len && block[i] == 0; i++)
		;
	if (i == len) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "never written (all zeros)");
		return FALSE;
	}
	nl = memchr(block, '\n', MIN(len, (gsize)HEADER_MAX));
	if (nl == NULL)
		return bad(error, "no record header (not a quorum-disk block, or torn)");
	hlen = (gsize)(nl - (const char *)block) + 1;
	memcpy(header, block, hlen - 1);
	header[hlen - 1] = '\0';
	if (memchr(header, '\0', hlen - 1) != NULL ||
	    sscanf(header, HEADER_MAGIC " %d %llu %64[0-9a-f]%c", &format, &plen, sum_hex, &tail) !=
		    3 ||
	    strlen(sum_hex) != 64) {
		g_autofree char *esc = g_strescape(header, NULL);

		return bad(error, "bad record header \"%.60s\"", esc);
	}
	if (format != QUORUM_RECORD_FORMAT)
		return bad(error, "record format %d (this agent reads %d)", format,
			   QUORUM_RECORD_FORMAT);
	if (plen == 0 || plen > len - hlen)
		return bad(error, "record length %llu does not fit the block", plen);
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, block + hlen, (gsize)plen);
	if (strcmp(sum, sum_hex) != 0)
		return bad(error, "checksum mismatch (torn or damaged record)");
	for (i = hlen + (gsize)plen; i < len; i++)
		if (block[i] != 0)
			return bad(error, "bytes after the record are not zero (torn write)");
	if (!decode_payload((const char *)block + hlen, (gsize)plen, rec, error)) {
		quorum_record_clear(rec);
		ics_error_prefix(error, "record: ");
		return FALSE;
	}
	return TRUE;
}

guint quorum_slot_of(const char *self, const char *peer)
{
	return strcmp(self, peer) < 0 ? 0 : 1;
}

/* Open the disk, with O_DIRECT when it accepts it. */
static int open_disk(const char *path, int flags, gboolean *direct, GError **error)
{
	struct stat st;
	int fd = open(path, flags | O_DIRECT | O_CLOEXEC);

	*direct = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "quorum disk %s", path);
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < QUORUM_DISK_MIN_SIZE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "quorum disk %s is %lld bytes, needs at least %d (create it with "
			    "'truncate -s 16K %s' on the shared storage)",
			    path, (long long)st.st_size, QUORUM_DISK_MIN_SIZE, path);
		close(fd);
		return -1;
	}
	return fd;
}

static guint8 *aligned_block(void)
{
	void *p = NULL;

	if (posix_memalign(&p, QUORUM_BLOCK_SIZE, QUORUM_BLOCK_SIZE) != 0)
		g_error("out of memory");
	memset(p, 0, QUORUM_BLOCK_SIZE);
	return p;
}

static gboolean pread_block(int fd, const char *path, guint index, guint8 *buf, GError **error)
{
	ssize_t n = pread(fd, buf, QUORUM_BLOCK_SIZE, (off_t)index * QUORUM_BLOCK_SIZE);

	if (n < 0) {
		ics_error_set_errno(error, errno, "quorum disk %s: cannot read block %u", path,
				    index);
		return FALSE;
	}
	if (n != QUORUM_BLOCK_SIZE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "quorum disk %s: short read of block %u (%zd bytes)", path, index, n);
		return FALSE;
	}
	return TRUE;
}

/* Read both copies of @slot; *best gets the valid one with the higher seq
 * (or stays cleared), *why one reason per invalid written copy. */
static gboolean read_slot(int fd, const char *path, guint slot, QuorumRecord *best, GString *why,
			  gboolean *any_written, GError **error)
{
	guint8 *buf = aligned_block();
	gboolean ok = TRUE;

	*any_written = FALSE;
	memset(best, 0, sizeof(*best));
	for (guint copy = 0; copy < 2 && ok; copy++) {
		g_auto(QuorumRecord) rec = { 0 };
		g_autoptr(GError) err = NULL;

		if (!pread_block(fd, path, slot * 2 + copy, buf, error)) {
			ok = FALSE;
			break;
		}
		if (!quorum_record_decode(buf, QUORUM_BLOCK_SIZE, &rec, &err)) {
			if (!g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
				*any_written = TRUE;
				g_string_append_printf(why, "%scopy %c: %s", why->len ? "; " : "",
						       'A' + copy, err->message);
			}
			continue;
		}
		*any_written = TRUE;
		if (best->node == NULL || rec.seq > best->seq) {
			quorum_record_clear(best);
			*best = rec;
			memset(&rec, 0, sizeof(rec));
		}
	}
	free(buf);
	return ok;
}

gboolean quorum_disk_read(const char *path, guint slot, const char *expect_node, QuorumRecord *rec,
			  GError **error)
{
	g_autoptr(GString) why = g_string_new(NULL);
	gboolean direct, written;
	int fd;

	memset(rec, 0, sizeof(*rec));
	if (slot > 1)
		return ics_error_invalid(error, "quorum disk slot %u (0 or 1)", slot);
	fd = open_disk(path, O_RDONLY, &direct, error);
	if (fd < 0)
		return FALSE;
	if (!read_slot(fd, path, slot, rec, why, &written, error)) {
		close(fd);
		return FALSE;
	}
	close(fd);
	if (rec->node == NULL) {
		if (written)
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
				    "quorum disk %s slot %u: no valid record (%s)", path, slot,
				    why->str);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "quorum disk %s slot %u: never written", path, slot);
		return FALSE;
	}
	if (expect_node != NULL && strcmp(rec->node, expect_node) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "quorum disk %s slot %u holds node \"%s\", expected \"%s\" (a quorum "
			    "disk of another pair of manager nodes?)",
			    path, slot, rec->node, expect_node);
		quorum_record_clear(rec);
		return FALSE;
	}
	return TRUE;
}

gboolean quorum_disk_write(const char *path, guint slot, QuorumRecord *rec, GError **error)
{
	g_autoptr(GString) why = g_string_new(NULL);
	g_auto(QuorumRecord) old = { 0 };
	gboolean direct, written;
	guint8 *buf = NULL;
	gboolean ok = FALSE;
	ssize_t n;
	guint index;
	int fd;

	if (slot > 1)
		return ics_error_invalid(error, "quorum disk slot %u (0 or 1)", slot);
	fd = open_disk(path, O_RDWR, &direct, error);
	if (fd < 0)
		return FALSE;
	if (!read_slot(fd, path, slot, &old, why, &written, error))
		goto out;
	rec->seq = old.node ? old.seq + 1 : 1;
	index = slot * 2 + (guint)(rec->seq % 2);
	buf = aligned_block();
	if (!quorum_record_encode(rec, buf, error))
		goto out;
	n = pwrite(fd, buf, QUORUM_BLOCK_SIZE, (off_t)index * QUORUM_BLOCK_SIZE);
	if (n != QUORUM_BLOCK_SIZE) {
		ics_error_set_errno(error, n < 0 ? errno : EIO,
				    "quorum disk %s: cannot write block %u", path, index);
		goto out;
	}
	if (fdatasync(fd) != 0) {
		ics_error_set_errno(error, errno, "quorum disk %s: fdatasync", path);
		goto out;
	}
	ok = TRUE;
out:
	free(buf);
	close(fd);
	return ok;
}
