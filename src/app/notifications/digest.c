/*
 * digest.c — the digest email (see notifications.h): one per person per period,
 * listing only what that person may see (DISCUSSIONS_VISIBLE_SQL, muted spaces
 * left out): new threads, official responses from the executive, and the most
 * active discussions, in plain text and HTML, each with its link.
 *
 * Send times are 07:00 London: every day for daily digests, Mondays for weekly
 * ones. A period is identified by its send time; the digests_sent row is
 * inserted (ON CONFLICT DO NOTHING) in the same transaction as the email, so
 * several nodes running the job never send one twice, and a failure leaves
 * nothing half-sent. A node that was down at 07:00 still sends within the
 * grace below; older periods are skipped rather than sent late.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/discussions/discussions.h"
#include "app/notifications/notifications.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "db/migrate.h"
#include "mail/mail.h"
#include "render/html.h"

#define DAY          86400
#define SEND_HOUR    7
#define DAILY_GRACE  (12 * 3600)
#define WEEKLY_GRACE DAY
#define PEOPLE_BATCH 200
#define ACTIVE_ITEMS 5

static int64_t weekly_end(int64_t now);

/* 07:00 London on the London date of moment t (a clock change falls at 01:00 UTC,
 * so day start + 7 h can be 06:00 or 08:00 on those two days: corrected). */
static int64_t seven_on(int64_t t)
{
	struct time_london l;
	time_london(t, &l);
	int64_t s = time_london_day_start(l.year, l.month, l.day) + SEND_HOUR * 3600;
	time_london(s, &l);
	return s + (int64_t)(SEND_HOUR - l.hour) * 3600;
}

/* The latest daily send time at or before now. */
static int64_t daily_end(int64_t now);
int64_t notifications_digest_period_end(int64_t now, bool weekly)
{
	return weekly ? weekly_end(now) : daily_end(now);
}

static int64_t daily_end(int64_t now)
{
	int64_t s = seven_on(now);
	return s <= now ? s : seven_on(s - DAY / 2 - SEND_HOUR * 3600);
}

/* The latest Monday 07:00 London at or before now. */
static int64_t weekly_end(int64_t now)
{
	struct time_london l;
	time_london(now, &l);
	int64_t noon = time_london_day_start(l.year, l.month, l.day) + DAY / 2;
	int weekday = (int)(((noon / DAY) + 3) % 7); /* 1 January 1970 was a Thursday; Monday 0 */
	int64_t s = seven_on(noon - (int64_t)weekday * DAY);
	return s <= now ? s : seven_on(noon - (int64_t)(weekday + 7) * DAY);
}

struct person {
	int64_t id;
	char role[16], email[LIMIT_EMAIL_BYTES + 1];
};

struct digest {
	struct buf text, html;
	int items;
};

/* Starts a section in both bodies. */
static void heading(struct digest *d, const char *h)
{
	buf_printf(&d->text, "\n%s\n", h);
	buf_puts(&d->html, "<h2>");
	html_text(&d->html, h);
	buf_puts(&d->html, "</h2><ul>");
}

/* One item: title, a note in brackets, and the link (base_url + path). */
static void item(struct digest *d, const struct config *cfg, const char *title, const char *note,
                 const char *path)
{
	char link[LIMIT_CONFIG_VALUE_BYTES + 96];
	snprintf(link, sizeof link, "%s%s", cfg->base_url, path);
	buf_printf(&d->text, "- %s (%s)\n  %s\n", title, note, link);
	buf_puts(&d->html, "<li><a href=\"");
	html_url(&d->html, link);
	buf_puts(&d->html, "\">");
	html_text(&d->html, title);
	buf_puts(&d->html, "</a> (");
	html_text(&d->html, note);
	buf_puts(&d->html, ")</li>");
	d->items++;
}

/* The visibility rule, plus the person's muted spaces, on a space aliased s. */
#define SEEN_AND_NOT_MUTED                                                                         \
	DISCUSSIONS_VISIBLE_SQL " AND NOT EXISTS (SELECT 1 FROM space_subscriptions m WHERE "      \
	                        "m.person_id = $1 AND m.space_id = s.id AND m.level = 'muted')"

/*
 * A period's items are gathered once per run, for everyone, and each person's
 * digest keeps those in the spaces that person sees and has not muted. Asking
 * the database per person took minutes of a core for a region's 20,000 people
 * (each "most active" query counted the period's posts again); now a person
 * costs one query over the spaces.
 */
#define DIGEST_CANDIDATES 20000 /* of each kind in one period: far above a region's week */

struct candidate {
	int64_t thread, space, extra;
	char *title, *space_name, *author;
};

struct period_items {
	struct candidate *list[3];
	size_t n[3];
};

static void period_items_free(struct period_items *pi)
{
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < pi->n[k]; i++) {
			free(pi->list[k][i].title);
			free(pi->list[k][i].space_name);
			free(pi->list[k][i].author);
		}
		free(pi->list[k]);
	}
	memset(pi, 0, sizeof *pi);
}

/* Loads the three kinds of item of [start, end), in the order the digest lists them. */
static int period_items_load(struct db_conn *c, int64_t start, int64_t end, struct period_items *pi)
{
	static const char *const sql[] = {
	    /* A thread whose opening post was deleted or hidden is not news: its title was
	     * part of that post (search drops it too), and an email cannot be taken back. */
	    "SELECT t.id, t.space_id, t.title, s.name, a.name, 0 FROM threads t JOIN spaces s ON "
	    "s.id = t.space_id JOIN people a ON a.id = t.author_id WHERE t.created_at >= $1 AND "
	    "t.created_at < $2 AND EXISTS (SELECT 1 FROM posts f WHERE f.id = (SELECT min(g.id) "
	    "FROM posts g WHERE g.thread_id = t.id) AND f.deleted_at IS NULL AND f.hidden_at IS "
	    "NULL) ORDER BY t.id LIMIT $3",
	    "SELECT t.id, t.space_id, t.title, s.name, '', t.official_post_id FROM threads t JOIN "
	    "spaces s ON s.id = t.space_id WHERE t.official_post_id IS NOT NULL AND t.answered_at "
	    ">= $1 AND t.answered_at < $2 ORDER BY t.answered_at, t.id LIMIT $3",
	    "SELECT t.id, t.space_id, t.title, s.name, '', count(*) FROM posts p JOIN threads t ON "
	    "t.id = p.thread_id JOIN spaces s ON s.id = t.space_id WHERE p.created_at >= $1 AND "
	    "p.created_at < $2 AND p.deleted_at IS NULL AND p.hidden_at IS NULL GROUP BY t.id, "
	    "t.space_id, t.title, s.name ORDER BY count(*) DESC, t.id LIMIT $3",
	};
	memset(pi, 0, sizeof *pi);
	for (int k = 0; k < 3; k++) {
		struct db_stmt *st = db_prepare(c, sql[k]);
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, start);
		db_bind_int(st, 2, end);
		db_bind_int(st, 3, DIGEST_CANDIDATES);
		size_t cap = 0;
		int rc;
		while ((rc = db_step(st)) == DB_ROW) {
			if (pi->n[k] == cap) {
				cap = cap ? 2 * cap : 64;
				pi->list[k] = xrealloc(pi->list[k], cap * sizeof *pi->list[k]);
			}
			struct candidate *x = &pi->list[k][pi->n[k]++];
			x->thread = db_col_int(st, 0);
			x->space = db_col_int(st, 1);
			x->title = xstrdup(db_col_text(st, 2));
			x->space_name = xstrdup(db_col_text(st, 3));
			x->author = xstrdup(db_col_text(st, 4));
			x->extra = db_col_int(st, 5);
		}
		db_reset(st);
		if (rc < 0)
			return rc;
		/* Said, not silent: a person whose spaces hold only items past the cap
		 * would miss them (far beyond any region's week; a sign of a fault). */
		if (pi->n[k] == DIGEST_CANDIDATES)
			log_error("digests: more than %d items of one kind in a period; the rest "
			          "are left out",
			          DIGEST_CANDIDATES);
	}
	return 0;
}

/* The spaces p sees and has not muted, in id order, into *ids (freed by the caller). */
static int open_spaces(struct db_conn *c, const struct person *p, int64_t **ids, size_t *n)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT s.id FROM spaces s WHERE " SEEN_AND_NOT_MUTED " ORDER BY s.id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, p->id);
	db_bind_text(st, 2, p->role);
	size_t cap = 0;
	int rc;
	*ids = NULL;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			*ids = xrealloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = db_col_int(st, 0);
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

static bool among(const int64_t *ids, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return true;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Writes one section: the period's items of this kind in the spaces p sees. */
static void section(const struct config *cfg, const struct period_items *pi, const int64_t *open,
                    size_t n_open, int kind, struct digest *d)
{
	static const char *const headings[] = {
	    "New threads", "Official responses from the executive", "Most active discussions"};
	size_t limit = kind == 2 ? ACTIVE_ITEMS : NOTIFICATIONS_DIGEST_ITEMS, n = 0;
	for (size_t i = 0; i < pi->n[kind] && n < limit; i++) {
		const struct candidate *x = &pi->list[kind][i];
		if (!among(open, n_open, x->space))
			continue;
		if (!n++)
			heading(d, headings[kind]);
		char note[LIMIT_NAME_BYTES * 2 + 64], path[96];
		if (kind == 0)
			snprintf(note, sizeof note, "%s, started by %s", x->space_name, x->author);
		else if (kind == 1)
			snprintf(note, sizeof note, "%s", x->space_name);
		else
			snprintf(note, sizeof note, "%s, %lld new post%s", x->space_name,
			         (long long)x->extra, x->extra == 1 ? "" : "s");
		if (kind == 1) /* the thread page puts the official response on top */
			snprintf(path, sizeof path,
			         "/discussions/threads/%lld?page=1#official-response",
			         (long long)x->thread);
		else
			snprintf(path, sizeof path, "/discussions/threads/%lld",
			         (long long)x->thread);
		item(d, cfg, x->title, note, path);
	}
	if (n)
		buf_puts(&d->html, "</ul>");
}

/* Writes p's digest for [start, end) into d (freed by the caller). 0 or < 0. */
static int compose(struct db_conn *c, const struct config *cfg, const struct person *p,
                   const struct period_items *pi, const char *period, int64_t start, int64_t end,
                   struct digest *d)
{
	d->items = 0;
	buf_init(&d->text, MAIL_BODY_MAX_BYTES);
	buf_init(&d->html, MAIL_BODY_MAX_BYTES);
	char from[TIME_DATE_TIME_BYTES], to[TIME_DATE_TIME_BYTES];
	time_format_date_time(start, from);
	time_format_date_time(end, to);
	buf_printf(&d->text, "Your %s digest of discussions: what happened from %s to %s.\n",
	           period, from, to);
	buf_puts(&d->html, "<!DOCTYPE html><html lang=\"en-GB\"><body><p>");
	buf_printf(&d->html, "Your %s digest of discussions: what happened from ", period);
	html_text(&d->html, from);
	buf_puts(&d->html, " to ");
	html_text(&d->html, to);
	buf_puts(&d->html, ".</p>");
	int64_t *open = NULL;
	size_t n_open = 0;
	int rc = open_spaces(c, p, &open, &n_open);
	for (int kind = 0; kind < 3 && rc >= 0; kind++)
		section(cfg, pi, open, n_open, kind, d);
	free(open);
	buf_printf(&d->text, "\nChange which emails you get: %s/notifications/settings\n",
	           cfg->base_url);
	char settings[LIMIT_CONFIG_VALUE_BYTES + 32];
	snprintf(settings, sizeof settings, "%s/notifications/settings", cfg->base_url);
	buf_puts(&d->html, "<p><a href=\"");
	html_url(&d->html, settings);
	buf_puts(&d->html, "\">Change which emails you get</a></p></body></html>");
	return rc < 0 || d->text.overflow || d->html.overflow ? DB_ERR : 0;
}

/*
 * Records and queues a batch of composed digests in one transaction. The
 * digests_sent row (ON CONFLICT DO NOTHING) goes with its email, so a digest is
 * never sent twice, by this node or another; a failure sends none of the batch,
 * and the next run tries them again. One transaction a batch, not a person: each
 * commit waits for a flush to disk, and 20,000 of them took minutes.
 */
static int store(struct db_conn *c, const struct person *batch, const struct digest *ds, size_t n,
                 const char *period, int64_t end, int64_t now, int *sent)
{
	char subject[128];
	snprintf(subject, sizeof subject, "Your %s digest of discussions", period);
	int rc = db_begin(c), mailed = 0;
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		struct db_stmt *st = db_prepare(
		    c, "INSERT INTO digests_sent (person_id, period, period_end, sent_at, items) "
		       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING person_id");
		if (!st) {
			rc = DB_ERR;
			break;
		}
		db_bind_int(st, 1, batch[i].id);
		db_bind_text(st, 2, period);
		db_bind_int(st, 3, end);
		db_bind_int(st, 4, now);
		db_bind_int(st, 5, ds[i].items);
		rc = db_step(st);
		db_reset(st);
		/* Nothing to tell: the row records the period, and no email goes. */
		if (rc == DB_ROW && ds[i].items) {
			if (mail_queue(c, batch[i].email, subject, ds[i].text.data,
			               ds[i].html.data) != MAIL_OK)
				rc = DB_ERR;
			else
				mailed++;
		}
	}
	if (rc < 0 || db_commit(c)) {
		db_rollback(c);
		return DB_ERR;
	}
	*sent += mailed;
	return 0;
}

/* Sends the digests of one period to everyone who chose it. 0 or < 0. */
static int send_period(struct db_conn *c, const struct config *cfg, const char *period,
                       int64_t start, int64_t end, int64_t now, const atomic_bool *stop, int *sent)
{
	struct period_items pi;
	int rc = period_items_load(c, start, end, &pi);
	if (rc) {
		period_items_free(&pi);
		return rc;
	}
	struct person *batch = xcalloc(PEOPLE_BATCH, sizeof *batch);
	struct digest *ds = xcalloc(PEOPLE_BATCH, sizeof *ds);
	int64_t after = 0;
	for (;;) {
		struct db_stmt *st = db_prepare(
		    c,
		    "SELECT u.id, u.role, u.email FROM people u LEFT JOIN notification_preferences "
		    "np ON np.person_id = u.id WHERE u.deactivated_at IS NULL AND "
		    "coalesce(np.email, 'weekly') = $1 AND u.id > $2 AND NOT EXISTS (SELECT 1 FROM "
		    "digests_sent d WHERE d.person_id = u.id AND d.period = $1 AND d.period_end = "
		    "$4) ORDER BY u.id LIMIT $3");
		if (!st) {
			rc = DB_ERR;
			break;
		}
		db_bind_text(st, 1, period);
		db_bind_int(st, 2, after);
		db_bind_int(st, 3, PEOPLE_BATCH);
		db_bind_int(st, 4, end); /* those sent already are skipped without a query each */
		size_t n = 0;
		while ((rc = db_step(st)) == DB_ROW && n < PEOPLE_BATCH) {
			batch[n].id = db_col_int(st, 0);
			snprintf(batch[n].role, sizeof batch[n].role, "%s", db_col_text(st, 1));
			snprintf(batch[n].email, sizeof batch[n].email, "%s", db_col_text(st, 2));
			n++;
		}
		db_reset(st);
		if (rc < 0)
			break;
		rc = 0;
		size_t made = 0;
		for (; made < n && rc == 0 && !(stop && atomic_load(stop)); made++)
			rc = compose(c, cfg, &batch[made], &pi, period, start, end, &ds[made]);
		if (rc == 0 && made)
			rc = store(c, batch, ds, made, period, end, now, sent);
		for (size_t i = 0; i < made; i++) {
			buf_free(&ds[i].text);
			buf_free(&ds[i].html);
		}
		if (rc || n < PEOPLE_BATCH || (stop && atomic_load(stop)))
			break;
		after = batch[n - 1].id;
	}
	free(batch);
	free(ds);
	period_items_free(&pi);
	return rc;
}

int notifications_digest_run(struct db *db, const struct config *cfg, int64_t now,
                             const atomic_bool *stop, int *sent, char *err, size_t errlen)
{
	*sent = 0;
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(err, errlen, "the database cannot be reached");
		return DB_ERR_CONN;
	}
	int64_t day = daily_end(now), week = weekly_end(now);
	int rc = 0;
	if (now - day < DAILY_GRACE)
		rc = send_period(c, cfg, "daily", day - DAY, day, now, stop, sent);
	if (rc == 0 && now - week < WEEKLY_GRACE)
		rc = send_period(c, cfg, "weekly", week - 7 * DAY, week, now, stop, sent);
	if (rc)
		snprintf(err, errlen, "digests: %s", db_errmsg(c));
	db_release(c);
	if (*sent)
		mail_wake();
	return rc ? DB_ERR : 0;
}

int notifications_digest_job(struct db *db, const struct config *cfg, const atomic_bool *stop,
                             char *err, size_t errlen)
{
	int sent;
	return notifications_digest_run(db, cfg, (int64_t)time(NULL), stop, &sent, err, errlen);
}

const struct cli_option digest_send_options[] = {
    {"at", "UNIX-SECONDS", "act as if it were then (default: now), to send a missed digest"},
    {0},
};

int cmd_digest_send(struct cli *cli)
{
	const struct config *cfg = cli->config;
	const char *at = cli_get(cli, "at");
	int64_t now = (int64_t)time(NULL);
	if (at) {
		char *end;
		long long v = strtoll(at, &end, 10);
		if (!*at || *end || v <= 0 || v > 253402300799LL) {
			fprintf(stderr, "shoal digest send: --at takes a time in Unix seconds\n");
			return 2;
		}
		now = v;
	}
	char err[512];
	struct db *db = NULL;
	int status = 1, sent = 0, delivered = 0, failed = 0;
	if (db_open(cfg->db, 2, &db, err, sizeof err) || migrate_check(db, err, sizeof err) ||
	    notifications_digest_run(db, cfg, now, NULL, &sent, err, sizeof err) ||
	    mail_deliver(db, cfg, NULL, &delivered, &failed, err, sizeof err)) {
		fprintf(stderr, "shoal: %s\n", err);
		goto done;
	}
	printf("shoal: %d digests queued; delivered due mail: %d sent, %d failed\n", sent,
	       delivered, failed);
	status = 0;
done:
	if (db)
		db_close(db);
	return status;
}
