/*
 * time.h — dates and times as people in England read them (Europe/London),
 * and UTC timestamps for machines.
 *
 * Shoal stores Unix seconds (UTC); people think in local days and times.
 * Written by hand rather than with TZ=Europe/London and localtime_r/mktime:
 * changing TZ per call (setenv + tzset) is not thread-safe, and every handler
 * thread formats dates. The rule needed is short and stable: British Summer
 * Time (UTC+1) runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on
 * the last Sunday of October (in force since 1996); otherwise London is on GMT.
 * No libc time zone state is touched at all.
 *
 * The words follow the NHS content style: "23 November 2026", a 12-hour clock
 * ("2:05pm"), and "midday"/"midnight" where a sentence names a deadline.
 */
#ifndef SHOAL_CORE_TIME_H
#define SHOAL_CORE_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* The years a date typed by a person may name (time_date_valid). */
#define TIME_YEAR_MIN 1970
#define TIME_YEAR_MAX 9999

/* Room for each formatted string, with its terminating NUL. */
#define TIME_DATE_BYTES      32
#define TIME_DATE_TIME_BYTES 48
#define TIME_ISO_BYTES       32

/* A moment as the clock on a wall in London shows it. */
struct time_london {
	int year;
	int month; /* 1 to 12 */
	int day;   /* 1 to 31 */
	int hour;  /* 0 to 23 */
	int minute;
	int second;
};

/** Whether year, month, day is a real date between TIME_YEAR_MIN and TIME_YEAR_MAX. */
bool time_date_valid(int year, int month, int day);
/** Whether the UTC moment t falls in British Summer Time. */
bool time_london_is_summer_time(int64_t t);
/** The London wall-clock time of the UTC moment t (Unix seconds). */
void time_london(int64_t t, struct time_london *out);
/**
 * The UTC Unix time of midnight at the start of that day in London; the day
 * ends where the next one starts (23 or 25 hours later on the clock changes).
 * The date must be valid (time_date_valid).
 */
int64_t time_london_day_start(int year, int month, int day);

/** Writes t as a London date, "23 November 2026", into out. */
void time_format_date(int64_t t, char out[TIME_DATE_BYTES]);
/** Writes t as London date and time, "23 November 2026 at 2:05pm", into out. */
void time_format_date_time(int64_t t, char out[TIME_DATE_TIME_BYTES]);
/**
 * Writes t as a deadline in a sentence, "2:05pm on 23 November 2026", with
 * "midday on …" and "midnight on …" spelled out (NHS style), into out.
 */
void time_format_time_on_date(int64_t t, char out[TIME_DATE_TIME_BYTES]);
/**
 * Writes t to the second on the 24-hour clock, "23 November 2026 at 14:05:09",
 * for records such as the audit log where the order of events matters, into out.
 */
void time_format_date_time_seconds(int64_t t, char out[TIME_DATE_TIME_BYTES]);
/** Writes t as ISO 8601 / RFC 3339 in UTC, "2026-11-23T14:05:09Z", into out. */
void time_format_utc_iso(int64_t t, char out[TIME_ISO_BYTES]);

#endif
