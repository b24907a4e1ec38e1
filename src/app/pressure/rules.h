/*
 * rules.h — the arithmetic of pressure reporting, kept free of the database
 * and the clock so that unit tests can pin every rule down: the level Shoal
 * calculates from a return's figures, the gap that flags a return for the
 * executive, and the calendar (weekly and daily periods, working days) in
 * Europe/London. docs/pressure.md explains the rules in plain English.
 */
#ifndef SHOAL_APP_PRESSURE_RULES_H
#define SHOAL_APP_PRESSURE_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* Levels, as stored: 1 Green (OPEL 1) … 4 Black (OPEL 4); 0 = none. */
#define PRESSURE_GREEN 1
#define PRESSURE_AMBER 2
#define PRESSURE_RED   3
#define PRESSURE_BLACK 4

/* Thresholds of the calculated level (docs/pressure.md). */
#define PRESSURE_STAFF_BLACK_PCT 70 /* fewer clinical staff available than this → Black */
#define PRESSURE_STAFF_RED_PCT   80
#define PRESSURE_STAFF_AMBER_PCT 90
#define PRESSURE_APPTS_RED_PCT   130 /* appointments per 1,000 against the baseline */
#define PRESSURE_APPTS_AMBER_PCT 115
#define PRESSURE_111_PATIENTS    3000 /* BMA cap: 1 NHS 111 booking per 3,000 patients a day */
#define PRESSURE_FLAG_GAP        2    /* declared and calculated this far apart → flagged */
/* The most clinical appointments in one day a practice can plausibly report per
 * 1,000 patients; more is taken as a typing mistake. */
#define PRESSURE_APPTS_MAX_PER_1000 200

/* The figures the calculated level uses; -1 means not given. */
struct pressure_figures {
	int64_t list_size;           /* registered patients; <= 0 unknown */
	int64_t staff_available_pct; /* 0–100 */
	int64_t appointments;        /* clinical appointments on the reference day, all roles */
	int64_t baseline_per_1000;   /* the practice's recent average, per 1,000 × 10; <= 0 none */
	int64_t nhs111_bookings;
	int incident; /* 0 none (raises nothing by itself), 1 minor, 2 critical */
};

/** The word for a level: "Green", "Amber", "Red", "Black" (or "Not calculated" for 0). */
const char *pressure_level_word(int level);
/** The level's definition, as on the form (DOMAIN.md). */
const char *pressure_level_meaning(int level);
/** The nhsuk-tag modifier class for a level's colour ("nhsuk-tag--green" …). */
const char *pressure_level_tag(int level);

/**
 * The level calculated from the figures: the highest level any rule reaches,
 * or 0 when no rule has figures to work on. Never overrides the declared level.
 */
int pressure_calculated_level(const struct pressure_figures *f);
/** Whether declared and calculated differ by PRESSURE_FLAG_GAP or more (0 calculated never). */
bool pressure_gap_flagged(int declared, int calculated);
/** Appointments per 1,000 patients × 10 (one decimal place kept), or -1 when unknown. */
int64_t pressure_per_1000_x10(int64_t appointments, int64_t list_size);

/** Day of the week of a date: 1 Monday … 7 Sunday. */
int pressure_weekday(int year, int month, int day);
/** Adds days (may be negative) to a date in place. */
void pressure_add_days(int *year, int *month, int *day, int days);
/**
 * The UTC moment one working day after t (London): the same time on the next
 * day that is not a Saturday or Sunday. Bank holidays are not known.
 */
int64_t pressure_next_working_day(int64_t t);

/* A period's dates, worked out by pressure_week / pressure_day. */
struct pressure_window {
	char reference_day[11]; /* YYYY-MM-DD */
	int64_t opens_at, deadline_at, closes_at;
};
/**
 * The weekly period that holds moment now: it opens at the start of the reference
 * weekday (1 Monday … 7 Sunday) on or before now, runs seven days, and its deadline
 * is on deadline_weekday at deadline_minutes past midnight (London) on or after the
 * reference day.
 */
void pressure_week(int64_t now, int reference_weekday, int deadline_weekday, int deadline_minutes,
                   struct pressure_window *w);
/** The daily (surge) period of the London day holding now, due at deadline_minutes that day. */
void pressure_day(int64_t now, int deadline_minutes, struct pressure_window *w);
/** Parses "HH:MM" (24-hour clock) into minutes past midnight; -1 if not such a time. */
int pressure_parse_time(const char *s);
/** Parses "YYYY-MM-DD" into a valid date; -1 if not one. */
int pressure_parse_date(const char *s, int *year, int *month, int *day);

#endif
