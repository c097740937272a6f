/*
 * ics/cron.h: cron schedules -- "MIN HOUR DOM MONTH DOW" as crontab(5)
 * reads them, and the aliases @hourly, @daily (@midnight), @weekly,
 * @monthly, @yearly (@annually).  Times are UTC.
 *
 * Each field is "*", a number or name, a range "a-b", a step "*\/n",
 * "a-b/n" or "a/n" (from a to the field's end), or a comma list of those.
 * Months take JAN..DEC, weekdays SUN..SAT, 0 and 7 both Sunday.  As in
 * Vixie cron, when both the day of month and the day of week are
 * restricted (neither starts with "*"), a day matching either one matches;
 * otherwise a day must match both.
 */
#ifndef ICS_CRON_H
#define ICS_CRON_H

#include <glib.h>

typedef struct IcsCron IcsCron;

/* INVALID_ARGUMENT naming the field and what is wrong with it. */
IcsCron *ics_cron_parse(const char *text, GError **error);
void ics_cron_free(IcsCron *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsCron, ics_cron_free)

/* The first minute strictly after @after (Unix seconds) that the schedule
 * matches, in Unix seconds; -1 when none comes within five years (a
 * schedule of February 30th). */
gint64 ics_cron_next(const IcsCron *c, gint64 after);

#endif /* ICS_CRON_H */
