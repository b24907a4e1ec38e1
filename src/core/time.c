/*
 * time.c — Europe/London dates without TZ (see time.h for why by hand).
 *
 * Day arithmetic uses Howard Hinnant's days_from_civil / civil_from_days,
 * exact for the proleptic Gregorian calendar; POSIX has no timegm, and gmtime_r
 * alone cannot say when the clocks change.
 */
#include "core/time.h"

#include <stdio.h>
#include <string.h>

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

/* The day number of t, rounding down (before 1970 too). */
static int64_t day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : (t - 86399) / 86400;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : days[month - 1];
}

bool time_date_valid(int year, int month, int day)
{
	return year >= TIME_YEAR_MIN && year <= TIME_YEAR_MAX && month >= 1 && month <= 12 &&
	       day >= 1 && day <= days_in_month(year, month);
}

/* The day number of the last Sunday of a month (1970-01-01 was a Thursday). */
static int64_t last_sunday(int year, int month)
{
	int64_t last = days_from_civil(year, month, days_in_month(year, month));
	int64_t weekday = ((last + 4) % 7 + 7) % 7; /* 0 = Sunday */
	return last - weekday;
}

/*
 * The last day each thread asked about, and what was worked out for it. A page formats
 * dozens of times from the same few days (50 posts on a thread page), and the calendar
 * arithmetic and the search for the last Sundays were most of each call's cost; all of
 * it is the same for a whole day. Per thread, so no locking; a miss just recomputes.
 */
static _Thread_local struct {
	int64_t utc_day;   /* the UTC day whose year the clock changes below are for */
	int64_t bst_start; /* summer time of that year: [bst_start, bst_end) */
	int64_t bst_end;
	int64_t local_day; /* the London day whose date is below */
	int year, month, day;
	int64_t words_day; /* the London day whose words are in words */
	char words[TIME_DATE_BYTES];
	size_t words_len;
} cache = {INT64_MIN, 0, 0, INT64_MIN, 0, 0, 0, INT64_MIN, "", 0};

bool time_london_is_summer_time(int64_t t)
{
	int64_t utc_day = day_of(t);
	if (utc_day != cache.utc_day) {
		int year, month, day;
		civil_from_days(utc_day, &year, &month, &day);
		cache.bst_start = last_sunday(year, 3) * 86400 + 3600;
		cache.bst_end = last_sunday(year, 10) * 86400 + 3600;
		cache.utc_day = utc_day;
	}
	return t >= cache.bst_start && t < cache.bst_end;
}

/* time_london, returning the London day number as well (the key of the words cache). */
static int64_t london_split(int64_t t, struct time_london *out)
{
	int64_t local = t + (time_london_is_summer_time(t) ? 3600 : 0);
	int64_t days = day_of(local);
	int secs = (int)(local - days * 86400);
	if (days != cache.local_day) {
		civil_from_days(days, &cache.year, &cache.month, &cache.day);
		cache.local_day = days;
	}
	out->year = cache.year;
	out->month = cache.month;
	out->day = cache.day;
	out->hour = secs / 3600;
	out->minute = secs / 60 % 60;
	out->second = secs % 60;
	return days;
}

void time_london(int64_t t, struct time_london *out)
{
	london_split(t, out);
}

int64_t time_london_day_start(int year, int month, int day)
{
	int64_t midnight_utc = days_from_civil(year, month, day) * 86400;
	/* Local midnight is an hour earlier in UTC when the hour before UTC midnight
	 * was already summer time (the clocks change at 01:00 UTC, never at midnight). */
	return time_london_is_summer_time(midnight_utc - 3600) ? midnight_utc - 3600 : midnight_utc;
}

/* Appends text to a fixed buffer, cutting it short rather than overflowing. Dates are
 * written by hand, not by snprintf: a page of 50 posts writes over a hundred of them,
 * and snprintf's format parsing was a tenth of the page's cost (bench/README.md). */
struct out {
	char *p, *end; /* end: the last byte, kept for the NUL */
};

static void put(struct out *o, const char *s)
{
	while (*s && o->p < o->end)
		*o->p++ = *s++;
	*o->p = '\0';
}

/* A number of 0 to 9999, at least min_digits long (zero-padded). */
static void put_number(struct out *o, int n, int min_digits)
{
	char digits[8], *d = digits + sizeof digits - 1;
	*d = '\0';
	do {
		*--d = (char)('0' + n % 10);
		n /= 10;
	} while ((n || digits + sizeof digits - 1 - d < min_digits) && d > digits);
	put(o, d);
}

/* "23 November 2026" for an already split London time. */
static void put_date(struct out *o, const struct time_london *l)
{
	put_number(o, l->day, 1);
	put(o, " ");
	put(o, month_names[l->month - 1]);
	put(o, " ");
	put_number(o, l->year, 1);
}

static void date_words(const struct time_london *l, char out[TIME_DATE_BYTES])
{
	struct out o = {out, out + TIME_DATE_BYTES - 1};
	put_date(&o, l);
}

/* The 12-hour clock: 12 for midday and midnight, not 0. */
static int hour_12(const struct time_london *l)
{
	return l->hour % 12 ? l->hour % 12 : 12;
}

static const char *am_pm(const struct time_london *l)
{
	return l->hour < 12 ? "am" : "pm";
}

void time_format_date(int64_t t, char out[TIME_DATE_BYTES])
{
	struct time_london l;
	time_london(t, &l);
	date_words(&l, out);
}

/* The longest date words, then " at 12:59pm": the result always fits. */
_Static_assert(TIME_DATE_BYTES - 1 + sizeof " at 12:59pm" <= TIME_DATE_TIME_BYTES,
               "time_format_date_time needs more room");

void time_format_date_time(int64_t t, char out[TIME_DATE_TIME_BYTES])
{
	struct time_london l;
	int64_t day = london_split(t, &l);
	if (day != cache.words_day) {
		date_words(&l, cache.words);
		cache.words_len = strlen(cache.words);
		cache.words_day = day;
	}
	/* Written directly, not through put(): a thread page formats one for each post. */
	char *p = out;
	memcpy(p, cache.words, cache.words_len);
	p += cache.words_len;
	memcpy(p, " at ", 4);
	p += 4;
	int hour = hour_12(&l);
	if (hour >= 10)
		*p++ = '1';
	*p++ = (char)('0' + hour % 10);
	*p++ = ':';
	*p++ = (char)('0' + l.minute / 10);
	*p++ = (char)('0' + l.minute % 10);
	memcpy(p, am_pm(&l), 2);
	p[2] = '\0';
}

void time_format_time_on_date(int64_t t, char out[TIME_DATE_TIME_BYTES])
{
	struct time_london l;
	char date[TIME_DATE_BYTES];
	time_london(t, &l);
	date_words(&l, date);
	if (l.hour == 12 && l.minute == 0)
		snprintf(out, TIME_DATE_TIME_BYTES, "midday on %s", date);
	else if (l.hour == 0 && l.minute == 0)
		snprintf(out, TIME_DATE_TIME_BYTES, "midnight on %s", date);
	else
		snprintf(out, TIME_DATE_TIME_BYTES, "%d:%02d%s on %s", hour_12(&l), l.minute,
		         am_pm(&l), date);
}

void time_format_date_time_seconds(int64_t t, char out[TIME_DATE_TIME_BYTES])
{
	struct time_london l;
	char date[TIME_DATE_BYTES];
	time_london(t, &l);
	date_words(&l, date);
	snprintf(out, TIME_DATE_TIME_BYTES, "%s at %02d:%02d:%02d", date, l.hour, l.minute,
	         l.second);
}

void time_format_utc_iso(int64_t t, char out[TIME_ISO_BYTES])
{
	int64_t days = day_of(t);
	int secs = (int)(t - days * 86400), year, month, day;
	civil_from_days(days, &year, &month, &day);
	snprintf(out, TIME_ISO_BYTES, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
	         secs / 3600, secs / 60 % 60, secs % 60);
}
