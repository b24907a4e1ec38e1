/*
 * london_time.h — dates and times as people in England read them (Europe/London).
 *
 * Shoal stores Unix seconds (UTC); people think in local days. Changing TZ
 * and calling localtime_r/mktime is not safe in a threaded server (setenv
 * races every other thread), so the UK rule is applied here by hand: British
 * Summer Time (UTC+1) runs from 01:00 UTC on the last Sunday of March to
 * 01:00 UTC on the last Sunday of October (the rule in force since 1996).
 * Kept with the audit pages, its first user, until Shoal has a core time module.
 */
#ifndef SHOAL_APP_AUDIT_LONDON_TIME_H
#define SHOAL_APP_AUDIT_LONDON_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define LONDON_YEAR_MIN 1970
#define LONDON_YEAR_MAX 9999

/** Whether year, month, day is a real date between LONDON_YEAR_MIN and LONDON_YEAR_MAX. */
bool london_date_valid(int year, int month, int day);
/** The UTC Unix time of midnight at the start of that day in London. The date must be valid. */
int64_t london_day_start(int year, int month, int day);
/** Whether t falls in British Summer Time. */
bool london_is_summer_time(int64_t t);
/** Writes t as "12 March 2026 at 14:05:09" (London time) into out. */
void london_format(int64_t t, char out[48]);
/** Writes t as "12 March 2026" (London time) into out. */
void london_format_date(int64_t t, char out[32]);
/** Writes t as ISO 8601 in UTC, "2026-03-12T14:05:09Z", into out. */
void utc_format_iso(int64_t t, char out[32]);

#endif
