/*
 * retention.c — how long audit entries and pressure returns are kept, the job
 * that deletes older ones, and removing a deactivated person's details (see
 * privacy.h).
 *
 * The audit trail is a hash chain from its first entry. Deleting the oldest
 * entries would make `shoal audit verify` report the new first entry as not
 * following the one before it, so in the same transaction as the delete the
 * job (1) appends an "audit-trimmed" entry saying what it deleted, and (2)
 * records in settings where the chain now starts: the new first entry's id and
 * the prev_hash it carries. The verifier starts from there. Rewriting that
 * setting to hide a deletion needs the same write access as rewriting every
 * hash, which the chain alone never stopped (see audit_verify.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/privacy/privacy.h"
#include "auth/audit.h"
#include "core/log.h"
#include "templates.h"

#define RETENTION_MIN_YEARS 1
#define RETENTION_MAX_YEARS 50
#define RETENTION_BATCH     5000     /* rows deleted in one transaction */
#define SECONDS_PER_YEAR    31557600 /* 365.25 days */

/* A whole number of years from settings, or the default when unset or bad. */
static int read_years(struct db_conn *c, const char *key, int fallback)
{
	struct db_stmt *st = db_prepare(c, "SELECT value FROM settings WHERE key = $1");
	int years = fallback;
	if (!st)
		return fallback;
	db_bind_text(st, 1, key);
	if (db_step(st) == DB_ROW) {
		int y = atoi(db_col_text(st, 0));
		if (y >= RETENTION_MIN_YEARS && y <= RETENTION_MAX_YEARS)
			years = y;
	}
	db_reset(st);
	return years;
}

static int put_setting(struct db_conn *c, const char *key, const char *value)
{
	struct db_stmt *st = db_prepare(c, "INSERT INTO settings (key, value) VALUES ($1, $2) "
	                                   "ON CONFLICT (key) DO UPDATE SET value = $2");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	db_bind_text(st, 2, value);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* One integer from a query with one bound integer; 0 when there is no row. */
static int query_int(struct db_conn *c, const char *sql, int64_t arg, int64_t *out)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, arg);
	int rc = db_step(st);
	*out = rc == DB_ROW && !db_col_is_null(st, 0) ? db_col_int(st, 0) : 0;
	db_reset(st);
	return rc < 0 ? rc : DB_OK;
}

/* Runs a statement with n (1 or 2) integer parameters. */
static int run_int(struct db_conn *c, const char *sql, int n, int64_t a, int64_t b)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, a);
	if (n > 1)
		db_bind_int(st, 2, b);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

/* Deletes up to RETENTION_BATCH of the oldest audit entries written before
 * cutoff, keeping the chain verifiable. Returns 1 if it deleted any. */
static int trim_audit(struct db_conn *c, int64_t cutoff)
{
	/* Entries are appended in id order; the oldest ones before the cutoff form
	 * a prefix, so deleting by id keeps the rest a chain. */
	int64_t first = 0, next = 0;
	int rc = query_int(c, "SELECT min(id) FROM audit_log WHERE id > $1", 0, &first);
	if (rc || first == 0)
		return rc;
	/* The last entry of the prefix: the newest one before the first entry at or
	 * after the cutoff (or before the batch ends). */
	int64_t boundary = 0;
	rc = query_int(c, "SELECT min(id) FROM audit_log WHERE at >= $1", cutoff, &boundary);
	if (rc)
		return rc;
	int64_t limit = first + RETENTION_BATCH - 1;
	int64_t upto = boundary ? boundary - 1 : INT64_MAX;
	if (upto > limit)
		upto = limit;
	int64_t count = 0;
	rc = query_int(c, "SELECT count(*) FROM audit_log WHERE id <= $1", upto, &count);
	if (rc || count == 0)
		return rc;
	char detail[160];
	snprintf(detail, sizeof detail,
	         "deleted %lld audit entries (ids up to %lld) older than the retention period",
	         (long long)count, (long long)upto);
	struct audit_entry e = {0, "system", "audit-trimmed", "audit", detail, NULL};
	rc = audit_record(c, &e);
	if (rc)
		return rc;
	rc = query_int(c, "SELECT min(id) FROM audit_log WHERE id > $1", upto, &next);
	if (rc)
		return rc;
	struct db_stmt *st = db_prepare(c, "SELECT prev_hash FROM audit_log WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, next);
	char start[128] = "";
	if ((rc = db_step(st)) == DB_ROW)
		snprintf(start, sizeof start, "%lld %s", (long long)next, db_col_text(st, 0));
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	rc = put_setting(c, "audit_chain_start", start);
	if (!rc)
		rc = run_int(c, "DELETE FROM audit_log WHERE id <= $1", 1, upto, 0);
	return rc ? rc : 1;
}

/* Deletes up to a batch of pressure returns first sent before cutoff, with
 * their escalations. Returns 1 if it deleted any. */
static int trim_returns(struct db_conn *c, int64_t cutoff)
{
	int64_t n = 0;
	int rc = query_int(c, "SELECT count(*) FROM pressure_returns WHERE submitted_at < $1",
	                   cutoff, &n);
	if (rc || n == 0)
		return rc;
	static const char *const deletes[] = {
	    "DELETE FROM pressure_escalations WHERE return_id IN (SELECT id FROM pressure_returns "
	    "WHERE submitted_at < $1 ORDER BY id LIMIT $2)",
	    "DELETE FROM pressure_returns WHERE id IN (SELECT id FROM pressure_returns "
	    "WHERE submitted_at < $1 ORDER BY id LIMIT $2)",
	};
	for (size_t i = 0; i < sizeof deletes / sizeof deletes[0]; i++)
		if ((rc = run_int(c, deletes[i], 2, cutoff, RETENTION_BATCH)))
			return rc;
	char detail[120];
	snprintf(detail, sizeof detail,
	         "deleted %lld pressure returns older than the retention period",
	         (long long)(n < RETENTION_BATCH ? n : RETENTION_BATCH));
	struct audit_entry e = {0, "system", "pressure-returns-deleted", "pressure", detail, NULL};
	rc = audit_record(c, &e);
	return rc ? rc : 1;
}

int privacy_retention_run(struct db_conn *c, int64_t now, char *err, size_t errlen)
{
	int rc = db_begin(c);
	if (rc) {
		snprintf(err, errlen, "retention: %s", db_errmsg(c));
		return rc;
	}
	int64_t audit_cut =
	    now - (int64_t)read_years(c, "retention_audit_years", 6) * SECONDS_PER_YEAR;
	int64_t returns_cut =
	    now - (int64_t)read_years(c, "retention_pressure_years", 6) * SECONDS_PER_YEAR;
	int more = 0;
	/* Returns first: their deletion is audited, and must not itself be trimmed. */
	rc = trim_returns(c, returns_cut);
	if (rc >= 0) {
		more |= rc;
		rc = trim_audit(c, audit_cut);
	}
	if (rc >= 0) {
		more |= rc;
		rc = db_commit(c);
	}
	if (rc < 0) {
		snprintf(err, errlen, "retention: %s", db_errmsg(c));
		if (db_in_transaction(c))
			db_rollback(c);
		return rc;
	}
	return more;
}

int privacy_retention_job(struct db *db, const struct config *cfg, const atomic_bool *stop,
                          char *err, size_t errlen)
{
	(void)cfg;
	(void)stop;
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(err, errlen, "retention: the database cannot be reached");
		return DB_ERR_CONN;
	}
	int rc = privacy_retention_run(c, (int64_t)time(NULL), err, errlen);
	db_release(c);
	return rc;
}

/* The settings page. */

static void render_retention(struct http_request *req, struct http_response *res,
                             struct privacy_retention_view *v)
{
	struct app *app = req->app;
	char start[160] = "";
	struct db_conn *c = db_acquire(app->db);
	if (c) {
		struct db_stmt *st =
		    db_prepare(c, "SELECT value FROM settings WHERE key = 'audit_chain_start'");
		if (st && db_step(st) == DB_ROW)
			snprintf(start, sizeof start, "%s", db_col_text(st, 0));
		if (st)
			db_reset(st);
		db_release(c);
	}
	start[strcspn(start, " ")] = '\0'; /* the id, not the hash */
	v->chain_start = start[0] ? start : NULL;
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_privacy_retention(&main, v);
	page_render(req, res,
	            v->errors.n ? "Error: How long records are kept" : "How long records are kept",
	            main.data);
	buf_free(&main);
}

void privacy_retention_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_set_retention(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char audit[8], pressure[8];
	snprintf(audit, sizeof audit, "%d", read_years(c, "retention_audit_years", 6));
	snprintf(pressure, sizeof pressure, "%d", read_years(c, "retention_pressure_years", 6));
	db_release(c);
	struct privacy_retention_view v = {.audit_years = audit, .pressure_years = pressure};
	if (http_query(req, "saved"))
		v.notice = "The retention periods have been saved.";
	render_retention(req, res, &v);
}

/* A whole number of years in range, or NULL with the message for the field. */
static const char *check_years(const char *typed, const char *what, char *msg, size_t len)
{
	size_t n = typed ? strlen(typed) : 0;
	if (n == 0) {
		snprintf(msg, len, "Enter how many years to keep %s", what);
		return NULL;
	}
	if (n > 2 || strspn(typed, "0123456789") != n || atoi(typed) < RETENTION_MIN_YEARS ||
	    atoi(typed) > RETENTION_MAX_YEARS) {
		snprintf(msg, len, "Years to keep %s must be a whole number from %d to %d", what,
		         RETENTION_MIN_YEARS, RETENTION_MAX_YEARS);
		return NULL;
	}
	return typed;
}

void privacy_retention_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_set_retention(viewer)) {
		res->status = 403;
		return;
	}
	const char *audit = form_get(access_form(req), "audit-years");
	const char *pressure = form_get(access_form(req), "pressure-years");
	struct privacy_retention_view v = {.audit_years = audit ? audit : "",
	                                   .pressure_years = pressure ? pressure : ""};
	char audit_msg[100], pressure_msg[100];
	if (!check_years(audit, "audit entries", audit_msg, sizeof audit_msg)) {
		v.audit_error = audit_msg;
		form_error_add(&v.errors, "audit-years", audit_msg);
	}
	if (!check_years(pressure, "pressure returns", pressure_msg, sizeof pressure_msg)) {
		v.pressure_error = pressure_msg;
		form_error_add(&v.errors, "pressure-years", pressure_msg);
	}
	if (v.errors.n) {
		res->status = 400;
		render_retention(req, res, &v);
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char a[8], p[8], detail[96];
	snprintf(a, sizeof a, "%d", atoi(audit));
	snprintf(p, sizeof p, "%d", atoi(pressure));
	snprintf(detail, sizeof detail, "audit kept %s years, pressure returns kept %s years", a,
	         p);
	struct audit_entry e = {viewer->person_id, viewer->email, "retention-changed",
	                        "settings",        detail,        req->address};
	int rc = db_begin(c);
	if (!rc)
		rc = put_setting(c, "retention_audit_years", a);
	if (!rc)
		rc = put_setting(c, "retention_pressure_years", p);
	if (!rc)
		rc = audit_record(c, &e);
	if (!rc)
		rc = db_commit(c);
	if (rc) {
		log_error("request %s: cannot save retention: %s", req->id, db_errmsg(c));
		if (db_in_transaction(c))
			db_rollback(c);
		res->status = rc == DB_ERR_CONN ? 503 : 500;
	}
	db_release(c);
	if (!rc)
		http_redirect(res, "/admin/retention?saved=1");
}
