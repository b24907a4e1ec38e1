/*
 * join.c — requests to join a practice, and the allowed-domains setting (see join.h).
 *
 * Emails to leads carry the requester's name and address but never the free
 * text they typed: that stays on the requests page, where it is escaped, so a
 * request cannot put a link of its choosing into an email sent by Shoal.
 */
#include "app/enrolment/join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/enrolment/enrolment.h"
#include "app/people/people.h"
#include "auth/policy.h"
#include "auth/throttle.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "mail/mail.h"
#include "templates.h"

/* ------------------------------------------------------------ asking */

struct practice_choices {
	struct invite_option *items;
	size_t n;
};

static void practices_free(struct practice_choices *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free((char *)p->items[i].value);
		free((char *)p->items[i].label);
	}
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

static int practices_load(struct db_conn *c, int64_t selected, struct practice_choices *p)
{
	p->items = xcalloc(ENROLMENT_MAX_ORGANISATIONS, sizeof *p->items);
	p->n = 0;
	struct db_stmt *st = db_prepare(c, "SELECT id, name, ods_code FROM organisations WHERE "
	                                   "kind = 'practice' ORDER BY name, id LIMIT $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, ENROLMENT_MAX_ORGANISATIONS);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct invite_option *item = &p->items[p->n++];
		char label[LIMIT_NAME_BYTES + 64];
		snprintf(label, sizeof label, "%s (%s)", db_col_text(st, 1), db_col_text(st, 2));
		item->value = xstrdup(db_col_text(st, 0));
		item->label = xstrdup(label);
		item->selected = db_col_int(st, 0) == selected;
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

/* The page shown while no domains are allowed. */
static void join_closed(struct http_request *req, struct http_response *res)
{
	struct enrolment_message m = {
	    .heading = "You need an invitation to join",
	    .paragraphs = {"This collective only lets people in by invitation.",
	                   "Ask your practice lead or the collective's administrator to invite "
	                   "you."},
	    .n_paragraphs = 2,
	};
	enrolment_render_message(req, res, 404, &m);
}

static void render_form(struct http_request *req, struct http_response *res,
                        struct join_form_view *v, const char *domains, int64_t practice)
{
	const struct app *app = req->app;
	char phrase[ENROLMENT_DOMAINS_BYTES + 4 * ENROLMENT_MAX_DOMAINS];
	struct practice_choices practices = {0};
	struct db_conn *c = db_acquire(app->db);
	int rc = c ? practices_load(c, practice, &practices) : DB_ERR_CONN;
	db_release(c);
	if (rc) {
		practices_free(&practices);
		res->status = c ? 500 : 503;
		return;
	}
	enrolment_domains_phrase(domains, phrase, sizeof phrase);
	v->csrf = access_csrf(req, res);
	v->domains = phrase;
	v->practices = practices.items;
	v->n_practices = practices.n;
	for (size_t i = 0; i < practices.n; i++)
		v->practice_chosen |= practices.items[i].selected;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_join_form(&main, v);
	page_render(req, res, v->errors.n ? "Error: Ask to join" : "Ask to join", main.data);
	buf_free(&main);
	practices_free(&practices);
}

void join_form_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	char domains[ENROLMENT_DOMAINS_BYTES + 1];
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int rc = enrolment_allowed_domains(c, domains);
	db_release(c);
	if (rc) {
		res->status = 500;
		return;
	}
	if (!domains[0]) {
		join_closed(req, res);
		return;
	}
	struct join_form_view v = {.name = "", .email = "", .message = ""};
	render_form(req, res, &v, domains, 0);
}

/* The same for every outcome, so that it says nothing about accounts. */
static void join_received(struct http_request *req, struct http_response *res)
{
	struct enrolment_message m = {
	    .heading = "We have received your request",
	    .paragraphs = {"If the practice lead approves it, we will email you an invitation "
	                   "with a link to create your account. The link works for 14 days.",
	                   "If you already have an account, we have emailed you instead: sign in, "
	                   "or reset your password if you have forgotten it."},
	    .n_paragraphs = 2,
	    .link_href = "/sign-in",
	    .link_text = "Go to sign in",
	    .success = 1,
	};
	enrolment_render_message(req, res, 200, &m);
}

struct recipient {
	char email[LIMIT_EMAIL_BYTES + 1];
	char name[LIMIT_NAME_BYTES + 1];
};

/* Who hears of a request: the practice's active leads, else the administrators. */
static int recipients_load(struct db_conn *c, int64_t practice, struct recipient *out, size_t *n)
{
	static const char *const sql[] = {
	    "SELECT p.email, p.name FROM memberships m JOIN people p ON p.id = m.person_id "
	    "WHERE m.organisation_id = $1 AND m.lead = 1 AND p.deactivated_at IS NULL "
	    "ORDER BY p.id LIMIT $2",
	    "SELECT email, name FROM people WHERE role = 'administrator' AND deactivated_at IS "
	    "NULL "
	    "ORDER BY id LIMIT $1",
	};
	*n = 0;
	for (size_t q = 0; q < 2 && *n == 0; q++) {
		struct db_stmt *st = db_prepare(c, sql[q]);
		if (!st)
			return DB_ERR;
		if (q == 0) {
			db_bind_int(st, 1, practice);
			db_bind_int(st, 2, ENROLMENT_LEADS_NOTIFIED);
		} else {
			db_bind_int(st, 1, ENROLMENT_LEADS_NOTIFIED);
		}
		int rc;
		while ((rc = db_step(st)) == DB_ROW) {
			snprintf(out[*n].email, sizeof out[*n].email, "%s", db_col_text(st, 0));
			snprintf(out[*n].name, sizeof out[*n].name, "%s", db_col_text(st, 1));
			(*n)++;
		}
		db_reset(st);
		if (rc != DB_DONE)
			return rc;
	}
	return 0;
}

/* Records a new request and tells the practice's leads. */
static int request_create(struct db_conn *c, struct http_request *req, const char *email,
                          const char *name, int64_t practice, const char *practice_name,
                          const char *message)
{
	const struct app *app = req->app;
	int64_t now = (int64_t)time(NULL), id = 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT 1 FROM join_requests WHERE email = $1 AND organisation_id = $2 AND "
	       "status = 'pending'");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	db_bind_int(st, 2, practice);
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW) /* already waiting: one is enough */
		return 0;
	if (rc != DB_DONE)
		return rc;
	st = db_prepare(c, "INSERT INTO join_requests (email, name, organisation_id, message, "
	                   "created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	db_bind_text(st, 2, name);
	db_bind_int(st, 3, practice);
	db_bind_text(st, 4, message);
	db_bind_int(st, 5, now);
	rc = db_step(st);
	if (rc == DB_ROW)
		id = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	struct recipient *to = xcalloc(ENROLMENT_LEADS_NOTIFIED, sizeof *to);
	size_t n = 0;
	char link[ENROLMENT_LINK_BYTES], subject[2 * LIMIT_NAME_BYTES + 64];
	struct buf text;
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	rc = recipients_load(c, practice, to, &n);
	if (rc == 0 && enrolment_link(req, "/join/requests", NULL, link))
		rc = DB_ERR;
	snprintf(subject, sizeof subject, "Request to join %s on Shoal", practice_name);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		buf_clear(&text);
		/* The name the requester typed is left out: anyone can ask to join, and an
		 * email from Shoal must not carry their words (a phishing link, say). It
		 * is shown, escaped, on the requests page. */
		buf_printf(&text,
		           "Dear %s,\n\nSomeone using the address %s has asked to join %s on "
		           "%s's Shoal.\n\n"
		           "If they work at %s, approve the request and we will email them an "
		           "invitation. If not, refuse it.\n\nSee the request: %s\n",
		           to[i].name, email, practice_name, app->collective_name, practice_name,
		           link);
		if (text.overflow || mail_queue(c, to[i].email, subject, text.data, NULL))
			rc = DB_ERR;
	}
	buf_free(&text);
	free(to);
	if (rc)
		return rc;
	char detail[LIMIT_NAME_BYTES + 16];
	snprintf(detail, sizeof detail, "to %s", practice_name);
	return enrolment_audit(c, req, 0, email, "join-requested", "join-request", id, detail);
}

/* Tells the owner of an existing account that they need not ask. */
static int tell_account_holder(struct db_conn *c, struct http_request *req, const char *email,
                               const char *name, const char *practice_name)
{
	const struct app *app = req->app;
	char sign_in[ENROLMENT_LINK_BYTES], reset[ENROLMENT_LINK_BYTES];
	char subject[LIMIT_NAME_BYTES + 64];
	if (enrolment_link(req, "/sign-in", NULL, sign_in) ||
	    enrolment_link(req, "/password-reset", NULL, reset))
		return DB_ERR;
	snprintf(subject, sizeof subject, "Your request to join %s", app->collective_name);
	struct buf text;
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	buf_printf(&text,
	           "Dear %s,\n\nSomeone, we hope you, asked to join %s on %s's Shoal with this "
	           "email address. You already have an account, so there is nothing to "
	           "approve.\n\nSign in at %s\nIf you have forgotten your password, reset it at "
	           "%s\n\nIf you should also belong to %s, ask its practice lead or the "
	           "collective's administrator.\n\nIf this was not you, you can ignore this "
	           "email.\n",
	           name, practice_name, app->collective_name, sign_in, reset, practice_name);
	int rc = text.overflow || mail_queue(c, email, subject, text.data, NULL) ? DB_ERR : 0;
	buf_free(&text);
	if (rc == 0)
		rc = enrolment_audit(c, req, 0, email, "join-requested", NULL, 0,
		                     "already has an account: told by email");
	return rc;
}

/* Whether s has control characters other than tab and new lines. */
static bool has_controls(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !strchr("\t\r\n", *s)) || *s == 0x7f)
			return true;
	return false;
}

void join_submit(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	const char *name = form_get(f, "name"), *raw_email = form_get(f, "email");
	const char *message = form_get(f, "message");
	int64_t practice = http_parse_id(form_get(f, "practice"));
	struct join_form_view v = {.name = name ? name : "",
	                           .email = raw_email ? raw_email : "",
	                           .message = message ? message : ""};
	char domains[ENROLMENT_DOMAINS_BYTES + 1], email[LIMIT_EMAIL_BYTES + 1];
	char practice_name[LIMIT_NAME_BYTES + 1] = "";
	char phrase[ENROLMENT_DOMAINS_BYTES + 4 * ENROLMENT_MAX_DOMAINS];
	char trimmed[LIMIT_NAME_BYTES + 1], email_key[LIMIT_EMAIL_BYTES + 16], address_key[96];
	char problem[sizeof phrase + 64];
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (enrolment_allowed_domains(c, domains))
		goto fail;
	if (!domains[0]) {
		db_release(c);
		join_closed(req, res);
		return;
	}
	v.name_error = enrolment_name_problem(name, "Enter your full name");
	if (!raw_email || !*raw_email) {
		v.email_error = "Enter your work email address";
	} else if (people_normalise_email(raw_email, email) || !mail_address_valid(email)) {
		v.email_error = "Enter an email address in the correct format, like name@nhs.net";
	} else if (!enrolment_domain_allowed(domains, email)) {
		enrolment_domains_phrase(domains, phrase, sizeof phrase);
		snprintf(problem, sizeof problem,
		         "Enter your work email address: it must end in %s", phrase);
		v.email_error = problem;
	}
	if (!practice) {
		v.practice_error = "Select your practice";
	} else {
		struct db_stmt *st = db_prepare(
		    c, "SELECT name FROM organisations WHERE id = $1 AND kind = 'practice'");
		if (!st)
			goto fail;
		db_bind_int(st, 1, practice);
		int rc = db_step(st);
		if (rc == DB_ROW)
			snprintf(practice_name, sizeof practice_name, "%s", db_col_text(st, 0));
		db_reset(st);
		if (rc < 0)
			goto fail;
		if (rc != DB_ROW)
			v.practice_error = "Select your practice from the list";
	}
	if (message && strlen(message) > ENROLMENT_MESSAGE_BYTES)
		v.message_error = "What you do at the practice must be 1,000 characters or fewer";
	else if (message && has_controls(message))
		v.message_error = "What you do at the practice must be plain text";
	if (v.name_error)
		form_error_add(&v.errors, "name", v.name_error);
	if (v.email_error)
		form_error_add(&v.errors, "email", v.email_error);
	if (v.practice_error)
		form_error_add(&v.errors, "practice", v.practice_error);
	if (v.message_error)
		form_error_add(&v.errors, "message", v.message_error);
	if (v.errors.n) {
		db_release(c);
		res->status = 400;
		render_form(req, res, &v, domains, practice);
		return;
	}
	snprintf(email_key, sizeof email_key, "join:%s", email);
	snprintf(address_key, sizeof address_key, "join-address:%s", req->address);
	int locked = throttle_locked_either(c, email_key, address_key);
	if (locked < 0)
		goto fail;
	if (locked) {
		db_release(c);
		res->status = 429;
		v.email_error = "There have been too many requests to join with this email address "
		                "or from this network. Wait 15 minutes, then try again";
		form_error_add(&v.errors, "email", v.email_error);
		render_form(req, res, &v, domains, practice);
		return;
	}
	enrolment_trim(name, trimmed, sizeof trimmed);
	if (db_begin(c) || throttle_fail(c, email_key, ENROLMENT_JOIN_PER_EMAIL) ||
	    throttle_fail(c, address_key, ENROLMENT_JOIN_PER_ADDRESS))
		goto fail;
	struct db_stmt *st =
	    db_prepare(c, "SELECT name, deactivated_at IS NOT NULL FROM people WHERE email = $1");
	if (!st)
		goto fail;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	char account_name[LIMIT_NAME_BYTES + 1] = "";
	bool deactivated = false;
	if (rc == DB_ROW) {
		snprintf(account_name, sizeof account_name, "%s", db_col_text(st, 0));
		deactivated = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (rc == DB_ROW)
		/* A deactivated person is told nothing: an administrator reactivates. */
		rc = deactivated ? enrolment_audit(c, req, 0, email, "join-requested", NULL, 0,
		                                   "account deactivated: nothing sent")
		                 : tell_account_holder(c, req, email, account_name, practice_name);
	else
		rc = request_create(c, req, email, trimmed, practice, practice_name,
		                    message ? message : "");
	if (rc || db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	join_received(req, res);
	return;
fail:
	log_error("request %s: cannot record a request to join: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

/* ------------------------------------------------------------ answering */

static void rows_free(struct join_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].name);
		free(rows[i].email);
		free(rows[i].practice);
		free(rows[i].message);
	}
	free(rows);
}

static const struct {
	const char *key, *text;
} notices[] = {
    {"approved", "Request approved. We have emailed them an invitation to create their "
                 "account."},
    {"refused", "Request refused. We have emailed them to say so."},
    {"account", "Request approved. They already have an account, so no invitation was needed. "
                "An administrator can add them to your practice."},
    {"pending", "Request approved. They already had an invitation waiting, so no new one was "
                "sent."},
    {"already", "That request had already been answered, so nothing changed."},
};

void join_requests_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct join_requests_view v = {.csrf = access_csrf(req, res),
	                               .all = policy_may_decide_join(viewer, false)};
	const char *done = http_query(req, "done");
	for (size_t i = 0; done && i < sizeof notices / sizeof notices[0]; i++)
		if (!strcmp(done, notices[i].key))
			v.notice = notices[i].text;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct join_row *rows = xcalloc(ENROLMENT_LIST_ROWS, sizeof *rows);
	size_t n = 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT j.id, j.name, j.email, o.name, j.message, j.created_at FROM join_requests j "
	       "JOIN organisations o ON o.id = j.organisation_id WHERE j.status = 'pending' AND "
	       "($1 = 1 OR j.organisation_id IN (SELECT organisation_id FROM memberships WHERE "
	       "person_id = $2 AND lead = 1)) ORDER BY j.created_at, j.id LIMIT $3");
	int rc = st ? DB_DONE : DB_ERR;
	if (st) {
		db_bind_int(st, 1, v.all);
		db_bind_int(st, 2, viewer->person_id);
		db_bind_int(st, 3, ENROLMENT_LIST_ROWS + 1);
		while ((rc = db_step(st)) == DB_ROW) {
			if (n == ENROLMENT_LIST_ROWS) {
				v.truncated = 1;
				continue;
			}
			struct join_row *r = &rows[n++];
			r->id = db_col_int(st, 0);
			r->name = xstrdup(db_col_text(st, 1));
			r->email = xstrdup(db_col_text(st, 2));
			r->practice = xstrdup(db_col_text(st, 3));
			r->message = xstrdup(db_col_text(st, 4));
			time_format_date(db_col_int(st, 5), r->requested);
		}
		db_reset(st);
	}
	if (rc != DB_DONE)
		log_error("request %s: cannot list requests to join: %s", req->id, db_errmsg(c));
	db_release(c);
	if (rc != DB_DONE) {
		rows_free(rows, n);
		res->status = 500;
		return;
	}
	v.rows = rows;
	v.n_rows = n;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_join_requests(&main, &v);
	page_render(req, res, "Requests to join", main.data);
	buf_free(&main);
	rows_free(rows, n);
}

/* Tells a requester their request was refused. */
static int tell_refused(struct db_conn *c, struct http_request *req, const char *email,
                        const char *name, const char *practice_name)
{
	const struct app *app = req->app;
	char subject[LIMIT_NAME_BYTES + 64];
	snprintf(subject, sizeof subject, "Your request to join %s", app->collective_name);
	struct buf text;
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	/* No "Dear <name>": the name was typed by whoever made the request, and this
	 * goes to the address they gave, which need not be theirs. */
	(void)name;
	buf_printf(&text,
	           "Hello,\n\nA request to join %s on %s's Shoal with this email address was "
	           "not approved.\n\n"
	           "If you think this is a mistake, speak to your practice manager.\n",
	           practice_name, app->collective_name);
	int rc = text.overflow || mail_queue(c, email, subject, text.data, NULL) ? DB_ERR : 0;
	buf_free(&text);
	return rc;
}

static void decide(struct http_request *req, struct http_response *res, bool approve)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
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
	char email[LIMIT_EMAIL_BYTES + 1] = "", name[LIMIT_NAME_BYTES + 1] = "";
	char practice_name[LIMIT_NAME_BYTES + 1] = "";
	const char *done = approve ? "approved" : "refused";
	int64_t practice = 0, invitation = 0;
	struct db_stmt *st =
	    db_prepare(c, "SELECT j.organisation_id, j.email, j.name, o.name FROM join_requests j "
	                  "JOIN organisations o ON o.id = j.organisation_id WHERE j.id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		practice = db_col_int(st, 0);
		snprintf(email, sizeof email, "%s", db_col_text(st, 1));
		snprintf(name, sizeof name, "%s", db_col_text(st, 2));
		snprintf(practice_name, sizeof practice_name, "%s", db_col_text(st, 3));
	}
	db_reset(st);
	if (rc == DB_DONE) {
		db_release(c);
		res->status = 404;
		return;
	}
	int lead = rc == DB_ROW ? enrolment_leads(c, viewer->person_id, practice) : -1;
	if (lead < 0)
		goto fail;
	if (!policy_may_decide_join(viewer, lead)) {
		db_release(c);
		res->status = 403;
		res->reason = "You can only answer requests to join the practices you lead.";
		return;
	}
	if (db_begin(c))
		goto fail;
	st = db_prepare(c, "UPDATE join_requests SET status = $1, decided_by = $2, decided_at = $3 "
	                   "WHERE id = $4 AND status = 'pending' RETURNING id");
	if (!st)
		goto fail;
	db_bind_text(st, 1, approve ? "approved" : "refused");
	db_bind_int(st, 2, viewer->person_id);
	db_bind_int(st, 3, (int64_t)time(NULL));
	db_bind_int(st, 4, id);
	rc = db_step(st);
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (rc == DB_DONE) { /* someone else answered it first */
		db_rollback(c);
		db_release(c);
		http_redirect(res, "/join/requests?done=already");
		return;
	}
	if (approve) {
		/* The same invitation anyone would send, so accepting proves the address. */
		struct invitation_new inv = {email, name, "member", practice};
		rc = invitations_create(c, req, &inv, &invitation);
		if (rc == INVITATION_ACCOUNT_EXISTS)
			done = "account";
		else if (rc == INVITATION_PENDING)
			done = "pending";
		else if (rc != INVITATION_OK)
			goto fail;
	} else if (tell_refused(c, req, email, name, practice_name)) {
		goto fail;
	}
	char detail[LIMIT_EMAIL_BYTES + LIMIT_NAME_BYTES + 64];
	snprintf(detail, sizeof detail, "%s to %s%s", email, practice_name,
	         invitation ? ", invitation sent" : "");
	if (enrolment_audit(c, req, viewer->person_id, viewer->email,
	                    approve ? "join-approved" : "join-refused", "join-request", id,
	                    detail) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	char location[64];
	snprintf(location, sizeof location, "/join/requests?done=%s", done);
	http_redirect(res, location);
	return;
fail:
	log_error("request %s: cannot answer a request to join: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

void join_approve(struct http_request *req, struct http_response *res)
{
	decide(req, res, true);
}

void join_refuse(struct http_request *req, struct http_response *res)
{
	decide(req, res, false);
}

/* ------------------------------------------------------------ the setting */

static void render_settings(struct http_request *req, struct http_response *res,
                            struct join_settings_view *v)
{
	char link[ENROLMENT_LINK_BYTES];
	if (enrolment_link(req, "/join", NULL, link) == 0)
		v->join_link = link;
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_join_settings(&main, v);
	page_render(req, res, v->errors.n ? "Error: Settings" : "Settings", main.data);
	buf_free(&main);
}

void join_settings_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_change_settings(access_viewer(req))) {
		res->status = 403;
		return;
	}
	char domains[ENROLMENT_DOMAINS_BYTES + 1];
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int rc = enrolment_allowed_domains(c, domains);
	db_release(c);
	if (rc) {
		res->status = 500;
		return;
	}
	/* One per line reads better in the box than the stored commas. */
	for (char *p = domains; *p; p++)
		if (*p == ',')
			*p = '\n';
	struct join_settings_view v = {.domains = domains};
	if (http_query(req, "saved"))
		v.notice = "Settings saved.";
	render_settings(req, res, &v);
}

void join_settings_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_change_settings(viewer)) {
		res->status = 403;
		return;
	}
	const char *typed = form_get(access_form(req), "allowed-domains");
	char domains[ENROLMENT_DOMAINS_BYTES + 1], old[ENROLMENT_DOMAINS_BYTES + 1];
	char problem[160];
	struct join_settings_view v = {.domains = typed ? typed : ""};
	if (typed && strlen(typed) > 2 * ENROLMENT_DOMAINS_BYTES)
		v.domains_error = "The list is too long: enter 50 domains or fewer";
	else if (enrolment_parse_domains(typed, domains, problem, sizeof problem))
		v.domains_error = problem;
	if (v.domains_error) {
		form_error_add(&v.errors, "allowed-domains", v.domains_error);
		res->status = 400;
		render_settings(req, res, &v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct buf detail;
	buf_init(&detail, 2 * ENROLMENT_DOMAINS_BYTES + 64);
	if (db_begin(c) || enrolment_allowed_domains(c, old))
		goto fail;
	struct db_stmt *st =
	    domains[0] ? db_prepare(c, "INSERT INTO settings (key, value) VALUES "
	                               "('allowed_domains', $1) ON CONFLICT (key) DO UPDATE SET "
	                               "value = excluded.value")
	               : db_prepare(c, "DELETE FROM settings WHERE key = 'allowed_domains'");
	if (!st)
		goto fail;
	if (domains[0])
		db_bind_text(st, 1, domains);
	int rc = db_step(st);
	db_reset(st);
	buf_printf(&detail, "allowed_domains: \"%s\" to \"%s\"", old, domains);
	if (rc != DB_DONE ||
	    enrolment_audit(c, req, viewer->person_id, viewer->email, "settings-changed", NULL, 0,
	                    detail.data) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	buf_free(&detail);
	http_redirect(res, "/admin/settings?saved=1");
	return;
fail:
	log_error("request %s: cannot save settings: %s", req->id, db_errmsg(c));
	db_release(c);
	buf_free(&detail);
	res->status = 500;
}
