/*
 * demo.c — a few fictional pressure returns for the demo collective (see
 * pressure.h), so the pressure pages show something on first run: three
 * practices over the last three weeks, one of them Black last week with the
 * executive's response recorded. The full two-winter demo comes later.
 */
#include <stdio.h>
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
	return 0;
}
