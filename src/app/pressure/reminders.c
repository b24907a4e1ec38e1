/*
 * reminders.c — the reminders job (see pressure.h): before each deadline,
 * one email per practice that has not yet returned, to its leads and the staff
 * they authorised.
 *
 * A reminder row is inserted (ON CONFLICT DO NOTHING) in the same transaction
 * as the mail it causes, so several nodes running the job never remind a
 * practice twice for one period, and a failure leaves nothing half-sent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/pressure/pressure.h"
#include "core/buf.h"
#include "core/xmalloc.h"
#include "mail/mail.h"

#include <stdlib.h>

/* How long before the deadline reminders go. */
#define PRESSURE_REMINDER_SECONDS (24 * 3600)

/* Reminds one practice for its current period when due. Returns 0 or < 0. */
static int remind(struct db_conn *c, const struct config *cfg, const char *ods, int64_t now,
                  int *sent)
{
	struct pressure_practice p;
	struct pressure_period period;
	int rc = pressure_find_practice(c, ods, &p);
	if (rc <= 0)
		return rc;
	/* Reads first, without a transaction: most ticks find nothing to do, and
	 * should not take the write lock once per practice. */
	if (pressure_current_period(c, &p, now, &period))
		return DB_ERR;
	if (now >= period.deadline_at || period.deadline_at - now > PRESSURE_REMINDER_SECONDS)
		return 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT (SELECT count(*) FROM pressure_returns WHERE period_id = $1 AND "
	       "organisation_id = $2) + (SELECT count(*) FROM pressure_reminders WHERE period_id = "
	       "$1 AND organisation_id = $2)");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, period.id);
	db_bind_int(st, 2, p.id);
	rc = db_step(st);
	int64_t done = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return DB_ERR;
	if (done)
		return 0;
	if (db_begin(c))
		return DB_ERR;
	st = db_prepare(c,
	                "INSERT INTO pressure_reminders (period_id, organisation_id, sent_at) "
	                "SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM pressure_returns WHERE "
	                "period_id = $1 AND organisation_id = $2) ON CONFLICT DO NOTHING "
	                "RETURNING period_id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, period.id);
	db_bind_int(st, 2, p.id);
	db_bind_int(st, 3, now);
	rc = db_step(st);
	db_reset(st);
	if (rc == DB_DONE) { /* returned already, or reminded already */
		db_rollback(c);
		return 0;
	}
	if (rc != DB_ROW)
		goto fail;
	char label[64], due[TIME_DATE_TIME_BYTES], subject[LIMIT_NAME_BYTES + 128];
	pressure_period_label(&period, label, sizeof label);
	time_format_time_on_date(period.deadline_at, due);
	snprintf(subject, sizeof subject, "Pressure return due by %s: %s", due, p.name);
	struct buf text;
	buf_init(&text, 4096);
	buf_printf(
	    &text,
	    "%s has not yet sent its pressure return for the %s.\n\n"
	    "It is due by %s. It takes about a minute:\n\n%s/pressure/practices/%s/return\n\n"
	    "Your practice's figures are seen only by your practice and the collective's "
	    "executive.\n",
	    p.name, label, due, cfg->base_url, p.ods);
	st = db_prepare(c,
	                "SELECT u.email FROM memberships m JOIN people u ON u.id = m.person_id "
	                "WHERE m.organisation_id = $1 AND (m.lead = 1 OR m.may_report = 1) AND "
	                "u.deactivated_at IS NULL AND u.role <> 'partner' ORDER BY u.id LIMIT 50");
	if (!st) {
		buf_free(&text);
		goto fail;
	}
	db_bind_int(st, 1, p.id);
	char(*emails)[LIMIT_EMAIL_BYTES + 1] = xcalloc(50, sizeof *emails);
	int n = 0;
	while ((rc = db_step(st)) == DB_ROW && n < 50)
		snprintf(emails[n++], sizeof emails[0], "%s", db_col_text(st, 0));
	db_reset(st);
	for (int i = 0; rc >= 0 && i < n; i++)
		if (mail_queue(c, emails[i], subject, text.data, NULL) != MAIL_OK)
			rc = DB_ERR;
	free(emails);
	buf_free(&text);
	if (rc < 0 || db_commit(c))
		goto fail;
	*sent += n;
	return 0;
fail:
	db_rollback(c);
	return DB_ERR;
}

int pressure_reminders_job(struct db *db, const struct config *cfg, const atomic_bool *stop,
                           char *err, size_t errlen)
{
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(err, errlen, "the database cannot be reached");
		return DB_ERR_CONN;
	}
	int64_t now = (int64_t)time(NULL);
	struct db_stmt *st = db_prepare(
	    c,
	    "SELECT ods_code FROM organisations WHERE kind = 'practice' ORDER BY id LIMIT 20000");
	if (!st) {
		snprintf(err, errlen, "pressure reminders: %s", db_errmsg(c));
		db_release(c);
		return DB_ERR;
	}
	size_t n = 0, cap = 256;
	char(*codes)[16] = xcalloc(cap, sizeof *codes);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			cap *= 2;
			codes = xrealloc(codes, cap * sizeof *codes);
		}
		snprintf(codes[n++], sizeof codes[0], "%s", db_col_text(st, 0));
	}
	db_reset(st);
	int sent = 0;
	for (size_t i = 0; rc >= 0 && i < n && !atomic_load(stop); i++)
		rc = remind(c, cfg, codes[i], now, &sent);
	free(codes);
	if (rc < 0)
		snprintf(err, errlen, "pressure reminders: %s", db_errmsg(c));
	db_release(c);
	if (sent)
		mail_wake();
	return rc < 0 ? DB_ERR : 0;
}
