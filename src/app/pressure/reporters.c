/*
 * reporters.c — one return in full, and the lead's page for choosing which of
 * the practice's staff may send its returns (see pressure.h).
 */
#include <stdarg.h>
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

static void add_row(struct pressure_return_view *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_row(struct pressure_return_view *v, const char *key, const char *fmt, ...)
{
	if (v->n_rows >= sizeof v->rows / sizeof v->rows[0])
		return;
	struct pressure_detail_row *r = &v->rows[v->n_rows++];
	r->key = key;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->value, sizeof r->value, fmt, ap);
	va_end(ap);
}

/* A count, or "Not given". */
static void add_count(struct pressure_return_view *v, const char *key, struct db_stmt *st, int col)
{
	if (db_col_is_null(st, col))
		add_row(v, key, "Not given");
	else
		add_row(v, key, "%lld", (long long)db_col_int(st, col));
}

static void add_text(struct pressure_return_view *v, const char *key, struct db_stmt *st, int col)
{
	const char *t = db_col_text(st, col);
	add_row(v, key, "%s", t && *t ? t : "None");
}

void pressure_return_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t id = http_parse_id(req->params[0]);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_return_view *v = xcalloc(1, sizeof *v);
	struct pressure_practice p;
	struct pressure_standing s;
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.ods_code, pp.kind, pp.reference_day, r.level, r.calculated_level, r.late, "
	       "r.updated_at, COALESCE(u.name, ''), r.flow_rating, r.staffing_rating, "
	       "r.comms_rating, r.appts_gp, r.appts_nurse, r.appts_hca, r.appts_pharmacist, "
	       "r.appts_other, r.clinical_staff, r.staff_available_pct, r.absences, r.vacancies, "
	       "r.nhs111_bookings, r.home_visits, r.incident, r.incident_detail, "
	       "COALESCE(src.label, ''), r.action_plan, r.support_mutual_aid, "
	       "r.support_call_redirection, r.support_111_review, r.support_other, r.comments, "
	       "r.consent_to_share FROM pressure_returns r JOIN organisations o ON o.id = "
	       "r.organisation_id JOIN pressure_periods pp ON pp.id = r.period_id LEFT JOIN "
	       "people u ON u.id = r.updated_by LEFT JOIN pressure_sources src ON src.id = "
	       "r.source_id WHERE r.id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		if (rc < 0)
			goto fail;
		res->status = 404;
		goto done;
	}
	char ods[16];
	snprintf(ods, sizeof ods, "%s", db_col_text(st, 0));
	struct pressure_period period = {0};
	snprintf(period.kind, sizeof period.kind, "%s", db_col_text(st, 1));
	snprintf(period.reference_day, sizeof period.reference_day, "%s", db_col_text(st, 2));
	pressure_period_label(&period, v->period, sizeof v->period);
	v->level = (int)db_col_int(st, 3);
	v->calculated = (int)db_col_int(st, 4);
	v->flagged = pressure_gap_flagged(v->level, v->calculated);
	v->late = db_col_int(st, 5) != 0;
	time_format_date_time(db_col_int(st, 6), v->sent);
	snprintf(v->by, sizeof v->by, "%s", db_col_text(st, 7));
	static const char *const ratings[3] = {"Patient flow", "Staffing", "Communications load"};
	for (int i = 0; i < 3; i++)
		add_row(v, ratings[i], "%s",
		        db_col_is_null(st, 8 + i)
		            ? "Not rated"
		            : pressure_level_word((int)db_col_int(st, 8 + i)));
	static const char *const counts[11] = {"GP appointments",
	                                       "Nurse appointments",
	                                       "Healthcare assistant appointments",
	                                       "Pharmacist appointments",
	                                       "Other clinical appointments",
	                                       "Clinical staff employed",
	                                       "Clinical staff available (%)",
	                                       "Clinical staff absent",
	                                       "Vacancies",
	                                       "NHS 111 bookings received",
	                                       "Home visit and care home requests"};
	for (int i = 0; i < 11; i++)
		add_count(v, counts[i], st, 11 + i);
	add_text(v, "Estates or IT incident", st, 22);
	add_text(v, "What happened", st, 23);
	add_text(v, "Main source of pressure", st, 24);
	add_text(v, "Action plan", st, 25);
	add_row(v, "Support requested", "%s%s%s%s", db_col_int(st, 26) ? "Mutual aid. " : "",
	        db_col_int(st, 27) ? "Call redirection. " : "",
	        db_col_int(st, 28) ? "A review of NHS 111 bookings. " : "",
	        !db_col_int(st, 26) && !db_col_int(st, 27) && !db_col_int(st, 28) ? "None" : "");
	add_text(v, "Other support requested", st, 29);
	add_text(v, "Anything else", st, 30);
	add_row(v, "May be named to partners", "%s", db_col_int(st, 31) ? "Yes" : "No");
	db_reset(st);
	rc = pressure_find_practice(c, ods, &p);
	if (rc <= 0 || pressure_standing(c, viewer->person_id, p.id, &s))
		goto fail;
	if (!policy_may_view_return(viewer, s.member)) {
		res->status = 403;
		res->reason =
		    "A practice's pressure returns are seen only by its own staff and the "
		    "collective's executive.";
		goto done;
	}
	if (!s.member) {
		char subject[48];
		snprintf(subject, sizeof subject, "pressure-return:%lld", (long long)id);
		if (pressure_audit(c, req, "pressure-return-viewed", subject, p.ods))
			goto fail;
	}
	db_release(c);
	c = NULL;
	v->ods = p.ods;
	v->practice = p.name;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_return(&main, v);
	page_render(req, res, "Pressure return", main.data);
	buf_free(&main);
	goto done;
fail:
	log_error("request %s: cannot show a return: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

/* ------------------------------------------------------------ who may report */

/* Opens the practice and checks that the viewer leads it. Sets res->status and
 * returns -1 when not. */
static int open_practice(struct http_request *req, struct http_response *res, struct db_conn *c,
                         struct pressure_practice *p)
{
	struct pressure_standing s;
	int rc = pressure_find_practice(c, req->params[0], p);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		return -1;
	}
	if (pressure_standing(c, access_viewer(req)->person_id, p->id, &s)) {
		res->status = 500;
		return -1;
	}
	if (!policy_may_authorise_reporters(access_viewer(req), s.lead)) {
		res->status = 403;
		res->reason = "Only the practice's leads choose who sends its pressure returns.";
		return -1;
	}
	return 0;
}

void pressure_reporters_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_reporters_view *v = xcalloc(1, sizeof *v);
	struct pressure_practice p;
	if (open_practice(req, res, c, &p))
		goto done;
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT u.id, u.name, u.email, m.lead, m.may_report FROM memberships m JOIN people u "
	    "ON u.id = m.person_id WHERE m.organisation_id = $1 AND u.deactivated_at IS NULL "
	    "ORDER BY u.name LIMIT 60");
	if (!st)
		goto fail;
	db_bind_int(st, 1, p.id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && v->n < PRESSURE_MAX_ROWS) {
		struct pressure_reporter_row *r = &v->rows[v->n++];
		r->id = db_col_int(st, 0);
		snprintf(r->name, sizeof r->name, "%s", db_col_text(st, 1));
		snprintf(r->email, sizeof r->email, "%s", db_col_text(st, 2));
		r->lead = db_col_int(st, 3) != 0;
		r->may_report = db_col_int(st, 4) != 0;
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	db_release(c);
	c = NULL;
	const char *done = http_query(req, "done");
	if (done && !strcmp(done, "1"))
		v->notice = "The change has been saved";
	v->ods = p.ods;
	v->practice = p.name;
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_reporters(&main, v);
	page_render(req, res, "Who can send pressure returns", main.data);
	buf_free(&main);
	goto done;
fail:
	log_error("request %s: cannot list reporters: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

void pressure_reporters_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	int64_t person = http_parse_id(form_get(f, "person"));
	const char *allow = form_get(f, "may_report");
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_practice p;
	if (open_practice(req, res, c, &p))
		goto done;
	if (person <= 0 || !allow || (strcmp(allow, "yes") && strcmp(allow, "no"))) {
		res->status = 400;
		goto done;
	}
	if (db_begin(c))
		goto fail;
	struct db_stmt *st =
	    db_prepare(c, "UPDATE memberships SET may_report = $3 WHERE person_id = "
	                  "$1 AND organisation_id = $2 RETURNING person_id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, person);
	db_bind_int(st, 2, p.id);
	db_bind_int(st, 3, !strcmp(allow, "yes"));
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_DONE) {
		res->status = 404;
		res->reason = "That person is not a member of this practice.";
		goto done;
	}
	char subject[48], detail[64];
	snprintf(subject, sizeof subject, "person:%lld", (long long)person);
	snprintf(detail, sizeof detail, "%s: %s", p.ods,
	         !strcmp(allow, "yes") ? "may report" : "may not report");
	if (rc != DB_ROW || pressure_audit(c, req, "pressure-reporter-changed", subject, detail) ||
	    db_commit(c))
		goto fail;
	char to[96];
	snprintf(to, sizeof to, "/pressure/practices/%s/reporters?done=1", p.ods);
	http_redirect(res, to);
	goto done;
fail:
	log_error("request %s: cannot change a reporter: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
}
