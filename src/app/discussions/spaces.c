/*
 * spaces.c — the list of spaces with unread counts, a space's threads, and the
 * executive's forms to create, change and order spaces (see discussions.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/discussions/discussions.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"

static void render(struct http_request *req, struct http_response *res, const char *title,
                   struct buf *main)
{
	page_render(req, res, title, main->data);
	buf_free(main);
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* ------------------------------------------------------------ the list of spaces */

void discussions_index(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_index_view v = {0};
	v.spaces = xcalloc(DISCUSSIONS_MAX_SPACES, sizeof *v.spaces);
	v.may_manage = policy_may_manage_spaces(viewer);
	v.may_see_queue = policy_may_see_question_queue(viewer);
	v.csrf = access_csrf(req, res);
	const char *notice = http_query(req, "notice");
	if (notice && !strcmp(notice, "created"))
		v.notice = "The space has been created";
	else if (notice && !strcmp(notice, "changed"))
		v.notice = "The space has been changed";
	/* Unread: threads whose newest post is newer than the last one this person read. */
	struct db_stmt *st = db_prepare(
	    c, "SELECT s.id, s.name, s.description, s.visibility, g.name, (SELECT count(*) FROM "
	       "threads t WHERE t.space_id = s.id), (SELECT count(*) FROM threads t LEFT JOIN "
	       "thread_reads r ON r.thread_id = t.id AND r.person_id = $1 WHERE t.space_id = s.id "
	       "AND t.last_post_id > COALESCE(r.last_read_post_id, 0)) FROM spaces s LEFT JOIN "
	       "discussion_groups g ON g.id = s.group_id WHERE " DISCUSSIONS_VISIBLE_SQL
	       " ORDER BY s.position, s.id LIMIT 100");
	int rc = DB_ERR;
	if (st) {
		db_bind_int(st, 1, viewer->person_id);
		db_bind_text(st, 2, policy_role_name(viewer->role));
		while ((rc = db_step(st)) == DB_ROW && v.n < DISCUSSIONS_MAX_SPACES) {
			struct disc_space *s = &v.spaces[v.n++];
			s->id = db_col_int(st, 0);
			copy(s->name, sizeof s->name, db_col_text(st, 1));
			copy(s->description, sizeof s->description, db_col_text(st, 2));
			copy(s->visibility, sizeof s->visibility, db_col_text(st, 3));
			copy(s->group_name, sizeof s->group_name, db_col_text(st, 4));
			s->threads = db_col_int(st, 5);
			s->unread_threads = db_col_int(st, 6);
		}
		db_reset(st);
	}
	if (rc >= 0 && v.may_see_queue) {
		st = db_prepare(c, "SELECT count(*) FROM threads WHERE question = 1 AND "
		                   "official_post_id IS NULL");
		rc = st ? db_step(st) : DB_ERR;
		if (rc == DB_ROW)
			v.awaiting = db_col_int(st, 0);
		if (st)
			db_reset(st);
	}
	if (rc < 0) {
		log_error("request %s: cannot list spaces: %s", req->id, db_errmsg(c));
		res->status = 500;
	}
	db_release(c);
	if (rc >= 0) {
		char audiences[DISCUSSIONS_MAX_SPACES][LIMIT_NAME_BYTES + 16];
		for (size_t i = 0; i < v.n; i++) {
			disc_audience(v.spaces[i].visibility, v.spaces[i].group_name, audiences[i],
			              sizeof audiences[i]);
			v.spaces[i].audience = audiences[i];
		}
		struct buf main;
		buf_init(&main, LIMIT_PAGE_BYTES);
		tpl_discussions_index(&main, &v);
		render(req, res, "Discussions", &main);
	}
	free(v.spaces);
}

/* ------------------------------------------------------------ a space's threads */

void discussions_space_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	long long page = listing_page_parse(http_query(req, "page"));
	if (page < 0) {
		res->status = 400;
		res->reason = "The page number in the web address must be a whole number from 1 to "
		              "10000. Go back to the first page of the space.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_space_view *v = xcalloc(1, sizeof *v);
	int rc = disc_load_space(c, viewer, http_parse_id(req->params[0]), &v->space);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	v->may_start = policy_may_post(viewer, true, false);
	v->may_manage = policy_may_manage_spaces(viewer);
	const char *notice = http_query(req, "notice");
	if (notice && !strcmp(notice, "moved"))
		v->notice = "The thread has been moved here";
	/* The page of threads first (index threads_space_order, newest first), then
	 * the author and the unread count for those rows only: a space holds
	 * thousands of threads, and PostgreSQL would otherwise count unread posts
	 * for every one of them before sorting. A thread never opened shows "New"
	 * without a count, so its posts are not counted (all 5,000 of a long one). */
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT t.id, t.title, p.name, t.last_post_at, t.post_count, t.pinned, t.locked, "
	    "t.question, CASE WHEN t.official_post_id IS NULL THEN 0 ELSE 1 END, "
	    "CASE WHEN r.person_id IS NULL THEN 1 ELSE 0 END, CASE WHEN r.person_id IS NULL THEN 0 "
	    "ELSE (SELECT count(*) FROM posts x WHERE x.thread_id = t.id AND x.id > "
	    "r.last_read_post_id) END FROM (SELECT "
	    "* FROM threads WHERE space_id = $1 ORDER BY pinned DESC, last_post_at DESC, id DESC "
	    "LIMIT $3 OFFSET $4) t JOIN people p ON p.id = t.author_id LEFT JOIN thread_reads r "
	    "ON r.thread_id = t.id AND r.person_id = $2 ORDER BY t.pinned DESC, t.last_post_at "
	    "DESC, t.id DESC");
	if (!st) {
		rc = DB_ERR;
		goto fail;
	}
	db_bind_int(st, 1, v->space.id);
	db_bind_int(st, 2, viewer->person_id);
	db_bind_int(st, 3, DISCUSSIONS_THREADS_PER_PAGE + 1);
	db_bind_int(st, 4, (page - 1) * DISCUSSIONS_THREADS_PER_PAGE);
	bool more = false;
	while ((rc = db_step(st)) == DB_ROW) {
		if (v->n == DISCUSSIONS_THREADS_PER_PAGE) {
			more = true;
			continue;
		}
		struct disc_thread_row *t = &v->rows[v->n++];
		t->id = db_col_int(st, 0);
		copy(t->title, sizeof t->title, db_col_text(st, 1));
		copy(t->author, sizeof t->author, db_col_text(st, 2));
		time_format_date_time(db_col_int(st, 3), t->last_post);
		t->posts = db_col_int(st, 4);
		t->pinned = db_col_int(st, 5) != 0;
		t->locked = db_col_int(st, 6) != 0;
		t->question = db_col_int(st, 7) != 0;
		t->answered = db_col_int(st, 8) != 0;
		t->never_read = db_col_int(st, 9) != 0;
		t->unread = db_col_int(st, 10);
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	db_release(c);
	c = NULL;
	char base[64];
	snprintf(base, sizeof base, "/discussions/spaces/%lld", (long long)v->space.id);
	listing_pager_init(&v->pager, base, "", page, more);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_space(&main, v);
	render(req, res, v->space.name, &main);
	listing_pager_free(&v->pager);
	goto done;
fail:
	log_error("request %s: cannot list threads: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

/* ------------------------------------------------------------ creating and changing spaces */

static int load_groups(struct db_conn *c, struct disc_space_form_view *v)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT id, name FROM discussion_groups ORDER BY name LIMIT 100");
	if (!st)
		return DB_ERR;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && v->n_groups < DISCUSSIONS_MAX_GROUPS) {
		v->groups[v->n_groups].id = db_col_int(st, 0);
		copy(v->groups[v->n_groups].name, sizeof v->groups[0].name, db_col_text(st, 1));
		v->n_groups++;
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

static void show_space_form(struct http_request *req, struct http_response *res,
                            struct disc_space_form_view *v)
{
	v->csrf = access_csrf(req, res);
	struct buf main;
	char title[LIMIT_NAME_BYTES + 16];
	snprintf(title, sizeof title, "%s%s", v->errors.n ? "Error: " : "", v->heading);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_space_form(&main, v);
	render(req, res, title, &main);
}

/* Fills v with the groups and the defaults of a new space. 0 or < 0. */
static int space_form(struct db_conn *c, struct disc_space_form_view *v)
{
	v->name = v->description = "";
	v->visibility = "members";
	v->action = "/discussions/spaces";
	v->heading = "Create a space";
	v->button = "Create the space";
	return load_groups(c, v);
}

void discussions_space_new_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_spaces(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_space_form_view *v = xcalloc(1, sizeof *v);
	int rc = space_form(c, v);
	db_release(c);
	if (rc < 0)
		res->status = 500;
	else
		show_space_form(req, res, v);
	free(v);
}

/* The visibility values a form may send. */
static const char *visibility_value(const char *s)
{
	static const char *const values[] = {"members", "executive", "group", "partners"};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
		if (s && !strcmp(s, values[i]))
			return values[i];
	return NULL;
}

/* Reads and checks the space form into v. */
static void read_space_form(const struct form *f, struct disc_space_form_view *v)
{
	const char *name = form_get(f, "name"), *description = form_get(f, "description");
	const char *visibility = form_get(f, "visibility");
	v->name = name ? name : "";
	v->description = description ? description : "";
	v->visibility = visibility_value(visibility);
	v->group_id = http_parse_id(form_get(f, "group"));
	if (disc_blank(v->name))
		form_error_add(&v->errors, "name", "Enter a name for the space");
	else if (strlen(v->name) > LIMIT_NAME_BYTES || strchr(v->name, '\n'))
		form_error_add(&v->errors, "name",
		               "The name must be 200 characters or fewer, on one line");
	if (strlen(v->description) > LIMIT_TEXT_BYTES)
		form_error_add(&v->errors, "description",
		               "The description must be 4,000 characters or fewer");
	if (!v->visibility) {
		form_error_add(&v->errors, "visibility", "Select who can see the space");
		v->visibility = "";
	} else if (!strcmp(v->visibility, "group")) {
		bool known = false;
		for (size_t i = 0; i < v->n_groups; i++)
			known |= v->groups[i].id == v->group_id;
		if (!known)
			form_error_add(&v->errors, "group",
			               "Select the group that can see the space");
	}
}

void discussions_space_create(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_manage_spaces(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_space_form_view *v = xcalloc(1, sizeof *v);
	if (space_form(c, v) < 0)
		goto fail;
	read_space_form(access_form(req), v);
	if (v->errors.n) {
		db_release(c);
		c = NULL;
		res->status = 400;
		show_space_form(req, res, v);
		goto done;
	}
	int64_t now = (int64_t)time(NULL), id = 0;
	if (db_begin(c))
		goto fail;
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO spaces (name, description, visibility, group_id, position, created_by, "
	       "created_at, updated_at) VALUES ($1, $2, $3, $4, (SELECT COALESCE(max(position), 0) "
	       "+ 1 FROM spaces), $5, $6, $6) RETURNING id");
	if (!st)
		goto fail;
	db_bind_text(st, 1, v->name);
	db_bind_text(st, 2, v->description);
	db_bind_text(st, 3, v->visibility);
	if (!strcmp(v->visibility, "group"))
		db_bind_int(st, 4, v->group_id);
	else
		db_bind_null(st, 4);
	db_bind_int(st, 5, viewer->person_id);
	db_bind_int(st, 6, now);
	int rc = db_step(st);
	if (rc == DB_ROW)
		id = db_col_int(st, 0);
	db_reset(st);
	char subject[48];
	snprintf(subject, sizeof subject, "space:%lld", (long long)id);
	if (rc != DB_ROW || disc_audit(c, req, "discussion-space-created", subject, v->name) ||
	    db_commit(c))
		goto fail;
	http_redirect(res, "/discussions?notice=created");
	goto done;
fail:
	log_error("request %s: cannot create a space: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v);
}

/* Loads the space of req->params[0] for its form: 1, 0 not found, < 0 error. */
static int load_space_form(struct db_conn *c, struct http_request *req,
                           struct disc_space_form_view *v, struct disc_space *s, char *action,
                           size_t action_len)
{
	int rc = space_form(c, v);
	if (rc < 0)
		return rc;
	rc = disc_load_space(c, access_viewer(req), http_parse_id(req->params[0]), s);
	if (rc <= 0)
		return rc;
	snprintf(action, action_len, "/discussions/spaces/%lld/edit", (long long)s->id);
	v->action = action;
	v->heading = "Change a space";
	v->button = "Save the changes";
	v->name = s->name;
	v->description = s->description;
	v->visibility = s->visibility;
	v->group_id = s->group_id;
	return 1;
}

void discussions_space_edit_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_spaces(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_space_form_view *v = xcalloc(1, sizeof *v);
	struct disc_space *s = xcalloc(1, sizeof *s);
	char action[64];
	int rc = load_space_form(c, req, v, s, action, sizeof action);
	db_release(c);
	if (rc <= 0)
		res->status = rc < 0 ? 500 : 404;
	else
		show_space_form(req, res, v);
	free(s);
	free(v);
}

void discussions_space_edit(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_spaces(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_space_form_view *v = xcalloc(1, sizeof *v);
	struct disc_space *s = xcalloc(1, sizeof *s);
	char action[64];
	int rc = load_space_form(c, req, v, s, action, sizeof action);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	v->errors.n = 0;
	read_space_form(access_form(req), v);
	if (v->errors.n) {
		db_release(c);
		c = NULL;
		res->status = 400;
		show_space_form(req, res, v);
		goto done;
	}
	if (db_begin(c))
		goto fail;
	struct db_stmt *st = db_prepare(c, "UPDATE spaces SET name = $2, description = $3, "
	                                   "visibility = $4, group_id = $5, updated_at = $6 "
	                                   "WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, s->id);
	db_bind_text(st, 2, v->name);
	db_bind_text(st, 3, v->description);
	db_bind_text(st, 4, v->visibility);
	if (!strcmp(v->visibility, "group"))
		db_bind_int(st, 5, v->group_id);
	else
		db_bind_null(st, 5);
	db_bind_int(st, 6, (int64_t)time(NULL));
	rc = db_step(st);
	db_reset(st);
	char subject[48], detail[LIMIT_NAME_BYTES * 2 + 64];
	snprintf(subject, sizeof subject, "space:%lld", (long long)s->id);
	snprintf(detail, sizeof detail, "%s (%s) -> %s (%s)", s->name, s->visibility, v->name,
	         v->visibility);
	if (rc != DB_DONE || disc_audit(c, req, "discussion-space-changed", subject, detail) ||
	    db_commit(c))
		goto fail;
	http_redirect(res, "/discussions?notice=changed");
	goto done;
fail:
	log_error("request %s: cannot change a space: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(s);
	free(v);
}

void discussions_space_position(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_spaces(access_viewer(req))) {
		res->status = 403;
		return;
	}
	const char *direction = form_get(access_form(req), "direction");
	int step = direction && !strcmp(direction, "up")     ? -1
	           : direction && !strcmp(direction, "down") ? 1
	                                                     : 0;
	int64_t id = http_parse_id(req->params[0]);
	if (!step) {
		res->status = 400;
		res->reason = "Choose to move the space up or down.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int64_t *ids = xcalloc(DISCUSSIONS_MAX_SPACES * 10, sizeof *ids);
	size_t n = 0, at = (size_t)-1;
	int rc = db_begin(c);
	struct db_stmt *st =
	    rc ? NULL : db_prepare(c, "SELECT id FROM spaces ORDER BY position, id");
	if (!st)
		goto fail;
	while ((rc = db_step(st)) == DB_ROW && n < DISCUSSIONS_MAX_SPACES * 10) {
		ids[n] = db_col_int(st, 0);
		if (ids[n] == id)
			at = n;
		n++;
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (at == (size_t)-1) {
		db_rollback(c);
		res->status = 404;
		goto done;
	}
	size_t to = (size_t)((long)at + step);
	if (to < n) {
		int64_t t = ids[at];
		ids[at] = ids[to];
		ids[to] = t;
	}
	/* Renumber all: positions stay 1..n whatever happened before. */
	for (size_t i = 0; i < n; i++) {
		st = db_prepare(c, "UPDATE spaces SET position = $2 WHERE id = $1");
		if (!st)
			goto fail;
		db_bind_int(st, 1, ids[i]);
		db_bind_int(st, 2, (int64_t)i + 1);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			goto fail;
	}
	char subject[48];
	snprintf(subject, sizeof subject, "space:%lld", (long long)id);
	if (disc_audit(c, req, "discussion-space-moved", subject, step < 0 ? "up" : "down") ||
	    db_commit(c))
		goto fail;
	http_redirect(res, "/discussions");
	goto done;
fail:
	log_error("request %s: cannot order spaces: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(ids);
}
