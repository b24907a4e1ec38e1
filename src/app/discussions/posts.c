/*
 * posts.c — what happens to one post: its author edits it (the earlier text is
 * kept and shown as its history) or deletes it (a tombstone stays), a moderator
 * hides it with a reason, people react to it, and the executive marks it as a
 * thread's official response (see discussions.h). Every change but a reaction
 * is written to the audit trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/discussions/discussions.h"
#include "app/notifications/notifications.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"
#include "mail/mail.h"

static void render(struct http_request *req, struct http_response *res, const char *title,
                   struct buf *main)
{
	page_render(req, res, title, main->data);
	buf_free(main);
}

/* A post and its thread, loaded only when the viewer sees the thread. */
struct post {
	int64_t id, author_id, created_at, edited_at;
	bool deleted, hidden;
	enum role author_role;
	char author[LIMIT_NAME_BYTES + 1];
	char *source, *html; /* owned */
	struct disc_thread t;
};

static void post_free(struct post *p)
{
	free(p->source);
	free(p->html);
}

/* Loads post req->params[0]: 1, 0 (none, or the viewer cannot see it), < 0 error. */
static int load_post(struct db_conn *c, struct http_request *req, struct post *p)
{
	memset(p, 0, sizeof *p);
	int64_t id = http_parse_id(req->params[0]);
	if (!id)
		return 0;
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT p.id, p.thread_id, p.author_id, a.name, a.role, p.created_at, "
	    "COALESCE(p.edited_at, 0), CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END, CASE "
	    "WHEN p.hidden_at IS NULL THEN 0 ELSE 1 END, p.body_source, p.body_html FROM posts p "
	    "JOIN people a ON a.id = p.author_id WHERE p.id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	int64_t thread_id = 0;
	if (rc == DB_ROW) {
		p->id = db_col_int(st, 0);
		thread_id = db_col_int(st, 1);
		p->author_id = db_col_int(st, 2);
		snprintf(p->author, sizeof p->author, "%s", db_col_text(st, 3));
		int role = policy_role_from_name(db_col_text(st, 4));
		p->author_role = role < 0 ? ROLE_MEMBER : (enum role)role;
		p->created_at = db_col_int(st, 5);
		p->edited_at = db_col_int(st, 6);
		p->deleted = db_col_int(st, 7) != 0;
		p->hidden = db_col_int(st, 8) != 0;
		p->source = xstrdup(db_col_text(st, 9));
		p->html = xstrdup(db_col_text(st, 10));
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? 0 : rc;
	return disc_load_thread(c, access_viewer(req), thread_id, &p->t);
}

static int redirect_to(struct db_conn *c, struct http_response *res, const struct post *p,
                       const char *notice)
{
	long long page = 1;
	int rc = disc_page_of(c, p->t.id, p->id, &page);
	if (rc)
		return rc;
	char location[160];
	snprintf(location, sizeof location, "/discussions/threads/%lld?page=%lld%s%s#post-%lld",
	         (long long)p->t.id, page, notice ? "&notice=" : "", notice ? notice : "",
	         (long long)p->id);
	http_redirect(res, location);
	return 0;
}

static int exec_sql(struct db_conn *c, const char *sql, int64_t a, int64_t b, int64_t when,
                    const char *text)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, a);
	if (b >= 0)
		db_bind_int(st, 2, b);
	if (when >= 0)
		db_bind_int(st, 3, when);
	if (text)
		db_bind_text(st, 4, text);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

/* A removed post stops being its thread's official response, so that a question goes
 * back to the executive's queue until another response is marked. */
static int unofficial(struct db_conn *c, int64_t post_id)
{
	return exec_sql(c,
	                "UPDATE threads SET official_post_id = NULL, answered_at = NULL WHERE "
	                "official_post_id = $1",
	                post_id, -1, -1, NULL);
}

/* Ends a handler that acquires c, loads post p and may answer 404 or 403. */
#define BEGIN_POST(check)                                                                          \
	struct app *app = req->app;                                                                \
	const struct viewer *viewer = access_viewer(req);                                          \
	(void)viewer;                                                                              \
	struct db_conn *c = db_acquire(app->db);                                                   \
	if (!c) {                                                                                  \
		res->status = 503;                                                                 \
		return;                                                                            \
	}                                                                                          \
	struct post p;                                                                             \
	int rc = load_post(c, req, &p);                                                            \
	if (rc <= 0) {                                                                             \
		res->status = rc < 0 ? 500 : 404;                                                  \
		goto done;                                                                         \
	}                                                                                          \
	if (!(check)) {                                                                            \
		res->status = 403;                                                                 \
		goto done;                                                                         \
	}

/* ------------------------------------------------------------ editing */

static void show_edit(struct http_request *req, struct http_response *res, struct post *p,
                      struct disc_post_edit_view *v)
{
	v->csrf = access_csrf(req, res);
	v->post_id = p->id;
	v->thread_id = p->t.id;
	snprintf(v->title, sizeof v->title, "%s", p->t.title);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_post_edit(&main, v);
	render(req, res, v->errors.n ? "Error: Edit your post" : "Edit your post", &main);
}

void discussions_post_edit_page(struct http_request *req, struct http_response *res)
{
	BEGIN_POST(policy_may_edit_post(viewer, p.author_id, p.deleted || p.hidden, p.t.locked))
	db_release(c);
	c = NULL;
	struct disc_post_edit_view *v = xcalloc(1, sizeof *v);
	v->body = p.source;
	show_edit(req, res, &p, v);
	free(v);
done:
	db_release(c);
	post_free(&p);
}

void discussions_post_edit(struct http_request *req, struct http_response *res)
{
	struct disc_body body = {0};
	struct disc_post_edit_view *v = xcalloc(1, sizeof *v);
	BEGIN_POST(policy_may_edit_post(viewer, p.author_id, p.deleted || p.hidden, p.t.locked))
	const char *text = form_get(access_form(req), "body");
	char problem[300];
	v->body = text ? text : "";
	rc = disc_body_prepare(c, v->body, "body", &v->errors, problem, sizeof problem, &body);
	if (rc < 0)
		goto fail;
	if (v->errors.n) {
		db_release(c);
		c = NULL;
		res->status = 400;
		show_edit(req, res, &p, v);
		goto done;
	}
	int64_t now = (int64_t)time(NULL);
	if (db_begin(c))
		goto fail;
	struct db_stmt *st = db_prepare(c, "INSERT INTO post_revisions (post_id, body_source, "
	                                   "body_html, written_at, replaced_at) VALUES ($1, $2, "
	                                   "$3, $4, $5)");
	if (!st)
		goto fail;
	db_bind_int(st, 1, p.id);
	db_bind_text(st, 2, p.source);
	db_bind_text(st, 3, p.html);
	db_bind_int(st, 4, p.edited_at ? p.edited_at : p.created_at);
	db_bind_int(st, 5, now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	st = db_prepare(c, "UPDATE posts SET body_source = $2, body_html = $3, edited_at = $4 "
	                   "WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, p.id);
	db_bind_text(st, 2, body.source);
	db_bind_text(st, 3, body.html);
	db_bind_int(st, 4, now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE ||
	    exec_sql(c, "DELETE FROM post_mentions WHERE post_id = $1", p.id, -1, -1, NULL))
		goto fail;
	for (size_t i = 0; i < body.n_mentions; i++)
		if (exec_sql(c, "INSERT INTO post_mentions (post_id, person_id) VALUES ($1, $2)",
		             p.id, body.mentions[i], -1, NULL))
			goto fail;
	char subject[48];
	snprintf(subject, sizeof subject, "post:%lld", (long long)p.id);
	if (disc_audit(c, req, "discussion-post-edited", subject, p.t.title) || db_commit(c) ||
	    redirect_to(c, res, &p, "edited"))
		goto fail;
	goto done;
fail:
	log_error("request %s: cannot change a post: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	post_free(&p);
	disc_body_free(&body);
	free(v);
}

/* ------------------------------------------------------------ history */

void discussions_post_history(struct http_request *req, struct http_response *res)
{
	/* A removed post's earlier versions are as gone as its text. */
	BEGIN_POST(true)
	if (p.deleted || p.hidden) {
		res->status = 404;
		goto done;
	}
	struct disc_history_view *v = xcalloc(1, sizeof *v);
	v->post_id = p.id;
	v->thread_id = p.t.id;
	snprintf(v->title, sizeof v->title, "%s", p.t.title);
	snprintf(v->author, sizeof v->author, "%s", p.author);
	struct disc_revision_row *cur = &v->rows[v->n++];
	cur->current = true;
	time_format_date_time(p.edited_at ? p.edited_at : p.created_at, cur->when);
	cur->body.html = xstrdup(p.html);
	struct db_stmt *st = db_prepare(c, "SELECT written_at, body_html FROM post_revisions WHERE "
	                                   "post_id = $1 ORDER BY id DESC LIMIT 50");
	rc = st ? DB_OK : DB_ERR;
	if (st) {
		db_bind_int(st, 1, p.id);
		while ((rc = db_step(st)) == DB_ROW && v->n < DISCUSSIONS_MAX_REVISIONS + 1) {
			struct disc_revision_row *r = &v->rows[v->n++];
			time_format_date_time(db_col_int(st, 0), r->when);
			r->body.html = xstrdup(db_col_text(st, 1));
		}
		db_reset(st);
	}
	db_release(c);
	c = NULL;
	if (rc < 0) {
		res->status = 500;
	} else {
		struct buf main;
		buf_init(&main, LIMIT_PAGE_BYTES);
		tpl_discussions_post_history(&main, v);
		render(req, res, "Earlier versions of a post", &main);
	}
	for (size_t i = 0; i < v->n; i++)
		free((char *)v->rows[i].body.html);
	free(v);
done:
	db_release(c);
	post_free(&p);
}

/* ------------------------------------------------------------ deleting and hiding */

void discussions_post_delete(struct http_request *req, struct http_response *res)
{
	BEGIN_POST(policy_may_delete_post(viewer, p.author_id, p.deleted || p.hidden))
	char subject[48];
	snprintf(subject, sizeof subject, "post:%lld", (long long)p.id);
	if (db_begin(c) ||
	    exec_sql(c, "UPDATE posts SET deleted_at = $2 WHERE id = $1", p.id, (int64_t)time(NULL),
	             -1, NULL) ||
	    unofficial(c, p.id) ||
	    disc_audit(c, req, "discussion-post-deleted", subject, p.t.title) || db_commit(c) ||
	    redirect_to(c, res, &p, "deleted")) {
		log_error("request %s: cannot delete a post: %s", req->id, db_errmsg(c));
		res->status = 500;
	}
done:
	db_release(c);
	post_free(&p);
}

static void show_hide(struct http_request *req, struct http_response *res, struct post *p,
                      struct disc_hide_view *v)
{
	v->csrf = access_csrf(req, res);
	v->post_id = p->id;
	v->thread_id = p->t.id;
	snprintf(v->title, sizeof v->title, "%s", p->t.title);
	snprintf(v->author, sizeof v->author, "%s", p->author);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_post_hide(&main, v);
	render(req, res, v->errors.n ? "Error: Hide a post" : "Hide a post", &main);
}

void discussions_post_hide_page(struct http_request *req, struct http_response *res)
{
	BEGIN_POST(policy_may_moderate_discussions(viewer) && !p.deleted && !p.hidden)
	db_release(c);
	c = NULL;
	struct disc_hide_view *v = xcalloc(1, sizeof *v);
	v->reason = "";
	show_hide(req, res, &p, v);
	free(v);
done:
	db_release(c);
	post_free(&p);
}

void discussions_post_hide(struct http_request *req, struct http_response *res)
{
	struct disc_hide_view *v = xcalloc(1, sizeof *v);
	BEGIN_POST(policy_may_moderate_discussions(viewer) && !p.deleted && !p.hidden)
	const char *reason = form_get(access_form(req), "reason");
	v->reason = reason ? reason : "";
	if (!*v->reason)
		form_error_add(&v->errors, "reason",
		               "Enter the reason for hiding the post: everyone who sees the thread "
		               "will read it");
	else if (strlen(v->reason) > DISCUSSIONS_MAX_REASON_BYTES)
		form_error_add(&v->errors, "reason", "The reason must be 500 characters or fewer");
	if (v->errors.n) {
		db_release(c);
		c = NULL;
		res->status = 400;
		show_hide(req, res, &p, v);
		goto done;
	}
	char subject[48];
	snprintf(subject, sizeof subject, "post:%lld", (long long)p.id);
	if (db_begin(c) ||
	    exec_sql(
	        c,
	        "UPDATE posts SET hidden_at = $3, hidden_by = $2, hidden_reason = $4 WHERE id = $1",
	        p.id, viewer->person_id, (int64_t)time(NULL), v->reason) ||
	    unofficial(c, p.id) ||
	    disc_audit(c, req, "discussion-post-hidden", subject, v->reason) || db_commit(c) ||
	    redirect_to(c, res, &p, "hidden")) {
		log_error("request %s: cannot hide a post: %s", req->id, db_errmsg(c));
		res->status = 500;
	}
done:
	db_release(c);
	post_free(&p);
	free(v);
}

/* ------------------------------------------------------------ reactions and official responses */

void discussions_post_react(struct http_request *req, struct http_response *res)
{
	BEGIN_POST(policy_may_write(viewer) && !p.deleted && !p.hidden)
	const char *kind = form_get(access_form(req), "kind");
	if (!kind || (strcmp(kind, "agree") && strcmp(kind, "thanks"))) {
		res->status = 400;
		res->reason = "Choose Agree or Thanks.";
		goto done;
	}
	/* A toggle: a second press takes the reaction back. */
	long long agree, thanks;
	if (disc_react(c, p.id, kind, viewer->person_id, DISC_REACT_TOGGLE, &agree, &thanks) ||
	    redirect_to(c, res, &p, NULL))
		goto fail;
	goto done;
fail:
	log_error("request %s: cannot react to a post: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	post_free(&p);
}

void discussions_post_official(struct http_request *req, struct http_response *res)
{
	BEGIN_POST(policy_may_mark_official(viewer, p.author_role) && !p.deleted && !p.hidden)
	char subject[48];
	snprintf(subject, sizeof subject, "thread:%lld", (long long)p.t.id);
	/* The notices go in the same transaction: one commit, one flush to disk. */
	bool failed = db_begin(c) ||
	              exec_sql(c,
	                       "UPDATE threads SET official_post_id = $2, answered_at = $3 WHERE "
	                       "id = $1",
	                       p.t.id, p.id, (int64_t)time(NULL), NULL) ||
	              disc_audit(c, req, "discussion-official-response", subject, p.t.title);
	bool mailed = !failed && notifications_event(c, app->config, NOTIFY_OFFICIAL, p.id);
	if (failed || db_commit(c) || redirect_to(c, res, &p, "official")) {
		log_error("request %s: cannot mark an official response: %s", req->id,
		          db_errmsg(c));
		res->status = 500;
	} else if (mailed) {
		mail_wake();
	}
done:
	db_release(c);
	post_free(&p);
}
