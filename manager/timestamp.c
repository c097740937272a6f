/*
 * timestamp.c: the manager's clock (shiftable by tests) and RFC 3339 text.
 */
#include "config.h"

#include "ics/error.h"
#include "ics/manager/timestamp.h"

static gint64 test_offset_us;

gint64 ics_now_us(void)
{
	return g_get_real_time() + test_offset_us;
}

void ics_clock_advance_for_test(gint64 delta_us)
{
	test_offset_us += delta_us;
}

static char *put_digits(char *p, guint v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

void ics_timestamp_format_into(gint64 us, char buf[ICS_TIMESTAMP_LEN])
{
	/* Computed by hand (days to civil date, H. Hinnant's algorithm) rather
	 * than with gmtime_r and printf: lists format two times per row, and
	 * this is the bulk of a list's CPU time otherwise. */
	gint64 secs, days, era, y;
	guint doe, yoe, doy, mp, d, m, sod, frac;
	char *p = buf;

	us = CLAMP(us, 0, (gint64)253402300799 * G_USEC_PER_SEC); /* 9999-12-31 */
	secs = us / G_USEC_PER_SEC;
	frac = (guint)(us % G_USEC_PER_SEC);
	days = secs / 86400 + 719468;
	sod = (guint)(secs % 86400);
	era = days / 146097;
	doe = (guint)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = (gint64)yoe + era * 400 + (m <= 2);

	p = put_digits(p, (guint)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = put_digits(p, frac, 6);
	*p++ = 'Z';
	*p = '\0';
}

char *ics_timestamp_format(gint64 us)
{
	char buf[ICS_TIMESTAMP_LEN];

	ics_timestamp_format_into(us, buf);
	return g_strdup(buf);
}

gboolean ics_timestamp_parse(const char *text, const char *what, gint64 *out, GError **error)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);

	if (dt == NULL)
		return ics_error_invalid(error,
					 "%s must be an RFC 3339 time such as "
					 "2026-01-31T12:00:00Z",
					 what);
	*out = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
	return TRUE;
}
