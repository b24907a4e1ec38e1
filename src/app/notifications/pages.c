/*
 * pages.c — the notifications list, marking read, email preferences and a
 * space's level (see notifications.h). Every query is the viewer's own rows;
 * a space's level can only be set for a space the viewer may see (404 else).
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

static const char *const email_choices[][2] = {
    {"immediately", "immediately, for each notification"},
    {"daily", "a daily digest at 7am"},
    {"weekly", "a weekly digest on Monday at 7am"},
    {"never", "never"},
};

static const char *email_choice(const char *s)
{
	for (size_t i = 0; s && i < sizeof email_choices / sizeof email_choices[0]; i++)
		if (!strcmp(s, email_choices[i][0]))
			return email_choices[i][0];
	return NULL;
}

static const char *email_words(const char *s)
{
	for (size_t i = 0; s && i < sizeof email_choices / sizeof email_choices[0]; i++)
		if (!strcmp(s, email_choices[i][0]))
			return email_choices[i][1];
	return email_choices[2][1];
}

static void render(struct http_request *req, struct http_response *res, const char *title,
                   struct buf *main)
{
	page_render(req, res, title, main->data);
	buf_free(main);
}

/* The person's email preference ("weekly" unless they chose). 0 or < 0. */
static int preference(struct db_conn *c, int64_t person_id, char out[16])
{
	snprintf(out, 16, "weekly");
	struct db_stmt *st =
	    db_prepare(c, "SELECT email FROM notification_preferences WHERE person_id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(out, 16, "%s", db_col_text(st, 0));
	db_reset(st);
	return rc < 0 ? rc : 0;
}

static const char *row_text(const char *kind)
{
	if (!strcmp(kind, "reply"))
		return "replied to your thread";
	if (!strcmp(kind, "mention"))
		return "mentioned you in";
	if (!strcmp(kind, "official"))
		return "gave the official response from the executive in";
	return "started a new thread:";
}

static const char *notice_text(const char *n)
{
	if (n && !strcmp(n, "read"))
		return "Your notifications are marked as read";
	if (n && !strcmp(n, "saved"))
		return "Your email choice has been saved";
	return NULL;
}

void notifications_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct notifications_view *v = xcalloc(1, sizeof *v);
	char pref[16];
	const char *role = policy_role_name(viewer->role);
	/* Filtered again as shown: a thread may have moved, a person left a group. */
	struct db_stmt *st = db_prepare(
	    c, "SELECT n.id, n.thread_id, n.post_id, n.kind, a.name, t.title, s.name, "
	       "n.created_at, CASE WHEN n.read_at IS NULL THEN 1 ELSE 0 END FROM notifications n "
	       "JOIN threads t ON t.id = n.thread_id JOIN spaces s ON s.id = t.space_id JOIN "
	       "people a ON a.id = n.actor_id WHERE n.person_id = $1 AND " DISCUSSIONS_VISIBLE_SQL
	       " ORDER BY n.id DESC LIMIT $3");
	int rc = st ? 0 : DB_ERR;
	if (st) {
		db_bind_int(st, 1, viewer->person_id);
		db_bind_text(st, 2, role);
		db_bind_int(st, 3, NOTIFICATIONS_PER_PAGE);
		while ((rc = db_step(st)) == DB_ROW && v->n < NOTIFICATIONS_PER_PAGE) {
			struct notification_row *r = &v->rows[v->n++];
			r->id = db_col_int(st, 0);
			r->thread_id = db_col_int(st, 1);
			r->post_id = db_col_int(st, 2);
			snprintf(r->text, sizeof r->text, "%s %s", db_col_text(st, 4),
			         row_text(db_col_text(st, 3)));
			snprintf(r->title, sizeof r->title, "%s", db_col_text(st, 5));
			snprintf(r->space, sizeof r->space, "%s", db_col_text(st, 6));
			time_format_date_time(db_col_int(st, 7), r->when);
			r->unread = db_col_int(st, 8) != 0;
		}
		db_reset(st);
	}
	if (rc >= 0)
		v->unread = notifications_unread(c, viewer->person_id, role);
	if (rc < 0 || v->unread < 0 || preference(c, viewer->person_id, pref)) {
		log_error("request %s: cannot list notifications: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		free(v);
		return;
	}
	db_release(c);
	v->email = email_words(pref);
	v->notice = notice_text(http_query(req, "notice"));
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_notifications_list(&main, v);
	render(req, res, "Notifications", &main);
	free(v);
}

/* Marks notice id (0: all) of the viewer read; *found says whether id was theirs. */
static int mark_read(struct db_conn *c, int64_t person_id, int64_t id, bool *found)
{
	struct db_stmt *st = db_prepare(
	    c, id ? "UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE person_id = "
	            "$1 AND id = $2 RETURNING thread_id, post_id"
	          : "UPDATE notifications SET read_at = $3 WHERE person_id = $1 AND read_at IS "
	            "NULL AND $2 = 0");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, id);
	db_bind_int(st, 3, (int64_t)time(NULL));
	int rc = db_step(st);
	*found = rc == DB_ROW;
	db_reset(st);
	return rc < 0 ? rc : 0;
}

void notifications_read_all(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	bool found;
	if (mark_read(c, access_viewer(req)->person_id, 0, &found)) {
		log_error("request %s: cannot mark notifications read: %s", req->id, db_errmsg(c));
		res->status = 500;
	} else
		http_redirect(res, "/notifications?notice=read");
	db_release(c);
}

void notifications_read_one(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	int64_t id = http_parse_id(req->params[0]);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	bool found = false;
	int rc = id ? mark_read(c, access_viewer(req)->person_id, id, &found) : 0;
	db_release(c);
	if (rc)
		res->status = 500;
	else if (!found)
		res->status = 404;
	else {
		char location[64];
		snprintf(location, sizeof location, "/notifications#notification-%lld",
		         (long long)id);
		http_redirect(res, location);
	}
}

/* GET /notifications/{id}: marks it read and opens the post it is about. The thread
 * page then decides, as always, whether the viewer may see it. */
void notifications_open(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	int64_t id = http_parse_id(req->params[0]), thread_id = 0, post_id = 0;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct db_stmt *st = id ? db_prepare(c, "UPDATE notifications SET read_at = "
	                                        "coalesce(read_at, $3) WHERE person_id = $1 AND "
	                                        "id = $2 RETURNING thread_id, post_id")
	                        : NULL;
	int rc = DB_DONE;
	long long page = 1;
	if (st) {
		db_bind_int(st, 1, access_viewer(req)->person_id);
		db_bind_int(st, 2, id);
		db_bind_int(st, 3, (int64_t)time(NULL));
		rc = db_step(st);
		if (rc == DB_ROW) {
			thread_id = db_col_int(st, 0);
			post_id = db_col_int(st, 1);
		}
		db_reset(st);
	} else if (id)
		rc = DB_ERR;
	if (rc == DB_ROW && disc_page_of(c, thread_id, post_id, &page))
		rc = DB_ERR;
	db_release(c);
	if (rc < 0)
		res->status = 500;
	else if (rc != DB_ROW)
		res->status = 404;
	else {
		char location[128];
		snprintf(location, sizeof location, "/discussions/threads/%lld?page=%lld#post-%lld",
		         (long long)thread_id, page, (long long)post_id);
		http_redirect(res, location);
	}
}

/* ------------------------------------------------------------ email preferences */

static void show_settings(struct http_request *req, struct http_response *res,
                          struct notifications_settings_view *v)
{
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_notifications_settings(&main, v);
	render(req, res, v->errors.n ? "Error: Email about discussions" : "Email about discussions",
	       &main);
}

void notifications_settings_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char pref[16];
	int rc = preference(c, access_viewer(req)->person_id, pref);
	db_release(c);
	if (rc) {
		res->status = 500;
		return;
	}
	struct notifications_settings_view v = {0};
	v.email = email_choice(pref) ? email_choice(pref) : "weekly";
	v.notice = notice_text(http_query(req, "notice"));
	show_settings(req, res, &v);
}

void notifications_settings_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct notifications_settings_view v = {0};
	v.email = email_choice(form_get(access_form(req), "email"));
	if (!v.email) {
		form_error_add(&v.errors, "email",
		               "Choose when Shoal should email you: immediately, daily, weekly or "
		               "never");
		v.email = "";
		res->status = 400;
		show_settings(req, res, &v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO notification_preferences (person_id, email, updated_at) VALUES ($1, "
	       "$2, $3) ON CONFLICT (person_id) DO UPDATE SET email = excluded.email, updated_at "
	       "= excluded.updated_at");
	int rc = DB_ERR;
	if (st) {
		db_bind_int(st, 1, access_viewer(req)->person_id);
		db_bind_text(st, 2, v.email);
		db_bind_int(st, 3, (int64_t)time(NULL));
		rc = db_step(st);
		db_reset(st);
	}
	if (rc != DB_DONE) {
		log_error("request %s: cannot save an email preference: %s", req->id, db_errmsg(c));
		res->status = 500;
	} else
		http_redirect(res, "/notifications/settings?notice=saved");
	db_release(c);
}

/* ------------------------------------------------------------ a space's level */

static const char *level_choice(const char *s)
{
	static const char *const levels[] = {"watching", "normal", "muted"};
	for (size_t i = 0; s && i < 3; i++)
		if (!strcmp(s, levels[i]))
			return levels[i];
	return NULL;
}

static void show_space(struct http_request *req, struct http_response *res,
                       struct notifications_space_view *v)
{
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_notifications_space(&main, v);
	char title[LIMIT_NAME_BYTES + 48];
	snprintf(title, sizeof title, "%sNotifications from %s", v->errors.n ? "Error: " : "",
	         v->space);
	render(req, res, title, &main);
}

/* Loads the space (404 if the viewer may not see it) and the viewer's level. Releases c. */
static int load_space(struct http_request *req, struct http_response *res, struct db_conn *c,
                      struct notifications_space_view *v)
{
	const struct viewer *viewer = access_viewer(req);
	struct disc_space *s = xcalloc(1, sizeof *s);
	int rc = disc_load_space(c, viewer, http_parse_id(req->params[0]), s);
	v->level = "normal";
	if (rc == 1) {
		v->space_id = s->id;
		snprintf(v->space, sizeof v->space, "%s", s->name);
		struct db_stmt *st = db_prepare(c, "SELECT level FROM space_subscriptions WHERE "
		                                   "person_id = $1 AND space_id = $2");
		rc = st ? 1 : DB_ERR;
		if (st) {
			db_bind_int(st, 1, viewer->person_id);
			db_bind_int(st, 2, s->id);
			int r = db_step(st);
			if (r == DB_ROW)
				v->level = level_choice(db_col_text(st, 0));
			if (r < 0)
				rc = r;
			db_reset(st);
		}
	}
	free(s);
	if (rc <= 0)
		res->status = rc < 0 ? 500 : 404;
	return rc;
}

void notifications_space_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct notifications_space_view v = {0};
	int rc = load_space(req, res, c, &v);
	db_release(c);
	if (rc == 1) {
		if (http_query(req, "notice"))
			v.notice = "Your choice for this space has been saved";
		show_space(req, res, &v);
	}
}

void notifications_space_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct notifications_space_view v = {0};
	if (load_space(req, res, c, &v) != 1) {
		db_release(c);
		return;
	}
	const char *level = level_choice(form_get(access_form(req), "level"));
	if (!level) {
		db_release(c);
		form_error_add(&v.errors, "level", "Choose watching, normal or muted");
		v.level = "";
		res->status = 400;
		show_space(req, res, &v);
		return;
	}
	struct db_stmt *st = db_prepare(
	    c, strcmp(level, "normal")
	           ? "INSERT INTO space_subscriptions (person_id, space_id, level, updated_at) "
	             "VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, space_id) DO UPDATE SET "
	             "level = excluded.level, updated_at = excluded.updated_at"
	           : "DELETE FROM space_subscriptions WHERE person_id = $1 AND space_id = $2");
	int rc = DB_ERR;
	if (st) {
		db_bind_int(st, 1, access_viewer(req)->person_id);
		db_bind_int(st, 2, v.space_id);
		if (strcmp(level, "normal")) {
			db_bind_text(st, 3, level);
			db_bind_int(st, 4, (int64_t)time(NULL));
		}
		rc = db_step(st);
		db_reset(st);
	}
	if (rc != DB_DONE) {
		log_error("request %s: cannot save a space's level: %s", req->id, db_errmsg(c));
		res->status = 500;
	} else {
		char location[96];
		snprintf(location, sizeof location, "/notifications/spaces/%lld?notice=saved",
		         (long long)v.space_id);
		http_redirect(res, location);
	}
	db_release(c);
}
