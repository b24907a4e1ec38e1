/*
 * demo.c — fictional pressure returns for the demo collective (see
 * pressure.h), so the dashboard and briefing look real on first run:
 *  - three practices over the last three weeks, one of them (Harbour) Black last
 *    week after a flood, with the executive's response recorded;
 *  - every practice's weekly return for two winters before that (from
 *    September 2025), pressure rising from November to a peak in January, some
 *    practices always busier than others, and some agreeing to be named;
 *  - a surge fortnight of daily returns from every practice in January 2026.
 * The current week is left empty for the practices to fill in. The history is
 * written in bulk, with one prepared statement, in the caller's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/pressure/pressure.h"

static const struct {
	const char *ods, *reporter;
	int level[3]; /* three weeks ago, two weeks ago, last week */
	int staff_pct[3];
	int appts[3];
} demo_returns[] = {
    {"Z80001", "lead@riverside.wyvern.example", {1, 2, 2}, {95, 90, 86}, {130, 150, 160}},
    {"Z80005", "nurse@castlegate.wyvern.example", {2, 2, 3}, {90, 84, 78}, {170, 185, 205}},
    {"Z80014", "lead@harbour.wyvern.example", {2, 3, 4}, {88, 80, 62}, {160, 175, 120}},
};

static int person(struct db_conn *c, const char *email, int64_t *id)
{
	struct db_stmt *st = db_prepare(c, "SELECT id FROM people WHERE email = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	*id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW ? 0 : DB_ERR;
}

static int exec_int(struct db_conn *c, const char *sql, int64_t a, int64_t b)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, a);
	db_bind_int(st, 2, b);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE || rc == DB_ROW ? 0 : DB_ERR;
}

static int demo_history(struct db_conn *c, int64_t now, int64_t chair);

int pressure_demo_load(struct db_conn *c, int64_t now)
{
	int64_t chair;
	if (person(c, "chair@wyvern.example", &chair))
		return DB_ERR;
	for (size_t i = 0; i < sizeof demo_returns / sizeof demo_returns[0]; i++) {
		struct pressure_practice p;
		int64_t by;
		if (pressure_find_practice(c, demo_returns[i].ods, &p) <= 0 ||
		    person(c, demo_returns[i].reporter, &by))
			return DB_ERR;
		/* The nurse at Castlegate reports for it: the lead flag is not needed. */
		if (exec_int(c,
		             "UPDATE memberships SET may_report = 1 WHERE person_id = $1 AND "
		             "organisation_id = $2",
		             by, p.id))
			return DB_ERR;
		for (int w = 0; w < 3; w++) {
			struct pressure_period period;
			int64_t at = now - (int64_t)(3 - w) * 7 * 86400;
			if (pressure_current_period(c, &p, at, &period))
				return DB_ERR;
			struct pressure_figures f = {
			    p.list_size,
			    demo_returns[i].staff_pct[w],
			    demo_returns[i].appts[w] * (p.list_size / 1000) / 10,
			    0,
			    -1,
			    w == 2 && i == 2 ? 2 : 0};
			int calculated = pressure_calculated_level(&f);
			struct db_stmt *st = db_prepare(
			    c,
			    "INSERT INTO pressure_returns (period_id, organisation_id, level, "
			    "calculated_level, appts_gp, staff_available_pct, list_size, incident, "
			    "incident_detail, comments, submitted_by, submitted_at, updated_by, "
			    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
			    "$12, "
			    "$11, $12) ON CONFLICT (organisation_id, period_id) DO NOTHING "
			    "RETURNING id");
			if (!st)
				return DB_ERR;
			bool flood = w == 2 && i == 2;
			db_bind_int(st, 1, period.id);
			db_bind_int(st, 2, p.id);
			db_bind_int(st, 3, demo_returns[i].level[w]);
			db_bind_int(st, 4, calculated);
			db_bind_int(st, 5, f.appointments);
			db_bind_int(st, 6, f.staff_available_pct);
			db_bind_int(st, 7, p.list_size);
			db_bind_text(st, 8, flood ? "critical" : "none");
			db_bind_text(st, 9,
			             flood ? "Flood in the waiting room; clinics moved to the "
			                     "branch surgery"
			                   : "");
			db_bind_text(st, 10, "Fictional demo return.");
			db_bind_int(st, 11, by);
			db_bind_int(st, 12, period.opens_at + 3 * 86400);
			int rc = db_step(st);
			int64_t id = rc == DB_ROW ? db_col_int(st, 0) : 0;
			db_reset(st);
			if (rc < 0)
				return rc;
			if (!id || demo_returns[i].level[w] < PRESSURE_RED)
				continue;
			/* Escalations as a return would have raised them; the Black one answered.
			 */
			bool black = demo_returns[i].level[w] == PRESSURE_BLACK;
			st = db_prepare(
			    c,
			    "INSERT INTO pressure_escalations (return_id, organisation_id, "
			    "period_id, "
			    "kind, created_at, respond_by, responded_at, responded_by, "
			    "contact_made_by, "
			    "support_offered) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9) ON "
			    "CONFLICT DO NOTHING");
			if (!st)
				return DB_ERR;
			db_bind_int(st, 1, id);
			db_bind_int(st, 2, p.id);
			db_bind_int(st, 3, period.id);
			db_bind_text(st, 4, black ? "black" : "red");
			db_bind_int(st, 5, period.opens_at + 3 * 86400);
			if (black) {
				db_bind_int(st, 6, period.opens_at + 3 * 86400 + 3600);
				db_bind_int(st, 7, chair);
				db_bind_text(st, 8, "Dr Priya Shah, LMC chair, by phone");
				db_bind_text(
				    st, 9,
				    "Mutual aid from Quayside Surgery for two days, and the "
				    "ICB asked NHS 111 to redirect bookings for the week.");
			} else {
				db_bind_null(st, 6);
				db_bind_null(st, 7);
				db_bind_text(st, 8, "");
				db_bind_text(st, 9, "");
			}
			rc = db_step(st);
			db_reset(st);
			if (rc != DB_DONE)
				return rc < 0 ? rc : DB_ERR;
		}
	}
	return demo_history(c, now, chair);
}

/* ------------------------------------------------------------ two winters */

#define DEMO_FIRST_WEEK "2025-09-01" /* the history starts on this Monday */
#define DEMO_SURGE_FROM "2026-01-05" /* the surge fortnight of daily returns */
#define DEMO_SURGE_TO   "2026-01-18"

/* A practice as the history needs it. */
struct demo_practice {
	int64_t id, list_size, reporter;
	int busy;     /* 0–30: some practices are always under more pressure */
	bool consent; /* agrees to be named to partners */
};

/* A repeatable pseudo-random number in [0, 1000) from two integers (splitmix64), so
 * every demo database is the same. */
static int noise(int64_t a, int64_t b)
{
	uint64_t z = (uint64_t)a * 0x9e3779b97f4a7c15u + (uint64_t)b + 0x632be59bd9b4e019u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return (int)((z ^ (z >> 31)) % 1000);
}

/* Seasonal pressure (0–100) in a month: quiet in summer, rising from November to a
 * January peak. */
static int season(int month)
{
	static const int by_month[13] = {0, 70, 58, 42, 30, 22, 18, 15, 15, 25, 32, 48, 62};
	return by_month[month];
}

static int load_practices(struct db_conn *c, int64_t chair, struct demo_practice **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	/* The reporter: the practice's first lead, else its first member, else the chair. */
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.id, COALESCE(o.list_size, 0), COALESCE((SELECT m.person_id FROM "
	       "memberships m WHERE m.organisation_id = o.id ORDER BY m.lead DESC, m.person_id "
	       "LIMIT 1), $1) FROM organisations o WHERE o.kind = 'practice' ORDER BY o.id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, chair);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			*out = realloc(*out, cap * sizeof **out);
			if (!*out)
				abort();
		}
		struct demo_practice *p = &(*out)[(*n)++];
		p->id = db_col_int(st, 0);
		p->list_size = db_col_int(st, 1) > 0 ? db_col_int(st, 1) : 8000;
		p->reporter = db_col_int(st, 2);
		p->busy = noise(p->id, 7) % 31;
		p->consent = noise(p->id, 11) < 400;
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

/* The period of kind ("weekly" or "daily") for window w, made if missing: its id, or < 0. */
static int64_t demo_period(struct db_conn *c, const char *kind, const struct pressure_window *w,
                           int64_t surge_id, int64_t now)
{
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO pressure_periods (kind, scope, reference_day, opens_at, deadline_at, "
	       "closes_at, surge_id, created_at) VALUES ($1, 'all', $2, $3, $4, $5, $6, $7) "
	       "ON CONFLICT (kind, scope, reference_day) DO NOTHING");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, w->reference_day);
	db_bind_int(st, 3, w->opens_at);
	db_bind_int(st, 4, w->deadline_at);
	db_bind_int(st, 5, w->closes_at);
	if (surge_id)
		db_bind_int(st, 6, surge_id);
	else
		db_bind_null(st, 6);
	db_bind_int(st, 7, now);
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	st = db_prepare(c, "SELECT id FROM pressure_periods WHERE kind = $1 AND scope = 'all' AND "
	                   "reference_day = $2");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, w->reference_day);
	rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int(st, 0) : DB_ERR;
	db_reset(st);
	return id;
}

/* One practice's return for a period, its pressure (0–100) given. */
static int demo_return(struct db_conn *c, const struct demo_practice *p, int64_t period_id,
                       int64_t sent_at, int pressure, int64_t salt)
{
	int level = pressure < 38 ? PRESSURE_GREEN : pressure < 68 ? PRESSURE_AMBER : PRESSURE_RED;
	int64_t staff_pct = 97 - pressure / 4 - noise(p->id, salt + 1) % 6;
	int64_t per_1000 =
	    38 + pressure / 4 + noise(p->id, salt + 2) % 8; /* a day's appointments */
	int64_t appts = per_1000 * p->list_size / 1000;
	int64_t nhs111 = p->list_size / 3000 + (pressure > 60 ? noise(p->id, salt + 3) % 4 : 0);
	struct pressure_figures f = {p->list_size, staff_pct, appts, 0, nhs111, 0};
	int calculated = pressure_calculated_level(&f);
	struct db_stmt *st = db_prepare(
	    c,
	    "INSERT INTO pressure_returns (period_id, organisation_id, level, calculated_level, "
	    "appts_gp, appts_nurse, appts_other, list_size, staff_available_pct, nhs111_bookings, "
	    "consent_to_share, comments, submitted_by, submitted_at, updated_by, updated_at, "
	    "late) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'Fictional demo "
	    "return.', $12, $13, $12, $13, $14) ON CONFLICT (organisation_id, period_id) DO "
	    "NOTHING");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, period_id);
	db_bind_int(st, 2, p->id);
	db_bind_int(st, 3, level);
	db_bind_int(st, 4, calculated);
	db_bind_int(st, 5, appts * 6 / 10);
	db_bind_int(st, 6, appts * 3 / 10);
	db_bind_int(st, 7, appts - appts * 6 / 10 - appts * 3 / 10);
	db_bind_int(st, 8, p->list_size);
	db_bind_int(st, 9, staff_pct);
	db_bind_int(st, 10, nhs111);
	db_bind_int(st, 11, p->consent);
	db_bind_int(st, 12, p->reporter);
	db_bind_int(st, 13, sent_at);
	db_bind_int(st, 14, noise(p->id, salt + 4) < 50);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

/* Noon (London) of a date. */
static int64_t noon(int y, int m, int d)
{
	return time_london_day_start(y, m, d) + 12 * 3600;
}

static int demo_history(struct db_conn *c, int64_t now, int64_t chair)
{
	struct demo_practice *practices = NULL;
	size_t n = 0;
	int ref, due, minutes;
	int rc = load_practices(c, chair, &practices, &n);
	if (rc || (rc = pressure_settings(c, &ref, &due, &minutes)))
		goto done;
	/* Weekly returns from the first week up to last week (the current week stays empty). */
	struct pressure_window current;
	pressure_week(now, ref, due, minutes, &current);
	int y, m, d;
	if (pressure_parse_date(DEMO_FIRST_WEEK, &y, &m, &d)) {
		rc = DB_ERR;
		goto done;
	}
	for (int week = 0;; week++) {
		struct pressure_window w;
		pressure_week(noon(y, m, d), ref, due, minutes, &w);
		if (w.opens_at >= current.opens_at)
			break;
		int64_t period = demo_period(c, "weekly", &w, 0, now);
		if (period < 0) {
			rc = (int)period;
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			int pressure = season(m) + practices[i].busy - 15 +
			               noise(practices[i].id, week) % 21 - 10;
			if ((rc = demo_return(c, &practices[i], period,
			                      w.opens_at + 2 * 86400 + noise(week, (int64_t)i) * 40,
			                      pressure, week * 10)))
				goto done;
		}
		pressure_add_days(&y, &m, &d, 7);
	}
	/* The surge fortnight: every locality, daily returns, pressure at its height. */
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO pressure_surges (all_localities, starts_on, ends_on, reason, "
	       "declared_by, created_at) VALUES (1, $1, $2, $3, $4, $5) RETURNING id");
	if (!st) {
		rc = DB_ERR;
		goto done;
	}
	pressure_parse_date(DEMO_SURGE_FROM, &y, &m, &d);
	db_bind_text(st, 1, DEMO_SURGE_FROM);
	db_bind_text(st, 2, DEMO_SURGE_TO);
	db_bind_text(st, 3, "Flu and COVID-19 peak after the new year (fictional demo surge).");
	db_bind_int(st, 4, chair);
	db_bind_int(st, 5, noon(y, m, d) - 3 * 86400);
	rc = db_step(st);
	int64_t surge = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (!surge) {
		rc = rc < 0 ? rc : DB_ERR;
		goto done;
	}
	for (int day = 0; day < 14; day++) {
		struct pressure_window w;
		pressure_day(noon(y, m, d), minutes, &w);
		int64_t period = demo_period(c, "daily", &w, surge, now);
		if (period < 0) {
			rc = (int)period;
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			int pressure = 80 + practices[i].busy / 2 - 10 +
			               noise(practices[i].id, 1000 + day) % 21 - 10 -
			               (day > 9 ? 15 : 0);
			if ((rc = demo_return(c, &practices[i], period, w.opens_at + 10 * 3600,
			                      pressure, 10000 + day * 10)))
				goto done;
		}
		pressure_add_days(&y, &m, &d, 1);
	}
	rc = 0;
done:
	free(practices);
	return rc;
}
