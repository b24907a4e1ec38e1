/*
 * rules.c — the calculated level and the calendar of pressure periods (see
 * rules.h). Pure functions: no database, no clock of their own.
 */
#include "app/pressure/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"

const char *pressure_level_word(int level)
{
	static const char *const words[] = {"Not calculated", "Green", "Amber", "Red", "Black"};
	return level >= 0 && level <= 4 ? words[level] : words[0];
}

const char *pressure_level_meaning(int level)
{
	static const char *const meanings[] = {
	    "",
	    "Operating as usual. Demand is met within resources.",
	    "Busier than usual but coping. There are signs of pressure.",
	    "Struggling. Unplanned work is compromising care and mutual aid may be needed.",
	    ("Cannot deliver comprehensive care: major staff gaps, estates or IT failure, or "
	     "booked appointments being cancelled."), /* one string: brackets tell clang so */
	};
	return level >= 1 && level <= 4 ? meanings[level] : meanings[0];
}

const char *pressure_level_tag(int level)
{
	static const char *const tags[] = {"nhsuk-tag--grey", "nhsuk-tag--green",
	                                   "nhsuk-tag--yellow", "nhsuk-tag--red",
	                                   "nhsuk-tag--white"};
	return level >= 0 && level <= 4 ? tags[level] : tags[0];
}

int64_t pressure_per_1000_x10(int64_t appointments, int64_t list_size)
{
	if (appointments < 0 || list_size <= 0)
		return -1;
	return (appointments * 10000 + list_size / 2) / list_size;
}

static int raise(int level, int to)
{
	return to > level ? to : level;
}

int pressure_calculated_level(const struct pressure_figures *f)
{
	int level = 0;
	if (f->incident == 2)
		return PRESSURE_BLACK;
	if (f->incident == 1)
		level = raise(level, PRESSURE_AMBER);
	if (f->staff_available_pct >= 0) {
		int64_t p = f->staff_available_pct;
		if (p < PRESSURE_STAFF_BLACK_PCT)
			return PRESSURE_BLACK;
		level = raise(level, p < PRESSURE_STAFF_RED_PCT     ? PRESSURE_RED
		                     : p < PRESSURE_STAFF_AMBER_PCT ? PRESSURE_AMBER
		                                                    : PRESSURE_GREEN);
	}
	int64_t per = pressure_per_1000_x10(f->appointments, f->list_size);
	if (per >= 0 && f->baseline_per_1000 > 0) {
		int64_t pct = per * 100 / f->baseline_per_1000;
		level = raise(level, pct >= PRESSURE_APPTS_RED_PCT     ? PRESSURE_RED
		                     : pct >= PRESSURE_APPTS_AMBER_PCT ? PRESSURE_AMBER
		                                                       : PRESSURE_GREEN);
	}
	if (f->nhs111_bookings >= 0 && f->list_size > 0) {
		/* Over the cap is Amber; over twice the cap is Red. Compared as
		 * bookings × 3,000 against the list, so no rounding hides a booking. */
		int64_t scaled = f->nhs111_bookings * PRESSURE_111_PATIENTS;
		level = raise(level, scaled > 2 * f->list_size ? PRESSURE_RED
		                     : scaled > f->list_size   ? PRESSURE_AMBER
		                                               : PRESSURE_GREEN);
	}
	return level;
}

bool pressure_gap_flagged(int declared, int calculated)
{
	if (calculated <= 0 || declared <= 0)
		return false;
	return abs(declared - calculated) >= PRESSURE_FLAG_GAP;
}

/* Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int pressure_weekday(int year, int month, int day)
{
	int64_t z = days_from_civil(year, month, day); /* 1970-01-01 was a Thursday */
	int64_t w = ((z % 7) + 7 + 3) % 7;             /* 0 Monday */
	return (int)w + 1;
}

void pressure_add_days(int *year, int *month, int *day, int days)
{
	civil_from_days(days_from_civil(*year, *month, *day) + days, year, month, day);
}

/* The UTC moment of minutes past midnight on a London date. Counted on the
 * wall clock: 17:30 stays 17:30 across a change of the clocks that day. */
static int64_t london_at(int y, int m, int d, int minutes)
{
	int64_t start = time_london_day_start(y, m, d);
	int64_t t = start + (int64_t)minutes * 60;
	struct time_london l;
	time_london(t, &l);
	int diff = minutes - (l.hour * 60 + l.minute); /* ±60 on a day the clocks change */
	return diff >= -60 && diff <= 60 ? t + (int64_t)diff * 60 : t;
}

int64_t pressure_next_working_day(int64_t t)
{
	struct time_london l;
	time_london(t, &l);
	int y = l.year, m = l.month, d = l.day;
	do
		pressure_add_days(&y, &m, &d, 1);
	while (pressure_weekday(y, m, d) >= 6);
	return london_at(y, m, d, l.hour * 60 + l.minute) + l.second;
}

static void write_day(char out[11], int y, int m, int d)
{
	/* By hand: dates here are always valid, and snprintf's checker cannot know it. */
	unsigned yy = (unsigned)y % 10000, mm = (unsigned)m % 100, dd = (unsigned)d % 100;
	out[0] = (char)('0' + yy / 1000);
	out[1] = (char)('0' + yy / 100 % 10);
	out[2] = (char)('0' + yy / 10 % 10);
	out[3] = (char)('0' + yy % 10);
	out[4] = '-';
	out[5] = (char)('0' + mm / 10);
	out[6] = (char)('0' + mm % 10);
	out[7] = '-';
	out[8] = (char)('0' + dd / 10);
	out[9] = (char)('0' + dd % 10);
	out[10] = '\0';
}

void pressure_week(int64_t now, int reference_weekday, int deadline_weekday, int deadline_minutes,
                   struct pressure_window *w)
{
	struct time_london l;
	time_london(now, &l);
	int y = l.year, m = l.month, d = l.day;
	int back = (pressure_weekday(y, m, d) - reference_weekday + 7) % 7;
	pressure_add_days(&y, &m, &d, -back);
	write_day(w->reference_day, y, m, d);
	w->opens_at = time_london_day_start(y, m, d);
	int y2 = y, m2 = m, d2 = d;
	pressure_add_days(&y2, &m2, &d2, 7);
	w->closes_at = time_london_day_start(y2, m2, d2);
	int ahead = (deadline_weekday - reference_weekday + 7) % 7;
	pressure_add_days(&y, &m, &d, ahead);
	w->deadline_at = london_at(y, m, d, deadline_minutes);
}

void pressure_day(int64_t now, int deadline_minutes, struct pressure_window *w)
{
	struct time_london l;
	time_london(now, &l);
	int y = l.year, m = l.month, d = l.day;
	write_day(w->reference_day, y, m, d);
	w->opens_at = time_london_day_start(y, m, d);
	w->deadline_at = london_at(y, m, d, deadline_minutes);
	pressure_add_days(&y, &m, &d, 1);
	w->closes_at = time_london_day_start(y, m, d);
}

int pressure_parse_time(const char *s)
{
	int h, mi;
	char extra;
	if (!s || strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &mi, &extra) != 2)
		return -1;
	if (h < 0 || h > 23 || mi < 0 || mi > 59)
		return -1;
	return h * 60 + mi;
}

int pressure_parse_date(const char *s, int *year, int *month, int *day)
{
	char extra;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", year, month, day, &extra) != 3)
		return -1;
	return time_date_valid(*year, *month, *day) ? 0 : -1;
}
