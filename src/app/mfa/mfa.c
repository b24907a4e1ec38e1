/*
 * mfa.c — two-step sign-in pages and their model (see mfa.h).
 *
 * Each change of a person's second factor (turned on, off, new recovery codes,
 * reset by an administrator) runs in one transaction with its audit entry and
 * its security notice, so that none happens without the other two. Codes are
 * checked against the replay rule with a conditional UPDATE (the new step must
 * be later than the stored one), so two nodes given the same code at the same
 * moment cannot both accept it.
 */
#include "app/mfa/mfa.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/account/account.h"
#include "app/app.h"
#include "auth/audit.h"
#include "auth/crypto.h"
#include "auth/qr.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "core/log.h"
#include "mail/mail.h"
#include "templates.h"

#define RECOVERY_GROUPED_BYTES (MFA_RECOVERY_CODE_CHARS + 4)
#define QR_LABEL               "QR code to add your Shoal account to an authenticator app"
#define QR_PIXELS              200
#define QR_SVG_BYTES           (64u << 10)

/* ------------------------------------------------------------------ model */

/* The stored form of a recovery code: SHA-256 of "person:code", so that equal
 * codes of two people hash differently and a table of hashes helps nobody. */
static void recovery_hash(int64_t person_id, const char *normalised, char out[AUTH_HASH_CHARS + 1])
{
	char salted[32 + MFA_RECOVERY_CODE_CHARS];
	snprintf(salted, sizeof salted, "%lld:%s", (long long)person_id, normalised);
	auth_hash_token(salted, out);
	sodium_memzero(salted, sizeof salted);
}

/* Runs a statement with integer parameters and no result. */
static int exec_ints(struct db_conn *c, const char *sql, int64_t a, int64_t b)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, a);
	if (strstr(sql, "$2"))
		db_bind_int(st, 2, b);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* Replaces a person's recovery codes with a new set, written to codes. */
static int recovery_codes_replace(struct db_conn *c, int64_t person_id,
                                  char codes[MFA_RECOVERY_CODES][RECOVERY_GROUPED_BYTES])
{
	int rc = exec_ints(c, "DELETE FROM recovery_codes WHERE person_id = $1", person_id, 0);
	if (rc)
		return rc;
	for (int i = 0; i < MFA_RECOVERY_CODES; i++) {
		char plain[MFA_RECOVERY_CODE_CHARS + 1], hash[AUTH_HASH_CHARS + 1];
		mfa_recovery_code_new(codes[i]);
		if (mfa_recovery_code_normalise(codes[i], plain))
			return DB_ERR; /* cannot happen: the code was just made */
		recovery_hash(person_id, plain, hash);
		struct db_stmt *st = db_prepare(
		    c, "INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, person_id);
		db_bind_text(st, 2, hash);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	return DB_OK;
}

/* Uses up a recovery code: 1 when it was an unused code of this person, 0 when not. */
static int recovery_code_use(struct db_conn *c, int64_t person_id, const char *normalised)
{
	char hash[AUTH_HASH_CHARS + 1];
	recovery_hash(person_id, normalised, hash);
	/* One statement finds and spends the code, so it works once even when two
	 * requests bring it at the same moment. */
	struct db_stmt *st =
	    db_prepare(c, "UPDATE recovery_codes SET used_at = $3 WHERE person_id = "
	                  "$1 AND code_hash = $2 AND used_at IS NULL RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_text(st, 2, hash);
	db_bind_int(st, 3, (int64_t)time(NULL));
	int rc = db_step(st), found = rc == DB_ROW;
	while (rc == DB_ROW)
		rc = db_step(st);
	db_reset(st);
	return rc < 0 ? rc : found;
}

static int recovery_codes_left(struct db_conn *c, int64_t person_id, long long *left)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT count(*) FROM recovery_codes WHERE person_id = $1 AND used_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*left = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* A person's second factor as stored. */
struct mfa_state {
	int found;
	char secret[TOTP_SECRET_CHARS + 1];  /* "" when not enrolled */
	char pending[TOTP_SECRET_CHARS + 1]; /* "" when no set-up is waiting */
	int64_t pending_at, last_step;
	char email[LIMIT_EMAIL_BYTES + 1];
	char name[LIMIT_NAME_BYTES + 1];
	char role[32];
};

static int state_load(struct db_conn *c, int64_t person_id, struct mfa_state *s)
{
	memset(s, 0, sizeof *s);
	struct db_stmt *st =
	    db_prepare(c, "SELECT totp_secret, totp_pending_secret, totp_pending_at, "
	                  "totp_last_step, email, name, role FROM people WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *secret = db_col_text(st, 0), *pending = db_col_text(st, 1);
		s->found = 1;
		snprintf(s->secret, sizeof s->secret, "%s", secret ? secret : "");
		snprintf(s->pending, sizeof s->pending, "%s", pending ? pending : "");
		s->pending_at = db_col_int(st, 2);
		s->last_step = db_col_int(st, 3);
		snprintf(s->email, sizeof s->email, "%s", db_col_text(st, 4));
		snprintf(s->name, sizeof s->name, "%s", db_col_text(st, 5));
		snprintf(s->role, sizeof s->role, "%s", db_col_text(st, 6));
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* Records step as the last code accepted: 1 when it was later than the stored
 * one (the code is fresh), 0 when another request got there first. */
static int last_step_advance(struct db_conn *c, int64_t person_id, int64_t step)
{
	struct db_stmt *st =
	    db_prepare(c, "UPDATE people SET totp_last_step = $2 WHERE id = $1 AND "
	                  "totp_last_step < $2 RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, step);
	int rc = db_step(st), advanced = rc == DB_ROW;
	while (rc == DB_ROW)
		rc = db_step(st);
	db_reset(st);
	return rc < 0 ? rc : advanced;
}

/* Clears the second factor: secret, set-up in progress and recovery codes. */
static int mfa_clear(struct db_conn *c, int64_t person_id)
{
	int rc = exec_ints(c,
	                   "UPDATE people SET totp_secret = NULL, totp_pending_secret = NULL, "
	                   "totp_pending_at = NULL, updated_at = $2 WHERE id = $1",
	                   person_id, (int64_t)time(NULL));
	return rc ? rc
	          : exec_ints(c, "DELETE FROM recovery_codes WHERE person_id = $1", person_id, 0);
}

/* ---------------------------------------------------------- audit and mail */

static int audit_mfa(struct db_conn *c, struct http_request *req, int64_t actor_id,
                     const char *actor, const char *action, int64_t subject_id, const char *detail)
{
	char subject[32];
	snprintf(subject, sizeof subject, "person:%lld", (long long)subject_id);
	struct audit_entry e = {actor_id, actor, action, subject, detail, req->address};
	int rc = audit_record(c, &e);
	if (rc)
		log_error("request %s: cannot write the audit trail: %s", req->id, db_errmsg(c));
	return rc;
}

/*
 * Queues a security notice to a person. Plain text only: the names in it are
 * the person's own, and no HTML is built from them. A notice that cannot be
 * queued because of the address is logged and the change goes ahead (the
 * person should not be locked out of security settings by a typo in their
 * address); a database failure fails the change.
 */
static int notify(struct http_request *req, struct db_conn *c, const char *to, const char *name,
                  const char *subject, const char *what, const char *if_not_you)
{
	const struct app *app = req->app;
	struct buf text;
	buf_init(&text, 16u << 10);
	buf_printf(&text,
	           "Hello %s,\n\n%s\n\n%s\n\nYour two-step sign-in settings:\n%s/account/mfa\n\n"
	           "This is an automatic security notice from %s. Shoal will never ask you for a "
	           "code from your authenticator app by email or phone.\n",
	           name, what, if_not_you, app->config->base_url, app->collective_name);
	int rc = text.overflow ? MAIL_ERR_BODY : mail_queue(c, to, subject, text.data, NULL);
	buf_free(&text);
	if (rc == MAIL_ERR_DB)
		return DB_ERR;
	if (rc)
		log_error("request %s: security notice to person not queued (mail error %d)",
		          req->id, rc);
	return 0;
}

static const char not_you[] =
    "If this was you, you do not need to do anything.\n\nIf it was not you, someone may know "
    "your password: change it at once, and tell the collective's administrator.";

/* ------------------------------------------------------------ the code page */

static const char *role_phrase(const char *role)
{
	return !strcmp(role, "administrator") ? "an administrator"
	       : !strcmp(role, "executive")   ? "a member of the executive"
	                                      : "a member";
}

static void render_sign_in(struct http_request *req, struct http_response *res,
                           struct mfa_sign_in_view *v)
{
	struct buf other, main;
	buf_init(&other, 3 * LIMIT_URL_BYTES + 64);
	buf_puts(&other, v->recovery ? "/sign-in/mfa?next=" : "/sign-in/mfa?recovery=1&next=");
	http_url_encode(&other, v->next);
	v->other_href = other.data;
	v->csrf = access_csrf(req, res);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_mfa_sign_in(&main, v);
	const char *title =
	    v->recovery ? "Enter a recovery code" : "Enter the code from your authenticator app";
	char full[64];
	snprintf(full, sizeof full, "%s%s", v->errors.n ? "Error: " : "", title);
	page_render(req, res, full, main.data);
	buf_free(&main);
	buf_free(&other);
}

/* Only a session that has passed the password may be here. */
static int pending_viewer(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	if (viewer->person_id && viewer->mfa_pending && viewer->via == VIA_SESSION)
		return 1;
	http_redirect(res, "/sign-in");
	return 0;
}

void mfa_sign_in_page(struct http_request *req, struct http_response *res)
{
	if (!pending_viewer(req, res))
		return;
	struct mfa_sign_in_view v = {.next = account_safe_next(http_query(req, "next")),
	                             .recovery = http_query(req, "recovery") != NULL};
	render_sign_in(req, res, &v);
}

static void sign_in_error(struct http_request *req, struct http_response *res,
                          struct mfa_sign_in_view *v, unsigned status, const char *message)
{
	res->status = status;
	v->error = message;
	form_error_add(&v->errors, v->recovery ? "recovery_code" : "code", message);
	render_sign_in(req, res, v);
}

void mfa_sign_in(struct http_request *req, struct http_response *res)
{
	if (!pending_viewer(req, res))
		return;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	const char *typed_recovery = form_get(f, "recovery_code");
	const char *typed_code = form_get(f, "code");
	struct mfa_sign_in_view v = {.next = account_safe_next(form_get(f, "next")),
	                             .recovery = typed_recovery != NULL};
	char code[TOTP_DIGITS + 1], recovery[MFA_RECOVERY_CODE_CHARS + 1];
	if (v.recovery) {
		if (!*typed_recovery) {
			sign_in_error(req, res, &v, 400, "Enter a recovery code");
			return;
		}
		if (mfa_recovery_code_normalise(typed_recovery, recovery)) {
			sign_in_error(req, res, &v, 400,
			              "Enter a recovery code as you saved it: 16 letters and "
			              "numbers, like abcd-efgh-jkmn-pqrs");
			return;
		}
	} else {
		if (!typed_code || !*typed_code) {
			sign_in_error(req, res, &v, 400,
			              "Enter the 6-digit code from your authenticator app");
			return;
		}
		if (strlen(typed_code) > MFA_INPUT_MAX_BYTES || totp_normalise(typed_code, code)) {
			sign_in_error(req, res, &v, 400,
			              "Enter the code as 6 numbers, like 123456");
			return;
		}
	}
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char account_key[LIMIT_EMAIL_BYTES + 16], token[AUTH_TOKEN_CHARS + 1], code_key[40];
	snprintf(account_key, sizeof account_key, "account:%s", viewer->email);
	/* Wrong codes count under their own key: a correct password clears the
	 * account's count, and must not give someone with the password more guesses. */
	snprintf(code_key, sizeof code_key, "mfa:%lld", (long long)viewer->person_id);
	int64_t now = (int64_t)time(NULL), step = 0;
	long long left = 0;
	struct mfa_state s;
	int locked = throttle_locked_either(c, account_key, code_key);
	if (locked < 0 || state_load(c, viewer->person_id, &s))
		goto fail;
	if (locked) {
		if (audit_mfa(c, req, viewer->person_id, viewer->email, "sign-in-throttled",
		              viewer->person_id, "two-step"))
			goto fail;
		db_release(c);
		{
			sign_in_error(
			    req, res, &v, 429,
			    "There have been too many attempts to sign in. Wait 15 minutes, "
			    "then try again");
			return;
		}
	}
	if (!s.secret[0]) {
		/* Two-step sign-in was turned off or reset since the password: start again. */
		if (session_end(c, viewer->session_id))
			goto fail;
		db_release(c);
		access_set_session_cookie(res, NULL);
		http_redirect(res, "/sign-in");
		return;
	}
	if (db_begin(c))
		goto fail;
	int verdict;
	if (v.recovery) {
		int used = recovery_code_use(c, viewer->person_id, recovery);
		if (used < 0)
			goto fail;
		verdict = used ? TOTP_OK : TOTP_WRONG;
	} else {
		verdict = totp_verify(s.secret, code, now, s.last_step, &step);
		if (verdict == TOTP_ERROR) {
			log_error("request %s: person %lld has an unreadable two-step secret",
			          req->id, (long long)viewer->person_id);
			goto fail;
		}
		if (verdict == TOTP_OK) {
			int fresh = last_step_advance(c, viewer->person_id, step);
			if (fresh < 0)
				goto fail;
			if (!fresh)
				verdict = TOTP_REUSED;
		}
	}
	if (verdict != TOTP_OK) {
		db_rollback(c);
		const char *detail = v.recovery               ? "wrong recovery code"
		                     : verdict == TOTP_REUSED ? "two-step code already used"
		                                              : "wrong two-step code";
		if (db_begin(c) || throttle_fail(c, code_key, LIMIT_MFA_FAILURES) ||
		    audit_mfa(c, req, viewer->person_id, viewer->email, "sign-in-failed",
		              viewer->person_id, detail) ||
		    db_commit(c))
			goto fail;
		db_release(c);
		{
			sign_in_error(req, res, &v, 401,
			              v.recovery ? "The recovery code is not right, or it has been "
			                           "used before. Check "
			                           "it and try again, or use a different code"
			              : verdict == TOTP_REUSED
			                  ? "That code has already been used. Wait for your "
			                    "authenticator app to show "
			                    "a new code, then enter it"
			                  : "The code is not right. Enter the code your "
			                    "authenticator app shows now");
			return;
		}
	}
	if (throttle_clear(c, account_key) || throttle_clear(c, code_key) ||
	    session_complete_mfa(c, viewer->session_id, token) ||
	    audit_mfa(c, req, viewer->person_id, viewer->email, "sign-in", viewer->person_id,
	              v.recovery ? "with a recovery code" : "with two-step"))
		goto fail;
	if (v.recovery) {
		char what[256];
		if (recovery_codes_left(c, viewer->person_id, &left))
			goto fail;
		snprintf(
		    what, sizeof what,
		    "A recovery code was used to sign in to your account. You have %lld recovery "
		    "code%s left: you can get new ones from your two-step sign-in settings.",
		    left, left == 1 ? "" : "s");
		if (notify(req, c, s.email, s.name, "Shoal: a recovery code was used to sign in",
		           what, not_you))
			goto fail;
	}
	if (db_commit(c))
		goto fail;
	db_release(c);
	if (v.recovery)
		mail_wake();
	access_set_session_cookie(res, token);
	http_redirect(res, v.next);
	return;
fail:
	log_error("request %s: two-step sign-in failed: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

/* ---------------------------------------------------------- the account page */

/*
 * Fills the account view for viewer. When two-step sign-in is off it also
 * prepares the set-up: the pending secret (kept for MFA_PENDING_SECONDS, so
 * that reloading the page does not change the QR code already scanned, and
 * replaced after) with its QR code drawn into svg.
 */
static int account_load(struct http_request *req, struct db_conn *c, struct mfa_account_view *v,
                        char grouped[TOTP_SECRET_CHARS + TOTP_SECRET_CHARS / 4 + 1],
                        struct buf *svg)
{
	const struct viewer *viewer = access_viewer(req);
	const struct app *app = req->app;
	struct mfa_state s;
	int rc = state_load(c, viewer->person_id, &s);
	if (rc)
		return rc;
	if (!s.found)
		return DB_ERR;
	int64_t now = (int64_t)time(NULL);
	v->enrolled = s.secret[0] != '\0';
	v->may_disable = policy_may_disable_mfa(viewer);
	v->required = !v->may_disable;
	v->role_phrase = role_phrase(s.role);
	if (v->enrolled) {
		rc = recovery_codes_left(c, viewer->person_id, &v->recovery_left);
		v->few_left = v->recovery_left < MFA_FEW_RECOVERY_CODES;
		return rc;
	}
	if (!s.pending[0] || now - s.pending_at >= MFA_PENDING_SECONDS || now < s.pending_at) {
		totp_new_secret(s.pending);
		struct db_stmt *st = db_prepare(c, "UPDATE people SET totp_pending_secret = $2, "
		                                   "totp_pending_at = $3 WHERE id = $1");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, viewer->person_id);
		db_bind_text(st, 2, s.pending);
		db_bind_int(st, 3, now);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	struct buf uri;
	buf_init(&uri, 4096);
	rc = qr_otpauth_uri(&uri, app->collective_name, s.email, s.pending) ||
	     qr_svg(uri.data, QR_LABEL, QR_PIXELS, svg, &v->qr);
	sodium_memzero(uri.data, uri.len);
	buf_free(&uri);
	if (rc) {
		/* The key can still be typed; the page says so when there is no picture. */
		log_error("request %s: cannot draw the QR code", req->id);
		v->qr.html = NULL;
	}
	totp_group(s.pending, grouped);
	v->secret = grouped;
	return DB_OK;
}

static void render_account(struct http_request *req, struct http_response *res,
                           struct mfa_account_view *v)
{
	struct buf main;
	v->csrf = access_csrf(req, res);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_mfa_account(&main, v);
	page_render(req, res, v->errors.n ? "Error: Two-step sign-in" : "Two-step sign-in",
	            main.data);
	buf_free(&main);
}

/* Shows the account page, with an error beside the code field when message is set. */
static void show_account(struct http_request *req, struct http_response *res, struct db_conn *c,
                         unsigned status, const char *message, const char *notice)
{
	struct mfa_account_view v = {.notice = notice};
	char grouped[TOTP_SECRET_CHARS + TOTP_SECRET_CHARS / 4 + 1];
	struct buf svg;
	buf_init(&svg, QR_SVG_BYTES);
	if (account_load(req, c, &v, grouped, &svg)) {
		log_error("request %s: cannot load two-step sign-in: %s", req->id, db_errmsg(c));
		db_release(c);
		buf_free(&svg);
		res->status = 500;
		return;
	}
	db_release(c);
	if (message) {
		v.code_error = message;
		form_error_add(&v.errors, "code", message);
		res->status = status;
	}
	render_account(req, res, &v);
	sodium_memzero(grouped, sizeof grouped);
	buf_free(&svg);
}

void mfa_account_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	const char *notice = NULL;
	if (http_query(req, "turned-off"))
		notice = "Two-step sign-in is off. Shoal will only ask for your password when you "
		         "sign in.";
	show_account(req, res, c, 200, NULL, notice);
}

static void render_codes(struct http_request *req, struct http_response *res,
                         char codes[MFA_RECOVERY_CODES][RECOVERY_GROUPED_BYTES], int enrolled_now)
{
	struct mfa_codes_view v = {.enrolled_now = enrolled_now, .n_codes = MFA_RECOVERY_CODES};
	for (int i = 0; i < MFA_RECOVERY_CODES; i++)
		v.codes[i] = codes[i];
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_mfa_codes(&main, &v);
	page_render(req, res, enrolled_now ? "Two-step sign-in is on" : "Your new recovery codes",
	            main.data);
	buf_free(&main);
	sodium_memzero(codes, (size_t)MFA_RECOVERY_CODES * RECOVERY_GROUPED_BYTES);
}

/* The code typed into a form on the account page: NULL and a message when unusable. */
static const char *typed_code(const struct form *f, char code[TOTP_DIGITS + 1],
                              const char **message)
{
	const char *typed = form_get(f, "code");
	if (!typed || !*typed) {
		*message = "Enter the 6-digit code from your authenticator app";
		return NULL;
	}
	if (strlen(typed) > MFA_INPUT_MAX_BYTES || totp_normalise(typed, code)) {
		*message = "Enter the code as 6 numbers, like 123456";
		return NULL;
	}
	return code;
}

void mfa_confirm(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char code[TOTP_DIGITS + 1], codes[MFA_RECOVERY_CODES][RECOVERY_GROUPED_BYTES];
	const char *message = NULL;
	if (!typed_code(access_form(req), code, &message)) {
		show_account(req, res, c, 400, message, NULL);
		return;
	}
	struct mfa_state s;
	int64_t now = (int64_t)time(NULL), step = 0;
	if (db_begin(c) || state_load(c, viewer->person_id, &s) || !s.found)
		goto fail;
	if (s.secret[0]) { /* already on: perhaps the form was sent twice */
		db_rollback(c);
		db_release(c);
		http_redirect(res, "/account/mfa");
		return;
	}
	if (!s.pending[0] || now - s.pending_at >= MFA_PENDING_SECONDS || now < s.pending_at) {
		db_rollback(c);
		{
			show_account(
			    req, res, c, 400,
			    "The set-up timed out, so there is a new QR code and key. Add them "
			    "to your authenticator app, then enter the code it shows",
			    NULL);
			return;
		}
	}
	int verdict = totp_verify(s.pending, code, now, 0, &step);
	if (verdict == TOTP_ERROR)
		goto fail;
	if (verdict != TOTP_OK) {
		db_rollback(c);
		{
			show_account(req, res, c, 400,
			             "The code is not right. Check that your phone sets its time "
			             "automatically, then enter the code your app shows now",
			             NULL);
			return;
		}
	}
	/* Conditional on the secret still being the one checked: a second tab
	 * that started a new set-up meanwhile makes this one fail, not enrol a
	 * secret that the app does not have. */
	struct db_stmt *st = db_prepare(
	    c, "UPDATE people SET totp_secret = totp_pending_secret, totp_last_step = $2, "
	       "totp_pending_secret = NULL, totp_pending_at = NULL, updated_at = $3 "
	       "WHERE id = $1 AND totp_secret IS NULL AND totp_pending_secret = $4 RETURNING id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, viewer->person_id);
	db_bind_int(st, 2, step);
	db_bind_int(st, 3, now);
	db_bind_text(st, 4, s.pending);
	int rc = db_step(st), enrolled = rc == DB_ROW;
	while (rc == DB_ROW)
		rc = db_step(st);
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (!enrolled) {
		db_rollback(c);
		db_release(c);
		http_redirect(res, "/account/mfa");
		return;
	}
	if (recovery_codes_replace(c, viewer->person_id, codes) ||
	    audit_mfa(c, req, viewer->person_id, viewer->email, "mfa-enabled", viewer->person_id,
	              "") ||
	    notify(req, c, s.email, s.name, "Shoal: two-step sign-in is on",
	           "Two-step sign-in was turned on for your account. From now on, Shoal will ask "
	           "for a code from your authenticator app when you sign in.",
	           not_you) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	sodium_memzero(s.pending, sizeof s.pending);
	render_codes(req, res, codes, 1);
	return;
fail:
	log_error("request %s: cannot turn on two-step sign-in: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

void mfa_recovery_codes(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char codes[MFA_RECOVERY_CODES][RECOVERY_GROUPED_BYTES];
	struct mfa_state s;
	if (db_begin(c) || state_load(c, viewer->person_id, &s) || !s.found)
		goto fail;
	if (!s.secret[0]) { /* recovery codes belong to two-step sign-in */
		db_rollback(c);
		db_release(c);
		http_redirect(res, "/account/mfa");
		return;
	}
	if (recovery_codes_replace(c, viewer->person_id, codes) ||
	    audit_mfa(c, req, viewer->person_id, viewer->email, "mfa-recovery-codes-replaced",
	              viewer->person_id, "") ||
	    notify(req, c, s.email, s.name, "Shoal: new recovery codes",
	           "New recovery codes were made for your account. Your old recovery codes no "
	           "longer work.",
	           not_you) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	render_codes(req, res, codes, 0);
	return;
fail:
	log_error("request %s: cannot replace recovery codes: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

void mfa_disable(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_disable_mfa(viewer)) {
		res->status = 403;
		res->reason =
		    "Executives and administrators must use two-step sign-in, so it cannot "
		    "be turned off. If you have lost your phone, ask another administrator "
		    "to reset it.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char code[TOTP_DIGITS + 1], account_key[LIMIT_EMAIL_BYTES + 16], code_key[40];
	const char *message = NULL;
	if (!typed_code(access_form(req), code, &message)) {
		show_account(req, res, c, 400, message, NULL);
		return;
	}
	snprintf(account_key, sizeof account_key, "account:%s", viewer->email);
	snprintf(code_key, sizeof code_key, "mfa:%lld", (long long)viewer->person_id);
	struct mfa_state s;
	int64_t now = (int64_t)time(NULL), step = 0;
	int locked = throttle_locked_either(c, account_key, code_key);
	if (locked < 0)
		goto fail;
	if (locked) {
		show_account(req, res, c, 429,
		             "There have been too many wrong codes. Wait 15 minutes, then try "
		             "again",
		             NULL);
		return;
	}
	if (db_begin(c) || state_load(c, viewer->person_id, &s) || !s.found)
		goto fail;
	if (!s.secret[0]) {
		db_rollback(c);
		db_release(c);
		http_redirect(res, "/account/mfa");
		return;
	}
	int verdict = totp_verify(s.secret, code, now, s.last_step, &step);
	if (verdict == TOTP_ERROR)
		goto fail;
	if (verdict == TOTP_OK) {
		int fresh = last_step_advance(c, viewer->person_id, step);
		if (fresh < 0)
			goto fail;
		if (!fresh)
			verdict = TOTP_REUSED;
	}
	if (verdict != TOTP_OK) {
		/* A guessed code here is as good as one at sign-in: count it the same way. */
		if (throttle_fail(c, code_key, LIMIT_MFA_FAILURES) ||
		    audit_mfa(c, req, viewer->person_id, viewer->email, "mfa-disable-failed",
		              viewer->person_id,
		              verdict == TOTP_REUSED ? "code already used" : "wrong code") ||
		    db_commit(c))
			goto fail;
		{
			show_account(
			    req, res, c, 400,
			    verdict == TOTP_REUSED
			        ? "That code has already been used. Wait for your "
			          "authenticator app to show a new code, then enter it"
			        : "The code is not right. Enter the code your authenticator "
			          "app shows now",
			    NULL);
			return;
		}
	}
	if (mfa_clear(c, viewer->person_id) || throttle_clear(c, account_key) ||
	    audit_mfa(c, req, viewer->person_id, viewer->email, "mfa-disabled", viewer->person_id,
	              "") ||
	    notify(req, c, s.email, s.name, "Shoal: two-step sign-in is off",
	           "Two-step sign-in was turned off for your account, and its recovery codes no "
	           "longer work. Shoal will only ask for your password when you sign in.",
	           not_you) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	mail_wake();
	http_redirect(res, "/account/mfa?turned-off=1");
	return;
fail:
	log_error("request %s: cannot turn off two-step sign-in: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

/* ------------------------------------------------------ an administrator's reset */

void mfa_admin_reset(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t id = http_parse_id(req->params[0]);
	if (!id) {
		res->status = 404;
		return;
	}
	if (!policy_may_reset_mfa(viewer, id)) {
		res->status = 403;
		if (id == viewer->person_id)
			res->reason = "You cannot reset your own two-step sign-in. Ask another "
			              "administrator to reset it.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct mfa_state s;
	if (db_begin(c) || state_load(c, id, &s))
		goto fail;
	if (!s.found) {
		db_rollback(c);
		db_release(c);
		res->status = 404;
		return;
	}
	struct mfa_reset_view v = {.id = id,
	                           .name = s.name,
	                           .email = s.email,
	                           .was_enrolled = s.secret[0] != '\0',
	                           .required = !strcmp(s.role, "executive") ||
	                                       !strcmp(s.role, "administrator")};
	if (v.was_enrolled) {
		if (mfa_clear(c, id) || session_end_all(c, id) ||
		    audit_mfa(c, req, viewer->person_id, viewer->email, "mfa-reset", id,
		              "second factor and recovery codes cleared; signed out everywhere") ||
		    notify(
		        req, c, s.email, s.name, "Shoal: your two-step sign-in was reset",
		        "An administrator reset two-step sign-in for your account, and signed you "
		        "out on every device. Next time you sign in, Shoal will only ask for your "
		        "password; you can then set up two-step sign-in again with your new phone.",
		        "If you did not ask for this, tell the collective's administrator at "
		        "once.") ||
		    db_commit(c))
			goto fail;
		mail_wake();
	} else {
		db_rollback(c);
	}
	db_release(c);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_mfa_reset(&main, &v);
	page_render(req, res,
	            v.was_enrolled ? "Two-step sign-in reset" : "Two-step sign-in not set up",
	            main.data);
	buf_free(&main);
	return;
fail:
	log_error("request %s: cannot reset two-step sign-in: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}
