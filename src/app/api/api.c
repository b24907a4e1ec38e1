/*
 * api.c — the /api/v1 handlers and JSON error answers (see api.h).
 */
#include "app/api/api.h"

#include <string.h>

#include "app/access.h"
#include "app/api/tokens.h"
#include "app/app.h"
#include "core/embedded.h"
#include "core/log.h"
#include "core/time.h"
#include "render/json.h"

extern const struct embedded_file api_spec_files[];
extern const size_t api_spec_count;

int64_t api_parse_id(const char *s)
{
	/* One spelling per resource: "007" is not token 7 to the API. */
	return s && *s == '0' ? 0 : http_parse_id(s);
}

/* A time as RFC 3339 in UTC, the date-time format of OpenAPI; JSON null for 0. */
static json_t *json_time(int64_t t)
{
	if (!t)
		return json_null();
	char out[TIME_ISO_BYTES];
	time_format_utc_iso(t, out);
	return json_string(out);
}

/* The person's organisations, as in the Me schema. NULL on error. */
static json_t *organisations_of(struct db_conn *c, int64_t person_id)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT o.ods_code, o.name, o.kind, m.lead FROM memberships m "
	                  "JOIN organisations o ON o.id = m.organisation_id "
	                  "WHERE m.person_id = $1 ORDER BY o.name, o.id");
	if (!st)
		return NULL;
	db_bind_int(st, 1, person_id);
	json_t *list = json_array();
	int rc = DB_DONE;
	while (list && (rc = db_step(st)) == DB_ROW) {
		json_t *org = json_pack("{s:s, s:s, s:s, s:b}", "ods_code", db_col_text(st, 0),
		                        "name", db_col_text(st, 1), "kind", db_col_text(st, 2),
		                        "lead", db_col_int(st, 3) != 0);
		if (json_array_append_new(list, org)) {
			json_decref(list);
			list = NULL;
		}
	}
	db_reset(st);
	if (list && rc != DB_DONE) {
		json_decref(list);
		list = NULL;
	}
	return list;
}

void api_me(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *v = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		render_json_error(res, 503, "the database cannot be reached");
		return;
	}
	json_t *organisations = organisations_of(c, v->person_id);
	db_release(c);
	if (!organisations) {
		log_error("request %s: cannot read the person's organisations", req->id);
		render_json_error(res, 500, "something went wrong in Shoal");
		return;
	}
	/* Leading a practice is a membership flag; callers want it as a role too. */
	json_t *roles = v->leads ? json_pack("[s, s]", policy_role_name(v->role), "practice-lead")
	                         : json_pack("[s]", policy_role_name(v->role));
	render_json(res, 200,
	            json_pack("{s:I, s:s, s:s, s:s, s:o, s:b, s:o}", "id", (json_int_t)v->person_id,
	                      "email", v->email, "name", v->name, "role", policy_role_name(v->role),
	                      "roles", roles, "mfa", (int)v->mfa_enrolled, "organisations",
	                      organisations));
}

const char *api_openapi_text(size_t *size)
{
	for (size_t i = 0; i < api_spec_count; i++) {
		if (!strcmp(api_spec_files[i].name, "openapi.json")) {
			*size = api_spec_files[i].size;
			return (const char *)api_spec_files[i].data;
		}
	}
	*size = 0;
	return NULL;
}

void api_openapi(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	size_t size;
	const char *text = api_openapi_text(&size);
	json_error_t error;
	json_t *doc = text ? json_loadb(text, size, 0, &error) : NULL;
	if (!doc) {
		log_error("request %s: the embedded OpenAPI document does not parse", req->id);
		render_json_error(res, 500, "something went wrong in Shoal");
		return;
	}
	/* Where this installation is reached: the same base as links in emails. */
	json_object_set_new(doc, "servers", json_pack("[{s:s}]", "url", app->config->base_url));
	render_json(res, 200, doc);
}

void api_tokens_list(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *v = access_viewer(req);
	struct token_row rows[TOKENS_MAX_PER_PERSON];
	int n = 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		render_json_error(res, 503, "the database cannot be reached");
		return;
	}
	int rc = tokens_list(c, v->person_id, rows, &n);
	db_release(c);
	if (rc < 0) {
		render_json_error(res, 500, "something went wrong in Shoal");
		return;
	}
	json_t *list = json_array();
	for (int i = 0; list && i < n; i++) {
		if (json_array_append_new(
		        list,
		        json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)rows[i].id, "name",
		                  rows[i].name, "scope", rows[i].write ? "write" : "read",
		                  "created_at", json_time(rows[i].created_at), "last_used_at",
		                  json_time(rows[i].last_used_at)))) {
			json_decref(list);
			list = NULL;
		}
	}
	render_json(res, 200, list ? json_pack("{s:o}", "tokens", list) : NULL);
}

void api_token_revoke(struct http_request *req, struct http_response *res)
{
	if (!policy_may_write(access_viewer(req))) {
		render_json_error(res, 403, "this token may only read");
		return;
	}
	int64_t id = api_parse_id(req->params[0]);
	int rc = id ? tokens_revoke_as(req, id, ", through the API") : 0;
	if (rc == DB_ERR_CONN)
		render_json_error(res, 503, "the database cannot be reached");
	else if (rc < 0)
		render_json_error(res, 500, "something went wrong in Shoal");
	else if (rc == 0)
		render_json_error(res, 404, "you have no token with that id");
	else
		res->status = 204;
}

void api_error_page(struct http_request *req, struct http_response *res)
{
	static const struct {
		unsigned status;
		const char *message;
	} messages[] = {
	    {400, "the request is not valid"},
	    {401, "sign in with a token"},
	    {403, "not allowed"},
	    {404, "there is nothing at this address in the API"},
	    {405, "this address does not accept that method"},
	    {413, "the request is too large"},
	    {414, "the URL is too long"},
	    {431, "the request headers are too large"},
	    {503, "the database cannot be reached"},
	};
	(void)req;
	const char *message = "something went wrong in Shoal";
	for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
		if (messages[i].status == res->status)
			message = messages[i].message;
	render_json_error(res, res->status, res->reason ? res->reason : message);
}
