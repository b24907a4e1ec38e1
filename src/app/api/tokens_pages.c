/*
 * tokens_pages.c — the pages on which a person creates and revokes their own
 * API tokens (see tokens.h).
 *
 * A new token is shown on the answer to the POST that made it, and nowhere
 * else: only its hash is stored, so there is nothing to show it from later.
 * Revoking someone else's token answers 404, as if it did not exist, so that
 * token ids reveal nothing about other people.
 */
#include <stdio.h>
#include <string.h>

#include "app/access.h"
#include "app/api/api.h"
#include "app/api/tokens.h"
#include "app/app.h"
#include "auth/audit.h"
#include "core/log.h"
#include "core/time.h"
#include "templates.h"

static void audit(struct db_conn *c, const struct http_request *req, const char *action,
                  const char *detail, int *rc)
{
	const struct viewer *viewer = access_viewer(req);
	char subject[32];
	snprintf(subject, sizeof subject, "person:%lld", (long long)viewer->person_id);
	struct audit_entry e = {viewer->person_id, viewer->email, action,
	                        subject,           detail,        req->address};
	if (*rc == DB_OK)
		*rc = audit_record(c, &e);
}

/* Renders the list and the form into v (whose form fields the caller set). */
static void render_tokens(struct http_request *req, struct http_response *res,
                          struct tokens_view *v)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct token_row rows[TOKENS_MAX_PER_PERSON];
	struct token_item items[TOKENS_MAX_PER_PERSON];
	int n = 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int rc = tokens_list(c, viewer->person_id, rows, &n);
	db_release(c);
	if (rc < 0) {
		log_error("request %s: cannot list tokens", req->id);
		res->status = 500;
		return;
	}
	for (int i = 0; i < n; i++) {
		items[i] = (struct token_item){
		    .id = rows[i].id, .name = rows[i].name, .write = rows[i].write};
		time_format_date_time(rows[i].created_at, items[i].created);
		if (rows[i].last_used_at)
			time_format_date_time(rows[i].last_used_at, items[i].last_used);
	}
	v->tokens = items;
	v->n = n;
	v->max = TOKENS_MAX_PER_PERSON;
	v->partner = !policy_may_hold_token(viewer, true);
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_tokens(&main, v);
	page_render(req, res, v->errors.n ? "Error: API tokens" : "API tokens", main.data);
	buf_free(&main);
}

void tokens_page(struct http_request *req, struct http_response *res)
{
	struct tokens_view v = {.name = ""};
	if (http_query(req, "revoked"))
		v.notice =
		    "The token has been revoked. Programs using it can no longer reach Shoal.";
	render_tokens(req, res, &v);
}

void tokens_create_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	const char *raw_name = form_get(f, "name"), *scope = form_get(f, "scope");
	char name[TOKENS_NAME_MAX_BYTES + 1];
	struct tokens_view v = {.name = raw_name ? raw_name : ""};
	v.write = scope && !strcmp(scope, "write");
	v.name_error = tokens_clean_name(raw_name, name);
	if (!scope || (strcmp(scope, "read") && strcmp(scope, "write")))
		v.scope_error = "Choose what the token can do";
	else if (!policy_may_hold_token(viewer, v.write))
		v.scope_error = "Partner accounts can only have read-only tokens: choose read only";
	if (v.name_error)
		form_error_add(&v.errors, "name", v.name_error);
	if (v.scope_error)
		form_error_add(&v.errors, "scope", v.scope_error);
	if (v.errors.n) {
		if (v.scope_error)
			v.write = 0;
		res->status = 400;
		render_tokens(req, res, &v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char token[TOKENS_CHARS + 1], detail[TOKENS_NAME_MAX_BYTES + 64];
	int64_t id = 0;
	int rc = db_begin(c);
	if (rc == DB_OK)
		rc = tokens_create(c, viewer->person_id, name, v.write, token, &id);
	if (rc == TOKENS_ERR_TOO_MANY) {
		db_release(c);
		/* The form is hidden at the limit: the summary links to the list instead. */
		form_error_add(&v.errors, "tokens",
		               "You already have the most tokens you can have. Revoke one you no "
		               "longer use, then create a new one");
		res->status = 400;
		render_tokens(req, res, &v);
		return;
	}
	snprintf(detail, sizeof detail, "token %lld (%s) \"%s\"", (long long)id,
	         v.write ? "write" : "read", name);
	audit(c, req, "token-created", detail, &rc);
	if (rc == DB_OK)
		rc = db_commit(c);
	if (rc != DB_OK) {
		log_error("request %s: cannot create a token: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	struct token_created_view created = {.name = name, .token = token, .write = v.write};
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_tokens_created(&main, &created);
	page_render(req, res, "Token created", main.data);
	buf_free(&main);
}

int tokens_revoke_as(struct http_request *req, int64_t id, const char *how)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t owner = 0;
	struct token_row row;
	struct db_conn *c = db_acquire(app->db);
	if (!c)
		return DB_ERR_CONN;
	int rc = db_begin(c), found = 0;
	if (rc == DB_OK)
		rc = found = tokens_find(c, id, &owner, &row);
	if (rc >= 0 && (!found || !policy_may_revoke_token(viewer, owner))) {
		db_release(c);
		return 0;
	}
	if (rc >= 0 && (rc = tokens_revoke(c, id)) == 1) {
		char detail[TOKENS_NAME_MAX_BYTES + 64];
		snprintf(detail, sizeof detail, "token %lld \"%s\"%s", (long long)id, row.name,
		         how);
		rc = DB_OK;
		audit(c, req, "token-revoked", detail, &rc);
	}
	if (rc >= 0)
		rc = db_commit(c);
	if (rc < 0)
		log_error("request %s: cannot revoke a token: %s", req->id, db_errmsg(c));
	db_release(c);
	return rc < 0 ? rc : 1;
}

void tokens_revoke_page(struct http_request *req, struct http_response *res)
{
	int64_t id = api_parse_id(req->params[0]);
	int rc = id ? tokens_revoke_as(req, id, "") : 0;
	if (rc < 0)
		res->status = rc == DB_ERR_CONN ? 503 : 500;
	else if (rc == 0)
		res->status = 404;
	else
		http_redirect(res, "/account/tokens?revoked=1");
}
