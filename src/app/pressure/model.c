/*
 * model.c — practices, periods, memberships and settings of pressure
 * reporting (see pressure.h). Periods are made on first use, so no job has to
 * run at midnight on Monday for a practice to be able to report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/access.h"
#include "app/pressure/pressure.h"
#include "auth/audit.h"
#include "core/log.h"
#include "core/time.h"

int pressure_find_practice(struct db_conn *c, const char *ods, struct pressure_practice *p)
{
	memset(p, 0, sizeof *p);
	if (!ods || strlen(ods) >= sizeof p->ods)
		return 0;
	/* The locality is the practice's grandparent (practice → PCN → locality). */
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT o.id, o.ods_code, o.name, COALESCE(o.list_size, 0), "
	    "COALESCE((SELECT l.id FROM organisations n JOIN organisations l ON l.id = n.parent_id "
	    "WHERE n.id = o.parent_id AND l.kind = 'locality'), "
	    "(SELECT l.id FROM organisations l WHERE l.id = o.parent_id AND l.kind = 'locality'), "
	    "0) "
	    "FROM organisations o WHERE o.ods_code = $1 AND o.kind = 'practice'");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, ods);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		p->id = db_col_int(st, 0);
		snprintf(p->ods, sizeof p->ods, "%s", db_col_text(st, 1));
		snprintf(p->name, sizeof p->name, "%s", db_col_text(st, 2));
		p->list_size = db_col_int(st, 3);
		p->locality_id = db_col_int(st, 4);
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static int setting(struct db_conn *c, const char *key, char *out, size_t len)
{
	out[0] = '\0';
	struct db_stmt *st = db_prepare(c, "SELECT value FROM settings WHERE key = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(out, len, "%s", db_col_text(st, 0));
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int pressure_settings(struct db_conn *c, int *reference_weekday, int *deadline_weekday,
                      int *deadline_minutes)
{
	char v[32];
	*reference_weekday = 1;
	*deadline_weekday = 4;
	*deadline_minutes = 17 * 60 + 30;
	if (setting(c, "pressure_reference_weekday", v, sizeof v))
		return DB_ERR;
	if (v[0] >= '1' && v[0] <= '7' && !v[1])
		*reference_weekday = v[0] - '0';
	if (setting(c, "pressure_deadline_weekday", v, sizeof v))
		return DB_ERR;
	if (v[0] >= '1' && v[0] <= '7' && !v[1])
		*deadline_weekday = v[0] - '0';
	if (setting(c, "pressure_deadline_time", v, sizeof v))
		return DB_ERR;
	int m = pressure_parse_time(v);
	if (m >= 0)
		*deadline_minutes = m;
	return 0;
}

/* The surge covering the practice today: 1 with its id and whether it covers
 * every locality, 0 none, < 0 error. The newest wins when several overlap. */
static int active_surge(struct db_conn *c, const struct pressure_practice *p, const char *today,
                        int64_t now, int64_t *surge_id, bool *all)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT s.id, s.all_localities FROM pressure_surges s WHERE s.starts_on <= $1 AND "
	       "s.ends_on >= $1 AND (s.ended_at IS NULL OR s.ended_at > $2) AND "
	       "(s.all_localities = 1 OR EXISTS (SELECT 1 FROM pressure_surge_localities x WHERE "
	       "x.surge_id = s.id AND x.locality_id = $3)) ORDER BY s.all_localities, s.id DESC "
	       "LIMIT 1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, today);
	db_bind_int(st, 2, now);
	db_bind_int(st, 3, p->locality_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*surge_id = db_col_int(st, 0);
		*all = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static void read_period(struct db_stmt *st, struct pressure_period *out)
{
	out->id = db_col_int(st, 0);
	snprintf(out->kind, sizeof out->kind, "%s", db_col_text(st, 1));
	snprintf(out->reference_day, sizeof out->reference_day, "%s", db_col_text(st, 2));
	out->opens_at = db_col_int(st, 3);
	out->deadline_at = db_col_int(st, 4);
	out->closes_at = db_col_int(st, 5);
}

#define PERIOD_COLUMNS "id, kind, reference_day, opens_at, deadline_at, closes_at"

int pressure_load_period(struct db_conn *c, int64_t id, struct pressure_period *out)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT " PERIOD_COLUMNS " FROM pressure_periods WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_period(st, out);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

/* The period of kind, scope and reference day: 1 found, 0 not, < 0 error. */
static int find_period(struct db_conn *c, const char *kind, const char *scope, const char *day,
                       struct pressure_period *out)
{
	struct db_stmt *st = db_prepare(c, "SELECT " PERIOD_COLUMNS " FROM pressure_periods WHERE "
	                                   "kind = $1 AND scope = $2 AND reference_day = $3");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, scope);
	db_bind_text(st, 3, day);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_period(st, out);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

int pressure_current_period(struct db_conn *c, const struct pressure_practice *p, int64_t now,
                            struct pressure_period *out)
{
	int ref, due, minutes;
	if (pressure_settings(c, &ref, &due, &minutes))
		return DB_ERR;
	struct pressure_window w;
	pressure_day(now, minutes, &w);
	int64_t surge_id = 0;
	bool all = false;
	int rc = active_surge(c, p, w.reference_day, now, &surge_id, &all);
	if (rc < 0)
		return rc;
	const char *kind = "daily";
	char scope[32] = "all";
	if (rc == 0) {
		kind = "weekly";
		pressure_week(now, ref, due, minutes, &w);
	} else if (!all) {
		snprintf(scope, sizeof scope, "locality:%lld", (long long)p->locality_id);
	}
	/* Read first: the period exists after its first use, and a read takes no write lock. */
	rc = find_period(c, kind, scope, w.reference_day, out);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO pressure_periods (kind, scope, reference_day, opens_at, deadline_at, "
	       "closes_at, surge_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
	       "ON CONFLICT (kind, scope, reference_day) DO NOTHING");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, scope);
	db_bind_text(st, 3, w.reference_day);
	db_bind_int(st, 4, w.opens_at);
	db_bind_int(st, 5, w.deadline_at);
	db_bind_int(st, 6, w.closes_at);
	if (surge_id)
		db_bind_int(st, 7, surge_id);
	else
		db_bind_null(st, 7);
	db_bind_int(st, 8, now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	rc = find_period(c, kind, scope, w.reference_day, out);
	return rc > 0 ? 0 : rc < 0 ? rc : DB_ERR;
}

void pressure_period_label(const struct pressure_period *p, char *out, size_t len)
{
	int y, m, d;
	char date[TIME_DATE_BYTES] = "";
	if (pressure_parse_date(p->reference_day, &y, &m, &d) == 0)
		time_format_date(time_london_day_start(y, m, d) + 12 * 3600, date);
	if (!strcmp(p->kind, "daily"))
		snprintf(out, len, "%s (daily, surge)", date);
	else
		snprintf(out, len, "week beginning %s", date);
}

int pressure_standing(struct db_conn *c, int64_t person_id, int64_t organisation_id,
                      struct pressure_standing *s)
{
	memset(s, 0, sizeof *s);
	struct db_stmt *st = db_prepare(c, "SELECT lead, may_report FROM memberships WHERE "
	                                   "person_id = $1 AND organisation_id = $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, organisation_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		s->member = true;
		s->lead = db_col_int(st, 0) != 0;
		s->may_report = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int pressure_audit(struct db_conn *c, struct http_request *req, const char *action,
                   const char *subject, const char *detail)
{
	const struct viewer *v = access_viewer(req);
	struct audit_entry e = {v->person_id, v->email, action, subject, detail, req->address};
	int rc = audit_record(c, &e);
	if (rc)
		log_error("request %s: cannot write the audit trail: %s", req->id, db_errmsg(c));
	return rc;
}
