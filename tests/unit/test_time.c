/*
 * test_time.c — Europe/London dates and times without TZ (src/core/time.c):
 * the clock changes on the last Sundays of March and October, the bounds of a
 * London day in UTC, date validation, and every format people or machines read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/time.h"

static void test_london_days(void **state)
{
	(void)state;
	/* Winter: London is UTC. 2026-01-15 00:00 GMT = 1768435200. */
	assert_int_equal(time_london_day_start(2026, 1, 15), 1768435200);
	/* Summer: midnight BST is 23:00 UTC the day before. 2026-07-01 00:00 BST. */
	assert_int_equal(time_london_day_start(2026, 7, 1), 1782864000 - 3600);
	/* The clocks go forward at 01:00 UTC on Sunday 29 March 2026: that midnight is
	 * still GMT, the next is BST. */
	assert_int_equal(time_london_day_start(2026, 3, 29), 1774742400);
	assert_int_equal(time_london_day_start(2026, 3, 30), 1774742400 + 86400 - 3600);
	/* They go back at 01:00 UTC on Sunday 25 October 2026: that midnight is BST. */
	assert_int_equal(time_london_day_start(2026, 10, 25), 1792886400 - 3600);
	assert_int_equal(time_london_day_start(2026, 10, 26), 1792886400 + 86400);
	assert_false(time_london_is_summer_time(1774746000 - 1)); /* 00:59:59 UTC, 29 March */
	assert_true(time_london_is_summer_time(1774746000));      /* 01:00:00 UTC */
	assert_true(time_london_is_summer_time(1792890000 - 1));  /* 00:59:59 UTC, 25 October */
	assert_false(time_london_is_summer_time(1792890000));

	assert_true(time_date_valid(2024, 2, 29));
	assert_false(time_date_valid(2026, 2, 29));
	assert_false(time_date_valid(2100, 2, 29));
	assert_true(time_date_valid(2000, 2, 29));
	assert_false(time_date_valid(2026, 4, 31));
	assert_false(time_date_valid(2026, 13, 1));
	assert_false(time_date_valid(2026, 0, 1));
	assert_false(time_date_valid(1969, 12, 31));
	assert_false(time_date_valid(10000, 1, 1));
}

static void test_london_wall_clock(void **state)
{
	(void)state;
	struct time_london l;
	time_london(1774746000 - 1, &l); /* the last second of GMT, 29 March 2026 */
	assert_int_equal(l.year, 2026);
	assert_int_equal(l.month, 3);
	assert_int_equal(l.day, 29);
	assert_int_equal(l.hour, 0);
	assert_int_equal(l.minute, 59);
	assert_int_equal(l.second, 59);
	time_london(1774746000, &l); /* one second later it is 02:00 BST */
	assert_int_equal(l.hour, 2);
	assert_int_equal(l.minute, 0);
	assert_int_equal(l.second, 0);
	time_london(1782864000 - 1800, &l); /* 23:30 UTC, 30 June = 00:30 BST, 1 July */
	assert_int_equal(l.month, 7);
	assert_int_equal(l.day, 1);
	assert_int_equal(l.hour, 0);
	assert_int_equal(l.minute, 30);
}

static void test_formats_to_the_second_and_iso(void **state)
{
	(void)state;
	char out[TIME_DATE_TIME_BYTES], date[TIME_DATE_BYTES], iso[TIME_ISO_BYTES];
	time_format_date_time_seconds(1782864000 + 13 * 3600 + 5 * 60 + 9, out); /* 13:05:09 UTC */
	assert_string_equal(out, "1 July 2026 at 14:05:09");
	time_format_date_time_seconds(1768435200 + 23 * 3600 + 30 * 60, out);
	assert_string_equal(out, "15 January 2026 at 23:30:00");
	time_format_date(1782864000 - 1800, date); /* 23:30 UTC, 30 June = 00:30 BST, 1 July */
	assert_string_equal(date, "1 July 2026");
	time_format_utc_iso(1782864000 - 1800, iso);
	assert_string_equal(iso, "2026-06-30T23:30:00Z");
	time_format_utc_iso(0, iso);
	assert_string_equal(iso, "1970-01-01T00:00:00Z");
}

static void test_date_and_time_across_the_clock_changes(void **state)
{
	(void)state;
	char out[TIME_DATE_TIME_BYTES];
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {1774745940, "29 March 2026 at 12:59am"},  /* a minute before BST starts */
	    {1774746000, "29 March 2026 at 2:00am"},   /* clocks go forward */
	    {1792889940, "25 October 2026 at 1:59am"}, /* BST's last minute */
	    {1792890000, "25 October 2026 at 1:00am"}, /* clocks go back */
	    {1782905400, "1 July 2026 at 12:30pm"},    {1767614820, "5 January 2026 at 12:07pm"},
	    {1711846800, "31 March 2024 at 2:00am"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		time_format_date_time(cases[i].t, out);
		assert_string_equal(out, cases[i].want);
	}
}

static void assert_time_on_date(int64_t t, const char *want)
{
	char out[TIME_DATE_TIME_BYTES];
	time_format_time_on_date(t, out);
	assert_string_equal(out, want);
}

static void test_deadlines_follow_the_clock_changes(void **state)
{
	(void)state;
	/* BST starts at 01:00 UTC on the last Sunday of March (29 March 2026)... */
	assert_time_on_date(1774745999, "12:59am on 29 March 2026");
	assert_time_on_date(1774746000, "2:00am on 29 March 2026");
	/* ...and ends at 01:00 UTC on the last Sunday of October (25 October 2026). */
	assert_time_on_date(1792889999, "1:59am on 25 October 2026");
	assert_time_on_date(1792890000, "1:00am on 25 October 2026");
	assert_time_on_date(1782903600, "midday on 1 July 2026");
	assert_time_on_date(1767225600, "midnight on 1 January 2026");
	assert_time_on_date(1709211900, "1:05pm on 29 February 2024");
	char out[TIME_DATE_BYTES];
	time_format_date(978307140, out);
	assert_string_equal(out, "31 December 2000");
	time_format_date(0, out);
	assert_string_equal(out, "1 January 1970");
}

/* The London wall clock by the C library's own tz database, as an independent check. */
static int oracle_date_time(int64_t t, char *out, size_t len)
{
	static const char *const months[] = {"January",   "February", "March",    "April",
	                                     "May",       "June",     "July",     "August",
	                                     "September", "October",  "November", "December"};
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm))
		return -1;
	int hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
	snprintf(out, len, "%d %s %d at %d:%02d%s", tm.tm_mday, months[tm.tm_mon],
	         tm.tm_year + 1900, hour, tm.tm_min, tm.tm_hour < 12 ? "am" : "pm");
	return 0;
}

/*
 * time.c keeps the last day's calendar, clock changes and words per thread: jumping
 * back and forth between days, years and either side of the clock changes must give
 * exactly what working everything out afresh gives (here: the tz database).
 */
static void test_cached_days_match_the_tz_database(void **state)
{
	(void)state;
	setenv("TZ", "Europe/London", 1);
	tzset();
	struct tm probe;
	time_t summer = 1782905400; /* 1 July 2026 */
	if (!localtime_r(&summer, &probe) || probe.tm_isdst != 1) {
		skip(); /* no tz database on this machine */
		return;
	}
	char want[64], got[TIME_DATE_TIME_BYTES];
	int64_t t = 1577836800; /* 2020-01-01 */
	for (int i = 0; i < 40000; i++) {
		/* Forward in uneven steps, with every third call back to a day before. */
		int64_t at = i % 3 == 2 ? t - 86400 * (i % 400) : t;
		assert_int_equal(oracle_date_time(at, want, sizeof want), 0);
		time_format_date_time(at, got);
		assert_string_equal(got, want);
		t += 7919;
	}
	/* Each side of each clock change, 2020 to 2030, alternating with a far day. */
	for (int k = 0; k < 22; k++) {
		int year = 2020 + k / 2, month = k % 2 ? 10 : 3;
		for (int64_t t0 = time_london_day_start(year, month, 24);
		     t0 < time_london_day_start(year, month + 1, 2); t0 += 1800) {
			for (int64_t at = t0; at < t0 + 2; at++) {
				assert_int_equal(oracle_date_time(at, want, sizeof want), 0);
				time_format_date_time(at, got);
				assert_string_equal(got, want);
				time_format_date_time(at + 200 * 86400, got);
				assert_int_equal(
				    oracle_date_time(at + 200 * 86400, want, sizeof want), 0);
				assert_string_equal(got, want);
			}
		}
	}
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_london_days),
	    cmocka_unit_test(test_london_wall_clock),
	    cmocka_unit_test(test_formats_to_the_second_and_iso),
	    cmocka_unit_test(test_date_and_time_across_the_clock_changes),
	    cmocka_unit_test(test_deadlines_follow_the_clock_changes),
	    cmocka_unit_test(test_cached_days_match_the_tz_database),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
