/*
 * pages.c — GET /search: the search form and one page of results (see
 * search.h). Filters arrive as GET parameters so that a search can be
 * bookmarked; bad ones get the NHS error summary, status 400, and stay typed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/access.h"
#include "app/app.h"
#include "app/search/search.h"
#include "core/gate.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"

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

/* One date filter, as the audit page reads its own (src/app/audit/audit.c): 1 with
 * the date when given, 0 when all three fields are empty, -1 on an error recorded
 * in f and errors, said the NHS way (what is missing, or that it must be real). */
static int read_date(struct http_request *req, int which, const char *label,
                     struct audit_date_field *f, struct form_errors *errors, int *y, int *m, int *d)
{
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
	bool *bad[3] = {&f->day_bad, &f->month_bad, &f->year_bad};
	int given = !!*parts[0] + !!*parts[1] + !!*parts[2], first = -1;
	if (!given)
		return 0;
	bool digits[3] = {all_digits(parts[0], 2), all_digits(parts[1], 2),
	                  all_digits(parts[2], 4) && strlen(parts[2]) == 4};
	*d = digits[0] ? atoi(parts[0]) : 0;
	*m = digits[1] ? atoi(parts[1]) : 0;
	*y = digits[2] ? atoi(parts[2]) : 0;
	if (given == 3 && digits[0] && digits[1] && digits[2] && time_date_valid(*y, *m, *d))
		return 1;
	if (given < 3)
		snprintf(f->error_text, sizeof f->error_text,
		         "%s must include a day, month and year", label);
	else
		snprintf(f->error_text, sizeof f->error_text,
		         "%s must be a real date, like 31 3 2026", label);
	for (int i = 0; i < 3; i++) {
		*bad[i] = !*parts[i] || !digits[i];
		if (*bad[i] && first < 0)
			first = i;
	}
	if (first < 0) { /* each part is plausible, the whole is not (31 2 2026) */
		first = 0;
		f->day_bad = f->month_bad = f->year_bad = true;
	}
	f->error = f->error_text;
	form_error_add(errors, date_ids[which][first], f->error);
	return -1;
}

/* The spaces the viewer sees, for the space filter. */
static int load_spaces(struct db_conn *c, const struct viewer *viewer, struct search_view *v)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT s.id, s.name FROM spaces s WHERE " DISCUSSIONS_VISIBLE_SQL
	                  " ORDER BY s.position, s.id LIMIT 100");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, viewer->person_id);
	db_bind_text(st, 2, policy_role_name(viewer->role));
	int rc;
	while ((rc = db_step(st)) == DB_ROW && v->n_spaces < DISCUSSIONS_MAX_SPACES) {
		v->spaces[v->n_spaces].id = db_col_int(st, 0);
		snprintf(v->spaces[v->n_spaces].name, sizeof v->spaces[0].name, "%s",
		         db_col_text(st, 1));
		v->n_spaces++;
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

void search_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct search_view *v = xcalloc(1, sizeof *v);
	struct search_filter f = {.author = "", .from = INT64_MIN, .to = INT64_MAX, .page = 1};
	struct buf query;
	buf_init(&query, LIMIT_URL_BYTES * 4);
	buf_puts(&query, "");
	const char *q = http_query(req, "q"), *author = http_query(req, "author"),
	           *space = http_query(req, "space");
	v->q = listing_display(q);
	v->author = listing_display(author);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		goto out;
	}
	if (load_spaces(c, viewer, v))
		goto fail;

	/* Check every filter, so that all problems show at once. */
	size_t qlen = q ? strlen(q) : 0;
	if (!listing_text_ok(q, SEARCH_MAX_QUERY_BYTES) || qlen > SEARCH_MAX_QUERY_BYTES) {
		v->q_error = qlen > SEARCH_MAX_QUERY_BYTES
		                 ? "Search words must be 200 characters or fewer"
		                 : "Search words must be plain text, without control characters";
		form_error_add(&v->errors, "q", v->q_error);
	} else {
		struct buf probe;
		buf_init(&probe, 8 * SEARCH_MAX_QUERY_BYTES + 64);
		if (search_fts5_query(q, &probe) < 0) {
			v->q_error = "Enter 20 words or fewer";
			form_error_add(&v->errors, "q", v->q_error);
		}
		buf_free(&probe);
	}
	if (!listing_text_ok(author, LIMIT_NAME_BYTES)) {
		v->author_error = "The author's name must be 200 characters or fewer, without "
		                  "control characters";
		form_error_add(&v->errors, "author", v->author_error);
	} else if (author && *author) {
		f.author = author;
		listing_query_add(&query, "author", author);
	}
	if (space && *space) {
		int64_t id = http_parse_id(space);
		for (size_t i = 0; id && i < v->n_spaces; i++)
			if (v->spaces[i].id == id)
				v->space_selected[i] = true, f.space_id = id;
		/* A space one may not see is as unknown as one that does not exist. */
		if (!f.space_id) {
			v->space_error = "Choose a space from the list";
			form_error_add(&v->errors, "space", v->space_error);
		} else
			listing_query_add(&query, "space", space);
	}
	int y, m, d;
	int from = read_date(req, 0, "From", &v->from, &v->errors, &y, &m, &d);
	if (from == 1)
		f.from = time_london_day_start(y, m, d);
	int to = read_date(req, 1, "To", &v->to, &v->errors, &y, &m, &d);
	if (to == 1) {
		/* "To 12 March" includes the whole of 12 March: the bound is the next day's start.
		 */
		if (!time_date_valid(y, m, ++d)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
		f.to = y <= TIME_YEAR_MAX ? time_london_day_start(y, m, d) : INT64_MAX;
	}
	if (from == 1 && to == 1 && f.to <= f.from) {
		v->to.error = "To must be the same as or after From";
		v->to.day_bad = v->to.month_bad = v->to.year_bad = true;
		form_error_add(&v->errors, "to-day", v->to.error);
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++)
			listing_query_add(&query, date_ids[i][j], http_query(req, date_ids[i][j]));
	f.page = listing_page_parse(http_query(req, "page"));
	if (f.page < 1 || f.page > SEARCH_MAX_PAGE) {
		db_release(c);
		res->status = 404;
		res->reason = "There is no page with that number: search again with more words.";
		goto out;
	}
	if (!v->errors.n && q && !disc_blank(q)) {
		f.q = q;
		bool more = false;
		search_catch_up(c, req->id);
		gate_enter(); /* ranking is all CPU: one search a core (core/gate.h) */
		int rc = search_run(c, viewer, &f, v->results, SEARCH_PER_PAGE, &v->n, &more);
		gate_leave();
		if (rc == DB_ERR_TIMEOUT) {
			/* Too many matches to rank in time: the person can narrow it. */
			res->status = 503;
			v->q_error = SEARCH_TOO_BROAD;
			form_error_add(&v->errors, "q", v->q_error);
		} else if (rc) {
			goto fail;
		}
		v->searched = !v->errors.n;
		v->first = (f.page - 1) * SEARCH_PER_PAGE + 1;
		struct buf base;
		buf_init(&base, LIMIT_URL_BYTES * 4);
		buf_puts(&base, "");
		listing_query_add(&base, "q", q);
		buf_puts(&base, query.data);
		listing_pager_init(&v->pager, "/search", base.data, f.page, more);
		buf_free(&base);
	} else {
		listing_pager_init(&v->pager, "/search", "", 1, false);
	}
	db_release(c);
	c = NULL;
	if (v->errors.n && res->status != 503)
		res->status = 400;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_search(&main, v);
	page_render(req, res,
	            v->errors.n   ? "Error: Search discussions"
	            : v->searched ? "Search results"
	                          : "Search discussions",
	            main.data);
	buf_free(&main);
	goto out;
fail:
	log_error("request %s: cannot search: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
out:
	for (size_t i = 0; i < v->n; i++)
		search_result_free(&v->results[i]);
	listing_pager_free(&v->pager);
	buf_free(&query);
	free(v);
}
