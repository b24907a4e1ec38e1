/*
 * threads.c — starting a thread, reading one (paged, opening at the first
 * unread post), replying and quoting, the moderators' pin, lock and move, and
 * the executive's queue of questions awaiting a response (see discussions.h).
 *
 * A thread page costs a fixed number of indexed queries whatever its length:
 * the thread, the read mark, one page of posts (with their counts of reactions),
 * the viewer's own reactions among them (if they have any), their files (if the
 * thread has any), the official response, the spaces for "move" (moderators
 * only), and the new read mark.
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

/* Copies src into dst of len bytes, cut short if need be. By hand, not snprintf: a thread
 * page copies a name for each of its 50 posts, and snprintf's format parsing cost more than
 * the copy. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static void redirect_to_post(struct http_response *res, int64_t thread_id, long long page,
                             int64_t post_id, const char *notice)
{
	char location[160];
	snprintf(location, sizeof location, "/discussions/threads/%lld?page=%lld%s%s#post-%lld",
	         (long long)thread_id, page, notice ? "&notice=" : "", notice ? notice : "",
	         (long long)post_id);
	http_redirect(res, location);
}

/* ------------------------------------------------------------ starting a thread */

static void show_new_thread(struct http_request *req, struct http_response *res,
                            struct disc_thread_new_view *v)
{
	v->csrf = access_csrf(req, res);
	v->may_ask = policy_may_ask_executive(access_viewer(req));
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_thread_new(&main, v);
	render(req, res, v->errors.n ? "Error: Start a thread" : "Start a thread", &main);
}

void discussions_thread_new_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_thread_new_view *v = xcalloc(1, sizeof *v);
	int rc = disc_load_space(c, viewer, http_parse_id(req->params[0]), &v->space);
	db_release(c);
	if (rc <= 0)
		res->status = rc < 0 ? 500 : 404;
	else if (!policy_may_post(viewer, true, false))
		res->status = 403;
	else {
		v->title = v->body = "";
		show_new_thread(req, res, v);
	}
	free(v);
}

void discussions_thread_create(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_thread_new_view *v = xcalloc(1, sizeof *v);
	struct disc_body body = {0};
	char problem[300];
	int rc = disc_load_space(c, viewer, http_parse_id(req->params[0]), &v->space);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	if (!policy_may_post(viewer, true, false)) {
		res->status = 403;
		goto done;
	}
	const char *title = form_get(f, "title"), *text = form_get(f, "body");
	v->title = title ? title : "";
	v->body = text ? text : "";
	v->question = form_get(f, "question") && policy_may_ask_executive(viewer);
	if (disc_blank(v->title))
		form_error_add(&v->errors, "title", "Enter a title for the thread");
	else if (strlen(v->title) > LIMIT_NAME_BYTES || strpbrk(v->title, "\r\n"))
		form_error_add(&v->errors, "title",
		               "The title must be 200 characters or fewer, on one line");
	rc = disc_body_prepare(c, v->body, "body", &v->errors, problem, sizeof problem, &body);
	if (rc < 0)
		goto fail;
	struct attach_set *files = &v->files;
	if (attach_collect(req, files, &v->errors) == 0 && files->n &&
	    !policy_may_attach(viewer, true, false)) {
		res->status = 403;
		goto done;
	}
	if (v->errors.n) {
		db_release(c);
		c = NULL;
		res->status = files->too_large ? 413 : 400;
		show_new_thread(req, res, v);
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
	db_bind_int(st, 1, v->space.id);
	db_bind_text(st, 2, v->title);
	db_bind_int(st, 3, viewer->person_id);
	db_bind_int(st, 4, now);
	db_bind_int(st, 5, v->question);
	rc = db_step(st);
	if (rc == DB_ROW)
		thread_id = db_col_int(st, 0);
	db_reset(st);
	/* The notices go in the post's transaction: one commit, one flush to disk. */
	if (rc != DB_ROW ||
	    disc_add_post(c, thread_id, v->space.id, viewer->person_id, &body, now, &post_id) ||
	    attach_store(c, thread_id, post_id, files, now))
		goto fail;
	bool mailed = notifications_event(c, app->config, NOTIFY_POST, post_id);
	if (db_commit(c))
		goto fail;
	if (mailed)
		mail_wake();
	redirect_to_post(res, thread_id, 1, post_id, NULL);
	goto done;
fail:
	log_error("request %s: cannot start a thread: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	disc_body_free(&body);
	free(v);
}

/* ------------------------------------------------------------ reading a thread */

static void free_thread_view(struct disc_thread_view *v)
{
	strpool_free(&v->text);
	free(v->posts);
	free(v->attachments);
	free(v->files);
	listing_pager_free(&v->pager);
	free(v);
}

#define POST_COLUMNS                                                                               \
	"SELECT p.id, p.author_id, a.name, a.role, p.created_at, CASE WHEN p.edited_at IS NULL "   \
	"THEN 0 ELSE 1 END, CASE WHEN p.deleted_at IS NULL THEN 0 ELSE 1 END, CASE WHEN "          \
	"p.hidden_at IS NULL THEN 0 ELSE 1 END, p.hidden_reason, p.body_html, p.agree_count, "     \
	"p.thanks_count FROM posts p JOIN people a ON a.id = p.author_id "

static void read_post(struct db_stmt *st, struct disc_post_row *p, struct strpool *text)
{
	p->id = db_col_int(st, 0);
	p->author_id = db_col_int(st, 1);
	copy(p->author, sizeof p->author, db_col_text(st, 2));
	int role = policy_role_from_name(db_col_text(st, 3));
	p->by_executive = role == ROLE_EXECUTIVE || role == ROLE_ADMINISTRATOR;
	time_format_date_time(db_col_int(st, 4), p->when);
	p->edited = db_col_int(st, 5) != 0;
	p->deleted = db_col_int(st, 6) != 0;
	p->hidden = db_col_int(st, 7) != 0;
	/* Only a hidden post shows its reason: no copy for the others. */
	p->hidden_reason =
	    p->hidden ? strpool_dup(text, db_col_text(st, 8) ? db_col_text(st, 8) : "") : NULL;
	/* A removed post's text never reaches the page, not even in its markup. */
	p->body.html = p->deleted || p->hidden ? "" : strpool_dup(text, db_col_text(st, 9));
	p->agree = db_col_int(st, 10);
	p->thanks = db_col_int(st, 11);
}

static void post_permissions(const struct viewer *viewer, const struct disc_thread_view *v,
                             struct disc_post_row *p)
{
	bool removed = p->deleted || p->hidden;
	p->may_edit = policy_may_edit_post(viewer, p->author_id, removed, v->t.locked);
	p->may_delete = policy_may_delete_post(viewer, p->author_id, removed);
	p->may_hide = v->moderator && !removed;
	p->may_mark_official =
	    !removed && p->id != v->t.official_post_id &&
	    policy_may_mark_official(viewer, p->by_executive ? ROLE_EXECUTIVE : ROLE_MEMBER);
	p->may_react = !removed && policy_may_write(viewer);
	p->may_quote = !removed && v->may_reply;
	p->official = p->id == v->t.official_post_id;
}

/* Loads page v->page of the thread, its reactions and official response, and marks it read. */
static int load_thread_page(struct db_conn *c, const struct viewer *viewer,
                            struct disc_thread_view *v, int64_t last_read)
{
	v->posts = xcalloc(DISCUSSIONS_POSTS_PER_PAGE, sizeof *v->posts);
	long long offset = (v->page - 1) * DISCUSSIONS_POSTS_PER_PAGE;
	struct db_stmt *st = db_prepare(c, disc_page_from_end(offset, v->t.post_count)
	                                       ? POST_COLUMNS "WHERE " DISCUSSIONS_PAGE_FROM_END_SQL
	                                       : POST_COLUMNS "WHERE " DISCUSSIONS_PAGE_SQL);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, v->t.id);
	db_bind_int(st, 2, DISCUSSIONS_POSTS_PER_PAGE);
	db_bind_int(st, 3, offset);
	int rc;
	bool marked = false;
	while ((rc = db_step(st)) == DB_ROW && v->n < DISCUSSIONS_POSTS_PER_PAGE) {
		struct disc_post_row *p = &v->posts[v->n];
		read_post(st, p, &v->text);
		p->number = (v->page - 1) * DISCUSSIONS_POSTS_PER_PAGE + (long long)v->n + 1;
		if (last_read && p->id > last_read && !marked)
			p->first_unread = marked = true;
		post_permissions(viewer, v, p);
		v->n++;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	/* The counts came with the posts; only the viewer's own reactions are looked up, and
	 * only if the page has any: one range of the viewer's (a person reacts to few posts,
	 * so the range's reactions in other threads are few), matched to the page's posts. */
	long long reactions = 0;
	for (size_t i = 0; i < v->n; i++)
		reactions += v->posts[i].agree + v->posts[i].thanks;
	if (reactions && viewer->person_id) {
		st = db_prepare(c, "SELECT post_id, kind FROM post_reactions WHERE person_id = $1 "
		                   "AND post_id BETWEEN $2 AND $3");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, viewer->person_id);
		db_bind_int(st, 2, v->posts[0].id);
		db_bind_int(st, 3, v->posts[v->n - 1].id);
		while ((rc = db_step(st)) == DB_ROW) {
			int64_t id = db_col_int(st, 0);
			bool agree = !strcmp(db_col_text(st, 1), "agree");
			for (size_t i = 0; i < v->n; i++)
				if (v->posts[i].id == id)
					*(agree ? &v->posts[i].agreed : &v->posts[i].thanked) =
					    true;
		}
		db_reset(st);
		if (rc < 0)
			return rc;
	}
	if (v->n && v->t.attachment_count) {
		rc = attach_list(c, v->t.id, v->posts[0].id, v->posts[v->n - 1].id, &v->attachments,
		                 &v->n_attachments);
		if (rc < 0)
			return rc;
		/* Both lists are in post order: each post takes its run of files, except a
		 * deleted or hidden one, whose files are not shown (nor served). */
		size_t a = 0;
		for (size_t i = 0; i < v->n; i++) {
			while (a < v->n_attachments && v->attachments[a].post_id < v->posts[i].id)
				a++;
			v->posts[i].attachments = v->attachments + a;
			bool removed = v->posts[i].deleted || v->posts[i].hidden;
			while (a < v->n_attachments && v->attachments[a].post_id == v->posts[i].id)
				a++, v->posts[i].n_attachments += !removed;
		}
	}
	if (v->t.official_post_id) {
		st = db_prepare(c, POST_COLUMNS "WHERE p.id = $1 AND p.thread_id = $2");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, v->t.official_post_id);
		db_bind_int(st, 2, v->t.id);
		rc = db_step(st);
		if (rc == DB_ROW) {
			read_post(st, &v->official, &v->text);
			v->has_official = !v->official.deleted && !v->official.hidden;
		}
		db_reset(st);
		if (rc < 0)
			return rc;
	}
	if (v->moderator) {
		st = db_prepare(c, "SELECT id, name FROM spaces ORDER BY position, id LIMIT 100");
		if (!st)
			return DB_ERR;
		while ((rc = db_step(st)) == DB_ROW && v->n_spaces < DISCUSSIONS_MAX_SPACES) {
			v->spaces[v->n_spaces].id = db_col_int(st, 0);
			copy(v->spaces[v->n_spaces].name, sizeof v->spaces[0].name,
			     db_col_text(st, 1));
			v->n_spaces++;
		}
		db_reset(st);
		if (rc < 0)
			return rc;
	}
	if (v->n && v->posts[v->n - 1].id > last_read && viewer->person_id) {
		/* Only forward: reading an early page again does not make later posts unread. */
		st = db_prepare(
		    c,
		    "INSERT INTO thread_reads (person_id, thread_id, last_read_post_id, read_at) "
		    "VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, thread_id) DO UPDATE SET "
		    "last_read_post_id = CASE WHEN excluded.last_read_post_id > "
		    "thread_reads.last_read_post_id THEN excluded.last_read_post_id ELSE "
		    "thread_reads.last_read_post_id END, read_at = excluded.read_at");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, viewer->person_id);
		db_bind_int(st, 2, v->t.id);
		db_bind_int(st, 3, v->posts[v->n - 1].id);
		db_bind_int(st, 4, (int64_t)time(NULL));
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	return 0;
}

static const char *notice_text(const char *n)
{
	static const char *const notices[][2] = {
	    {"pinned", "The thread has been pinned"},
	    {"unpinned", "The thread is no longer pinned"},
	    {"locked", "The thread has been locked: nobody can reply"},
	    {"unlocked", "The thread has been unlocked"},
	    {"official", "The post is now the official response from the executive"},
	    {"hidden", "The post has been hidden"},
	    {"deleted", "Your post has been deleted"},
	    {"edited", "Your post has been changed"},
	};
	for (size_t i = 0; n && i < sizeof notices / sizeof notices[0]; i++)
		if (!strcmp(n, notices[i][0]))
			return notices[i][1];
	return NULL;
}

/* A thread page's content, as the page shell's slot renders it. */
static void render_thread(struct buf *out, const void *v)
{
	tpl_discussions_thread(out, v);
}

/* About how many bytes render_thread writes: the posts' own markup, and some 1.5 KB of
 * card, reactions and links around each (measured: 81 KB for 50 posts on the region
 * database), so that the page is written into one allocation. */
static size_t thread_page_bytes(const struct disc_thread_view *v)
{
	size_t n = 4096 + strlen(v->reply);
	if (v->has_official)
		n += strlen(v->official.body.html) + 512;
	for (size_t i = 0; i < v->n; i++)
		n += strlen(v->posts[i].body.html) + 1536;
	return n;
}

/*
 * Renders page of thread t: on GET, or again after a reply with errors (reply is the
 * text to keep). Takes c and releases it. Status stays as the caller set it.
 */
static void show_thread(struct http_request *req, struct http_response *res, struct db_conn *c,
                        struct disc_thread_view *v)
{
	const struct viewer *viewer = access_viewer(req);
	v->moderator = policy_may_moderate_discussions(viewer);
	v->may_reply = policy_may_post(viewer, true, v->t.locked);
	v->pages = v->t.post_count ? (v->t.post_count + DISCUSSIONS_POSTS_PER_PAGE - 1) /
	                                 DISCUSSIONS_POSTS_PER_PAGE
	                           : 1;
	if (v->page > v->pages) {
		db_release(c);
		res->status = 404;
		res->reason = "This thread has no page with that number.";
		return;
	}
	if (load_thread_page(c, viewer, v, v->t.last_read)) {
		log_error("request %s: cannot load a thread: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	char base[64];
	snprintf(base, sizeof base, "/discussions/threads/%lld", (long long)v->t.id);
	snprintf(v->reply_action, sizeof v->reply_action, "/discussions/threads/%lld/posts",
	         (long long)v->t.id);
	listing_pager_init(&v->pager, base, "", v->page, v->page < v->pages);
	v->csrf = access_csrf(req, res);
	char title[LIMIT_NAME_BYTES + 48];
	if (v->pages > 1)
		snprintf(title, sizeof title, "%s%s (page %lld of %lld)",
		         v->errors.n ? "Error: " : "", v->t.title, v->page, v->pages);
	else
		snprintf(title, sizeof title, "%s%s", v->errors.n ? "Error: " : "", v->t.title);
	/* Rendered straight into the response, inside the page shell: a page of 50 posts
	 * is about 80 KB, and building it apart cost a copy and a dozen reallocations. */
	page_render_view(req, res, title, (struct html_slot){render_thread, v},
	                 thread_page_bytes(v));
}

/* The Markdown that quotes post_id of thread_id: "> NAME wrote:" and its lines. */
static int quote_of(struct db_conn *c, int64_t thread_id, int64_t post_id, struct buf *out)
{
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT a.name, p.body_source FROM posts p JOIN people a ON a.id = p.author_id WHERE "
	    "p.id = $1 AND p.thread_id = $2 AND p.deleted_at IS NULL AND p.hidden_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, post_id);
	db_bind_int(st, 2, thread_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		buf_printf(out, "> %s wrote:\n>\n> ", db_col_text(st, 0));
		for (const char *s = db_col_text(st, 1); *s; s++) {
			if (*s == '\r')
				continue;
			buf_putc(out, *s);
			if (*s == '\n')
				buf_puts(out, "> ");
		}
		buf_puts(out, "\n\n");
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

void discussions_thread_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const char *page_arg = http_query(req, "page"), *quote = http_query(req, "quote");
	long long page = listing_page_parse(page_arg);
	if (page < 0) {
		res->status = 400;
		res->reason = "The page number in the web address must be a whole number from 1 to "
		              "10000. Go back to the thread's first page.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_thread_view *v = xcalloc(1, sizeof *v);
	struct buf quoted;
	buf_init(&quoted, 4 * DISCUSSIONS_MAX_POST_CHARS + 1024);
	int rc = disc_load_thread(c, viewer, http_parse_id(req->params[0]), &v->t);
	if (rc <= 0) {
		db_release(c);
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	if (!page_arg || !*page_arg) {
		/* Open at the first post this person has not read, or at the newest. */
		int64_t target = v->t.last_post_id;
		struct db_stmt *st =
		    db_prepare(c, "SELECT min(id) FROM posts WHERE thread_id = $1 AND id > $2");
		rc = st ? 0 : DB_ERR;
		if (st) {
			db_bind_int(st, 1, v->t.id);
			db_bind_int(st, 2, v->t.last_read);
			rc = db_step(st);
			if (rc == DB_ROW && !db_col_is_null(st, 0))
				target = db_col_int(st, 0);
			db_reset(st);
		}
		if (rc >= 0)
			rc = disc_page_of(c, v->t.id, target, &page);
		db_release(c);
		if (rc < 0)
			res->status = 500;
		else
			redirect_to_post(res, v->t.id, page, target, NULL);
		goto done;
	}
	v->page = page;
	v->notice = notice_text(http_query(req, "notice"));
	v->reply = "";
	int64_t quote_id = http_parse_id(quote);
	if (quote_id && quote_of(c, v->t.id, quote_id, &quoted) == 0 && quoted.len)
		v->reply = quoted.data;
	show_thread(req, res, c, v);
done:
	buf_free(&quoted);
	free_thread_view(v);
}

void discussions_reply(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_thread_view *v = xcalloc(1, sizeof *v);
	struct disc_body body = {0};
	char problem[300];
	int rc = disc_load_thread(c, viewer, http_parse_id(req->params[0]), &v->t);
	if (rc <= 0) {
		db_release(c);
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	if (v->t.locked) {
		db_release(c);
		res->status = 403;
		res->reason = "This thread is locked: nobody can reply to it.";
		goto done;
	}
	if (!policy_may_post(viewer, true, false)) {
		db_release(c);
		res->status = 403;
		goto done;
	}
	const char *text = form_get(access_form(req), "body");
	v->reply = text ? text : "";
	rc = disc_body_prepare(c, v->reply, "body", &v->errors, problem, sizeof problem, &body);
	if (rc < 0)
		goto fail;
	struct attach_set *files = xmalloc(sizeof *files);
	v->files = files;
	if (attach_collect(req, files, &v->errors) == 0 && files->n &&
	    !policy_may_attach(viewer, true, v->t.locked)) {
		db_release(c);
		res->status = 403;
		goto done;
	}
	if (v->errors.n) {
		res->status = files->too_large ? 413 : 400;
		v->page = v->t.post_count ? (v->t.post_count + DISCUSSIONS_POSTS_PER_PAGE - 1) /
		                                DISCUSSIONS_POSTS_PER_PAGE
		                          : 1;
		show_thread(req, res, c, v);
		goto done;
	}
	int64_t post_id = 0, now = (int64_t)time(NULL);
	long long page = 1;
	if (db_begin(c) ||
	    disc_add_post(c, v->t.id, v->t.space_id, viewer->person_id, &body, now, &post_id) ||
	    attach_store(c, v->t.id, post_id, files, now) ||
	    disc_page_of(c, v->t.id, post_id, &page))
		goto fail;
	bool mailed = notifications_event(c, app->config, NOTIFY_POST, post_id);
	if (db_commit(c))
		goto fail;
	if (mailed)
		mail_wake();
	db_release(c);
	redirect_to_post(res, v->t.id, page, post_id, NULL);
	goto done;
fail:
	log_error("request %s: cannot reply: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
done:
	disc_body_free(&body);
	free_thread_view(v);
}

/* ------------------------------------------------------------ moderation */

/* Sets column (pinned or locked) of thread req->params[0] to its opposite; audited. */
static void toggle(struct http_request *req, struct http_response *res, bool lock)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_moderate_discussions(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_thread t;
	int rc = disc_load_thread(c, viewer, http_parse_id(req->params[0]), &t);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	bool on = lock ? !t.locked : !t.pinned;
	struct db_stmt *st;
	if (db_begin(c))
		goto fail;
	st = db_prepare(c, lock ? "UPDATE threads SET locked = $2 WHERE id = $1"
	                        : "UPDATE threads SET pinned = $2 WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, t.id);
	db_bind_int(st, 2, on);
	rc = db_step(st);
	db_reset(st);
	const char *what = lock ? (on ? "locked" : "unlocked") : (on ? "pinned" : "unpinned");
	char subject[48], action[48];
	snprintf(subject, sizeof subject, "thread:%lld", (long long)t.id);
	snprintf(action, sizeof action, "discussion-thread-%s", what);
	if (rc != DB_DONE || disc_audit(c, req, action, subject, t.title) || db_commit(c))
		goto fail;
	char location[96];
	snprintf(location, sizeof location, "/discussions/threads/%lld?page=1&notice=%s",
	         (long long)t.id, what);
	http_redirect(res, location);
	goto done;
fail:
	log_error("request %s: cannot change a thread: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
}

void discussions_thread_pin(struct http_request *req, struct http_response *res)
{
	toggle(req, res, false);
}

void discussions_thread_lock(struct http_request *req, struct http_response *res)
{
	toggle(req, res, true);
}

void discussions_thread_move(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_moderate_discussions(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_thread t;
	struct disc_space *to = xcalloc(1, sizeof *to);
	int rc = disc_load_thread(c, viewer, http_parse_id(req->params[0]), &t);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	rc = disc_load_space(c, viewer, http_parse_id(form_get(access_form(req), "space")), to);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		res->status = 400;
		res->reason = "Choose the space to move the thread to. Go back to the thread and "
		              "choose one from the list.";
		goto done;
	}
	if (db_begin(c))
		goto fail;
	static const char *const moves[] = {"UPDATE threads SET space_id = $2 WHERE id = $1",
	                                    "UPDATE posts SET space_id = $2 WHERE thread_id = $1"};
	for (size_t i = 0; i < 2; i++) {
		struct db_stmt *st = db_prepare(c, moves[i]);
		if (!st)
			goto fail;
		db_bind_int(st, 1, t.id);
		db_bind_int(st, 2, to->id);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			goto fail;
	}
	char subject[48], detail[2 * LIMIT_NAME_BYTES + 16];
	snprintf(subject, sizeof subject, "thread:%lld", (long long)t.id);
	snprintf(detail, sizeof detail, "%s -> %s", t.space, to->name);
	if (disc_audit(c, req, "discussion-thread-moved", subject, detail) || db_commit(c))
		goto fail;
	char location[96];
	snprintf(location, sizeof location, "/discussions/spaces/%lld?notice=moved",
	         (long long)to->id);
	http_redirect(res, location);
	goto done;
fail:
	log_error("request %s: cannot move a thread: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(to);
}

/* ------------------------------------------------------------ the executive's queue */

void discussions_questions(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_see_question_queue(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_questions_view v = {0};
	v.rows = xcalloc(DISCUSSIONS_MAX_QUESTIONS, sizeof *v.rows);
	int64_t now = (int64_t)time(NULL);
	struct db_stmt *st = db_prepare(
	    c, "SELECT t.id, t.title, a.name, s.name, t.created_at, t.post_count FROM threads t "
	       "JOIN spaces s ON s.id = t.space_id JOIN people a ON a.id = t.author_id WHERE "
	       "t.question = 1 AND t.official_post_id IS NULL AND " DISCUSSIONS_VISIBLE_SQL
	       " ORDER BY t.created_at, t.id LIMIT 200");
	int rc = DB_ERR;
	if (st) {
		db_bind_int(st, 1, viewer->person_id);
		db_bind_text(st, 2, policy_role_name(viewer->role));
		while ((rc = db_step(st)) == DB_ROW && v.n < DISCUSSIONS_MAX_QUESTIONS) {
			struct disc_question_row *q = &v.rows[v.n++];
			q->id = db_col_int(st, 0);
			copy(q->title, sizeof q->title, db_col_text(st, 1));
			copy(q->author, sizeof q->author, db_col_text(st, 2));
			copy(q->space, sizeof q->space, db_col_text(st, 3));
			time_format_date_time(db_col_int(st, 4), q->asked);
			disc_age(db_col_int(st, 4), now, q->age, sizeof q->age);
			q->replies = db_col_int(st, 5) - 1;
		}
		db_reset(st);
	}
	if (rc < 0) {
		log_error("request %s: cannot list questions: %s", req->id, db_errmsg(c));
		res->status = 500;
	}
	db_release(c);
	if (rc >= 0) {
		struct buf main;
		buf_init(&main, LIMIT_PAGE_BYTES);
		tpl_discussions_questions(&main, &v);
		render(req, res, "Questions for the executive", &main);
	}
	free(v.rows);
}
