/*
 * reset.c — password reset by a single-use emailed link (see reset.h).
 */
#include "app/enrolment/reset.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/people/people.h"
#include "auth/crypto.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "core/log.h"
#include "core/time.h"
#include "mail/mail.h"
#include "templates.h"

static void render_request(struct http_request *req, struct http_response *res,
                           struct reset_request_view *v)
{
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_reset_request(&main, v);
	page_render(req, res, v->errors.n ? "Error: Reset your password" : "Reset your password",
	            main.data);
	buf_free(&main);
}

void reset_request_page(struct http_request *req, struct http_response *res)
{
	struct reset_request_view v = {.email = ""};
	render_request(req, res, &v);
}

/* Queues the email with the link, on c. Returns 0 or < 0. */
static int send_link(struct db_conn *c, struct http_request *req, const char *email,
                     const char *name, const char *token, int64_t expires)
{
	const struct app *app = req->app;
	char link[ENROLMENT_LINK_BYTES], until[48], subject[LIMIT_NAME_BYTES + 64];
	struct buf text;
	if (enrolment_link(req, "/password-reset/", token, link))
		return -1;
	time_format_time_on_date(expires, until);
	snprintf(subject, sizeof subject, "Reset your password for %s", app->collective_name);
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	buf_printf(&text,
	           "Dear %s,\n\nSomeone, we hope you, asked to reset the password of your account "
	           "on %s's Shoal.\n\nTo choose a new password, open this link. It works once, "
	           "until %s:\n\n%s\n\n"
	           "If you did not ask for this, you can ignore this email: your password has not "
	           "changed.\n",
	           name, app->collective_name, until, link);
	int rc = text.overflow ? -1 : mail_queue(c, email, subject, text.data, NULL);
	buf_free(&text);
	return rc;
}

/* The confirmation: the same whether or not the address has an account. */
static void request_sent(struct http_request *req, struct http_response *res)
{
	struct enrolment_message m = {
	    .heading = "Check your email",
	    .paragraphs = {"If an account exists for that address, we have sent it a link to "
	                   "reset the password.",
	                   "The link works once, for 1 hour. If the email does not arrive in a "
	                   "few minutes, check your junk folder, or ask for a new link.",
	                   "If you still cannot sign in, ask your practice lead or the "
	                   "collective's administrator."},
	    .n_paragraphs = 3,
	    .link_href = "/sign-in",
	    .link_text = "Back to sign in",
	};
	enrolment_render_message(req, res, 200, &m);
}

/* Marks every reset link of person_id not yet used as used at now, so that it
 * no longer works. Returns 0 or < 0 (enum db_rc). */
static int links_close(struct db_conn *c, int64_t person_id, int64_t now)
{
	struct db_stmt *st = db_prepare(c, "UPDATE password_resets SET used_at = $1 WHERE "
	                                   "person_id = $2 AND used_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, now);
	db_bind_int(st, 2, person_id);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

void reset_request(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	const char *raw_email = form_get(f, "email");
	struct reset_request_view v = {.email = raw_email ? raw_email : ""};
	char email[LIMIT_EMAIL_BYTES + 1];
	if (!raw_email || !*raw_email)
		v.email_error = "Enter your email address";
	else if (people_normalise_email(raw_email, email) || !mail_address_valid(email))
		v.email_error = "Enter an email address in the correct format, like name@nhs.net";
	if (v.email_error) {
		form_error_add(&v.errors, "email", v.email_error);
		res->status = 400;
		render_request(req, res, &v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char email_key[LIMIT_EMAIL_BYTES + 16], address_key[96];
	char token[AUTH_TOKEN_CHARS + 1], hash[AUTH_HASH_CHARS + 1], name[LIMIT_NAME_BYTES + 1];
	snprintf(email_key, sizeof email_key, "reset:%s", email);
	snprintf(address_key, sizeof address_key, "reset-address:%s", req->address);
	int64_t now = (int64_t)time(NULL), expires = now + ENROLMENT_RESET_SECONDS;
	int64_t person_id = 0;
	/* Counted for every address asked about, so a lock says nothing about accounts. */
	int locked = throttle_locked_either(c, email_key, address_key);
	if (locked < 0)
		goto fail;
	if (locked) {
		db_release(c);
		res->status = 429;
		v.email_error = "There have been too many requests for a reset link. Wait 15 "
		                "minutes, then try again";
		form_error_add(&v.errors, "email", v.email_error);
		render_request(req, res, &v);
		return;
	}
	if (db_begin(c) || throttle_fail(c, email_key, ENROLMENT_RESET_PER_EMAIL) ||
	    throttle_fail(c, address_key, ENROLMENT_RESET_PER_ADDRESS))
		goto fail;
	struct db_stmt *st = db_prepare(
	    c, "SELECT id, name FROM people WHERE email = $1 AND deactivated_at IS NULL");
	if (!st)
		goto fail;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		person_id = db_col_int(st, 0);
		snprintf(name, sizeof name, "%s", db_col_text(st, 1));
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (person_id) {
		/* Only the newest link works. */
		if (links_close(c, person_id, now))
			goto fail;
		auth_random_token(token);
		auth_hash_token(token, hash);
		st =
		    db_prepare(c, "INSERT INTO password_resets (person_id, token_hash, created_at, "
		                  "expires_at) VALUES ($1, $2, $3, $4)");
		if (!st)
			goto fail;
		db_bind_int(st, 1, person_id);
		db_bind_text(st, 2, hash);
		db_bind_int(st, 3, now);
		db_bind_int(st, 4, expires);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE || send_link(c, req, email, name, token, expires))
			goto fail;
	}
	if (enrolment_audit(c, req, person_id, email, "password-reset-requested",
	                    person_id ? "person" : NULL, person_id,
	                    person_id ? "" : "no active account") ||
	    db_commit(c))
		goto fail;
	db_release(c);
	if (person_id)
		mail_wake();
	request_sent(req, res);
	return;
fail:
	log_error("request %s: cannot start a password reset: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

enum reset_state { RESET_UNKNOWN, RESET_OPEN, RESET_GONE };

/* Finds the reset behind a token: its state and the person's email address. */
static int reset_load(struct db_conn *c, const char *token, enum reset_state *state,
                      char email[LIMIT_EMAIL_BYTES + 1])
{
	char hash[AUTH_HASH_CHARS + 1];
	*state = RESET_UNKNOWN;
	email[0] = '\0';
	if (!enrolment_token_plausible(token))
		return 0;
	auth_hash_token(token, hash);
	struct db_stmt *st =
	    db_prepare(c, "SELECT p.email, r.expires_at, r.used_at IS NOT NULL, "
	                  "p.deactivated_at IS NOT NULL FROM password_resets r "
	                  "JOIN people p ON p.id = r.person_id WHERE r.token_hash = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(email, LIMIT_EMAIL_BYTES + 1, "%s", db_col_text(st, 0));
		bool open = db_col_int(st, 1) > (int64_t)time(NULL) && !db_col_int(st, 2) &&
		            !db_col_int(st, 3);
		*state = open ? RESET_OPEN : RESET_GONE;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

static void reset_gone(struct http_request *req, struct http_response *res, enum reset_state s)
{
	struct enrolment_message m = {
	    .heading = s == RESET_UNKNOWN ? "This password reset link does not work"
	                                  : "This password reset link has expired or been used",
	    .paragraphs = {s == RESET_UNKNOWN
	                       ? "Check that you copied the whole link from the email."
	                       : "Each link works once, for 1 hour, and only the newest link "
	                         "you asked for works.",
	                   "You can ask for a new link."},
	    .n_paragraphs = 2,
	    .link_href = "/password-reset",
	    .link_text = "Ask for a new link",
	};
	enrolment_render_message(req, res, s == RESET_UNKNOWN ? 404 : 410, &m);
}

static void render_choose(struct http_request *req, struct http_response *res,
                          struct reset_choose_view *v, const char *email)
{
	v->csrf = access_csrf(req, res);
	v->token = req->params[0];
	v->email = email;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_reset_choose(&main, v);
	page_render(req, res,
	            v->errors.n ? "Error: Choose a new password" : "Choose a new password",
	            main.data);
	buf_free(&main);
}

void reset_choose_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	char email[LIMIT_EMAIL_BYTES + 1];
	enum reset_state state;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int rc = reset_load(c, req->params[0], &state, email);
	db_release(c);
	if (rc < 0) {
		res->status = 500;
		return;
	}
	if (state != RESET_OPEN) {
		reset_gone(req, res, state);
		return;
	}
	struct reset_choose_view v = {0};
	render_choose(req, res, &v, email);
}

/* Queues the notice that the password changed, on c. */
static int send_notice(struct db_conn *c, struct http_request *req, const char *email)
{
	const struct app *app = req->app;
	char link[ENROLMENT_LINK_BYTES], when[48], subject[LIMIT_NAME_BYTES + 64];
	struct buf text;
	if (enrolment_link(req, "/password-reset", NULL, link))
		return -1;
	time_format_time_on_date((int64_t)time(NULL), when);
	snprintf(subject, sizeof subject, "Your password for %s has been changed",
	         app->collective_name);
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	buf_printf(&text,
	           "The password of your account on %s's Shoal was changed at %s, using a reset "
	           "link sent to this address. You have been signed out on every device.\n\n"
	           "If this was you, there is nothing else to do.\n\n"
	           "If it was not you, reset your password now at %s and tell the collective's "
	           "administrator.\n",
	           app->collective_name, when, link);
	int rc = text.overflow ? -1 : mail_queue(c, email, subject, text.data, NULL);
	buf_free(&text);
	return rc;
}

void reset_choose(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	const char *password = form_get(f, "password"), *confirm = form_get(f, "confirm-password");
	char email[LIMIT_EMAIL_BYTES + 1], pw_hash[PASSWORD_HASH_BYTES];
	char token_hash[AUTH_HASH_CHARS + 1], account_key[LIMIT_EMAIL_BYTES + 16];
	enum reset_state state;
	int64_t now = (int64_t)time(NULL), person_id = 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (reset_load(c, req->params[0], &state, email))
		goto fail;
	if (state != RESET_OPEN) {
		db_release(c);
		reset_gone(req, res, state);
		return;
	}
	struct reset_choose_view v = {0};
	if (enrolment_check_password(password, confirm, &v.pw, &v.errors)) {
		db_release(c);
		res->status = 400;
		render_choose(req, res, &v, email);
		return;
	}
	/* Hashing is slow by design: do it before taking the write lock. */
	if (password_hash(password, pw_hash))
		goto fail;
	auth_hash_token(req->params[0], token_hash);
	if (db_begin(c))
		goto fail;
	/* Single use, also under concurrent use: only an open link matches. */
	struct db_stmt *st = db_prepare(
	    c, "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL "
	       "AND expires_at > $1 AND person_id IN (SELECT id FROM people WHERE deactivated_at "
	       "IS NULL) RETURNING person_id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, now);
	db_bind_text(st, 2, token_hash);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		person_id = db_col_int(st, 0);
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	if (!person_id) {
		db_rollback(c);
		db_release(c);
		reset_gone(req, res, RESET_GONE);
		return;
	}
	snprintf(account_key, sizeof account_key, "account:%s", email);
	if (people_set_password(c, person_id, pw_hash) || session_end_all(c, person_id) ||
	    throttle_clear(c, account_key))
		goto fail;
	/* Any other link still open stops working too. */
	if (links_close(c, person_id, now) || send_notice(c, req, email) ||
	    enrolment_audit(c, req, person_id, email, "password-reset", "person", person_id,
	                    "every session ended") ||
	    db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	/* The session this browser may have had has just ended with the others. */
	access_set_session_cookie(res, NULL);
	struct enrolment_message m = {
	    .heading = "Your password has been changed",
	    .paragraphs = {"You have been signed out on every device. Sign in with your new "
	                   "password.",
	                   "We have emailed you to say your password changed."},
	    .n_paragraphs = 2,
	    .link_href = "/sign-in",
	    .link_text = "Sign in",
	    .success = 1,
	};
	enrolment_render_message(req, res, 200, &m);
	return;
fail:
	log_error("request %s: cannot reset a password: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}
