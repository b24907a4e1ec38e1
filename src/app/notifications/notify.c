/*
 * notify.c — who hears about a new post or an official response (see
 * notifications.h), the in-app notice, and the immediate email.
 *
 * Candidates come from the event (the thread's author, people mentioned, the
 * space's watchers, those who posted in the thread); each is then checked one
 * by one with DISCUSSIONS_VISIBLE_SQL, the same rule as every list, so that a
 * mention in an executive-only space tells a member nothing. A muted space
 * tells nobody anything, mentions included: muting is the person's choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/discussions/discussions.h"
#include "app/notifications/notifications.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mail/mail.h"
#include "render/html.h"

/* The most people one event tells: a space's watchers are the only long list. */
#define MAX_RECIPIENTS 5000

struct candidate {
	int64_t id;
	char role[16];
	const char *kind;
};

struct event {
	int64_t post_id, thread_id, space_id, author_id, thread_author_id, official_post_id;
	bool first;
	char author[LIMIT_NAME_BYTES + 1], title[LIMIT_NAME_BYTES + 1];
	char space[LIMIT_NAME_BYTES + 1];
	struct candidate *list; /* grown as people are found, up to MAX_RECIPIENTS */
	size_t n, cap;
};

static int load_event(struct db_conn *c, int64_t post_id, struct event *e)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT p.thread_id, t.space_id, p.author_id, t.author_id, "
	       "coalesce(t.official_post_id, 0), a.name, t.title, s.name, (SELECT min(f.id) FROM "
	       "posts f WHERE f.thread_id = p.thread_id) FROM posts p JOIN threads t ON t.id = "
	       "p.thread_id JOIN spaces s ON s.id = t.space_id JOIN people a ON a.id = p.author_id "
	       "WHERE p.id = $1 AND p.deleted_at IS NULL AND p.hidden_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, post_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		e->post_id = post_id;
		e->thread_id = db_col_int(st, 0);
		e->space_id = db_col_int(st, 1);
		e->author_id = db_col_int(st, 2);
		e->thread_author_id = db_col_int(st, 3);
		e->official_post_id = db_col_int(st, 4);
		snprintf(e->author, sizeof e->author, "%s", db_col_text(st, 5));
		snprintf(e->title, sizeof e->title, "%s", db_col_text(st, 6));
		snprintf(e->space, sizeof e->space, "%s", db_col_text(st, 7));
		e->first = db_col_int(st, 8) == post_id;
	}
	db_reset(st);
	return rc < 0 ? rc : rc == DB_ROW;
}

/* Adds the people sql finds (id, role; $1 bound to arg) as kind, unless already there. */
static int gather(struct db_conn *c, struct event *e, const char *sql, int64_t arg,
                  const char *kind)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, arg);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && e->n < MAX_RECIPIENTS) {
		int64_t id = db_col_int(st, 0);
		bool seen = id == e->author_id; /* nobody hears about their own post */
		for (size_t i = 0; i < e->n && !seen; i++)
			seen = e->list[i].id == id;
		if (seen)
			continue;
		if (e->n == e->cap) {
			e->cap = e->cap ? 2 * e->cap : 16;
			e->list = xrealloc(e->list, e->cap * sizeof *e->list);
		}
		struct candidate *k = &e->list[e->n++];
		k->id = id;
		snprintf(k->role, sizeof k->role, "%s", db_col_text(st, 1));
		k->kind = kind;
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

#define ACTIVE_PERSON "JOIN people u ON u.id = "
#define ACTIVE_WHERE  " u.deactivated_at IS NULL"

static int gather_all(struct db_conn *c, enum notify_event ev, struct event *e)
{
	if (ev == NOTIFY_OFFICIAL) {
		if (e->official_post_id != e->post_id)
			return 0; /* no longer (or never) the official response */
		return gather(c, e,
		              "SELECT u.id, u.role FROM threads t " ACTIVE_PERSON
		              "t.author_id WHERE t.id = $1 AND" ACTIVE_WHERE,
		              e->thread_id, "official") ||
		               gather(c, e,
		                      "SELECT DISTINCT u.id, u.role FROM posts p " ACTIVE_PERSON
		                      "p.author_id WHERE p.thread_id = $1 AND p.deleted_at IS NULL "
		                      "AND" ACTIVE_WHERE " ORDER BY u.id LIMIT 5000",
		                      e->thread_id, "official")
		           ? DB_ERR
		           : 0;
	}
	/* A mention says more than "a reply in your thread": it goes first. */
	if (gather(c, e,
	           "SELECT u.id, u.role FROM post_mentions m " ACTIVE_PERSON
	           "m.person_id WHERE m.post_id = $1 AND" ACTIVE_WHERE,
	           e->post_id, "mention"))
		return DB_ERR;
	if (!e->first)
		return gather(c, e,
		              "SELECT u.id, u.role FROM people u WHERE u.id = $1 AND" ACTIVE_WHERE,
		              e->thread_author_id, "reply");
	return gather(c, e,
	              "SELECT u.id, u.role FROM space_subscriptions w " ACTIVE_PERSON
	              "w.person_id WHERE w.space_id = $1 AND w.level = 'watching' AND" ACTIVE_WHERE
	              " ORDER BY u.id LIMIT 5000",
	              e->space_id, "thread");
}

/* Subject text: control characters become spaces, so no title can add a header. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static const char *what(const char *kind)
{
	if (!strcmp(kind, "reply"))
		return "replied to your thread";
	if (!strcmp(kind, "mention"))
		return "mentioned you in";
	if (!strcmp(kind, "official"))
		return "gave the executive's official response in";
	return "started a new thread";
}

/* Queues the immediate email about one notice. 0 or < 0. */
static int email(struct db_conn *c, const struct config *cfg, const struct event *e,
                 const char *kind, const char *to)
{
	long long page = 1;
	if (disc_page_of(c, e->thread_id, e->post_id, &page))
		return DB_ERR;
	char subject[MAIL_SUBJECT_MAX_BYTES], link[LIMIT_CONFIG_VALUE_BYTES + 96];
	snprintf(subject, sizeof subject, "%s %s: %s", e->author, what(kind), e->title);
	clean(subject);
	snprintf(link, sizeof link, "%s/discussions/threads/%lld?page=%lld#post-%lld",
	         cfg->base_url, (long long)e->thread_id, page, (long long)e->post_id);
	struct buf text, html;
	buf_init(&text, 16384);
	buf_init(&html, 32768);
	buf_printf(&text,
	           "%s %s \"%s\" in %s.\n\nRead it: %s\n\nChange which emails you get: "
	           "%s/notifications/settings\n",
	           e->author, what(kind), e->title, e->space, link, cfg->base_url);
	buf_puts(&html, "<!DOCTYPE html><html lang=\"en-GB\"><body><p>");
	html_text(&html, e->author);
	buf_printf(&html, " %s <a href=\"", what(kind));
	html_url(&html, link);
	buf_puts(&html, "\">");
	html_text(&html, e->title);
	buf_puts(&html, "</a> in ");
	html_text(&html, e->space);
	buf_puts(&html, ".</p><p><a href=\"");
	html_url(&html, cfg->base_url);
	buf_puts(&html,
	         "/notifications/settings\">Change which emails you get</a></p></body></html>");
	int rc = text.overflow || html.overflow                                ? DB_ERR
	         : mail_queue(c, to, subject, text.data, html.data) == MAIL_OK ? 0
	                                                                       : DB_ERR;
	buf_free(&text);
	buf_free(&html);
	return rc;
}

/* Checks candidate k and notifies them. *mailed counts emails queued. 0 or < 0. */
static int notify_one(struct db_conn *c, const struct config *cfg, const struct event *e,
                      const struct candidate *k, int64_t now, int *mailed)
{
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT u.email, coalesce(np.email, 'weekly') FROM spaces s JOIN people u ON u.id = "
	    "$1 LEFT JOIN notification_preferences np ON np.person_id = u.id WHERE s.id = $3 AND "
	    "NOT EXISTS (SELECT 1 FROM space_subscriptions m WHERE m.person_id = $1 AND "
	    "m.space_id = $3 AND m.level = 'muted') AND " DISCUSSIONS_VISIBLE_SQL);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, k->id);
	db_bind_text(st, 2, k->role);
	db_bind_int(st, 3, e->space_id);
	char to[LIMIT_EMAIL_BYTES + 1] = "";
	bool immediately = false;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(to, sizeof to, "%s", db_col_text(st, 0));
		immediately = !strcmp(db_col_text(st, 1), "immediately");
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : 0; /* may not see the space, or muted it */
	st = db_prepare(c, "INSERT INTO notifications (person_id, kind, thread_id, post_id, "
	                   "actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO "
	                   "NOTHING RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, k->id);
	db_bind_text(st, 2, k->kind);
	db_bind_int(st, 3, e->thread_id);
	db_bind_int(st, 4, e->post_id);
	db_bind_int(st, 5, e->author_id);
	db_bind_int(st, 6, now);
	rc = db_step(st);
	db_reset(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW || !immediately)
		return 0; /* told before (the same event twice), or no email wanted now */
	if (email(c, cfg, e, k->kind, to))
		return DB_ERR;
	(*mailed)++;
	return 0;
}

bool notifications_event(struct db_conn *c, const struct config *cfg, enum notify_event ev,
                         int64_t post_id)
{
	/* Inside the caller's transaction, a savepoint: a failure here is undone alone
	 * (PostgreSQL would otherwise refuse the caller's COMMIT) and the post stands. */
	bool own = !db_in_transaction(c);
	struct event e = {0};
	int mailed = 0, rc = own ? db_begin(c) : db_exec(c, "SAVEPOINT notify");
	if (rc == 0)
		rc = load_event(c, post_id, &e);
	if (rc == 1) {
		rc = gather_all(c, ev, &e);
		int64_t now = (int64_t)time(NULL);
		for (size_t i = 0; rc == 0 && i < e.n; i++)
			rc = notify_one(c, cfg, &e, &e.list[i], now, &mailed);
	}
	free(e.list);
	if (own && (rc < 0 || db_commit(c))) {
		rc = DB_ERR;
		db_rollback(c);
	} else if (!own && rc < 0) {
		if (db_exec(c, "ROLLBACK TO SAVEPOINT notify") ||
		    db_exec(c, "RELEASE SAVEPOINT notify"))
			log_error("notifications: cannot undo a failed notice: %s", db_errmsg(c));
	} else if (!own && db_exec(c, "RELEASE SAVEPOINT notify")) {
		rc = DB_ERR;
	}
	if (rc < 0) {
		log_error("notifications: cannot notify about post %lld: %s", (long long)post_id,
		          db_errmsg(c));
		return false;
	}
	if (mailed && own)
		mail_wake();
	return mailed && !own;
}

long long notifications_unread(struct db_conn *c, int64_t person_id, const char *role)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT count(*) FROM (SELECT 1 FROM notifications n JOIN threads t ON t.id = "
	       "n.thread_id JOIN spaces s ON s.id = t.space_id WHERE n.person_id = $1 AND "
	       "n.read_at IS NULL AND " DISCUSSIONS_VISIBLE_SQL " LIMIT $3) x");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_text(st, 2, role);
	db_bind_int(st, 3, NOTIFICATIONS_BADGE_MAX + 1);
	int rc = db_step(st);
	long long n = rc == DB_ROW ? db_col_int(st, 0) : DB_ERR;
	db_reset(st);
	return n;
}
