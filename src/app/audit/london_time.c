/*
 * london_time.c — Europe/London dates without TZ (see london_time.h).
 *
 * Day arithmetic uses Howard Hinnant's days_from_civil / civil_from_days,
 * exact for the proleptic Gregorian calendar, so no libc time zone state is
 * touched at all.
 */
#include "app/audit/london_time.h"

#include <stdio.h>

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* Days since 1970-01-01 of a civil date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of a day number. */
static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(y + (*month <= 2));
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

bool london_date_valid(int year, int month, int day)
{
	return year >= LONDON_YEAR_MIN && year <= LONDON_YEAR_MAX && month >= 1 && month <= 12 &&
	       day >= 1 && day <= days_in_month(year, month);
}

/* The day number of the last Sunday of a month (1970-01-01 was a Thursday). */
static int64_t last_sunday(int year, int month)
{
	int64_t last = days_from_civil(year, month, days_in_month(year, month));
	int64_t weekday = ((last + 4) % 7 + 7) % 7; /* 0 = Sunday */
	return last - weekday;
}

bool london_is_summer_time(int64_t t)
{
	int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int year, month, d;
	civil_from_days(day, &year, &month, &d);
	int64_t start = last_sunday(year, 3) * 86400 + 3600;
	int64_t end = last_sunday(year, 10) * 86400 + 3600;
	return t >= start && t < end;
}

int64_t london_day_start(int year, int month, int day)
{
	int64_t midnight_utc = days_from_civil(year, month, day) * 86400;
	/* Local midnight is an hour earlier in UTC when the hour before UTC midnight
	 * was already summer time (the clocks change at 01:00 UTC, never at midnight). */
	return london_is_summer_time(midnight_utc - 3600) ? midnight_utc - 3600 : midnight_utc;
}

/* Splits t (shifted to London time) into its parts. */
static void london_parts(int64_t t, int *year, int *month, int *day, int *secs)
{
	int64_t local = t + (london_is_summer_time(t) ? 3600 : 0);
	int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	*secs = (int)(local - days * 86400);
	civil_from_days(days, year, month, day);
}

void london_format(int64_t t, char out[48])
{
	int year, month, day, secs;
	london_parts(t, &year, &month, &day, &secs);
	snprintf(out, 48, "%d %s %d at %02d:%02d:%02d", day, month_names[month - 1], year,
	         secs / 3600, secs / 60 % 60, secs % 60);
}

void london_format_date(int64_t t, char out[32])
{
	int year, month, day, secs;
	london_parts(t, &year, &month, &day, &secs);
	snprintf(out, 32, "%d %s %d", day, month_names[month - 1], year);
}

void utc_format_iso(int64_t t, char out[32])
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int secs = (int)(t - days * 86400), year, month, day;
	civil_from_days(days, &year, &month, &day);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, secs / 3600,
	         secs / 60 % 60, secs % 60);
}
