/*
 * test_pressure.c — the rules of pressure reporting as pure functions
 * (src/app/pressure/rules.c): the calculated level and its thresholds, the
 * flag on a gap of two levels, and the calendar of weekly and daily periods and
 * working days in Europe/London, across the clock changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/pressure/rules.h"
#include "core/time.h"

/* Figures with nothing given. */
static struct pressure_figures none(void)
{
	return (struct pressure_figures){.list_size = 10000,
	                                 .staff_available_pct = -1,
	                                 .appointments = -1,
	                                 .baseline_per_1000 = 0,
	                                 .nhs111_bookings = -1,
	                                 .incident = 0};
}

static void test_no_figures_no_level(void **state)
{
	(void)state;
	struct pressure_figures f = none();
	assert_int_equal(pressure_calculated_level(&f), 0);
	f.list_size = 0;
	f.nhs111_bookings = 5; /* no list size: the 111 rule cannot apply */
	assert_int_equal(pressure_calculated_level(&f), 0);
}

static void test_staff_thresholds(void **state)
{
	(void)state;
	struct pressure_figures f = none();
	const int64_t pct[] = {100, 90, 89, 80, 79, 70, 69, 0};
	const int want[] = {1, 1, 2, 2, 3, 3, 4, 4};
	for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
		f.staff_available_pct = pct[i];
		assert_int_equal(pressure_calculated_level(&f), want[i]);
	}
}

static void test_incidents(void **state)
{
	(void)state;
	struct pressure_figures f = none();
	f.incident = 2;
	f.staff_available_pct = 100;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_BLACK);
	f.incident = 1;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_AMBER);
	f.incident = 0;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_GREEN);
}

static void test_appointments_against_baseline(void **state)
{
	(void)state;
	struct pressure_figures f = none();
	f.list_size = 10000;
	f.baseline_per_1000 = 150; /* 15.0 per 1,000 */
	f.appointments = 150;      /* 15.0: as usual */
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_GREEN);
	f.appointments = 173; /* 17.3: 115% */
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_AMBER);
	f.appointments = 195; /* 19.5: 130% */
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_RED);
	f.baseline_per_1000 = 0; /* no baseline yet: no rule */
	assert_int_equal(pressure_calculated_level(&f), 0);
	assert_int_equal(pressure_per_1000_x10(150, 10000), 150);
	assert_int_equal(pressure_per_1000_x10(1, 3000), 3); /* 0.33 → 0.3 */
	assert_int_equal(pressure_per_1000_x10(-1, 3000), -1);
}

static void test_111_cap(void **state)
{
	(void)state;
	struct pressure_figures f = none();
	f.list_size = 9000; /* cap: 3 a day */
	f.nhs111_bookings = 3;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_GREEN);
	f.nhs111_bookings = 4;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_AMBER);
	f.nhs111_bookings = 6;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_AMBER);
	f.nhs111_bookings = 7;
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_RED);
}

static void test_highest_rule_wins_and_gap_flag(void **state)
{
	(void)state;
	struct pressure_figures f = none();
	f.staff_available_pct = 95;
	f.nhs111_bookings = 10; /* Red by 111 */
	assert_int_equal(pressure_calculated_level(&f), PRESSURE_RED);
	assert_true(pressure_gap_flagged(1, 3));
	assert_true(pressure_gap_flagged(4, 1));
	assert_false(pressure_gap_flagged(2, 3));
	assert_false(pressure_gap_flagged(4, 0)); /* nothing calculated: never flagged */
	assert_string_equal(pressure_level_word(4), "Black");
	assert_string_equal(pressure_level_word(0), "Not calculated");
}

static void test_weekdays_and_working_days(void **state)
{
	(void)state;
	assert_int_equal(pressure_weekday(2026, 11, 23), 1); /* a Monday */
	assert_int_equal(pressure_weekday(1970, 1, 1), 4);
	assert_int_equal(pressure_weekday(2024, 2, 29), 4);
	int y = 2026, m = 12, d = 31;
	pressure_add_days(&y, &m, &d, 1);
	assert_true(y == 2027 && m == 1 && d == 1);
	/* Friday 27 November 2026 at 10:00 GMT → Monday 30 November at 10:00. */
	int64_t fri = time_london_day_start(2026, 11, 27) + 10 * 3600;
	assert_int_equal(pressure_next_working_day(fri),
	                 time_london_day_start(2026, 11, 30) + 10 * 3600);
	/* Tuesday → Wednesday. */
	int64_t tue = time_london_day_start(2026, 11, 24) + 9 * 3600;
	assert_int_equal(pressure_next_working_day(tue), tue + 86400);
	/* Friday 23 October 2026 at 17:30 BST → Monday 26 October 17:30 GMT (the clocks went
	 * back on the Sunday): 17:30 on the wall both times. */
	int64_t oct = time_london_day_start(2026, 10, 23) + (17 * 60 + 30) * 60;
	int64_t next = pressure_next_working_day(oct);
	struct time_london l;
	time_london(next, &l);
	assert_true(l.day == 26 && l.hour == 17 && l.minute == 30);
}

static void test_weekly_and_daily_periods(void **state)
{
	(void)state;
	struct pressure_window w;
	/* Wednesday 25 November 2026 at noon: the week began Monday 23rd, due Thursday 26th 17:30.
	 */
	int64_t wed = time_london_day_start(2026, 11, 25) + 12 * 3600;
	pressure_week(wed, 1, 4, 17 * 60 + 30, &w);
	assert_string_equal(w.reference_day, "2026-11-23");
	assert_int_equal(w.opens_at, time_london_day_start(2026, 11, 23));
	assert_int_equal(w.closes_at, time_london_day_start(2026, 11, 30));
	assert_int_equal(w.deadline_at, time_london_day_start(2026, 11, 26) + (17 * 60 + 30) * 60);
	/* Sunday still belongs to the week that began on Monday. */
	pressure_week(time_london_day_start(2026, 11, 29) + 23 * 3600, 1, 4, 17 * 60 + 30, &w);
	assert_string_equal(w.reference_day, "2026-11-23");
	/* The week the clocks go back: a deadline on Thursday is on the GMT wall clock. */
	pressure_week(time_london_day_start(2026, 10, 27), 1, 4, 17 * 60 + 30, &w);
	struct time_london l;
	time_london(w.deadline_at, &l);
	assert_true(l.day == 29 && l.hour == 17 && l.minute == 30);
	/* A daily period, in summer time. */
	pressure_day(time_london_day_start(2026, 7, 1) + 3600, 17 * 60 + 30, &w);
	assert_string_equal(w.reference_day, "2026-07-01");
	time_london(w.deadline_at, &l);
	assert_true(l.day == 1 && l.hour == 17 && l.minute == 30);
	assert_int_equal(w.closes_at, time_london_day_start(2026, 7, 2));
}

static void test_parsing(void **state)
{
	(void)state;
	int y, m, d;
	assert_int_equal(pressure_parse_time("17:30"), 17 * 60 + 30);
	assert_int_equal(pressure_parse_time("00:00"), 0);
	assert_int_equal(pressure_parse_time("24:00"), -1);
	assert_int_equal(pressure_parse_time("7:30"), -1);
	assert_int_equal(pressure_parse_time(NULL), -1);
	assert_int_equal(pressure_parse_date("2026-02-28", &y, &m, &d), 0);
	assert_int_equal(pressure_parse_date("2026-02-29", &y, &m, &d), -1);
	assert_int_equal(pressure_parse_date("2026-2-28x", &y, &m, &d), -1);
	assert_int_equal(pressure_parse_date("tomorrow", &y, &m, &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_figures_no_level),
	    cmocka_unit_test(test_staff_thresholds),
	    cmocka_unit_test(test_incidents),
	    cmocka_unit_test(test_appointments_against_baseline),
	    cmocka_unit_test(test_111_cap),
	    cmocka_unit_test(test_highest_rule_wins_and_gap_flag),
	    cmocka_unit_test(test_weekdays_and_working_days),
	    cmocka_unit_test(test_weekly_and_daily_periods),
	    cmocka_unit_test(test_parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
