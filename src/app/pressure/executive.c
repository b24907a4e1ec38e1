/*
 * executive.c — the executive's side of pressure reporting: escalations and
 * the responses practices then see, periods and surges, the weekly deadline
 * settings, and who has not returned (see pressure.h).
 *
 * Everything here shows practice-identifiable returns, so each page asks
 * policy_may_manage_pressure and writes its view to the audit trail.
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
                   struct buf *main)
{
	page_render(req, res, title, main->data);
	buf_free(main);
}

/* ------------------------------------------------------------ escalations */

void pressure_escalations_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_pressure(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_escalations_view *v = xcalloc(1, sizeof *v);
	if (pressure_load_escalations(c, 0, 0, false, v->rows, PRESSURE_MAX_ROWS, &v->n) ||
	    pressure_audit(c, req, "pressure-return-viewed", "pressure-escalations", "list")) {
		log_error("request %s: cannot list escalations: %s", req->id, db_errmsg(c));
		res->status = 500;
	} else {
		db_release(c);
		c = NULL;
		struct buf main;
		buf_init(&main, LIMIT_PAGE_BYTES);
		tpl_pressure_escalations(&main, v);
		render(req, res, "Escalations", &main);
	}
	db_release(c);
	pressure_free_escalations(v->rows, v->n);
	free(v);
}

/* Loads escalation req->params[0] and its return into v: 1, 0 not found, < 0 error. */
static int load_escalation(struct db_conn *c, struct http_request *req,
                           struct pressure_escalation_view *v)
{
	int64_t id = http_parse_id(req->params[0]);
	size_t n = 0;
	if (id <= 0)
		return 0;
	if (pressure_load_escalations(c, 0, id, false, &v->e, 1, &n))
		return DB_ERR;
	if (!n)
		return 0;
	struct db_stmt *st =
	    db_prepare(c, "SELECT r.id, r.level FROM pressure_escalations e JOIN "
	                  "pressure_returns r ON r.id = e.return_id WHERE e.id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		v->return_id = db_col_int(st, 0);
		v->level = (int)db_col_int(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static void show_escalation(struct http_request *req, struct http_response *res,
                            struct pressure_escalation_view *v)
{
	struct buf main;
	v->csrf = access_csrf(req, res);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_escalation(&main, v);
	render(req, res,
	       v->errors.n ? "Error: Respond to an escalation" : "Respond to an escalation", &main);
}

void pressure_escalation_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_pressure(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_escalation_view *v = xcalloc(1, sizeof *v);
	int rc = load_escalation(c, req, v);
	char subject[48];
	snprintf(subject, sizeof subject, "pressure-escalation:%lld", (long long)v->e.id);
	if (rc > 0 && pressure_audit(c, req, "pressure-return-viewed", subject, v->e.ods))
		rc = DB_ERR;
	db_release(c);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
	} else {
		v->contact = v->e.contact_made_by;
		v->support = v->e.support_offered;
		show_escalation(req, res, v);
	}
	pressure_free_escalations(&v->e, v->e.id ? 1 : 0);
	free(v);
}

void pressure_escalation_respond(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	if (!policy_may_manage_pressure(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_escalation_view *v = xcalloc(1, sizeof *v);
	int rc = load_escalation(c, req, v);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	const char *contact = form_get(f, "contact"), *support = form_get(f, "support");
	v->contact = contact ? contact : "";
	v->support = support ? support : "";
	if (!*v->contact)
		form_error_add(&v->errors, "contact", "Enter who made contact with the practice");
	else if (strlen(v->contact) > LIMIT_NAME_BYTES)
		form_error_add(&v->errors, "contact",
		               "Who made contact must be 200 characters or fewer");
	if (!*v->support)
		form_error_add(&v->errors, "support",
		               "Enter the support offered, or say that none was needed");
	else if (strlen(v->support) > LIMIT_TEXT_BYTES)
		form_error_add(&v->errors, "support",
		               "The support offered must be 4,000 characters or fewer");
	if (v->errors.n) {
		res->status = 400;
		db_release(c);
		c = NULL;
		show_escalation(req, res, v);
		goto done;
	}
	struct db_stmt *st;
	char subject[48];
	snprintf(subject, sizeof subject, "pressure-escalation:%lld", (long long)v->e.id);
	if (db_begin(c))
		goto fail;
	st = db_prepare(c, "UPDATE pressure_escalations SET responded_at = $2, responded_by = $3, "
	                   "contact_made_by = $4, support_offered = $5 WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, v->e.id);
	db_bind_int(st, 2, (int64_t)time(NULL));
	db_bind_int(st, 3, viewer->person_id);
	db_bind_text(st, 4, v->contact);
	db_bind_text(st, 5, v->support);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE ||
	    pressure_audit(c, req, "pressure-escalation-responded", subject, v->e.ods) ||
	    db_commit(c))
		goto fail;
	http_redirect(res, "/pressure/escalations?responded=1");
	goto done;
fail:
	log_error("request %s: cannot record a response: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	pressure_free_escalations(&v->e, v->e.id ? 1 : 0);
	free(v);
}

/* ------------------------------------------------------------ periods and surges */

static const char *const weekdays[8] = {"",         "Monday", "Tuesday",  "Wednesday",
                                        "Thursday", "Friday", "Saturday", "Sunday"};

static int load_periods_view(struct db_conn *c, struct pressure_periods_view *v, int64_t now)
{
	int minutes;
	if (pressure_settings(c, &v->reference_weekday, &v->deadline_weekday, &minutes))
		return DB_ERR;
	v->weekdays = weekdays;
	snprintf(v->deadline_time, sizeof v->deadline_time, "%02d:%02d", (minutes / 60) % 24,
	         minutes % 60);
	struct pressure_window w;
	pressure_week(now, v->reference_weekday, v->deadline_weekday, minutes, &w);
	struct pressure_period wp = {.opens_at = w.opens_at};
	snprintf(wp.kind, sizeof wp.kind, "weekly");
	memcpy(wp.reference_day, w.reference_day, sizeof wp.reference_day);
	pressure_period_label(&wp, v->weekly, sizeof v->weekly);
	time_format_time_on_date(w.deadline_at, v->deadline);
	/* Every practice, with its own current period (weekly, or daily in a surge). */
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT ods_code FROM organisations WHERE kind = 'practice' ORDER BY name LIMIT 2000");
	if (!st)
		return DB_ERR;
	char(*codes)[16] = xcalloc(PRESSURE_MAX_PRACTICES, sizeof *codes);
	size_t n = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && n < PRESSURE_MAX_PRACTICES)
		snprintf(codes[n++], sizeof codes[0], "%s", db_col_text(st, 0));
	db_reset(st);
	v->rows = xcalloc(PRESSURE_MAX_PRACTICES, sizeof *v->rows);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		struct pressure_practice p;
		struct pressure_period period;
		if (pressure_find_practice(c, codes[i], &p) <= 0 ||
		    pressure_current_period(c, &p, now, &period)) {
			rc = DB_ERR;
			break;
		}
		struct pressure_status_row *r = &v->rows[v->n_rows++];
		snprintf(r->ods, sizeof r->ods, "%s", p.ods);
		snprintf(r->name, sizeof r->name, "%s", p.name);
		pressure_period_label(&period, r->period, sizeof r->period);
		st = db_prepare(c,
		                "SELECT level, calculated_level, late FROM pressure_returns WHERE "
		                "organisation_id = $1 AND period_id = $2");
		if (!st) {
			rc = DB_ERR;
			break;
		}
		db_bind_int(st, 1, p.id);
		db_bind_int(st, 2, period.id);
		rc = db_step(st);
		if (rc == DB_ROW) {
			r->returned = true;
			r->level = (int)db_col_int(st, 0);
			r->calculated = (int)db_col_int(st, 1);
			r->late = db_col_int(st, 2) != 0;
			r->flagged = pressure_gap_flagged(r->level, r->calculated);
		}
		db_reset(st);
		if (r->returned)
			v->returned++;
		else
			v->missing++;
	}
	free(codes);
	if (rc < 0)
		return rc;
	/* Missing first, so the executive sees who to chase. */
	struct pressure_status_row *sorted = xcalloc(v->n_rows ? v->n_rows : 1, sizeof *sorted);
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < v->n_rows; i++)
			if (v->rows[i].returned == (pass == 1))
				sorted[k++] = v->rows[i];
	memcpy(v->rows, sorted, v->n_rows * sizeof *sorted);
	free(sorted);
	st = db_prepare(
	    c, "SELECT s.id, s.all_localities, s.starts_on, s.ends_on, s.reason, s.ended_at FROM "
	       "pressure_surges s ORDER BY s.id DESC LIMIT 20");
	if (!st)
		return DB_ERR;
	while ((rc = db_step(st)) == DB_ROW && v->n_surges < 20) {
		struct pressure_surge_row *s = &v->surges[v->n_surges++];
		int y, m, d;
		s->id = db_col_int(st, 0);
		snprintf(s->localities, sizeof s->localities, "%s",
		         db_col_int(st, 1) ? "All localities" : "");
		if (!pressure_parse_date(db_col_text(st, 2), &y, &m, &d))
			time_format_date(time_london_day_start(y, m, d) + 43200, s->starts);
		if (!pressure_parse_date(db_col_text(st, 3), &y, &m, &d))
			time_format_date(time_london_day_start(y, m, d) + 43200, s->ends);
		snprintf(s->reason, sizeof s->reason, "%s", db_col_text(st, 4));
		s->ended = !db_col_is_null(st, 5);
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < v->n_surges; i++) {
		struct pressure_surge_row *s = &v->surges[i];
		if (s->localities[0])
			continue;
		st = db_prepare(
		    c, "SELECT o.name FROM pressure_surge_localities x JOIN organisations o "
		       "ON o.id = x.locality_id WHERE x.surge_id = $1 ORDER BY o.name");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, s->id);
		while ((rc = db_step(st)) == DB_ROW) {
			size_t len = strlen(s->localities);
			snprintf(s->localities + len, sizeof s->localities - len, "%s%s",
			         len ? ", " : "", db_col_text(st, 0));
		}
		db_reset(st);
		if (rc < 0)
			return rc;
	}
	st = db_prepare(c,
	                "SELECT id, name FROM organisations WHERE kind = 'locality' ORDER BY name "
	                "LIMIT 40");
	if (!st)
		return DB_ERR;
	while ((rc = db_step(st)) == DB_ROW && v->n_localities < 40) {
		struct pressure_locality_option *l = &v->localities[v->n_localities++];
		l->id = db_col_int(st, 0);
		snprintf(l->name, sizeof l->name, "%s", db_col_text(st, 1));
		for (size_t j = 0; j < v->n_chosen; j++)
			l->checked |= l->id == v->chosen[j];
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

static void show_periods(struct http_request *req, struct http_response *res,
                         struct pressure_periods_view *v)
{
	struct buf main;
	v->csrf = access_csrf(req, res);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_periods(&main, v);
	render(req, res, v->errors.n ? "Error: Periods and surges" : "Periods and surges", &main);
}

/* Loads and shows the periods page; errors and values already in v are kept. */
static void periods(struct http_request *req, struct http_response *res,
                    struct pressure_periods_view *v)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (load_periods_view(c, v, (int64_t)time(NULL)) ||
	    pressure_audit(c, req, "pressure-return-viewed", "pressure-periods",
	                   "who has returned")) {
		log_error("request %s: cannot show periods: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	show_periods(req, res, v);
}

void pressure_periods_page(struct http_request *req, struct http_response *res)
{
	if (!policy_may_manage_pressure(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct pressure_periods_view *v = xcalloc(1, sizeof *v);
	const char *notice = http_query(req, "done");
	if (notice && !strcmp(notice, "surge"))
		v->notice =
		    "The surge has been declared. Practices in it now send a return every day";
	else if (notice && !strcmp(notice, "ended"))
		v->notice = "The surge has ended. Practices are back to weekly returns";
	else if (notice && !strcmp(notice, "settings"))
		v->notice = "The weekly reference day and deadline have been saved";
	v->starts_on = v->ends_on = v->reason = "";
	periods(req, res, v);
	free(v->rows);
	free(v);
}

void pressure_surge_declare(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	if (!policy_may_manage_pressure(viewer)) {
		res->status = 403;
		return;
	}
	struct pressure_periods_view *v = xcalloc(1, sizeof *v);
	const char *starts = form_get(f, "starts_on"), *ends = form_get(f, "ends_on"),
	           *reason = form_get(f, "reason");
	v->starts_on = starts ? starts : "";
	v->ends_on = ends ? ends : "";
	v->reason = reason ? reason : "";
	v->all_localities = form_get(f, "all") && !strcmp(form_get(f, "all"), "yes");
	int y1, m1, d1, y2, m2, d2;
	int64_t *ids = v->chosen;
	size_t n_ids = 0;
	for (int i = 0; i < f->n && n_ids < 40; i++)
		if (!strcmp(f->names[i], "locality") && http_parse_id(f->values[i]) > 0)
			ids[n_ids++] = http_parse_id(f->values[i]);
	v->n_chosen = n_ids;
	if (!v->all_localities && !n_ids)
		form_error_add(&v->errors, "all",
		               "Select the localities in the surge, or all localities");
	bool start_ok = pressure_parse_date(v->starts_on, &y1, &m1, &d1) == 0;
	if (!start_ok)
		form_error_add(&v->errors, "starts_on",
		               "Enter the first day of the surge as a date, like 2026-12-01");
	if (pressure_parse_date(v->ends_on, &y2, &m2, &d2))
		form_error_add(&v->errors, "ends_on",
		               "Enter the last day of the surge as a date, like 2026-12-14");
	else if (start_ok && strcmp(v->ends_on, v->starts_on) < 0)
		form_error_add(
		    &v->errors, "ends_on",
		    "The last day of the surge must be the same as or after the first day");
	if (strlen(v->reason) > LIMIT_TEXT_BYTES)
		form_error_add(&v->errors, "reason",
		               "The reason must be 4,000 characters or fewer");
	if (v->errors.n) {
		res->status = 400;
		periods(req, res, v);
		free(v->rows);
		free(v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		free(v);
		return;
	}
	int64_t now = (int64_t)time(NULL), id = 0;
	struct db_stmt *st;
	if (db_begin(c))
		goto fail;
	st = db_prepare(c,
	                "INSERT INTO pressure_surges (all_localities, starts_on, ends_on, reason, "
	                "declared_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, v->all_localities);
	db_bind_text(st, 2, v->starts_on);
	db_bind_text(st, 3, v->ends_on);
	db_bind_text(st, 4, v->reason);
	db_bind_int(st, 5, viewer->person_id);
	db_bind_int(st, 6, now);
	int rc = db_step(st);
	if (rc == DB_ROW)
		id = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		goto fail;
	for (size_t i = 0; !v->all_localities && i < n_ids; i++) {
		st = db_prepare(c, "INSERT INTO pressure_surge_localities (surge_id, locality_id) "
		                   "SELECT $1, id FROM organisations WHERE id = $2 AND kind = "
		                   "'locality' ON CONFLICT DO NOTHING");
		if (!st)
			goto fail;
		db_bind_int(st, 1, id);
		db_bind_int(st, 2, ids[i]);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			goto fail;
	}
	char subject[48], detail[64];
	snprintf(subject, sizeof subject, "pressure-surge:%lld", (long long)id);
	snprintf(detail, sizeof detail, "%s to %s", v->starts_on, v->ends_on);
	if (pressure_audit(c, req, "pressure-surge-declared", subject, detail) || db_commit(c))
		goto fail;
	db_release(c);
	free(v);
	http_redirect(res, "/pressure/periods?done=surge");
	return;
fail:
	log_error("request %s: cannot declare a surge: %s", req->id, db_errmsg(c));
	db_release(c);
	free(v);
	res->status = 500;
}

void pressure_surge_end(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_manage_pressure(viewer)) {
		res->status = 403;
		return;
	}
	int64_t id = http_parse_id(req->params[0]);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int64_t now = (int64_t)time(NULL);
	char subject[48];
	snprintf(subject, sizeof subject, "pressure-surge:%lld", (long long)id);
	if (db_begin(c))
		goto fail;
	struct db_stmt *st =
	    db_prepare(c, "UPDATE pressure_surges SET ended_at = $2, ended_by = $3 "
	                  "WHERE id = $1 AND ended_at IS NULL RETURNING id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, now);
	db_bind_int(st, 3, viewer->person_id);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_DONE) {
		db_rollback(c);
		db_release(c);
		res->status = 404;
		res->reason =
		    "There is no surge running with that number. It may have ended already.";
		return;
	}
	/* Today's daily periods of this surge close now, so the practices in it go
	 * back to this week's return at once. */
	st = db_prepare(c, "UPDATE pressure_periods SET closes_at = $2 WHERE surge_id = $1 AND "
	                   "closes_at > $2");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, now);
	int rc2 = db_step(st);
	db_reset(st);
	if (rc != DB_ROW || rc2 != DB_DONE ||
	    pressure_audit(c, req, "pressure-surge-ended", subject, "") || db_commit(c))
		goto fail;
	db_release(c);
	http_redirect(res, "/pressure/periods?done=ended");
	return;
fail:
	log_error("request %s: cannot end a surge: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

static int put_setting(struct db_conn *c, const char *key, const char *value)
{
	struct db_stmt *st =
	    db_prepare(c, "INSERT INTO settings (key, value) VALUES ($1, $2) "
	                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : DB_ERR;
}

void pressure_settings_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	if (!policy_may_manage_pressure(access_viewer(req))) {
		res->status = 403;
		return;
	}
	const char *ref = form_get(f, "reference_weekday"), *due = form_get(f, "deadline_weekday"),
	           *at = form_get(f, "deadline_time");
	struct pressure_periods_view *v = xcalloc(1, sizeof *v);
	v->starts_on = v->ends_on = v->reason = "";
	bool ref_ok = ref && ref[0] >= '1' && ref[0] <= '7' && !ref[1];
	bool due_ok = due && due[0] >= '1' && due[0] <= '7' && !due[1];
	if (!ref_ok)
		form_error_add(&v->errors, "reference_weekday", "Select the reference day");
	if (!due_ok)
		form_error_add(&v->errors, "deadline_weekday", "Select the day of the deadline");
	if (pressure_parse_time(at) < 0)
		form_error_add(&v->errors, "deadline_time",
		               "Enter the deadline time on the 24-hour clock, like 17:30");
	if (v->errors.n) {
		res->status = 400;
		periods(req, res, v);
		free(v->rows);
		free(v);
		return;
	}
	free(v);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char detail[64];
	snprintf(detail, sizeof detail, "reference %s, deadline %s at %s", ref, due, at);
	if (db_begin(c) || put_setting(c, "pressure_reference_weekday", ref) ||
	    put_setting(c, "pressure_deadline_weekday", due) ||
	    put_setting(c, "pressure_deadline_time", at) ||
	    pressure_audit(c, req, "pressure-settings-changed", "settings", detail) ||
	    db_commit(c)) {
		log_error("request %s: cannot save pressure settings: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	http_redirect(res, "/pressure/periods?done=settings");
}
