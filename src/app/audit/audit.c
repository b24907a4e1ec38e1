/*
 * audit.c — the audit trail page and its CSV download (see audit.h).
 *
 * Both read the same filters from the query string, checked the same way
 * (load_filter), and run one fixed SQL text whose unused filters are switched
 * off by their parameters, so no SQL is ever built from what was typed.
 *
 * The download is the one response in Shoal allowed past LIMIT_PAGE_BYTES: a
 * year of a busy collective's trail is tens of megabytes. It is read in
 * batches (libpq would otherwise hold every row at once), stops at
 * AUDIT_CSV_MAX_ROWS or AUDIT_CSV_MAX_BYTES with a last line that says so,
 * and is itself recorded in the trail ("audit-exported") before it is sent:
 * if that record cannot be written, nothing is sent.
 */
#include "app/audit/audit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "auth/audit.h"
#include "core/csv.h"
#include "core/format.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "templates.h"

/* The filters, once checked, as the SQL wants them. */
struct audit_filter {
	const char *action;              /* "" for any */
	struct buf actor;                /* a LIKE pattern, or "" for anyone */
	int64_t from, to;                /* UTC bounds: from <= at < to */
	char from_text[16], to_text[16]; /* YYYY-MM-DD as given, for the export's record */
	struct buf query;                /* the filters as a query string, for links */
};

/* Newest first; a filter whose parameter is empty (or a bound at the far end) passes every row. */
static const char list_sql[] =
    "SELECT a.id, a.at, a.actor, a.action, a.subject, a.detail, a.address, "
    "coalesce(p.name, '') FROM audit_log a LEFT JOIN people p ON p.id = a.actor_id "
    "WHERE ($1 = '' OR a.action = $1) AND ($2 = '' OR lower(a.actor) LIKE $2 ESCAPE '\\') "
    "AND a.at >= $3 AND a.at < $4 ORDER BY a.id DESC LIMIT $5 OFFSET $6";

static const char csv_sql[] =
    "SELECT a.id, a.at, a.actor_id, a.actor, a.action, a.subject, a.detail, a.address, "
    "a.prev_hash, a.hash, coalesce(p.name, '') FROM audit_log a LEFT JOIN people p ON "
    "p.id = a.actor_id WHERE ($1 = '' OR a.action = $1) AND ($2 = '' OR lower(a.actor) LIKE "
    "$2 ESCAPE '\\') AND a.at >= $3 AND a.at < $4 AND a.id < $5 ORDER BY a.id DESC LIMIT $6";

/* Each distinct action in the trail, found through the (action, at) index one
 * step at a time (a "loose index scan"), so it stays fast on millions of rows. */
static const char actions_sql[] =
    "WITH RECURSIVE a(action) AS (SELECT min(action) FROM audit_log UNION ALL "
    "SELECT (SELECT min(action) FROM audit_log WHERE action > a.action) FROM a "
    "WHERE a.action IS NOT NULL) SELECT action FROM a WHERE action IS NOT NULL LIMIT $1";

static bool all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static const char *const date_ids[2][3] = {{"from-day", "from-month", "from-year"},
                                           {"to-day", "to-month", "to-year"}};

/* Reads one date filter (NAME-day, NAME-month, NAME-year; which: 0 from, 1 to).
 * Returns 1 with the date in y, m, d when given, 0 when all three are empty,
 * -1 on an error (recorded in f and errors). Messages follow the NHS date
 * input pattern: say what is missing, else that it must be a real date. */
static int read_date(struct http_request *req, int which, const char *label,
                     struct audit_date_field *f, struct form_errors *errors, int *y, int *m, int *d)
{
	static const char *const part_names[3] = {"day", "month", "year"};
	const char *parts[3];
	for (int i = 0; i < 3; i++) {
		const char *s = http_query(req, date_ids[which][i]);
		parts[i] = s ? s : "";
		while (*parts[i] == ' ')
			parts[i]++;
	}
	f->day = listing_display(parts[0]);
	f->month = listing_display(parts[1]);
	f->year = listing_display(parts[2]);
	bool missing[3] = {!*parts[0], !*parts[1], !*parts[2]};
	bool *bad[3] = {&f->day_bad, &f->month_bad, &f->year_bad};
	int first = -1;
	if (missing[0] && missing[1] && missing[2])
		return 0;
	if (missing[0] || missing[1] || missing[2]) {
		/* "must include a day and month": list what is missing. */
		int total = missing[0] + missing[1] + missing[2], listed = 0;
		int n = snprintf(f->error_text, sizeof f->error_text, "%s must include a", label);
		for (int i = 0; i < 3; i++) {
			if (!missing[i])
				continue;
			*bad[i] = true;
			if (first < 0)
				first = i;
			listed++;
			n += snprintf(f->error_text + n, sizeof f->error_text - (size_t)n, "%s%s",
			              listed == 1       ? " "
			              : listed == total ? " and "
			                                : ", ",
			              part_names[i]);
		}
	} else {
		bool digits[3] = {all_digits(parts[0], 2), all_digits(parts[1], 2),
		                  all_digits(parts[2], 4) && strlen(parts[2]) == 4};
		*y = digits[2] ? atoi(parts[2]) : 0;
		*m = digits[1] ? atoi(parts[1]) : 0;
		*d = digits[0] ? atoi(parts[0]) : 0;
		if (digits[0] && digits[1] && digits[2] && time_date_valid(*y, *m, *d))
			return 1;
		snprintf(f->error_text, sizeof f->error_text,
		         "%s must be a real date, like 31 3 2026", label);
		for (int i = 0; i < 3; i++) {
			bool wrong = !digits[i] || (i == 0 && (*d < 1 || *d > 31)) ||
			             (i == 1 && (*m < 1 || *m > 12)) ||
			             (i == 2 && (*y < TIME_YEAR_MIN || *y > TIME_YEAR_MAX));
			if (wrong && first < 0)
				first = i;
			*bad[i] = wrong;
		}
		if (first < 0) { /* each part is plausible, the whole is not (31 2 2026) */
			first = 0;
			f->day_bad = f->month_bad = f->year_bad = true;
		}
	}
	f->error = f->error_text;
	form_error_add(errors, date_ids[which][first], f->error);
	return -1;
}

/* Copies the action names into options (the caller frees each name). */
static int load_actions(struct db_conn *c, struct audit_action_option *options, size_t *n,
                        const char *selected)
{
	*n = 0;
	struct db_stmt *st = db_prepare(c, actions_sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, AUDIT_MAX_ACTIONS);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && *n < AUDIT_MAX_ACTIONS) {
		const char *a = db_col_text(st, 0);
		options[*n] =
		    (struct audit_action_option){xstrdup(a), selected && !strcmp(a, selected)};
		(*n)++;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}

static void free_actions(struct audit_action_option *options, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)options[i].name);
}

/*
 * Checks the query string into v (what was typed, and the errors) and f (what
 * the SQL needs). Returns 0 when the filters are usable, 1 when v->errors
 * holds problems, < 0 when the database failed.
 */
static int load_filter(struct http_request *req, struct db_conn *c, struct audit_view *v,
                       struct audit_action_option *options, struct audit_filter *f)
{
	const char *action = http_query(req, "action"), *actor = http_query(req, "actor");
	int y, m, d;
	buf_init(&f->actor, 3 * LIMIT_EMAIL_BYTES + 8);
	buf_init(&f->query, LIMIT_URL_BYTES * 4);
	buf_puts(&f->actor, "");
	buf_puts(&f->query, "");
	f->action = "";
	f->from = INT64_MIN;
	f->to = INT64_MAX;
	v->action = listing_display(action);
	v->actor = listing_display(actor);
	int rc = load_actions(c, options, &v->n_actions, action);
	v->actions = options;
	if (rc)
		return rc;
	if (action && *action) {
		bool known = false;
		for (size_t i = 0; i < v->n_actions; i++)
			known |= options[i].selected;
		if (known) {
			f->action = action;
			listing_query_add(&f->query, "action", action);
		} else {
			v->action_error = "Select an action from the list";
			form_error_add(&v->errors, "action", v->action_error);
		}
	}
	if (actor && *actor) {
		if (!listing_text_ok(actor, LIMIT_EMAIL_BYTES)) {
			v->actor_error =
			    "The email address must be 254 characters or fewer, on one line";
			form_error_add(&v->errors, "actor", v->actor_error);
		} else {
			listing_like_pattern(&f->actor, actor);
			listing_query_add(&f->query, "actor", actor);
		}
	}
	int from = read_date(req, 0, "The from date", &v->from, &v->errors, &y, &m, &d);
	if (from == 1) {
		f->from = time_london_day_start(y, m, d);
		snprintf(f->from_text, sizeof f->from_text, "%04d-%02d-%02d", y, m, d);
		listing_query_add(&f->query, "from-day", v->from.day);
		listing_query_add(&f->query, "from-month", v->from.month);
		listing_query_add(&f->query, "from-year", v->from.year);
	}
	int to = read_date(req, 1, "The to date", &v->to, &v->errors, &y, &m, &d);
	if (to == 1) {
		snprintf(f->to_text, sizeof f->to_text, "%04d-%02d-%02d", y, m, d);
		/* "To 12 March" includes the whole of 12 March: the bound is the next day's start.
		 */
		if (!time_date_valid(y, m, ++d)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
		f->to = y <= TIME_YEAR_MAX ? time_london_day_start(y, m, d) : INT64_MAX;
		listing_query_add(&f->query, "to-day", v->to.day);
		listing_query_add(&f->query, "to-month", v->to.month);
		listing_query_add(&f->query, "to-year", v->to.year);
	}
	if (from == 1 && to == 1 && f->to <= f->from) {
		v->to.error = "The to date must be the same as or after the from date";
		v->to.day_bad = v->to.month_bad = v->to.year_bad = true;
		form_error_add(&v->errors, "to-day", v->to.error);
	}
	if (f->query.overflow) { /* cannot happen within LIMIT_URL_BYTES, but never link half */
		buf_clear(&f->query);
		buf_puts(&f->query, "");
	}
	v->filtered = *f->action || f->actor.len || from == 1 || to == 1;
	return v->errors.n ? 1 : 0;
}

static void free_filter(struct audit_filter *f)
{
	buf_free(&f->actor);
	buf_free(&f->query);
}

static void bind_filter(struct db_stmt *st, const struct audit_filter *f)
{
	db_bind_text(st, 1, f->action);
	db_bind_text(st, 2, f->actor.len ? f->actor.data : "");
	db_bind_int(st, 3, f->from);
	db_bind_int(st, 4, f->to);
}

static void free_rows(struct audit_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].actor);
		free((char *)rows[i].action);
		free((char *)rows[i].subject);
		free((char *)rows[i].detail);
		free((char *)rows[i].address);
		free((char *)rows[i].actor_name);
	}
}

static void render(struct http_request *req, struct http_response *res, struct audit_view *v)
{
	struct buf main;
	format_thousands(v->csv_max, AUDIT_CSV_MAX_ROWS);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_audit(&main, v);
	page_render(req, res, v->errors.n ? "Error: Audit trail" : "Audit trail", main.data);
	buf_free(&main);
}

void audit_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct audit_action_option options[AUDIT_MAX_ACTIONS];
	struct audit_row rows[AUDIT_PAGE_SIZE + 1];
	struct audit_filter f = {0};
	struct audit_view v = {0};
	struct buf csv_href;
	size_t n = 0;
	long long page = listing_page_parse(http_query(req, "page"));
	if (page < 0) {
		res->status = 400;
		res->reason = "The page number in the web address must be a whole number from 1 to "
		              "10000. Go back to the first page of the audit trail.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	buf_init(&csv_href, LIMIT_URL_BYTES * 4 + 32);
	int rc = load_filter(req, c, &v, options, &f);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		struct db_stmt *st = db_prepare(c, list_sql);
		if (!st)
			goto fail;
		bind_filter(st, &f);
		db_bind_int(st, 5, AUDIT_PAGE_SIZE + 1);
		db_bind_int(st, 6, (page - 1) * AUDIT_PAGE_SIZE);
		while ((rc = db_step(st)) == DB_ROW && n < AUDIT_PAGE_SIZE + 1) {
			struct audit_row *r = &rows[n++];
			r->id = db_col_int(st, 0);
			time_format_date_time_seconds(db_col_int(st, 1), r->when);
			r->actor = xstrdup(db_col_text(st, 2));
			r->action = xstrdup(db_col_text(st, 3));
			r->subject = xstrdup(db_col_text(st, 4));
			r->detail = xstrdup(db_col_text(st, 5));
			r->address = xstrdup(db_col_text(st, 6));
			r->actor_name = xstrdup(db_col_text(st, 7));
		}
		db_reset(st);
		if (rc != DB_DONE && rc != DB_ROW)
			goto fail;
	}
	db_release(c);
	c = NULL;
	bool has_next = n > AUDIT_PAGE_SIZE;
	v.rows = rows;
	v.n_rows = has_next ? AUDIT_PAGE_SIZE : n;
	buf_printf(&csv_href, "/admin/audit.csv%s%.*s", f.query.len ? "?" : "",
	           f.query.len ? (int)f.query.len - 1 : 0, f.query.data ? f.query.data : "");
	v.csv_href = csv_href.data;
	listing_pager_init(&v.pager, "/admin/audit", f.query.data ? f.query.data : "", page,
	                   has_next);
	if (v.errors.n)
		res->status = 400;
	render(req, res, &v);
	listing_pager_free(&v.pager);
	free_rows(rows, n);
	free_actions(options, v.n_actions);
	free_filter(&f);
	buf_free(&csv_href);
	return;
fail:
	log_error("request %s: cannot read the audit trail: %s", req->id, db_errmsg(c));
	db_release(c);
	free_rows(rows, n);
	free_actions(options, v.n_actions);
	free_filter(&f);
	buf_free(&csv_href);
	res->status = 500;
}

static const char csv_header[] =
    "id,at_utc,at_unix,actor_id,actor,actor_name,action,subject,detail,address,prev_hash,hash\r\n";

/* Writes one row as a CSV record into out (a scratch buffer). */
static void csv_row(struct buf *out, struct db_stmt *st)
{
	char num[32], iso[32];
	int64_t at = db_col_int(st, 1);
	snprintf(num, sizeof num, "%lld", (long long)db_col_int(st, 0));
	csv_write_field(out, num);
	buf_putc(out, ',');
	time_format_utc_iso(at, iso);
	csv_write_field(out, iso);
	buf_putc(out, ',');
	snprintf(num, sizeof num, "%lld", (long long)at);
	csv_write_field(out, num);
	buf_putc(out, ',');
	if (!db_col_is_null(st, 2)) {
		snprintf(num, sizeof num, "%lld", (long long)db_col_int(st, 2));
		csv_write_field(out, num);
	}
	/* actor, then the actor's name now (not part of the chain), then the rest. */
	static const int cols[] = {3, 10, 4, 5, 6, 7, 8, 9};
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		buf_putc(out, ',');
		csv_write_field(out, db_col_text(st, cols[i]));
	}
	buf_puts(out, "\r\n");
}

void audit_csv(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct audit_action_option options[AUDIT_MAX_ACTIONS];
	struct audit_filter f = {0};
	struct audit_view v = {0};
	struct buf row, detail;
	long long rows = 0;
	bool truncated = false;
	int64_t before = INT64_MAX;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	buf_init(&row, 64 * 1024 + LIMIT_PAGE_BYTES);
	buf_init(&detail, 2048);
	int rc = load_filter(req, c, &v, options, &f);
	if (rc < 0)
		goto fail;
	if (rc > 0) { /* the same page, with the same "There is a problem" summary */
		db_release(c);
		c = NULL;
		v.csv_href = "/admin/audit.csv";
		listing_pager_init(&v.pager, "/admin/audit", "", 1, false);
		res->status = 400;
		render(req, res, &v);
		listing_pager_free(&v.pager);
		goto done;
	}
	/* The one response allowed past LIMIT_PAGE_BYTES (see the top of this file). */
	buf_free(&res->body);
	buf_init(&res->body, AUDIT_CSV_MAX_BYTES);
	buf_puts(&res->body, csv_header);
	/* Room kept for the closing note, so it always fits. */
	size_t room = AUDIT_CSV_MAX_BYTES - 1024;
	while (!truncated) {
		struct db_stmt *st = db_prepare(c, csv_sql);
		if (!st)
			goto fail;
		bind_filter(st, &f);
		db_bind_int(st, 5, before);
		db_bind_int(st, 6, AUDIT_CSV_BATCH);
		int batch = 0;
		while ((rc = db_step(st)) == DB_ROW) {
			batch++;
			if (rows == AUDIT_CSV_MAX_ROWS) {
				truncated = true;
				break;
			}
			buf_clear(&row);
			csv_row(&row, st);
			if (row.overflow || res->body.len + row.len > room) {
				truncated = true;
				break;
			}
			buf_add(&res->body, row.data, row.len);
			before = db_col_int(st, 0);
			rows++;
		}
		db_reset(st);
		if (rc < 0)
			goto fail;
		if (batch < AUDIT_CSV_BATCH && !truncated)
			break;
	}
	if (truncated) {
		char count[32], note[256];
		snprintf(
		    note, sizeof note,
		    "# Incomplete: this file holds only the newest %s matching entries. Narrow "
		    "the dates to download the rest.",
		    format_thousands(count, rows));
		csv_write_field(&res->body, note);
		buf_puts(&res->body, "\r\n");
	}
	buf_printf(&detail, "%lld entries%s; action: %s; actor contains: %s; from: %s; to: %s",
	           rows, truncated ? " (incomplete: the limit was reached)" : "",
	           *f.action ? f.action : "any", *v.actor ? v.actor : "anyone",
	           f.from_text[0] ? f.from_text : "the start", f.to_text[0] ? f.to_text : "now");
	struct audit_entry e = {viewer->person_id, viewer->email, "audit-exported",
	                        "audit-trail",     detail.data,   req->address};
	if (audit_record(c, &e)) {
		buf_clear(&res->body);
		goto fail;
	}
	db_release(c);
	c = NULL;
	char disposition[96], stamp[32];
	time_format_utc_iso((int64_t)time(NULL), stamp);
	for (char *p = stamp; *p; p++)
		if (*p == ':')
			*p = '-';
	snprintf(disposition, sizeof disposition, "attachment; filename=\"shoal-audit-%s.csv\"",
	         stamp);
	res->content_type = "text/csv; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	http_response_header_copy(res, "Content-Disposition", disposition);
	goto done;
fail:
	log_error("request %s: cannot export the audit trail: %s", req->id, c ? db_errmsg(c) : "");
	db_release(c);
	buf_free(&res->body);
	buf_init(&res->body, LIMIT_PAGE_BYTES);
	res->status = 500;
done:
	free_actions(options, v.n_actions);
	free_filter(&f);
	buf_free(&row);
	buf_free(&detail);
}
