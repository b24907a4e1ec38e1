/*
 * api.c — discussions in the JSON API (docs/api.md, "Discussions"): spaces,
 * threads and posts, starting a thread, replying, reactions and search.
 *
 * Every answer shows exactly what the holder sees on the pages: spaces and
 * threads are loaded with disc_load_space / disc_load_thread (a 404 for what
 * may not be seen), lists filter with DISCUSSIONS_VISIBLE_SQL, and a thread
 * or reply is written as the forms write it (disc_body_prepare renders the
 * Markdown and resolves mentions, disc_add_post stores them, then the same
 * notifications), with the forms' messages in errors per field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/api/api.h"
#include "app/app.h"
#include "app/discussions/api.h"
#include "app/discussions/discussions.h"
#include "app/notifications/notifications.h"
#include "app/search/search.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "render/json.h"
#include "mail/mail.h"

#define API_PAGE_THREADS DISCUSSIONS_THREADS_PER_PAGE
#define API_PAGE_POSTS   DISCUSSIONS_POSTS_PER_PAGE

static json_t *json_time(int64_t t)
{
	if (!t)
		return json_null();
	char out[TIME_ISO_BYTES];
	time_format_utc_iso(t, out);
	return json_string(out);
}

/* "page" from the query: 1 when absent, 0 when not a page number (the caller says 400). */
static long long page_of(struct http_request *req)
{
	long long page = listing_page_parse(http_query(req, "page"));
	return page < 1 ? 0 : page;
}

static void db_failed(struct http_request *req, struct http_response *res, struct db_conn *c)
{
	log_error("request %s: discussions API: %s", req->id, c ? db_errmsg(c) : "no connection");
	render_json_error(res, c ? 500 : 503,
	                  c ? "something went wrong in Shoal" : "the database cannot be reached");
}

static json_t *space_json(const struct disc_space *s)
{
	char audience[LIMIT_NAME_BYTES + 16];
	disc_audience(s->visibility, s->group_name, audience, sizeof audience);
	return json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)s->id, "name", s->name,
	                 "description", s->description, "visibility", s->visibility, "audience",
	                 audience);
}

/* ------------------------------------------------------------ spaces */

void discussions_api_spaces(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	struct db_stmt *st = db_prepare(
	    c, "SELECT s.id, s.name, s.description, s.visibility, COALESCE(g.name, ''), (SELECT "
	       "count(*) FROM threads t WHERE t.space_id = s.id) FROM spaces s LEFT JOIN "
	       "discussion_groups g ON g.id = s.group_id WHERE " DISCUSSIONS_VISIBLE_SQL
	       " ORDER BY s.position, s.id LIMIT 100");
	if (!st) {
		db_failed(req, res, c);
		db_release(c);
		return;
	}
	db_bind_int(st, 1, viewer->person_id);
	db_bind_text(st, 2, policy_role_name(viewer->role));
	json_t *list = json_array();
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct disc_space s = {.id = db_col_int(st, 0)};
		snprintf(s.name, sizeof s.name, "%s", db_col_text(st, 1));
		snprintf(s.description, sizeof s.description, "%s", db_col_text(st, 2));
		snprintf(s.visibility, sizeof s.visibility, "%s", db_col_text(st, 3));
		snprintf(s.group_name, sizeof s.group_name, "%s", db_col_text(st, 4));
		json_t *o = space_json(&s);
		json_object_set_new(o, "threads", json_integer(db_col_int(st, 5)));
		json_array_append_new(list, o);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(list);
		db_failed(req, res, c);
	} else {
		render_json(res, 200, json_pack("{s:o}", "spaces", list));
	}
	db_release(c);
}

/* ------------------------------------------------------------ threads of a space */

void discussions_api_threads(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	long long page = page_of(req);
	if (!page) {
		render_json_error(res, 400, "page must be a whole number from 1");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	struct disc_space s;
	int rc = disc_load_space(c, viewer, api_parse_id(req->params[0]), &s);
	if (rc <= 0) {
		if (rc < 0)
			db_failed(req, res, c);
		else
			render_json_error(res, 404, "there is no such space");
		db_release(c);
		return;
	}
	struct db_stmt *st = db_prepare(
	    c, "SELECT t.id, t.title, t.author_id, a.name, t.created_at, t.last_post_at, "
	       "t.post_count, t.pinned, t.locked, t.question, COALESCE(t.official_post_id, 0) "
	       "FROM threads t JOIN people a ON a.id = t.author_id WHERE t.space_id = $1 ORDER BY "
	       "t.pinned DESC, t.last_post_at DESC, t.id DESC LIMIT $2 OFFSET $3");
	if (!st) {
		db_failed(req, res, c);
		db_release(c);
		return;
	}
	db_bind_int(st, 1, s.id);
	db_bind_int(st, 2, API_PAGE_THREADS + 1);
	db_bind_int(st, 3, (page - 1) * API_PAGE_THREADS);
	json_t *list = json_array();
	size_t n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (++n > API_PAGE_THREADS)
			continue;
		json_array_append_new(
		    list,
		    json_pack("{s:I, s:s, s:{s:I, s:s}, s:o, s:o, s:I, s:b, s:b, s:b, s:b}", "id",
		              (json_int_t)db_col_int(st, 0), "title", db_col_text(st, 1), "author",
		              "id", (json_int_t)db_col_int(st, 2), "name", db_col_text(st, 3),
		              "created_at", json_time(db_col_int(st, 4)), "last_post_at",
		              json_time(db_col_int(st, 5)), "posts", (json_int_t)db_col_int(st, 6),
		              "pinned", db_col_int(st, 7) != 0, "locked", db_col_int(st, 8) != 0,
		              "question", db_col_int(st, 9) != 0, "answered",
		              db_col_int(st, 10) != 0));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(list);
		db_failed(req, res, c);
	} else {
		render_json(res, 200,
		            json_pack("{s:o, s:o, s:o}", "space", space_json(&s), "threads", list,
		                      "next_page",
		                      n > API_PAGE_THREADS ? json_integer(page + 1) : json_null()));
	}
	db_release(c);
}

/* ------------------------------------------------------------ writing */

/* A string member of the JSON body, or NULL (missing, or not a string). */
static const char *member(const json_t *body, const char *name, bool *wrong_type)
{
	json_t *v = json_object_get(body, name);
	if (v && !json_is_string(v))
		*wrong_type = true;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The 400 answer for the form's errors: the first as "error", all in "errors". */
static void field_errors(struct http_response *res, const struct form_errors *e)
{
	json_t *errors = json_object();
	for (int i = 0; i < e->n; i++)
		json_object_set_new(errors, e->errors[i].field, json_string(e->errors[i].message));
	render_json(res, 400,
	            json_pack("{s:s, s:o}", "error", e->errors[0].message, "errors", errors));
}

static void created(struct http_request *req, struct http_response *res, int64_t thread_id,
                    int64_t post_id, long long page)
{
	struct app *app = req->app;
	char url[LIMIT_CONFIG_VALUE_BYTES + 96];
	snprintf(url, sizeof url, "%s/discussions/threads/%lld?page=%lld#post-%lld",
	         app->config->base_url, (long long)thread_id, page, (long long)post_id);
	char location[64];
	snprintf(location, sizeof location, "/api/v1/threads/%lld", (long long)thread_id);
	http_response_header_copy(res, "Location", location);
	render_json(res, 201,
	            json_pack("{s:I, s:I, s:s}", "thread_id", (json_int_t)thread_id, "post_id",
	                      (json_int_t)post_id, "url", url));
}

static const json_t *json_body(struct http_response *res, struct http_request *req)
{
	const json_t *body = access_json(req);
	if (!body || !json_is_object(body)) {
		render_json_error(res, 400, "send a JSON object (Content-Type: application/json)");
		return NULL;
	}
	return body;
}

void discussions_api_thread_create(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	const json_t *json = json_body(res, req);
	if (!json)
		return;
	bool wrong = false;
	const char *title = member(json, "title", &wrong), *text = member(json, "body", &wrong);
	json_t *q = json_object_get(json, "question");
	if (wrong || (q && !json_is_boolean(q))) {
		render_json_error(res, 400,
		                  "title and body must be strings, question true or false");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	struct disc_space s;
	struct disc_body body = {0};
	struct form_errors errors = {0};
	char problem[300];
	int rc = disc_load_space(c, viewer, api_parse_id(req->params[0]), &s);
	if (rc <= 0) {
		if (rc < 0)
			goto fail;
		render_json_error(res, 404, "there is no such space");
		goto done;
	}
	if (!policy_may_post(viewer, true, false)) {
		render_json_error(res, 403, "you may not start threads");
		goto done;
	}
	/* The checks and messages of the form (threads.c, discussions_thread_create). */
	bool question = json_is_true(q) && policy_may_ask_executive(viewer);
	if (disc_blank(title))
		form_error_add(&errors, "title", "Enter a title for the thread");
	else if (strlen(title) > LIMIT_NAME_BYTES || strpbrk(title, "\r\n"))
		form_error_add(&errors, "title",
		               "The title must be 200 characters or fewer, on one line");
	rc = disc_body_prepare(c, text, "body", &errors, problem, sizeof problem, &body);
	if (rc < 0)
		goto fail;
	if (errors.n) {
		field_errors(res, &errors);
		goto done;
	}
	int64_t now = (int64_t)time(NULL), thread_id = 0, post_id = 0;
	if (db_begin(c))
		goto fail;
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO threads (space_id, title, author_id, created_at, last_post_at, "
	       "question) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, s.id);
	db_bind_text(st, 2, title);
	db_bind_int(st, 3, viewer->person_id);
	db_bind_int(st, 4, now);
	db_bind_int(st, 5, question);
	rc = db_step(st);
	if (rc == DB_ROW)
		thread_id = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW ||
	    disc_add_post(c, thread_id, s.id, viewer->person_id, &body, now, &post_id))
		goto fail;
	bool mailed = notifications_event(c, app->config, NOTIFY_POST, post_id);
	if (db_commit(c))
		goto fail;
	if (mailed)
		mail_wake();
	created(req, res, thread_id, post_id, 1);
	goto done;
fail:
	db_failed(req, res, c);
done:
	db_release(c);
	disc_body_free(&body);
}

void discussions_api_reply(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	const json_t *json = json_body(res, req);
	if (!json)
		return;
	bool wrong = false;
	const char *text = member(json, "body", &wrong);
	if (wrong) {
		render_json_error(res, 400, "body must be a string");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	struct disc_thread t;
	struct disc_body body = {0};
	struct form_errors errors = {0};
	char problem[300];
	int rc = disc_load_thread(c, viewer, api_parse_id(req->params[0]), &t);
	if (rc <= 0) {
		if (rc < 0)
			goto fail;
		render_json_error(res, 404, "there is no such thread");
		goto done;
	}
	if (t.locked) {
		render_json_error(res, 403, "This thread is locked: nobody can reply to it.");
		goto done;
	}
	if (!policy_may_post(viewer, true, false)) {
		render_json_error(res, 403, "you may not reply");
		goto done;
	}
	rc = disc_body_prepare(c, text, "body", &errors, problem, sizeof problem, &body);
	if (rc < 0)
		goto fail;
	if (errors.n) {
		field_errors(res, &errors);
		goto done;
	}
	int64_t post_id = 0;
	long long page = 1;
	if (db_begin(c) ||
	    disc_add_post(c, t.id, t.space_id, viewer->person_id, &body, (int64_t)time(NULL),
	                  &post_id) ||
	    disc_page_of(c, t.id, post_id, &page))
		goto fail;
	bool mailed = notifications_event(c, app->config, NOTIFY_POST, post_id);
	if (db_commit(c))
		goto fail;
	if (mailed)
		mail_wake();
	created(req, res, t.id, post_id, page);
	goto done;
fail:
	db_failed(req, res, c);
done:
	db_release(c);
	disc_body_free(&body);
}

/* ------------------------------------------------------------ one thread */

void discussions_api_thread(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	long long page = page_of(req);
	if (!page) {
		render_json_error(res, 400, "page must be a whole number from 1");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	struct disc_thread t;
	int rc = disc_load_thread(c, viewer, api_parse_id(req->params[0]), &t);
	if (rc <= 0) {
		if (rc < 0)
			db_failed(req, res, c);
		else
			render_json_error(res, 404, "there is no such thread");
		db_release(c);
		return;
	}
	/* Each post carries its counts of reactions (migration 0015). */
#define API_POSTS                                                                                  \
	"SELECT p.id, p.author_id, a.name, p.created_at, COALESCE(p.edited_at, 0), CASE WHEN "     \
	"p.deleted_at IS NOT NULL THEN 'deleted' WHEN p.hidden_at IS NOT NULL THEN 'hidden' ELSE " \
	"'standing' END, p.hidden_reason, p.body_source, p.body_html, p.agree_count, "             \
	"p.thanks_count FROM posts p JOIN people a ON a.id = p.author_id WHERE "
	long long offset = (page - 1) * API_PAGE_POSTS;
	struct db_stmt *st = db_prepare(c, disc_page_from_end(offset, t.post_count)
	                                       ? API_POSTS DISCUSSIONS_PAGE_FROM_END_SQL
	                                       : API_POSTS DISCUSSIONS_PAGE_SQL);
#undef API_POSTS
	if (!st) {
		db_failed(req, res, c);
		db_release(c);
		return;
	}
	db_bind_int(st, 1, t.id);
	db_bind_int(st, 2, API_PAGE_POSTS + 1);
	db_bind_int(st, 3, offset);
	json_t *posts = json_array();
	size_t n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (++n > API_PAGE_POSTS)
			continue;
		const char *state = db_col_text(st, 5);
		bool standing = !strcmp(state, "standing");
		/* A removed post's text never leaves Shoal, as on the page. */
		json_array_append_new(
		    posts,
		    json_pack(
		        "{s:I, s:{s:I, s:s}, s:o, s:o, s:s, s:o, s:o, s:o, s:{s:I, s:I}, s:b}",
		        "id", (json_int_t)db_col_int(st, 0), "author", "id",
		        (json_int_t)db_col_int(st, 1), "name", db_col_text(st, 2), "created_at",
		        json_time(db_col_int(st, 3)), "edited_at", json_time(db_col_int(st, 4)),
		        "state", state, "hidden_reason",
		        !strcmp(state, "hidden")
		            ? json_string(db_col_text(st, 6) ? db_col_text(st, 6) : "")
		            : json_null(),
		        "body_markdown", standing ? json_string(db_col_text(st, 7)) : json_null(),
		        "body_html", standing ? json_string(db_col_text(st, 8)) : json_null(),
		        "reactions", "agree", (json_int_t)db_col_int(st, 9), "thanks",
		        (json_int_t)db_col_int(st, 10), "official",
		        db_col_int(st, 0) == t.official_post_id));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(posts);
		db_failed(req, res, c);
		db_release(c);
		return;
	}
	db_release(c);
	render_json(res, 200,
	            json_pack("{s:{s:I, s:s, s:{s:I, s:s}, s:{s:I, s:s}, s:o, s:I, s:b, s:b, s:b, "
	                      "s:o}, s:o, s:o}",
	                      "thread", "id", (json_int_t)t.id, "title", t.title, "space", "id",
	                      (json_int_t)t.space_id, "name", t.space, "author", "id",
	                      (json_int_t)t.author_id, "name", t.author, "created_at",
	                      json_time(t.created_at), "posts", (json_int_t)t.post_count, "pinned",
	                      t.pinned, "locked", t.locked, "question", t.question,
	                      "official_post_id",
	                      t.official_post_id ? json_integer(t.official_post_id) : json_null(),
	                      "posts", posts, "next_page",
	                      n > API_PAGE_POSTS ? json_integer(page + 1) : json_null()));
}

/* ------------------------------------------------------------ reactions */

/* POST adds the holder's reaction (again is no change); DELETE takes it back. */
static void react(struct http_request *req, struct http_response *res, bool add)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	const char *kind = NULL;
	if (add) {
		const json_t *json = json_body(res, req);
		if (!json)
			return;
		bool wrong = false;
		kind = member(json, "kind", &wrong);
	} else {
		kind = req->params[1];
	}
	if (!kind || (strcmp(kind, "agree") && strcmp(kind, "thanks"))) {
		render_json_error(res, 400, "kind must be \"agree\" or \"thanks\"");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	int64_t thread_id = 0;
	bool removed = false;
	struct disc_thread t;
	struct db_stmt *st = db_prepare(c, "SELECT thread_id, CASE WHEN deleted_at IS NULL AND "
	                                   "hidden_at IS NULL THEN 0 ELSE 1 END FROM posts WHERE "
	                                   "id = $1");
	int64_t post_id = api_parse_id(req->params[0]);
	if (!st)
		goto fail;
	db_bind_int(st, 1, post_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		thread_id = db_col_int(st, 0);
		removed = db_col_int(st, 1) != 0;
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	rc = thread_id ? disc_load_thread(c, viewer, thread_id, &t) : 0;
	if (rc < 0)
		goto fail;
	if (!rc) {
		render_json_error(res, 404, "there is no such post");
		goto done;
	}
	/* The form's rule (posts.c): only on a standing post, and only by those who write. */
	if (removed || !policy_may_write(viewer)) {
		render_json_error(res, 403,
		                  removed ? "nobody reacts to a removed post"
		                          : "you may not react to posts");
		goto done;
	}
	long long agree, thanks;
	if (disc_react(c, post_id, kind, viewer->person_id,
	               add ? DISC_REACT_GIVE : DISC_REACT_TAKE_BACK, &agree, &thanks))
		goto fail;
	render_json(res, 200,
	            json_pack("{s:I, s:{s:I, s:I}}", "post_id", (json_int_t)post_id, "reactions",
	                      "agree", (json_int_t)agree, "thanks", (json_int_t)thanks));
	goto done;
fail:
	db_failed(req, res, c);
done:
	db_release(c);
}

void discussions_api_react(struct http_request *req, struct http_response *res)
{
	react(req, res, true);
}

void discussions_api_unreact(struct http_request *req, struct http_response *res)
{
	react(req, res, false);
}

/* ------------------------------------------------------------ search */

void discussions_api_search(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct app *app = req->app;
	const char *q = http_query(req, "q"), *author = http_query(req, "author");
	const char *space = http_query(req, "space");
	struct search_filter f = {.q = q,
	                          .author = author ? author : "",
	                          .from = INT64_MIN,
	                          .to = INT64_MAX,
	                          .page = page_of(req)};
	struct buf probe;
	buf_init(&probe, 8 * SEARCH_MAX_QUERY_BYTES + 64);
	int words = listing_text_ok(q, SEARCH_MAX_QUERY_BYTES) ? search_fts5_query(q, &probe) : -2;
	buf_free(&probe);
	if (words == -2 || words == 0) {
		render_json_error(
		    res, 400, "q must be the words to find: plain text, 200 characters or fewer");
		return;
	}
	if (words < 0) {
		render_json_error(res, 400, "q may have at most 20 words");
		return;
	}
	if (!listing_text_ok(author, LIMIT_NAME_BYTES)) {
		render_json_error(res, 400,
		                  "author must be part of a name, 200 characters or fewer");
		return;
	}
	if (!f.page || f.page > SEARCH_MAX_PAGE) {
		render_json_error(res, 400, "page must be a whole number from 1 to 50");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		db_failed(req, res, NULL);
		return;
	}
	if (space && *space) {
		struct disc_space s;
		int rc = disc_load_space(c, viewer, api_parse_id(space), &s);
		if (rc < 0) {
			db_failed(req, res, c);
			db_release(c);
			return;
		}
		if (!rc) {
			/* One the holder may not see is as unknown as one that does not exist. */
			render_json_error(res, 400, "space must be the id of a space you can see");
			db_release(c);
			return;
		}
		f.space_id = s.id;
	}
	struct search_result *results = xcalloc(SEARCH_PER_PAGE, sizeof *results);
	size_t n = 0;
	bool more = false;
	search_catch_up(c, req->id);
	int rc = search_run(c, viewer, &f, results, SEARCH_PER_PAGE, &n, &more);
	if (rc == DB_ERR_TIMEOUT)
		render_json_error(res, 503, SEARCH_TOO_BROAD);
	if (rc) {
		if (rc != DB_ERR_TIMEOUT)
			db_failed(req, res, c);
		db_release(c);
		free(results);
		return;
	}
	db_release(c);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct search_result *r = &results[i];
		char url[LIMIT_CONFIG_VALUE_BYTES + 96];
		snprintf(url, sizeof url, "%s%s", app->config->base_url, r->href);
		json_array_append_new(
		    list, json_pack("{s:I, s:I, s:s, s:{s:I, s:s}, s:s, s:o, s:s, s:s}", "post_id",
		                    (json_int_t)r->post_id, "thread_id", (json_int_t)r->thread_id,
		                    "thread_title", r->title, "space", "id",
		                    (json_int_t)r->space_id, "name", r->space, "author", r->author,
		                    "created_at", json_time(r->created_at), "snippet_html",
		                    r->snippet.html, "url", url));
		search_result_free(r);
	}
	free(results);
	render_json(res, 200,
	            json_pack("{s:o, s:o}", "results", list, "next_page",
	                      more ? json_integer(f.page + 1) : json_null()));
}
