/*
 * access.c — loads the viewer, applies the policy, checks CSRF (see access.h).
 */
#include "app/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "auth/crypto.h"
#include "auth/session.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/multipart.h"
#include "render/json.h"

#define CSRF_COOKIE "shoal_csrf"

struct request_state {
	struct viewer viewer;
	struct form form;
	json_t *json; /* the parsed body of an API request sent as application/json */
	struct multipart *multipart; /* a multipart/form-data body's parts, or NULL */
	char anonymous_csrf[AUTH_TOKEN_CHARS + 1];
};

static struct request_state *state_of(const struct http_request *req)
{
	return req->state;
}

const struct viewer *access_viewer(const struct http_request *req)
{
	static const struct viewer anonymous;
	return req->state ? &state_of(req)->viewer : &anonymous;
}

const struct form *access_form(const struct http_request *req)
{
	static const struct form empty;
	return req->state ? &state_of(req)->form : &empty;
}

const struct multipart *access_multipart(const struct http_request *req)
{
	return req->state ? state_of(req)->multipart : NULL;
}

int access_may_upload(struct http_request *req)
{
	struct app *app = req->app;
	const char *cookie = http_cookie(req, SESSION_COOKIE);
	if (!cookie)
		return 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c)
		return 0;
	struct viewer v = {0};
	int rc = session_load_viewer(c, cookie, &v);
	db_release(c);
	/* Whether v could attach a file anywhere; the handler asks again about the space. */
	return rc > 0 && policy_may_attach(&v, true, false);
}

/* A form sent as multipart/form-data (one that can carry files): its text fields
 * go into the same struct form as an urlencoded body's, so handlers and the CSRF
 * check read them alike; its files stay in the body (access_multipart). */
static int parse_multipart(struct http_request *req, struct http_response *res)
{
	struct request_state *st = state_of(req);
	char err[160] = "a field is not UTF-8, or the form has too many fields";
	st->multipart = xmalloc(sizeof *st->multipart);
	if (multipart_parse(st->multipart, http_header(req, "Content-Type"),
	                    req->body.data ? req->body.data : "", req->body.len, err, sizeof err) ||
	    multipart_form(st->multipart, &st->form)) {
		log_info("request %s: bad multipart body: %s", req->id, err);
		res->status = 400;
		res->reason =
		    "This form could not be read. Go back, reload the page and try again.";
		return 1;
	}
	return 0;
}

const json_t *access_json(const struct http_request *req)
{
	return req->state ? state_of(req)->json : NULL;
}

int access_is_api(const struct http_request *req)
{
	return !strncmp(req->path, "/api/", 5);
}

void access_set_session_cookie(struct http_response *res, const char *token)
{
	char cookie[256];
	if (token)
		snprintf(cookie, sizeof cookie,
		         SESSION_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Lax", token);
	else
		snprintf(cookie, sizeof cookie,
		         SESSION_COOKIE "=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0");
	http_response_header_copy(res, "Set-Cookie", cookie);
}

const char *access_csrf(struct http_request *req, struct http_response *res)
{
	struct request_state *st = state_of(req);
	if (st->viewer.via == VIA_SESSION)
		return st->viewer.csrf;
	if (!st->anonymous_csrf[0]) {
		const char *cookie = http_cookie(req, CSRF_COOKIE);
		if (cookie && strlen(cookie) == AUTH_TOKEN_CHARS) {
			snprintf(st->anonymous_csrf, sizeof st->anonymous_csrf, "%s", cookie);
		} else {
			char set[160];
			auth_random_token(st->anonymous_csrf);
			snprintf(set, sizeof set,
			         CSRF_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Lax",
			         st->anonymous_csrf);
			http_response_header_copy(res, "Set-Cookie", set);
		}
	}
	return st->anonymous_csrf;
}

static int api_error(struct http_response *res, unsigned status, const char *message)
{
	render_json_error(res, status, message);
	if (status == 401)
		http_response_header(res, "WWW-Authenticate", "Bearer realm=\"shoal\"");
	return 1;
}

/* Loads the viewer from a bearer token (API) or the session cookie. */
static int load_viewer(struct http_request *req, struct http_response *res, struct app *app)
{
	struct request_state *st = state_of(req);
	const char *auth = http_header(req, "Authorization");
	const char *cookie = http_cookie(req, SESSION_COOKIE);
	if (!auth && !cookie)
		return 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return access_is_api(req) ? api_error(res, 503, "the database cannot be reached")
		                          : 1;
	}
	int rc = 0;
	if (auth && access_is_api(req)) {
		if (strncasecmp(auth, "Bearer ", 7) ||
		    (rc = session_load_token_viewer(c, auth + 7, &st->viewer)) == 0) {
			db_release(c);
			return api_error(res, 401, "the token is not valid");
		}
	} else if (cookie) {
		rc = session_load_viewer(c, cookie, &st->viewer);
		if (rc == 0) /* expired or unknown: clear it, and carry on as anonymous */
			access_set_session_cookie(res, NULL);
	}
	db_release(c);
	if (rc < 0) {
		log_error("request %s: cannot load the viewer", req->id);
		res->status = 500;
		return 1;
	}
	return 0;
}

static int is_state_changing(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* Every JSON body is parsed here, once, within Shoal's limits, so no handler
 * can forget them; a handler reads the document with access_json. */
static int parse_json_body(struct http_request *req, struct http_response *res)
{
	const char *type = http_header(req, "Content-Type");
	/* An empty body is no document (a DELETE that names its type anyway). */
	if (!access_is_api(req) || !is_state_changing(req->method) || !type ||
	    strncasecmp(type, "application/json", 16) || req->body.len == 0)
		return 0;
	char err[200];
	unsigned status;
	state_of(req)->json =
	    json_parse_body(req->body.data, req->body.len, &status, err, sizeof err);
	return state_of(req)->json ? 0 : api_error(res, status, err);
}

/* A state-changing browser request must carry the CSRF token of its session
 * (or, before sign-in, of its cookie) and must not come from another site. */
static int check_csrf(struct http_request *req, struct http_response *res)
{
	struct request_state *st = state_of(req);
	const char *site = http_header(req, "Sec-Fetch-Site");
	const char *sent = form_get(&st->form, "csrf");
	if (!sent)
		sent = http_header(req, "X-CSRF-Token");
	const char *expected =
	    st->viewer.via == VIA_SESSION ? st->viewer.csrf : http_cookie(req, CSRF_COOKIE);
	if ((!site || strcmp(site, "cross-site")) && sent && expected &&
	    strlen(expected) == AUTH_TOKEN_CHARS && auth_equal(sent, expected))
		return 0;
	res->status = 403;
	res->reason = "This form could not be sent: the page may have been open too long, or the "
	              "form came from another website. Go back, reload the page and try again.";
	return 1;
}

int access_before(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct request_state *st = xcalloc(1, sizeof *st);
	req->state = st;
	if (load_viewer(req, res, app))
		return 1;
	const char *type = http_header(req, "Content-Type");
	if (is_state_changing(req->method) && type &&
	    !strncasecmp(type, "application/x-www-form-urlencoded", 33) &&
	    form_parse(&st->form, req->body.data ? req->body.data : "", req->body.len)) {
		res->status = 400;
		return 1;
	}
	if (is_state_changing(req->method) && multipart_is_form_data(type) &&
	    parse_multipart(req, res))
		return 1;
	enum access need = (enum access)req->route->access;
	if (!policy_allows(&st->viewer, need)) {
		if (access_is_api(req))
			return st->viewer.person_id ? api_error(res, 403, "not allowed")
			                            : api_error(res, 401, "sign in with a token");
		if (st->viewer.person_id && !st->viewer.mfa_pending &&
		    policy_requires_mfa(&st->viewer)) {
			http_redirect(res, "/account/mfa");
			return 1;
		}
		if (!st->viewer.person_id || st->viewer.mfa_pending) {
			struct buf next;
			buf_init(&next, 3 * LIMIT_URL_BYTES + 32);
			buf_puts(&next, "/sign-in?next=");
			http_url_encode(&next, strcmp(req->method, "GET") ? "/" : req->path);
			http_redirect(res, next.data);
			buf_free(&next);
			return 1;
		}
		res->status = 403;
		return 1;
	}
	if (is_state_changing(req->method)) {
		if (st->viewer.via == VIA_TOKEN) {
			if (!policy_may_write(&st->viewer))
				return api_error(res, 403, "this token may only read");
		} else if (check_csrf(req, res)) {
			return access_is_api(req)
			           ? api_error(res, 403, "missing or wrong CSRF token")
			           : 1;
		}
	}
	return parse_json_body(req, res);
}

void access_after(struct http_request *req)
{
	struct request_state *st = req->state;
	if (!st)
		return;
	form_free(&st->form);
	free(st->multipart);
	json_decref(st->json);
	free(st);
	req->state = NULL;
}
