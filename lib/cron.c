/*
 * cron.c: parsing crontab(5) schedules and finding their next time.
 *
 * A schedule is five bit sets (minutes, hours, days of month, months,
 * days of week) plus whether the two day fields were restricted, which
 * decides Vixie cron's "either day" rule.  The next time is found by
 * walking forward from the minute after @after and skipping whole months,
 * days and hours that cannot match, so even a yearly schedule takes a few
 * hundred steps; the walk gives up after five years.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "ics/cron.h"
#include "ics/error.h"

struct IcsCron {
	guint64 minute; /* bit n: minute n */
	guint32 hour;
	guint32 dom;   /* bits 1..31 */
	guint16 month; /* bits 1..12 */
	guint8 dow;    /* bits 0..6, Sunday 0 */
	gboolean dom_any, dow_any;
};

typedef struct {
	const char *name;
	guint min, max;
	const char *const *names; /* names of min.., or NULL */
} Field;

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
					   "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const Field fields[] = {
	{ "minute", 0, 59, NULL },	    { "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },    { "month", 1, 12, month_names },
	{ "day of week", 0, 7, dow_names },
};

static gboolean value(const Field *f, const char *text, guint *out, GError **error)
{
	guint64 v;

	if (f->names) {
		for (guint i = 0; f->names[i]; i++)
			if (g_ascii_strcasecmp(text, f->names[i]) == 0) {
				*out = f->min + i;
				return TRUE;
			}
	}
	if (!g_ascii_string_to_unsigned(text, 10, f->min, f->max, &v, NULL))
		return ics_error_invalid(error, "cron %s: \"%s\" is not a value from %u to %u%s",
					 f->name, text, f->min, f->max,
					 f->names ? " or a name" : "");
	*out = (guint)v;
	return TRUE;
}

/* One comma-separated item of field @f into the bits @set. */
static gboolean item(const Field *f, const char *text, guint64 *set, GError **error)
{
	g_auto(GStrv) step = g_strsplit(text, "/", 2);
	g_auto(GStrv) range = NULL;
	guint lo = f->min, hi = f->max, by = 1;

	if (step[0] == NULL || *step[0] == '\0')
		return ics_error_invalid(error, "cron %s: an empty item", f->name);
	if (step[1]) {
		guint64 v;

		if (!g_ascii_string_to_unsigned(step[1], 10, 1, f->max + 1, &v, NULL))
			return ics_error_invalid(error, "cron %s: step \"%s\" is not from 1 to %u",
						 f->name, step[1], f->max + 1);
		by = (guint)v;
	}
	if (!g_str_equal(step[0], "*")) {
		range = g_strsplit(step[0], "-", 2);
		if (!value(f, range[0], &lo, error))
			return FALSE;
		if (range[1] ? !value(f, range[1], &hi, error) : FALSE)
			return FALSE;
		if (!range[1] && !step[1])
			hi = lo; /* "a": one value; "a/n": a to the end */
		if (lo > hi)
			return ics_error_invalid(error, "cron %s: range \"%s\" runs backwards",
						 f->name, step[0]);
	}
	for (guint v = lo; v <= hi; v += by)
		*set |= G_GUINT64_CONSTANT(1) << v;
	return TRUE;
}

static gboolean field(const Field *f, const char *text, guint64 *set, gboolean *any,
		      GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);

	*set = 0;
	/* as Vixie cron: a field starting with "*" ("*", "*\/2") is not a
	 * restriction for the either-day rule */
	*any = text[0] == '*';
	for (guint i = 0; items[i]; i++)
		if (!item(f, items[i], set, error))
			return FALSE;
	if (*set == 0)
		return ics_error_invalid(error, "cron %s: \"%s\" matches nothing", f->name, text);
	return TRUE;
}

static const struct {
	const char *alias, *schedule;
} aliases[] = {
	{ "@hourly", "0 * * * *" },  { "@daily", "0 0 * * *" },	   { "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },  { "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

IcsCron *ics_cron_parse(const char *text, GError **error)
{
	g_autoptr(IcsCron) c = g_new0(IcsCron, 1);
	g_auto(GStrv) parts = NULL;
	g_autofree char *copy = NULL;
	guint64 set[5];
	gboolean any[5];
	guint n = 0;

	if (text == NULL || strlen(text) > 256) {
		ics_error_invalid(error, "cron schedule: missing or longer than 256 characters");
		return NULL;
	}
	copy = g_strstrip(g_strdup(text));
	for (guint i = 0; i < G_N_ELEMENTS(aliases); i++)
		if (g_ascii_strcasecmp(copy, aliases[i].alias) == 0) {
			g_free(copy);
			copy = g_strdup(aliases[i].schedule);
		}
	parts = g_regex_split_simple("[ \\t]+", copy, 0, 0);
	n = g_strv_length(parts);
	if (n != 5) {
		ics_error_invalid(error,
				  "cron schedule \"%s\": expected 5 fields (minute hour day-of-month "
				  "month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly",
				  text);
		return NULL;
	}
	for (guint i = 0; i < 5; i++)
		if (!field(&fields[i], parts[i], &set[i], &any[i], error)) {
			ics_error_prefix(error, "schedule \"%s\": ", text);
			return NULL;
		}
	c->minute = set[0];
	c->hour = (guint32)set[1];
	c->dom = (guint32)set[2];
	c->month = (guint16)set[3];
	/* 7 is Sunday too */
	c->dow = (guint8)((set[4] | (set[4] >> 7)) & 0x7f);
	c->dom_any = any[2];
	c->dow_any = any[4];
	return g_steal_pointer(&c);
}

void ics_cron_free(IcsCron *c)
{
	g_free(c);
}

static gboolean day_matches(const IcsCron *c, const struct tm *tm)
{
	gboolean dom = (c->dom >> tm->tm_mday) & 1, dow = (c->dow >> tm->tm_wday) & 1;

	if (c->dom_any || c->dow_any)
		return dom && dow;
	return dom || dow;
}

gint64 ics_cron_next(const IcsCron *c, gint64 after)
{
	gint64 t = after - (((after % 60) + 60) % 60) + 60;
	gint64 limit = after + (gint64)5 * 366 * 86400;

	while (t <= limit) {
		time_t tt = (time_t)t;
		struct tm tm;

		gmtime_r(&tt, &tm);
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = (gint64)timegm(&tm);
		} else if (!day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = (gint64)timegm(&tm);
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			t += 3600 - tm.tm_min * 60 - tm.tm_sec;
		} else if (!((c->minute >> tm.tm_min) & 1)) {
			t += 60;
		} else {
			return t;
		}
	}
	return -1;
}
