/*
 * briefing_pages.c — the teleconference briefing's pages (see briefing.h): the
 * briefing itself (printable), its PDF, the executive's themes, asks and
 * actions, the distribution list, and sending.
 *
 * Who sees which version is decided by policy: the executive version only for
 * those who may see practices' returns (policy_may_see_briefing_detail);
 * everyone else, and everything emailed, gets the partners' version. Views of
 * the executive version and of returns' comments are audited as views of
 * returns; every change and every send is audited too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/pressure/briefing.h"
#include "auth/policy.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/static.h"
#include "mail/mail.h"
#include "templates.h"

static const char *const titles[BRIEFING_KINDS] = {"Themes from practices",
                                                   "What general practice asks of the system",
                                                   "Actions from the last call"};
static const char *const nones[BRIEFING_KINDS] = {"No themes recorded for this period.",
                                                  "No asks recorded for this period.",
                                                  "No actions recorded for this period."};
static const char *const labels[BRIEFING_KINDS] = {"Theme", "Ask", "Action"};
static const char *const hints[BRIEFING_KINDS] = {
    "In your own words, so that no practice can be recognised. 1,000 characters at most",
    "What general practice needs from the rest of the system this week. 1,000 characters at "
    "most",
    "An action agreed at the last call, who owns it and where it stands. 1,000 characters at "
    "most"};
static const char *const empty_messages[BRIEFING_KINDS] = {
    "Enter the theme", "Enter what general practice asks of the system", "Enter the action"};
static const char *const long_messages[BRIEFING_KINDS] = {
    "The theme must be 1,000 characters or fewer", "The ask must be 1,000 characters or fewer",
    "The action must be 1,000 characters or fewer"};

/* A period id from a query or form value: 0 when absent, -1 when not an id. */
static int64_t period_param(const char *s)
{
	if (!s || !*s)
		return 0;
	int64_t id = http_parse_id(s);
	return id ? id : -1;
}

static int load_comments(struct db_conn *c, struct briefing_view *v)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT id, comments, support_other FROM pressure_returns WHERE period_id = $1 AND "
	       "(comments <> '' OR support_other <> '') ORDER BY id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, v->b->period_id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		for (int col = 1; col <= 2; col++) {
			const char *text = db_col_text(st, col);
			if (!text || !*text || v->n_comments >= BRIEFING_MAX_COMMENTS)
				continue;
			struct briefing_comment *cm = &v->comments[v->n_comments++];
			cm->return_id = db_col_int(st, 0);
			snprintf(cm->text, sizeof cm->text, "%s%s",
			         col == 2 ? "Support asked for: " : "", text);
		}
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : DB_ERR;
}

static int load_periods(struct db_conn *c, struct briefing_view *v)
{
	int64_t ids[12];
	size_t n;
	if (pressure_summary_recent_weeks(c, (int64_t)time(NULL), ids, 12, &n))
		return DB_ERR;
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		struct pressure_period p;
		if (pressure_load_period(c, ids[i], &p) <= 0)
			return DB_ERR;
		struct briefing_period_option *o = &v->periods[v->n_periods++];
		o->id = p.id;
		pressure_period_label(&p, o->label, sizeof o->label);
		o->selected = p.id == v->b->period_id;
		found |= o->selected;
	}
	if (!found && v->n_periods < sizeof v->periods / sizeof v->periods[0]) {
		struct briefing_period_option *o = &v->periods[v->n_periods++];
		o->id = v->b->period_id;
		snprintf(o->label, sizeof o->label, "%s", v->b->period);
		o->selected = true;
	}
	return 0;
}

static int load_sending(struct db_conn *c, struct briefing_view *v)
{
	struct db_stmt *st = db_prepare(c, "SELECT count(*) FROM briefing_recipients");
	if (!st)
		return DB_ERR;
	int rc = db_step(st);
	if (rc == DB_ROW)
		v->n_recipients = (size_t)db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return DB_ERR;
	st = db_prepare(c, "SELECT sent_at, recipients FROM briefing_sends WHERE period_id = $1 "
	                   "ORDER BY id DESC LIMIT 1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, v->b->period_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		time_format_date_time(db_col_int(st, 0), v->last_sent);
		v->last_sent_to = db_col_int(st, 1);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : DB_ERR;
}

/*
 * Loads and renders the briefing of period_id into res: the executive version
 * for those who may see it unless they asked for the partners'. v may carry
 * errors and typed text from a form. Returns with res->status set.
 */
static void show(struct http_request *req, struct http_response *res, struct db_conn *c,
                 int64_t period_id, bool partners, struct briefing_view *v, int64_t from)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	bool may_edit = policy_may_edit_briefing(viewer);
	bool executive = policy_may_see_briefing_detail(viewer) && !partners;
	struct briefing *b = xcalloc(1, sizeof *b);
	v->comments = NULL;
	int rc = briefing_load(c, period_id, executive, app->collective_name, b);
	if (rc <= 0) {
		if (rc < 0)
			log_error("request %s: cannot load the briefing: %s", req->id,
			          db_errmsg(c));
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	v->b = b;
	v->may_edit = may_edit;
	v->partners_only = partners && policy_may_see_briefing_detail(viewer);
	v->version_query = v->partners_only ? "&version=partners" : "";
	v->csrf = access_csrf(req, res);
	v->css_url = static_url("briefing.css");
	v->js_url = static_url("live.js");
	for (int k = 0; k < BRIEFING_KINDS; k++) {
		struct briefing_section *s = &v->sections[k];
		s->kind = briefing_kind_name(k);
		s->title = titles[k];
		s->none = nones[k];
		s->add_label = labels[k];
		s->add_hint = hints[k];
		s->items = b->items[k];
		s->n = b->n_items[k];
		snprintf(s->new_field, sizeof s->new_field, "new-%s", s->kind);
	}
	if (load_periods(c, v))
		goto fail;
	if (may_edit) {
		v->comments = xcalloc(BRIEFING_MAX_COMMENTS, sizeof *v->comments);
		if (load_comments(c, v) || load_sending(c, v))
			goto fail;
		for (size_t i = 0;
		     from && i < v->n_comments && !v->sections[BRIEFING_THEME].new_body; i++)
			if (v->comments[i].return_id == from)
				v->sections[BRIEFING_THEME].new_body = v->comments[i].text;
	}
	if (executive || may_edit) {
		char subject[48];
		snprintf(subject, sizeof subject, "pressure-briefing:%lld",
		         (long long)b->period_id);
		if (pressure_audit(c, req, "pressure-return-viewed", subject,
		                   executive ? "briefing, executive version"
		                             : "briefing, returns' comments"))
			goto fail;
	}
	db_release(c);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_briefing(&main, v);
	char title[128];
	snprintf(title, sizeof title, "%sWinter pressures briefing, %s",
	         v->errors.n ? "Error: " : "", b->period);
	page_render(req, res, title, main.data);
	buf_free(&main);
	goto done_released;
fail:
	log_error("request %s: cannot show the briefing: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
done_released:
	free(v->comments);
	v->comments = NULL;
	free(b);
}

void briefing_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_see_briefing(access_viewer(req))) {
		res->status = 403;
		return;
	}
	int64_t period = period_param(http_query(req, "period"));
	int64_t from = http_parse_id(http_query(req, "from"));
	if (period < 0) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct briefing_view *v = xcalloc(1, sizeof *v);
	const char *partners = http_query(req, "version");
	if (http_query(req, "changed"))
		v->notice = "The briefing has been changed.";
	else if (http_query(req, "sent"))
		v->notice = "The briefing has been emailed to the distribution list.";
	show(req, res, c, period, partners && !strcmp(partners, "partners"), v, from);
	free(v);
}

void briefing_pdf_download(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_see_briefing(viewer)) {
		res->status = 403;
		return;
	}
	int64_t period = period_param(http_query(req, "period"));
	if (period < 0) {
		res->status = 404;
		return;
	}
	const char *version = http_query(req, "version");
	bool executive =
	    policy_may_see_briefing_detail(viewer) && !(version && !strcmp(version, "partners"));
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct briefing *b = xcalloc(1, sizeof *b);
	int rc = briefing_load(c, period, executive, app->collective_name, b);
	if (rc > 0 && executive) {
		char subject[48];
		snprintf(subject, sizeof subject, "pressure-briefing:%lld",
		         (long long)b->period_id);
		if (pressure_audit(c, req, "pressure-return-viewed", subject,
		                   "briefing PDF, executive version"))
			rc = DB_ERR;
	}
	if (rc <= 0) {
		if (rc < 0)
			log_error("request %s: cannot load the briefing: %s", req->id,
			          db_errmsg(c));
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	db_release(c);
	c = NULL;
	struct buf pdf;
	if (briefing_pdf(b, &pdf)) {
		log_error("request %s: cannot draw the briefing PDF", req->id);
		res->status = 500;
		goto done;
	}
	buf_free(&res->body);
	res->body = pdf;
	res->content_type = "application/pdf";
	char disposition[96];
	snprintf(disposition, sizeof disposition, "attachment; filename=\"briefing-%lld%s.pdf\"",
	         (long long)b->period_id, executive ? "-executive" : "");
	if (http_response_header_copy(res, "Content-Disposition", disposition))
		http_response_header(res, "Content-Disposition", "attachment");
	http_response_header(res, "Cache-Control", "no-store");
done:
	db_release(c);
	free(b);
}

/* ------------------------------------------------------------ themes, asks, actions */

/* Checks an item's words; adds the error to v under field. */
static void check_body(struct briefing_view *v, enum briefing_kind k, const char *body,
                       const char *field)
{
	if (!*body)
		form_error_add(&v->errors, field, empty_messages[k]);
	else if (strlen(body) > BRIEFING_ITEM_BYTES)
		form_error_add(&v->errors, field, long_messages[k]);
}

static int audit_change(struct db_conn *c, struct http_request *req, int64_t period,
                        const char *what)
{
	char subject[48];
	snprintf(subject, sizeof subject, "pressure-briefing:%lld", (long long)period);
	return pressure_audit(c, req, "pressure-briefing-changed", subject, what);
}

static void redirect_changed(struct http_response *res, int64_t period, const char *kind)
{
	char to[96];
	snprintf(to, sizeof to, "/pressure/briefing?period=%lld&changed=1#%ss", (long long)period,
	         kind);
	http_redirect(res, to);
}

void briefing_item_add(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	if (!policy_may_edit_briefing(viewer)) {
		res->status = 403;
		return;
	}
	int64_t period = period_param(form_get(f, "period"));
	int k = briefing_kind_from_name(form_get(f, "kind"));
	const char *body = form_get(f, "body");
	if (period <= 0 || k < 0) {
		res->status = 400;
		res->reason = "The form was not complete. Go back to the briefing and try again.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct briefing_view *v = xcalloc(1, sizeof *v);
	char field[24];
	snprintf(field, sizeof field, "new-%s", briefing_kind_name(k));
	v->sections[k].new_body = body ? body : "";
	check_body(v, k, v->sections[k].new_body, field);
	struct pressure_period p;
	int found = pressure_load_period(c, period, &p);
	if (found <= 0) {
		res->status = found < 0 ? 500 : 404;
		goto done;
	}
	struct db_stmt *st;
	if (!v->errors.n) {
		st = db_prepare(c, "SELECT count(*) FROM briefing_items WHERE period_id = $1 AND "
		                   "kind = $2");
		if (!st)
			goto fail;
		db_bind_int(st, 1, period);
		db_bind_text(st, 2, briefing_kind_name(k));
		int rc = db_step(st);
		int64_t n = rc == DB_ROW ? db_col_int(st, 0) : -1;
		db_reset(st);
		if (n < 0)
			goto fail;
		if (n >= BRIEFING_MAX_ITEMS)
			form_error_add(&v->errors, field,
			               k == BRIEFING_THEME ? "A briefing has at most 20 themes"
			               : k == BRIEFING_ASK ? "A briefing has at most 20 asks"
			                                   : "A briefing has at most 20 actions");
	}
	if (v->errors.n) {
		res->status = 400;
		show(req, res, c, period, false, v, 0);
		c = NULL;
		res->status = res->status == 200 ? 400 : res->status;
		goto done;
	}
	if (db_begin(c))
		goto fail;
	st = db_prepare(c, "INSERT INTO briefing_items (period_id, kind, body, updated_by, "
	                   "updated_at) VALUES ($1, $2, $3, $4, $5)");
	if (!st)
		goto fail;
	db_bind_int(st, 1, period);
	db_bind_text(st, 2, briefing_kind_name(k));
	db_bind_text(st, 3, body);
	db_bind_int(st, 4, viewer->person_id);
	db_bind_int(st, 5, (int64_t)time(NULL));
	int rc = db_step(st);
	db_reset(st);
	char what[32];
	snprintf(what, sizeof what, "%s added", briefing_kind_name(k));
	if (rc != DB_DONE || audit_change(c, req, period, what) || db_commit(c))
		goto fail;
	redirect_changed(res, period, briefing_kind_name(k));
	goto done;
fail:
	log_error("request %s: cannot add to the briefing: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

/* The period and kind of item id: 1, 0 no such item, < 0 error. */
static int load_item(struct db_conn *c, int64_t id, int64_t *period, int *kind)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT period_id, kind FROM briefing_items WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*period = db_col_int(st, 0);
		*kind = briefing_kind_from_name(db_col_text(st, 1));
	}
	db_reset(st);
	return rc == DB_ROW ? (*kind >= 0 ? 1 : DB_ERR) : rc == DB_DONE ? 0 : rc;
}

static void item_change(struct http_request *req, struct http_response *res, bool remove)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	if (!policy_may_edit_briefing(viewer)) {
		res->status = 403;
		return;
	}
	int64_t id = http_parse_id(req->params[0]), period = 0;
	int kind = 0;
	if (!id) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct briefing_view *v = xcalloc(1, sizeof *v);
	int found = load_item(c, id, &period, &kind);
	if (found <= 0) {
		res->status = found < 0 ? 500 : 404;
		goto done;
	}
	const char *body = form_get(f, "body");
	if (!remove) {
		snprintf(v->edit_field, sizeof v->edit_field, "item-%lld", (long long)id);
		v->edit_id = id;
		v->edit_body = body ? body : "";
		check_body(v, kind, v->edit_body, v->edit_field);
		if (v->errors.n) {
			show(req, res, c, period, false, v, 0);
			c = NULL;
			res->status = res->status == 200 ? 400 : res->status;
			goto done;
		}
	}
	if (db_begin(c))
		goto fail;
	struct db_stmt *st =
	    remove ? db_prepare(c, "DELETE FROM briefing_items WHERE id = $1")
	           : db_prepare(c, "UPDATE briefing_items SET body = $2, updated_by = $3, "
	                           "updated_at = $4 WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	if (!remove) {
		db_bind_text(st, 2, body);
		db_bind_int(st, 3, viewer->person_id);
		db_bind_int(st, 4, (int64_t)time(NULL));
	}
	int rc = db_step(st);
	db_reset(st);
	char what[32];
	snprintf(what, sizeof what, "%s %s", briefing_kind_name(kind),
	         remove ? "removed" : "changed");
	if (rc != DB_DONE || audit_change(c, req, period, what) || db_commit(c))
		goto fail;
	redirect_changed(res, period, briefing_kind_name(kind));
	goto done;
fail:
	log_error("request %s: cannot change the briefing: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

void briefing_item_save(struct http_request *req, struct http_response *res)
{
	item_change(req, res, false);
}

void briefing_item_delete(struct http_request *req, struct http_response *res)
{
	item_change(req, res, true);
}

/* ------------------------------------------------------------ distribution list */

static int load_recipients(struct db_conn *c, struct briefing_recipient *rows, size_t max,
                           size_t *n)
{
	*n = 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT id, email, name FROM briefing_recipients ORDER BY lower(name), id");
	if (!st)
		return DB_ERR;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n >= max)
			continue;
		struct briefing_recipient *r = &rows[(*n)++];
		r->id = db_col_int(st, 0);
		snprintf(r->email, sizeof r->email, "%s", db_col_text(st, 1));
		snprintf(r->name, sizeof r->name, "%s", db_col_text(st, 2));
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : DB_ERR;
}

static void show_recipients(struct http_request *req, struct http_response *res, struct db_conn *c,
                            struct briefing_recipients_view *v)
{
	if (load_recipients(c, v->rows, BRIEFING_MAX_RECIPIENTS, &v->n)) {
		log_error("request %s: cannot load the distribution list: %s", req->id,
		          db_errmsg(c));
		res->status = 500;
		return;
	}
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_briefing_recipients(&main, v);
	page_render(req, res,
	            v->errors.n ? "Error: Briefing distribution list"
	                        : "Briefing distribution list",
	            main.data);
	buf_free(&main);
}

void briefing_recipients_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_edit_briefing(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct briefing_recipients_view *v = xcalloc(1, sizeof *v);
	if (http_query(req, "added"))
		v->notice = "The address has been added.";
	else if (http_query(req, "removed"))
		v->notice = "The address has been removed.";
	show_recipients(req, res, c, v);
	db_release(c);
	free(v);
}

void briefing_recipient_add(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	if (!policy_may_edit_briefing(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct briefing_recipients_view *v = xcalloc(1, sizeof *v);
	const char *name = form_get(f, "name"), *email = form_get(f, "email");
	v->name = name ? name : "";
	v->email = email ? email : "";
	if (!*v->name)
		form_error_add(&v->errors, "name", "Enter the name and organisation");
	else if (strlen(v->name) > LIMIT_NAME_BYTES)
		form_error_add(&v->errors, "name",
		               "The name and organisation must be 200 characters or fewer");
	if (!*v->email)
		form_error_add(&v->errors, "email", "Enter an email address");
	else if (strlen(v->email) > LIMIT_EMAIL_BYTES || !mail_address_valid(v->email))
		form_error_add(
		    &v->errors, "email",
		    "Enter an email address in the correct format, like name@example.org");
	struct db_stmt *st;
	int rc;
	if (!v->errors.n) {
		st = db_prepare(
		    c, "SELECT (SELECT count(*) FROM briefing_recipients), (SELECT "
		       "count(*) FROM briefing_recipients WHERE lower(email) = lower($1))");
		if (!st)
			goto fail;
		db_bind_text(st, 1, v->email);
		rc = db_step(st);
		int64_t all = rc == DB_ROW ? db_col_int(st, 0) : -1, same = db_col_int(st, 1);
		db_reset(st);
		if (all < 0)
			goto fail;
		if (same)
			form_error_add(&v->errors, "email", "This address is already on the list");
		else if (all >= BRIEFING_MAX_RECIPIENTS)
			form_error_add(
			    &v->errors, "email",
			    "The list has 100 addresses, the most it can hold. Remove one "
			    "first");
	}
	if (v->errors.n) {
		res->status = 400;
		show_recipients(req, res, c, v);
		if (res->status == 200)
			res->status = 400;
		goto done;
	}
	if (db_begin(c))
		goto fail;
	st = db_prepare(c, "INSERT INTO briefing_recipients (email, name, added_by, added_at) "
	                   "VALUES ($1, $2, $3, $4)");
	if (!st)
		goto fail;
	db_bind_text(st, 1, v->email);
	db_bind_text(st, 2, v->name);
	db_bind_int(st, 3, viewer->person_id);
	db_bind_int(st, 4, (int64_t)time(NULL));
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE ||
	    pressure_audit(c, req, "pressure-briefing-list-changed", v->email, "added") ||
	    db_commit(c))
		goto fail;
	http_redirect(res, "/pressure/briefing/recipients?added=1");
	goto done;
fail:
	log_error("request %s: cannot add to the distribution list: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

void briefing_recipient_remove(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_edit_briefing(access_viewer(req))) {
		res->status = 403;
		return;
	}
	int64_t id = http_parse_id(req->params[0]);
	if (!id) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char email[LIMIT_EMAIL_BYTES + 1] = "";
	if (db_begin(c))
		goto fail;
	struct db_stmt *st =
	    db_prepare(c, "DELETE FROM briefing_recipients WHERE id = $1 RETURNING email");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(email, sizeof email, "%s", db_col_text(st, 0));
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	if (!*email) {
		res->status = 404;
		goto done;
	}
	if (pressure_audit(c, req, "pressure-briefing-list-changed", email, "removed") ||
	    db_commit(c))
		goto fail;
	http_redirect(res, "/pressure/briefing/recipients?removed=1");
	goto done;
fail:
	log_error("request %s: cannot remove from the distribution list: %s", req->id,
	          db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
}

/* ------------------------------------------------------------ sending */

void briefing_send(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	if (!policy_may_edit_briefing(viewer)) {
		res->status = 403;
		return;
	}
	int64_t period = period_param(form_get(f, "period"));
	if (period <= 0) {
		res->status = 400;
		res->reason = "The form was not complete. Go back to the briefing and try again.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	/* What is emailed is always the partners' version: the list may hold anyone. */
	struct briefing *b = xcalloc(1, sizeof *b);
	struct briefing_recipient *rows = xcalloc(BRIEFING_MAX_RECIPIENTS, sizeof *rows);
	struct buf pdf = {0}, text;
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	size_t n = 0;
	int rc = briefing_load(c, period, false, app->collective_name, b);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	if (load_recipients(c, rows, BRIEFING_MAX_RECIPIENTS, &n))
		goto fail;
	if (!n) {
		struct briefing_view *v = xcalloc(1, sizeof *v);
		form_error_add(&v->errors, "send",
		               "Add at least one address to the distribution list before sending");
		show(req, res, c, period, false, v, 0);
		c = NULL;
		res->status = res->status == 200 ? 400 : res->status;
		free(v);
		goto done;
	}
	/* Drawing takes a while (the first PDF loads pango and the fonts): the connection,
	 * and its read snapshot, go back to the pool meanwhile. */
	db_release(c);
	c = NULL;
	if (briefing_pdf(b, &pdf)) {
		log_error("request %s: cannot draw the briefing PDF", req->id);
		res->status = 500;
		goto done;
	}
	char subject[160], filename[64];
	snprintf(subject, sizeof subject, "Winter pressures briefing: general practice, %s",
	         b->period);
	snprintf(filename, sizeof filename, "briefing-%lld.pdf", (long long)b->period_id);
	buf_printf(
	    &text,
	    "The winter pressures briefing for general practice, %s, is attached as a "
	    "PDF.\n\nReturn rate: %s\nPractices at Amber or above: %s\nRegistered patients "
	    "covered by practices at Amber or above: %s\n\nAggregates only. %s\n\nSent by %s "
	    "for %s.\n",
	    b->period, b->return_rate, b->amber_or_above, b->patients_covered,
	    pressure_suppressed_legend, viewer->name, b->collective);
	c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		goto done;
	}
	if (db_begin(c))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		if (mail_queue_get_id(c, rows[i].email, subject, text.data, NULL, &id) ||
		    mail_attach(c, id, filename, "application/pdf", (const unsigned char *)pdf.data,
		                pdf.len))
			goto fail;
	}
	struct db_stmt *st =
	    db_prepare(c, "INSERT INTO briefing_sends (period_id, sent_by, sent_at, "
	                  "recipients) VALUES ($1, $2, $3, $4)");
	if (!st)
		goto fail;
	db_bind_int(st, 1, period);
	db_bind_int(st, 2, viewer->person_id);
	db_bind_int(st, 3, (int64_t)time(NULL));
	db_bind_int(st, 4, (int64_t)n);
	rc = db_step(st);
	db_reset(st);
	char subject_audit[48], detail[64];
	snprintf(subject_audit, sizeof subject_audit, "pressure-briefing:%lld", (long long)period);
	snprintf(detail, sizeof detail, "emailed to %zu addresses", n);
	if (rc != DB_DONE ||
	    pressure_audit(c, req, "pressure-briefing-sent", subject_audit, detail) || db_commit(c))
		goto fail;
	db_release(c);
	c = NULL;
	mail_wake();
	char to[80];
	snprintf(to, sizeof to, "/pressure/briefing?period=%lld&sent=1", (long long)period);
	http_redirect(res, to);
	goto done;
fail:
	log_error("request %s: cannot send the briefing: %s", req->id, c ? db_errmsg(c) : "");
	res->status = 500;
done:
	db_release(c);
	buf_free(&pdf);
	buf_free(&text);
	free(rows);
	free(b);
}
