/*
 * account.c — sign-in, sign-out and the account page (see account.h).
 *
 * Sign-in never says whether an account exists: unknown addresses, wrong
 * passwords and deactivated accounts get the same message, take the same time
 * (password_verify checks a dummy hash), and count against the same throttles.
 */
#include "app/account/account.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/enrolment/enrolment.h"
#include "app/people/people.h"
#include "auth/audit.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "core/log.h"
#include "mail/mail.h"
#include "templates.h"

const char *account_safe_next(const char *next)
{
	/* Only a path on this site: "//evil.example" and "/\evil" would leave it, and
	 * browsers drop tabs and newlines, so "/\t/evil.example" would too. */
	if (!next || next[0] != '/' || next[1] == '/' || strlen(next) > LIMIT_URL_BYTES)
		return "/";
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return "/";
	return next;
}

static void render_sign_in(struct http_request *req, struct http_response *res,
                           struct sign_in_view *v)
{
	struct buf main;
	struct app *app = req->app;
	char domains[ENROLMENT_DOMAINS_BYTES + 1];
	struct db_conn *c = db_acquire(app->db);
	v->join = c && enrolment_allowed_domains(c, domains) == 0 && domains[0];
	db_release(c);
	v->csrf = access_csrf(req, res);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_sign_in(&main, v);
	page_render(req, res, v->errors.n ? "Error: Sign in" : "Sign in", main.data);
	buf_free(&main);
}

void account_sign_in_page(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	const char *next = account_safe_next(http_query(req, "next"));
	if (viewer->person_id && !viewer->mfa_pending) {
		http_redirect(res, next);
		return;
	}
	struct sign_in_view v = {.next = next, .email = ""};
	if (http_query(req, "timeout"))
		v.notice = "You were signed out because you had not used Shoal for 30 minutes.";
	else if (http_query(req, "signed-out"))
		v.notice = "You have signed out.";
	render_sign_in(req, res, &v);
}

static void audit(struct db_conn *c, struct http_request *req, int64_t actor_id, const char *actor,
                  const char *action, const char *detail)
{
	char subject[32] = "";
	if (actor_id)
		snprintf(subject, sizeof subject, "person:%lld", (long long)actor_id);
	struct audit_entry e = {actor_id, actor, action, subject, detail, req->address};
	if (audit_record(c, &e))
		log_error("request %s: cannot write the audit trail: %s", req->id, db_errmsg(c));
}

/*
 * A security notice when someone signs in from a browser this person has no
 * session on now: the owner of the account hears of a sign-in they did not make.
 */
static int notify_new_device(struct db_conn *c, const struct app *app, int64_t person_id,
                             const char *email, const char *user_agent, const char *address)
{
	char agent[201];
	snprintf(agent, sizeof agent, "%s", user_agent ? user_agent : "");
	struct db_stmt *st = db_prepare(c, "SELECT count(*) FROM sessions WHERE person_id = $1 AND "
	                                   "user_agent = $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_text(st, 2, agent);
	int rc = db_step(st);
	int64_t known = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	if (known)
		return DB_OK;
	struct buf text;
	buf_init(&text, 4096);
	buf_printf(&text,
	           "Someone signed in to your %s account on Shoal.\n\n"
	           "Browser: %.120s\nAddress: %s\n\n"
	           "If this was you, there is nothing to do.\n\n"
	           "If it was not you, reset your password now at %s/password-reset and sign out "
	           "of all devices from your account page (%s/account).\n",
	           app->collective_name, agent[0] ? agent : "unknown", address,
	           app->config->base_url, app->config->base_url);
	rc = mail_queue(c, email, "New sign-in to your Shoal account", text.data, NULL);
	buf_free(&text);
	return rc < 0 ? DB_ERR : DB_OK;
}

void account_sign_in(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	const char *raw_email = form_get(f, "email"), *password = form_get(f, "password");
	struct sign_in_view v = {.next = account_safe_next(form_get(f, "next")),
	                         .email = raw_email ? raw_email : ""};
	char email[LIMIT_EMAIL_BYTES + 1];
	if (!raw_email || !*raw_email)
		v.email_error = "Enter your email address";
	else if (people_normalise_email(raw_email, email))
		v.email_error = "Enter an email address in the correct format, like name@nhs.net";
	if (!password || !*password)
		v.password_error = "Enter your password";
	if (v.email_error)
		form_error_add(&v.errors, "email", v.email_error);
	if (v.password_error)
		form_error_add(&v.errors, "password", v.password_error);
	if (v.errors.n) {
		res->status = 400;
		render_sign_in(req, res, &v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char account_key[LIMIT_EMAIL_BYTES + 16], address_key[80];
	snprintf(account_key, sizeof account_key, "account:%s", email);
	snprintf(address_key, sizeof address_key, "address:%s", req->address);
	int64_t id = 0, session_id;
	char hash[PASSWORD_HASH_BYTES], token[AUTH_TOKEN_CHARS + 1];
	bool has_totp = false, rehash = false;
	int locked = throttle_locked_either(c, account_key, address_key);
	if (locked < 0)
		goto fail;
	if (locked) {
		res->status = 429;
		v.password_error = "There have been too many attempts to sign in. Wait 15 minutes, "
		                   "or reset your password";
		form_error_add(&v.errors, "password", v.password_error);
		audit(c, req, 0, email, "sign-in-throttled", "");
		db_release(c);
		render_sign_in(req, res, &v);
		return;
	}
	int found = people_find_for_sign_in(c, email, &id, hash, &has_totp);
	if (found < 0)
		goto fail;
	if (!password_verify(password, found ? hash : NULL, &rehash)) {
		if (throttle_fail(c, account_key, LIMIT_SIGNIN_ACCOUNT_FAILURES) ||
		    throttle_fail(c, address_key, LIMIT_SIGNIN_ADDRESS_FAILURES))
			goto fail;
		audit(c, req, found ? id : 0, email, "sign-in-failed", "");
		db_release(c);
		res->status = 401;
		v.password_error = "The email address or password is not right";
		form_error_add(&v.errors, "password", v.password_error);
		render_sign_in(req, res, &v);
		return;
	}
	if (db_begin(c) || throttle_clear(c, account_key))
		goto fail;
	if (rehash && (password_hash(password, hash) || people_set_password(c, id, hash)))
		goto fail;
	if (notify_new_device(c, app, id, email, http_header(req, "User-Agent"), req->address) ||
	    session_create(c, id, has_totp, http_header(req, "User-Agent"), req->address, token,
	                   &session_id))
		goto fail;
	audit(c, req, id, email, has_totp ? "sign-in-password" : "sign-in", "");
	if (db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	access_set_session_cookie(res, token);
	if (has_totp) {
		struct buf to;
		buf_init(&to, 3 * LIMIT_URL_BYTES + 32);
		buf_puts(&to, "/sign-in/mfa?next=");
		http_url_encode(&to, v.next);
		http_redirect(res, to.data);
		buf_free(&to);
	} else {
		http_redirect(res, v.next);
	}
	return;
fail:
	log_error("request %s: sign-in failed: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

void account_sign_out(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (viewer->session_id && session_end(c, viewer->session_id) == DB_OK)
		audit(c, req, viewer->person_id, viewer->email, "sign-out", "");
	db_release(c);
	access_set_session_cookie(res, NULL);
	http_redirect(res, "/sign-in?signed-out=1");
}

void account_sign_out_everywhere(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (session_end_all(c, viewer->person_id) == DB_OK)
		audit(c, req, viewer->person_id, viewer->email, "sign-out-everywhere", "");
	db_release(c);
	access_set_session_cookie(res, NULL);
	http_redirect(res, "/sign-in?signed-out=1");
}

void account_extend(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	int rc = c ? session_touch(c, viewer->session_id) : DB_ERR_CONN;
	db_release(c);
	if (rc) {
		res->status = 503;
		return;
	}
	const char *accept = http_header(req, "Accept");
	if (accept && strstr(accept, "application/json")) {
		res->content_type = "application/json";
		buf_printf(&res->body, "{\"session_seconds\":%d}\n", LIMIT_SESSION_IDLE);
		return;
	}
	http_redirect(res, account_safe_next(form_get(access_form(req), "next")));
}

void account_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct account_view v = {
	    .name = viewer->name,
	    .email = viewer->email,
	    .role = policy_role_name(viewer->role),
	    .mfa = viewer->mfa_enrolled,
	    .csrf = access_csrf(req, res),
	};
	if (policy_may_invite(viewer, "administrator", false))
		v.invite_text =
		    "People join Shoal by invitation. You can invite anyone the collective "
		    "needs.";
	else if (policy_may_invite(viewer, "executive", false))
		v.invite_text =
		    "People join Shoal by invitation. You can invite anyone the collective "
		    "needs, except administrators.";
	else if (policy_may_invite(viewer, "member", true))
		v.invite_text = "You can invite staff of the practices you lead, and answer their "
		                "requests to join.";
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct db_stmt *st = db_prepare(c, "SELECT count(*) FROM sessions WHERE person_id = $1");
	if (st) {
		db_bind_int(st, 1, viewer->person_id);
		if (db_step(st) == DB_ROW)
			v.sessions = db_col_int(st, 0);
		db_reset(st);
	}
	db_release(c);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_account(&main, &v);
	page_render(req, res, "Your account", main.data);
	buf_free(&main);
}
