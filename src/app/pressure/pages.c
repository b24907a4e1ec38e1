/*
 * pages.c — the pressure pages a practice sees: the viewer's practices and
 * their state this period, a practice's returns and the responses to its
 * escalations, and one return in full (see pressure.h).
 *
 * Each practice page and return is practice-identifiable: policy_may_view_return
 * decides who sees it, and a view by anyone outside the practice (the executive,
 * administrators) is audited as "pressure-return-viewed" before it is shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/pressure/pressure.h"
#include "auth/policy.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"

static void render(struct http_request *req, struct http_response *res, const char *title,
                   void (*tpl)(struct buf *, const void *), const void *v)
{
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl(&main, v);
	page_render(req, res, title, main.data);
	buf_free(&main);
}

static void tpl_index(struct buf *b, const void *v)
{
	tpl_pressure_index(b, v);
}
static void tpl_practice(struct buf *b, const void *v)
{
	tpl_pressure_practice(b, v);
}

/* The state of a practice's return this period, for a row of /pressure. */
static int fill_mine(struct db_conn *c, const struct viewer *viewer, struct pressure_mine_row *m,
                     int64_t now)
{
	struct pressure_practice p;
	struct pressure_period period;
	struct pressure_standing s;
	int rc = pressure_find_practice(c, m->ods, &p);
	if (rc <= 0)
		return rc;
	if (pressure_standing(c, viewer->person_id, p.id, &s) ||
	    pressure_current_period(c, &p, now, &period))
		return DB_ERR;
	m->lead = s.lead;
	m->may_submit = policy_may_submit_return(viewer, s.member, s.lead, s.may_report);
	pressure_period_label(&period, m->period, sizeof m->period);
	time_format_time_on_date(period.deadline_at, m->deadline);
	struct db_stmt *st = db_prepare(c, "SELECT level, late FROM pressure_returns WHERE "
	                                   "organisation_id = $1 AND period_id = $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, p.id);
	db_bind_int(st, 2, period.id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		m->returned = true;
		m->level = (int)db_col_int(st, 0);
		m->late = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	return rc < 0 ? rc : 1;
}

void pressure_index(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_index_view *v = xcalloc(1, sizeof *v);
	int64_t now = (int64_t)time(NULL);
	v->executive = policy_may_manage_pressure(viewer);
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.ods_code, o.name FROM memberships m JOIN organisations o ON o.id = "
	       "m.organisation_id WHERE m.person_id = $1 AND o.kind = 'practice' ORDER BY o.name");
	if (!st)
		goto fail;
	db_bind_int(st, 1, viewer->person_id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && v->n_mine < sizeof v->mine / sizeof v->mine[0]) {
		struct pressure_mine_row *m = &v->mine[v->n_mine++];
		snprintf(m->ods, sizeof m->ods, "%s", db_col_text(st, 0));
		snprintf(m->name, sizeof m->name, "%s", db_col_text(st, 1));
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < v->n_mine; i++)
		if (fill_mine(c, viewer, &v->mine[i], now) < 0)
			goto fail;
	if (v->executive) {
		st =
		    db_prepare(c, "SELECT count(*) FROM pressure_escalations WHERE responded_at IS "
		                  "NULL");
		if (!st || db_step(st) != DB_ROW)
			goto fail;
		v->open_escalations = (long long)db_col_int(st, 0);
		db_reset(st);
	}
	db_release(c);
	render(req, res, "Pressure", tpl_index, v);
	free(v);
	return;
fail:
	log_error("request %s: cannot show the pressure page: %s", req->id, db_errmsg(c));
	db_release(c);
	free(v);
	res->status = 500;
}

static const char *escalation_what(const char *kind)
{
	if (!strcmp(kind, "black"))
		return "Black alert";
	if (!strcmp(kind, "red"))
		return "Red: contact within one working day";
	return "Review: three periods in a row at Red or Black";
}

int pressure_load_escalations(struct db_conn *c, int64_t organisation_id, int64_t escalation_id,
                              bool open_only, struct pressure_escalation_row *rows, size_t max,
                              size_t *n)
{
	*n = 0;
	int64_t now = (int64_t)time(NULL);
	struct db_stmt *st = db_prepare(
	    c, "SELECT e.id, o.ods_code, o.name, e.kind, p.kind, p.reference_day, e.created_at, "
	       "e.respond_by, e.responded_at, COALESCE(r.name, ''), e.contact_made_by, "
	       "e.support_offered FROM pressure_escalations e JOIN organisations o ON o.id = "
	       "e.organisation_id JOIN pressure_periods p ON p.id = e.period_id LEFT JOIN people r "
	       "ON r.id = e.responded_by WHERE ($1 = 0 OR e.organisation_id = $1) AND ($2 = 0 OR "
	       "e.responded_at IS NULL) AND ($3 = 0 OR e.id = $3) ORDER BY e.responded_at IS NULL "
	       "DESC, e.created_at DESC, "
	       "e.id DESC LIMIT 60");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, organisation_id);
	db_bind_int(st, 2, open_only);
	db_bind_int(st, 3, escalation_id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && *n < max) {
		struct pressure_escalation_row *e = &rows[(*n)++];
		struct pressure_period p = {0};
		e->id = db_col_int(st, 0);
		snprintf(e->ods, sizeof e->ods, "%s", db_col_text(st, 1));
		snprintf(e->practice, sizeof e->practice, "%s", db_col_text(st, 2));
		e->what = escalation_what(db_col_text(st, 3));
		snprintf(p.kind, sizeof p.kind, "%s", db_col_text(st, 4));
		snprintf(p.reference_day, sizeof p.reference_day, "%s", db_col_text(st, 5));
		pressure_period_label(&p, e->period, sizeof e->period);
		time_format_date_time(db_col_int(st, 6), e->raised);
		time_format_time_on_date(db_col_int(st, 7), e->respond_by);
		e->responded = !db_col_is_null(st, 8);
		if (e->responded)
			time_format_date_time(db_col_int(st, 8), e->responded_at);
		e->overdue = !e->responded && now > db_col_int(st, 7);
		snprintf(e->responder, sizeof e->responder, "%s", db_col_text(st, 9));
		e->contact_made_by = xstrdup(db_col_text(st, 10));
		e->support_offered = xstrdup(db_col_text(st, 11));
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

void pressure_free_escalations(struct pressure_escalation_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].contact_made_by);
		free(rows[i].support_offered);
	}
}

void pressure_practice_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_practice_view *v = xcalloc(1, sizeof *v);
	struct pressure_practice p;
	struct pressure_standing s;
	struct pressure_period period;
	int rc = pressure_find_practice(c, req->params[0], &p);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	if (pressure_standing(c, viewer->person_id, p.id, &s))
		goto fail;
	if (!policy_may_view_return(viewer, s.member)) {
		res->status = 403;
		res->reason =
		    "A practice's pressure returns are seen only by its own staff and the "
		    "collective's executive.";
		goto done;
	}
	if (pressure_current_period(c, &p, (int64_t)time(NULL), &period))
		goto fail;
	v->ods = p.ods;
	v->practice = p.name;
	v->may_submit = policy_may_submit_return(viewer, s.member, s.lead, s.may_report);
	v->may_authorise = policy_may_authorise_reporters(viewer, s.lead);
	const char *sent = http_query(req, "sent");
	if (sent && !strcmp(sent, "1"))
		v->notice = "Your pressure return has been sent";
	else if (sent && !strcmp(sent, "2"))
		v->notice = "Your pressure return has been changed";
	pressure_period_label(&period, v->period, sizeof v->period);
	time_format_time_on_date(period.deadline_at, v->deadline);
	/* Periods newest first, each probing the practice's return, as baseline() in form.c
	 * does and for the same reason: its returns are one to a page, and reading all of
	 * them (3 years) to keep 60 made this page a third as fast at region scale. */
	struct db_stmt *st = db_prepare(
	    c, "SELECT r.id, p.kind, p.reference_day, r.level, r.calculated_level, r.late, "
	       "r.updated_at, r.period_id FROM pressure_periods p JOIN pressure_returns r ON "
	       "r.organisation_id = $1 AND r.period_id = +p.id ORDER BY p.opens_at DESC, p.id DESC "
	       "LIMIT 60");
	if (!st)
		goto fail;
	db_bind_int(st, 1, p.id);
	while ((rc = db_step(st)) == DB_ROW && v->n_rows < PRESSURE_MAX_ROWS) {
		struct pressure_return_row *r = &v->rows[v->n_rows++];
		struct pressure_period rp = {0};
		r->id = db_col_int(st, 0);
		snprintf(rp.kind, sizeof rp.kind, "%s", db_col_text(st, 1));
		snprintf(rp.reference_day, sizeof rp.reference_day, "%s", db_col_text(st, 2));
		pressure_period_label(&rp, r->period, sizeof r->period);
		r->level = (int)db_col_int(st, 3);
		r->calculated = (int)db_col_int(st, 4);
		r->flagged = pressure_gap_flagged(r->level, r->calculated);
		r->late = db_col_int(st, 5) != 0;
		time_format_date_time(db_col_int(st, 6), r->sent);
		if (db_col_int(st, 7) == period.id)
			v->returned = true;
	}
	db_reset(st);
	if (rc < 0 || pressure_load_escalations(c, p.id, 0, false, v->escalations,
	                                        PRESSURE_MAX_ROWS, &v->n_escalations))
		goto fail;
	if (!s.member) {
		/* Seen from outside the practice: on the record before it is shown. */
		char subject[48];
		snprintf(subject, sizeof subject, "organisation:%lld", (long long)p.id);
		if (pressure_audit(c, req, "pressure-return-viewed", subject, p.ods))
			goto fail;
	}
	db_release(c);
	c = NULL;
	render(req, res, p.name, tpl_practice, v);
	goto done;
fail:
	log_error("request %s: cannot show a practice's returns: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	pressure_free_escalations(v->escalations, v->n_escalations);
	free(v);
}
