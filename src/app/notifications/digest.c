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

/* Runs one section's query (columns: title, note parts, path parts) for person p. */
static int section(struct db_conn *c, const struct config *cfg, const struct person *p,
                   int64_t start, int64_t end, int kind, struct digest *d)
{
	static const char *const sql[] = {
	    "SELECT t.id, t.title, s.name, a.name, 0 FROM threads t JOIN spaces s ON s.id = "
	    "t.space_id JOIN people a ON a.id = t.author_id WHERE t.created_at >= $3 AND "
	    "t.created_at < $4 AND " SEEN_AND_NOT_MUTED " ORDER BY t.id LIMIT $5",
	    "SELECT t.id, t.title, s.name, '', t.official_post_id FROM threads t JOIN spaces s ON "
	    "s.id = t.space_id WHERE t.official_post_id IS NOT NULL AND t.answered_at >= $3 AND "
	    "t.answered_at < $4 AND " SEEN_AND_NOT_MUTED " ORDER BY t.answered_at, t.id LIMIT $5",
	    "SELECT t.id, t.title, s.name, '', count(*) FROM posts p JOIN threads t ON t.id = "
	    "p.thread_id JOIN spaces s ON s.id = t.space_id WHERE p.created_at >= $3 AND "
	    "p.created_at < $4 AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND "
	    "" SEEN_AND_NOT_MUTED " GROUP BY t.id, t.title, s.name ORDER BY count(*) DESC, t.id "
	    "LIMIT $5",
	};
	static const char *const headings[] = {
	    "New threads", "Official responses from the executive", "Most active discussions"};
	struct db_stmt *st = db_prepare(c, sql[kind]);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, p->id);
	db_bind_text(st, 2, p->role);
	db_bind_int(st, 3, start);
	db_bind_int(st, 4, end);
	db_bind_int(st, 5, kind == 2 ? ACTIVE_ITEMS : NOTIFICATIONS_DIGEST_ITEMS);
	int rc, n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (!n++)
			heading(d, headings[kind]);
		char note[LIMIT_NAME_BYTES * 2 + 64], path[96];
		int64_t thread = db_col_int(st, 0), extra = db_col_int(st, 4);
		if (kind == 0)
			snprintf(note, sizeof note, "%s, started by %s", db_col_text(st, 2),
			         db_col_text(st, 3));
		else if (kind == 1)
			snprintf(note, sizeof note, "%s", db_col_text(st, 2));
		else
			snprintf(note, sizeof note, "%s, %lld new post%s", db_col_text(st, 2),
			         (long long)extra, extra == 1 ? "" : "s");
		if (kind == 1) /* the thread page puts the official response on top */
			snprintf(path, sizeof path,
			         "/discussions/threads/%lld?page=1#official-response",
			         (long long)thread);
		else
			snprintf(path, sizeof path, "/discussions/threads/%lld", (long long)thread);
		item(d, cfg, db_col_text(st, 1), note, path);
	}
	db_reset(st);
	if (n)
		buf_puts(&d->html, "</ul>");
	return rc < 0 ? rc : 0;
}

/* Builds and sends p's digest for [start, end) unless sent already. *sent += 1 if mailed. */
static int digest_one(struct db_conn *c, const struct config *cfg, const struct person *p,
                      const char *period, int64_t start, int64_t end, int64_t now, int *sent)
{
	struct db_stmt *st = db_prepare(c, "SELECT 1 FROM digests_sent WHERE person_id = $1 AND "
	                                   "period = $2 AND period_end = $3");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, p->id);
	db_bind_text(st, 2, period);
	db_bind_int(st, 3, end);
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : 0; /* sent already: most runs end here, without a write */
	struct digest d = {.items = 0};
	buf_init(&d.text, MAIL_BODY_MAX_BYTES);
	buf_init(&d.html, MAIL_BODY_MAX_BYTES);
	char from[TIME_DATE_TIME_BYTES], to[TIME_DATE_TIME_BYTES], subject[128];
	time_format_date_time(start, from);
	time_format_date_time(end, to);
	buf_printf(&d.text, "Your %s digest of discussions: what happened from %s to %s.\n", period,
	           from, to);
	buf_puts(&d.html, "<!DOCTYPE html><html lang=\"en-GB\"><body><p>");
	buf_printf(&d.html, "Your %s digest of discussions: what happened from ", period);
	html_text(&d.html, from);
	buf_puts(&d.html, " to ");
	html_text(&d.html, to);
	buf_puts(&d.html, ".</p>");
	for (int kind = 0; kind < 3 && rc >= 0; kind++)
		rc = section(c, cfg, p, start, end, kind, &d);
	buf_printf(&d.text, "\nChange which emails you get: %s/notifications/settings\n",
	           cfg->base_url);
	char settings[LIMIT_CONFIG_VALUE_BYTES + 32];
	snprintf(settings, sizeof settings, "%s/notifications/settings", cfg->base_url);
	buf_puts(&d.html, "<p><a href=\"");
	html_url(&d.html, settings);
	buf_puts(&d.html, "\">Change which emails you get</a></p></body></html>");
	snprintf(subject, sizeof subject, "Your %s digest of discussions", period);
	if (rc >= 0 && (d.text.overflow || d.html.overflow))
		rc = DB_ERR;
	if (rc >= 0)
		rc = db_begin(c);
	if (rc >= 0) {
		st = db_prepare(c,
		                "INSERT INTO digests_sent (person_id, period, period_end, sent_at, "
		                "items) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING "
		                "RETURNING person_id");
		rc = st ? 0 : DB_ERR;
	}
	if (rc >= 0) {
		db_bind_int(st, 1, p->id);
		db_bind_text(st, 2, period);
		db_bind_int(st, 3, end);
		db_bind_int(st, 4, now);
		db_bind_int(st, 5, d.items);
		rc = db_step(st);
		db_reset(st);
		/* Nothing to tell: the row records the period, and no email goes. */
		if (rc == DB_ROW && d.items) {
			rc = mail_queue(c, p->email, subject, d.text.data, d.html.data) == MAIL_OK
			         ? DB_ROW
			         : DB_ERR;
			if (rc == DB_ROW)
				(*sent)++;
		}
		if (rc < 0 || db_commit(c)) {
			db_rollback(c);
			rc = DB_ERR;
		}
	}
	buf_free(&d.text);
	buf_free(&d.html);
	return rc < 0 ? DB_ERR : 0;
}

/* Sends the digests of one period to everyone who chose it. 0 or < 0. */
static int send_period(struct db_conn *c, const struct config *cfg, const char *period,
                       int64_t start, int64_t end, int64_t now, const atomic_bool *stop, int *sent)
{
	struct person *batch = xcalloc(PEOPLE_BATCH, sizeof *batch);
	int64_t after = 0;
	int rc = 0;
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
		for (size_t i = 0; i < n && rc == 0 && !(stop && atomic_load(stop)); i++)
			rc = digest_one(c, cfg, &batch[i], period, start, end, now, sent);
		if (rc || n < PEOPLE_BATCH || (stop && atomic_load(stop)))
			break;
		after = batch[n - 1].id;
	}
	free(batch);
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
