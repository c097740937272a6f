/*
 * test_cron.c: cron schedules -- the next time of common schedules and
 * aliases (UTC), ranges, steps, lists and names, the either-day rule when
 * both day fields are restricted, a schedule that never comes, every kind
 * of bad field refused with its name, and random text (never a crash).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ics/cron.h"
#include "ics/error.h"

static gint64 at(int y, int mo, int d, int h, int mi)
{
	g_autoptr(GDateTime) t = g_date_time_new_utc(y, mo, d, h, mi, 0);

	return g_date_time_to_unix(t);
}

static gint64 next(const char *schedule, gint64 after)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsCron) c = ics_cron_parse(schedule, &err);

	if (c == NULL)
		fail_msg("%s: %s", schedule, err->message);
	return ics_cron_next(c, after);
}

static void test_next(void **state)
{
	/* Monday 2026-12-07 10:17 */
	gint64 now = at(2026, 12, 7, 10, 17);

	(void)state;
	assert_int_equal(next("* * * * *", now), at(2026, 12, 7, 10, 18));
	assert_int_equal(next("@hourly", now), at(2026, 12, 7, 11, 0));
	assert_int_equal(next("@daily", now), at(2026, 12, 8, 0, 0));
	assert_int_equal(next("@midnight", now), at(2026, 12, 8, 0, 0));
	assert_int_equal(next("@weekly", now), at(2026, 12, 13, 0, 0)); /* Sunday */
	assert_int_equal(next("@monthly", now), at(2027, 1, 1, 0, 0));
	assert_int_equal(next("@yearly", now), at(2027, 1, 1, 0, 0));
	assert_int_equal(next("30 2 * * *", now), at(2026, 12, 8, 2, 30));
	assert_int_equal(next("30 10 * * *", now), at(2026, 12, 7, 10, 30));
	/* strictly after: the same minute is not "next" */
	assert_int_equal(next("17 10 * * *", now), at(2026, 12, 8, 10, 17));
	assert_int_equal(next("*/15 * * * *", now), at(2026, 12, 7, 10, 30));
	assert_int_equal(next("0 */6 * * *", now), at(2026, 12, 7, 12, 0));
	assert_int_equal(next("5,40 9-11 * * *", now), at(2026, 12, 7, 10, 40));
	assert_int_equal(next("0 22 * * mon-fri", at(2026, 12, 11, 23, 0)), at(2026, 12, 14, 22, 0));
	assert_int_equal(next("0 1 * * 7", now), at(2026, 12, 13, 1, 0)); /* 7 = Sunday */
	assert_int_equal(next("0 1 * * SUN", now), at(2026, 12, 13, 1, 0));
	assert_int_equal(next("0 0 1 feb *", now), at(2027, 2, 1, 0, 0));
	assert_int_equal(next("0 0 29 2 *", now), at(2028, 2, 29, 0, 0)); /* leap day */
	assert_int_equal(next("0 0 31 * *", at(2027, 4, 1, 0, 0)), at(2027, 5, 31, 0, 0));
	assert_int_equal(next("10/20 * * * *", now), at(2026, 12, 7, 10, 30));
	/* both day fields restricted: either one (the 15th, or a Friday) */
	assert_int_equal(next("0 0 15 * fri", now), at(2026, 12, 11, 0, 0));
	assert_int_equal(next("0 0 15 * fri", at(2026, 12, 12, 0, 0)), at(2026, 12, 15, 0, 0));
	/* one restricted: that one (the 15th that is a Friday would be "and") */
	assert_int_equal(next("0 0 15 * *", now), at(2026, 12, 15, 0, 0));
	/* a day field starting with "*" is not a restriction (Vixie): odd days
	 * that are Mondays, not odd days or Mondays */
	assert_int_equal(next("0 0 */2 * mon", now), at(2026, 12, 21, 0, 0));
	/* never */
	assert_int_equal(next("0 0 30 2 *", now), -1);
}

static void refused(const char *schedule, const char *words)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsCron) c = ics_cron_parse(schedule, &err);

	assert_null(c);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	if (strstr(err->message, words) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", schedule, err->message, words);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", "expected 5 fields");
	refused("* * * *", "expected 5 fields");
	refused("* * * * * *", "expected 5 fields");
	refused("@often", "expected 5 fields");
	refused("60 * * * *", "cron minute");
	refused("* 24 * * *", "cron hour");
	refused("* * 0 * *", "cron day of month");
	refused("* * * 13 *", "cron month");
	refused("* * * * 8", "cron day of week");
	refused("* * * * fun", "cron day of week");
	refused("5-1 * * * *", "runs backwards");
	refused("*/0 * * * *", "step");
	refused("*/x * * * *", "step");
	refused("1,,2 * * * *", "cron minute");
	refused("-1 * * * *", "cron minute");
	refused(NULL, "missing");
}

/* Random text: refused or parsed, never a crash; a parsed schedule's next
 * time is in the future and matches again when asked from just before. */
static void test_random(void **state)
{
	static const char alphabet[] = "0123456789*/,- \tabcdefjmnorstuwy@";
	GRand *r = g_rand_new_with_seed(20261207);
	gint64 now = at(2026, 12, 7, 10, 17);

	(void)state;
	for (int i = 0; i < 20000; i++) {
		char text[40];
		int len = g_rand_int_range(r, 0, (int)sizeof(text) - 1);
		g_autoptr(IcsCron) c = NULL;

		for (int k = 0; k < len; k++)
			text[k] = alphabet[g_rand_int_range(r, 0, (int)sizeof(alphabet) - 1)];
		text[len] = '\0';
		c = ics_cron_parse(text, NULL);
		if (c) {
			gint64 t = ics_cron_next(c, now);

			assert_true(t == -1 || (t > now && t % 60 == 0));
			if (t > 0)
				assert_int_equal(ics_cron_next(c, t - 1), t);
		}
	}
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
