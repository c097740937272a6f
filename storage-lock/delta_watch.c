/*
 * delta_watch.c: reading a host's delta lease straight from the pool, and
 * watching it stand still.
 *
 * The takeover needs two facts about the owner that only the pool itself
 * can give, not the local daemon (whose host list lags, rounds to seconds,
 * and forgets a host once its delta lease was released):
 *   - is the owner's delta lease free, or of a newer generation?  Then
 *     sanlock itself grants the owner's leases (no takeover is needed);
 *   - has the owner stopped writing it?  A delta lease that reads the same,
 *     sector for sector, for a given time was not renewed (successfully,
 *     visibly) during that time.  How long is long enough is the takeover's
 *     business (ics_takeover_watch_ms, docs/lease-takeover.md: a live
 *     sanlock daemon may go 8 x io_timeout without a successful renewal).
 * Reads go to the disk with O_DIRECT (ics_sector_read_direct), never
 * through a cache; a file system without O_DIRECT or a short read is an
 * error, so a watch can never end STEADY on a sector it did not really
 * read.  The watch keeps the last sector it read and when, so that the
 * takeover frees exactly that sector and nothing written since.  Times are
 * this host's CLOCK_MONOTONIC (g_get_monotonic_time): the watch is ordered
 * against other events of this host only.  The owner's own timestamps are
 * compared for equality, never ordered against our clock.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "lock_internal.h"

const char *ics_watch_result_name(IcsWatchResult r)
{
	switch (r) {
	case ICS_WATCH_STEADY:
		return "steady";
	case ICS_WATCH_RENEWED:
		return "renewed";
	case ICS_WATCH_RELEASED:
		return "released";
	case ICS_WATCH_REJOINED:
		return "rejoined";
	}
	return "?";
}

static void delta_from_sector(const IcsPool *pool, const guint8 *s, IcsDeltaLease *out)
{
	IcsLeaderRecord lr;

	memset(out, 0, sizeof(*out));
	ics_leader_decode(s, &lr);
	if (lr.blank) {
		out->valid = TRUE; /* never written: the host never joined */
		out->free = TRUE;
		out->blank = TRUE;
		return;
	}
	out->valid = lr.magic == ICS_DELTA_MAGIC && lr.checksum_ok &&
		     strcmp(lr.space_name, pool->lockspace) == 0;
	out->generation = lr.owner_generation;
	out->timestamp = lr.timestamp;
	out->io_timeout = lr.io_timeout;
	out->free = out->valid && lr.timestamp == 0;
	g_strlcpy(out->name, lr.resource_name, sizeof(out->name));
}

gboolean ics_delta_read(IcsPool *pool, guint64 host_id, IcsDeltaLease *out, GError **error)
{
	g_autofree guint8 *s = NULL;

	if (!ics_lock_host_id_valid(host_id, error))
		return FALSE;
	s = ics_sector_read_direct(pool->ids_path, ics_host_offset(host_id), error);
	if (!s) {
		ics_error_prefix(error,
				 "pool \"%s\": reading host %" G_GUINT64_FORMAT "'s delta lease: ",
				 pool->name, host_id);
		return FALSE;
	}
	delta_from_sector(pool, s, out);
	return TRUE;
}

gboolean ics_delta_watch(IcsPool *pool, guint64 host_id, guint64 generation, guint duration_ms,
			 guint poll_ms, IcsDeltaWatch *out, GError **error)
{
	g_autofree guint8 *first = NULL;
	IcsDeltaLease d;
	gint64 end;

	memset(out, 0, sizeof(*out));
	if (!ics_lock_host_id_valid(host_id, error))
		return FALSE;
	poll_ms = MAX(poll_ms, 10u);
	out->start_mono = g_get_monotonic_time();
	end = out->start_mono + (gint64)duration_ms * G_TIME_SPAN_MILLISECOND;
	out->last_read_mono = out->start_mono;
	first = ics_sector_read_direct(pool->ids_path, ics_host_offset(host_id), error);
	if (!first)
		goto read_failed;
	out->reads = 1;
	memcpy(out->last_sector, first, ICS_SECTOR_SIZE);
	delta_from_sector(pool, first, &d);
	if (d.free) {
		out->result = ICS_WATCH_RELEASED;
		return TRUE;
	}
	if (d.generation != generation) {
		out->result = ICS_WATCH_REJOINED;
		return TRUE;
	}
	for (;;) {
		gint64 now = g_get_monotonic_time();
		g_autofree guint8 *s = NULL;

		if (now >= end && out->last_read_mono >= end) {
			/* steady from the first read to the last, both really read */
			out->result = ICS_WATCH_STEADY;
			out->steady_ms =
				(out->last_read_mono - out->start_mono) / G_TIME_SPAN_MILLISECOND;
			return TRUE;
		}
		if (now < end)
			g_usleep(MIN((gint64)poll_ms * G_TIME_SPAN_MILLISECOND, end - now));
		out->last_read_mono = g_get_monotonic_time();
		s = ics_sector_read_direct(pool->ids_path, ics_host_offset(host_id), error);
		if (!s)
			goto read_failed;
		out->reads++;
		memcpy(out->last_sector, s, ICS_SECTOR_SIZE);
		if (memcmp(s, first, ICS_SECTOR_SIZE) == 0)
			continue;
		out->steady_ms =
			(g_get_monotonic_time() - out->start_mono) / G_TIME_SPAN_MILLISECOND;
		delta_from_sector(pool, s, &d);
		out->result = d.free			   ? ICS_WATCH_RELEASED
			      : d.generation != generation ? ICS_WATCH_REJOINED
							   : ICS_WATCH_RENEWED;
		return TRUE;
	}
read_failed:
	ics_error_prefix(error, "pool \"%s\": watching host %" G_GUINT64_FORMAT "'s delta lease: ",
			 pool->name, host_id);
	return FALSE;
}
