/*
 * search.c — the search itself (see search.h): the user's words made safe for
 * FTS5, one query per engine, and snippets escaped before they are marked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/search/search.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "render/html.h"

static bool is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

int search_fts5_query(const char *q, struct buf *out)
{
	int words = 0;
	const unsigned char *p = (const unsigned char *)(q ? q : "");
	while (*p) {
		while (*p && (is_space(*p) || *p < 0x20 || *p == 0x7f))
			p++;
		if (!*p)
			break;
		if (++words > SEARCH_MAX_TERMS)
			return -1;
		/* A quoted string is a phrase of plain tokens to FTS5: nothing inside is
		 * syntax except the quote itself, which doubles. */
		buf_puts(out, words > 1 ? " \"" : "\"");
		for (; *p && !is_space(*p); p++) {
			if (*p < 0x20 || *p == 0x7f)
				continue;
			if (*p == '"')
				buf_putc(out, '"');
			buf_putc(out, (char)*p);
		}
		buf_putc(out, '"');
	}
	return words;
}

void search_marked_html(struct buf *out, const char *marked)
{
	bool open = false;
	const char *p = marked ? marked : "";
	while (*p) {
		size_t run = strcspn(p, "\x02\x03");
		if (run) {
			char *text = xstrndup(p, run);
			html_text(out, text);
			free(text);
			p += run;
			continue;
		}
		/* Only a start when closed and an end when open: stray marks in stored
		 * text cannot unbalance the markup. */
		if (*p == SEARCH_MARK_START && !open) {
			buf_puts(out, "<mark>");
			open = true;
		} else if (*p == SEARCH_MARK_END && open) {
			buf_puts(out, "</mark>");
			open = false;
		}
		p++;
	}
	if (open)
		buf_puts(out, "</mark>");
}

/* $1 viewer, $2 role, $3 query, $4 space (0: any), $5 author LIKE pattern ("": any),
 * $6 from, $7 to, $8 limit, $9 offset (PostgreSQL: $10 and $11, see postgres_sql).
 * Columns: post, thread, title, space id and name, author, created_at, marked title,
 * marked snippet, posts before it in its thread.
 *
 * Both engines work in three steps, because a common word matches a large part of a
 * region's million posts: (1) the newest SEARCH_CANDIDATES matching posts (FTS5 gives
 * them newest first; on PostgreSQL see search_newest_matches); (2) those the person may
 * see, filtered and ranked, one page of them; (3) snippets, highlights and positions
 * for that page only. Ranking every match, or making snippets for every match before
 * sorting, took over a second a query. The price: a word in more than
 * SEARCH_CANDIDATES posts is ranked among its newest ones only (docs/discussions.md). */
#define SEARCH_CANDIDATES     5000
#define SEARCH_STR_(x)        #x
#define SEARCH_STR(x)         SEARCH_STR_(x)
#define SEARCH_CANDIDATES_SQL SEARCH_STR(SEARCH_CANDIDATES)
#define SEARCH_TIME_LIMIT     "5s" /* PostgreSQL's statement_timeout for one search */

/* Step (2), on posts p and spaces s only: the candidates' threads are not needed to
 * filter or rank them, and their authors only when the author is a filter. */
#define SEARCH_FILTERS                                                                             \
	" AND " DISCUSSIONS_VISIBLE_SQL " AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND "   \
	"($4 = 0 OR p.space_id = $4) AND p.created_at >= $6 AND p.created_at < $7 AND ($5 = '' "   \
	"OR EXISTS (SELECT 1 FROM people a WHERE a.id = p.author_id AND lower(a.name) LIKE $5 "    \
	"ESCAPE '\\')) "

/* From the candidates m to their posts, threads, spaces and authors. On SQLite the CROSS
 * JOINs fix that order: with the filters' parameters unknown when the statement is
 * prepared, its planner would otherwise walk all of posts and look each up in m. */
#define SEARCH_JOINS_AFTER_POSTS                                                                   \
	" JOIN threads t ON t.id = p.thread_id JOIN spaces s ON s.id = p.space_id JOIN people a "  \
	"ON "                                                                                      \
	"a.id = p.author_id "
#define SEARCH_JOINS        " JOIN posts p ON p.id = m.id" SEARCH_JOINS_AFTER_POSTS
#define SEARCH_JOINS_SQLITE " CROSS JOIN posts p ON p.id = m.id" SEARCH_JOINS_AFTER_POSTS

/* SQLite, after its candidates m: steps (2) and (3). */
#define SQLITE_RANKED                                                                              \
	"), top AS (SELECT p.id, m.r FROM m CROSS JOIN posts p ON p.id = m.id CROSS JOIN spaces "  \
	"s "                                                                                       \
	"ON s.id = p.space_id WHERE true" SEARCH_FILTERS                                           \
	"ORDER BY m.r, p.id DESC LIMIT $8 OFFSET "                                                 \
	"$9) SELECT p.id, p.thread_id, t.title, s.id, s.name, a.name, p.created_at, "              \
	"highlight(post_search, 0, char(2), char(3)), snippet(post_search, 1, char(2), char(3), "  \
	"'…', 30), (SELECT count(*) FROM posts x WHERE x.thread_id = p.thread_id AND x.id < "    \
	"p.id) "                                                                                   \
	"FROM top m CROSS JOIN post_search ON post_search.rowid = m.id" SEARCH_JOINS_SQLITE        \
	"WHERE post_search MATCH $3 ORDER BY m.r, p.id DESC"

/* FTS5 hands over matches newest first, so step (1) reads no more than it keeps. */
static const char sqlite_sql[] =
    "WITH m AS (SELECT rowid AS id, bm25(post_search, 4.0, 1.0) AS r FROM post_search WHERE "
    "post_search MATCH $3 ORDER BY rowid DESC LIMIT " SEARCH_CANDIDATES_SQL SQLITE_RANKED;
/* With a space or dates chosen, the candidates are the newest matches among those: each
 * match is looked up until enough are found (a common word's newest 5,000 may hold none
 * from last winter). Only then, as it costs a lookup a match. */
static const char sqlite_chosen_sql[] =
    "WITH m AS (SELECT post_search.rowid AS id, bm25(post_search, 4.0, 1.0) AS r FROM "
    "post_search CROSS JOIN posts c ON c.id = post_search.rowid WHERE post_search MATCH $3 AND "
    "($4 = 0 OR c.space_id = $4) AND c.created_at >= $6 AND c.created_at < $7 ORDER BY "
    "post_search.rowid DESC LIMIT " SEARCH_CANDIDATES_SQL SQLITE_RANKED;

/*
 * PostgreSQL. websearch_to_tsquery accepts any text without error (quotes, -, or). A
 * title counts for its thread's opening post, as in the SQLite index.
 *
 * Step (1) is search_newest_matches: a GIN index hands over every match of a word in
 * no useful order, so a word in a sixth of a million posts meant reading and sorting
 * 165,000 rows (1-3 s) to keep the newest 5,000. Instead the newest posts are looked
 * at first, in a window that widens until it holds enough matches:
 *   - the newest SEARCH_FIRST_WINDOW posts, walked newest first and each checked
 *     (PG_WALK): a common word fills the candidates within a few thousand rows, and
 *     the walk never reads more than the window, whatever the planner estimates;
 *   - then windows eight times wider, by the GIN index ANDed with the id range
 *     (PG_BY_INDEX), so only the window's heap pages are read; the last takes in every
 *     post. A word this rare in the newest posts has few matches, cheap to read (the
 *     planner may still walk a window it expects to be full: bounded all the same).
 * Either way the candidates are exactly the newest matches: a window holding enough
 * of them holds the newest ones, since everything outside it is older. The space and
 * dates chosen apply here, not only when ranking: among a common word's newest 5,000
 * matches there may be none from last winter, or from a quiet space.
 * $1 the words, $2 the window's lowest id (exclusive), $3 how many, $4 the space (0:
 * any), $5 and $6 the dates (from, and before).
 */
#define SEARCH_FIRST_WINDOW 40000 /* posts: 8 × SEARCH_CANDIDATES */
#define SEARCH_WIDEN        8

/* The words inline, not from a CTE: planned as a constant, and a scan's own filter. */
#define PG_QUERY "websearch_to_tsquery('english', $1)"
/* The space and dates chosen, on table posts. */
#define PG_IN_CHOSEN                                                                               \
	"($4 = 0 OR posts.space_id = $4) AND posts.created_at >= $5 AND posts.created_at < $6"
/* IS TRUE hides the match from the GIN index, so the newest posts are walked in id
 * order by the primary key, and the walk stops as soon as it has enough. */
#define PG_WALK                                                                                    \
	"(SELECT id, false AS title FROM posts WHERE id > $2 AND " PG_IN_CHOSEN " AND "            \
	"(search_vector @@ " PG_QUERY ") IS TRUE ORDER BY id DESC LIMIT $3)"
#define PG_BY_INDEX                                                                                \
	"(SELECT id, false AS title FROM posts WHERE search_vector @@ " PG_QUERY " AND id > $2 "   \
	"AND " PG_IN_CHOSEN " ORDER BY id DESC LIMIT $3)"
/* Opening posts in the window of threads whose titles match. A thread's last_post_id
 * is set to each new post's id and never lowered, so it is never below its opening
 * post: threads last written to before the window are skipped without a lookup. */
#define PG_TITLES                                                                                  \
	"(SELECT f.id, true FROM threads t CROSS JOIN LATERAL (SELECT min(f.id) AS id FROM "       \
	"posts f WHERE f.thread_id = t.id) f JOIN posts ON posts.id = f.id WHERE "                 \
	"t.search_vector @@ " PG_QUERY " AND t.last_post_id > $2 AND f.id > $2 AND " PG_IN_CHOSEN  \
	" ORDER BY f.id DESC LIMIT $3)"
/* The newest $3 of the window's matches, each with whether it was found by its title. */
#define PG_NEWEST(posts)                                                                           \
	"SELECT id, bool_or(title) FROM (" posts " UNION ALL " PG_TITLES ") h GROUP BY id "        \
	"ORDER BY id DESC LIMIT $3"

static const char pg_walk_sql[] = PG_NEWEST(PG_WALK);
static const char pg_by_index_sql[] = PG_NEWEST(PG_BY_INDEX);

int search_newest_matches(struct db_conn *c, const char *q, const struct search_filter *f,
                          int64_t want, int64_t window, struct buf *ids, struct buf *titles,
                          int64_t *n)
{
	*n = 0;
	buf_clear(ids);
	buf_clear(titles);
	struct db_stmt *st = db_prepare(c, "SELECT coalesce(max(id), 0) FROM posts");
	if (!st)
		return DB_ERR;
	int rc = db_step(st);
	int64_t top = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	for (bool walk = true;; walk = false) {
		int64_t lo = window < top ? top - window : 0;
		st = db_prepare(c, walk ? pg_walk_sql : pg_by_index_sql);
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, q);
		db_bind_int(st, 2, lo);
		db_bind_int(st, 3, want);
		db_bind_int(st, 4, f->space_id);
		db_bind_int(st, 5, f->from);
		db_bind_int(st, 6, f->to);
		*n = 0;
		buf_clear(ids);
		buf_clear(titles);
		buf_putc(ids, '{');
		buf_putc(titles, '{');
		while ((rc = db_step(st)) == DB_ROW) {
			long long id = (long long)db_col_int(st, 0);
			buf_printf(ids, (*n)++ ? ",%lld" : "%lld", id);
			if (db_col_int(st, 1))
				buf_printf(titles, titles->len > 1 ? ",%lld" : "%lld", id);
		}
		buf_putc(ids, '}');
		buf_putc(titles, '}');
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
		if (ids->overflow || titles->overflow)
			return DB_ERR;
		if (*n >= want || lo == 0)
			return DB_OK;
		window = window > top / SEARCH_WIDEN ? top : window * SEARCH_WIDEN;
	}
}

/* Steps (2) and (3). $10 the candidates from step (1), $11 those among them that are
 * opening posts of threads whose titles match (a title match adds one to the rank).
 * Threads and titles are read for the page only. */
static const char postgres_sql[] =
    "WITH w AS (SELECT websearch_to_tsquery('english', $3) AS q), m AS (SELECT "
    "unnest($10::bigint[]) AS id), top AS (SELECT p.id, ts_rank(p.search_vector, w.q) + CASE "
    "WHEN p.id = ANY ($11::bigint[]) THEN 1 ELSE 0 END AS r FROM m JOIN posts p ON p.id = m.id "
    "JOIN spaces s ON s.id = p.space_id CROSS JOIN w WHERE true" SEARCH_FILTERS
    "ORDER BY r DESC, p.id DESC LIMIT $8 OFFSET $9) SELECT p.id, p.thread_id, t.title, s.id, "
    "s.name, a.name, p.created_at, CASE WHEN p.id = (SELECT min(f.id) FROM posts f WHERE "
    "f.thread_id = p.thread_id) THEN ts_headline('english', t.title, w.q, 'HighlightAll=true, "
    "StartSel=' || chr(2) || ', StopSel=' || chr(3)) ELSE '' END, ts_headline('english', "
    "p.body_source, w.q, 'MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=\" … \", "
    "StartSel=' || chr(2) || ', StopSel=' || chr(3)), (SELECT count(*) FROM posts x WHERE "
    "x.thread_id = p.thread_id AND x.id < p.id) FROM top m" SEARCH_JOINS
    "CROSS JOIN w ORDER BY m.r DESC, p.id DESC";

/* One batch of the queue up to post $1, oldest first. The insert gives a thread's
 * title to its opening post only, as the triggers of migration 0009 do. The triggers
 * take a post off the queue when it is edited, deleted or hidden, so the visibility
 * test only guards against a row changed some other way. OR REPLACE: a row already
 * in the index under the post's id (only a hand-made change could put it there) is
 * replaced, where a failure would leave the batch queued and fail every run after. */
#define SEARCH_QUEUE_BATCH                                                                         \
	"(SELECT post_id FROM search_queue WHERE post_id <= $1 ORDER BY post_id "                  \
	"LIMIT " SEARCH_STR(SEARCH_INDEX_BATCH) ")"
static const char index_batch_sql[] =
    "INSERT OR REPLACE INTO post_search (rowid, title, body) SELECT p.id, CASE WHEN EXISTS "
    "(SELECT 1 FROM posts o WHERE o.thread_id = p.thread_id AND o.id < p.id) THEN '' ELSE "
    "t.title END, p.body_source FROM " SEARCH_QUEUE_BATCH " q JOIN posts p ON p.id = q.post_id "
    "JOIN threads t ON t.id = p.thread_id WHERE p.deleted_at IS NULL AND p.hidden_at IS NULL";
static const char dequeue_batch_sql[] =
    "DELETE FROM search_queue WHERE post_id IN " SEARCH_QUEUE_BATCH " RETURNING post_id";

/* Runs sql with $1 = upto to its end: *rows gets how many rows it gave, and *first the
 * first column of the first (0 without one). DB_OK or < 0. */
static int run_upto(struct db_conn *c, const char *sql, int64_t upto, int64_t *rows, int64_t *first)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, upto);
	int rc;
	for (*rows = 0, *first = 0; (rc = db_step(st)) == DB_ROW; ++*rows)
		if (!*rows)
			*first = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int search_index_queued(struct db_conn *c, char *err, size_t errlen)
{
	err[0] = '\0';
	if (db_conn_kind(c) != DB_SQLITE)
		return DB_OK;
	/* Up to the newest post waiting now: posts written while this runs are for the
	 * next run, so a steady stream of replies cannot keep a search waiting. */
	int64_t rows, last = 0, done = SEARCH_INDEX_BATCH, ignored;
	int rc =
	    run_upto(c, "SELECT coalesce(max(post_id), 0) FROM search_queue WHERE post_id <= $1",
	             INT64_MAX, &rows, &last);
	bool own = !db_in_transaction(c);
	/* A batch shorter than SEARCH_INDEX_BATCH was the last, counted on the writer
	 * itself: whatever this connection's own snapshot shows, every pass takes posts
	 * off the queue or is the last. */
	while (rc == DB_OK && last && done == SEARCH_INDEX_BATCH) {
		if (own && (rc = db_begin(c)) != DB_OK)
			break;
		rc = run_upto(c, index_batch_sql, last, &rows, &ignored);
		if (rc == DB_OK)
			rc = run_upto(c, dequeue_batch_sql, last, &done, &ignored);
		if (rc != DB_OK)
			snprintf(err, errlen, "%s", db_errmsg(c)); /* before a rollback loses it */
		if (own && rc == DB_OK)
			rc = db_commit(c);
		else if (own)
			db_rollback(c);
	}
	if (rc != DB_OK && !err[0])
		snprintf(err, errlen, "%s", db_errmsg(c));
	return rc;
}

void search_catch_up(struct db_conn *c, const char *request_id)
{
	char err[256];
	if (search_index_queued(c, err, sizeof err))
		log_error(
		    "request %s: searching without the newest posts, which cannot be indexed: "
		    "%s",
		    request_id, err);
}

int search_index_job(struct db *db, const struct config *cfg, const atomic_bool *stop, char *err,
                     size_t errlen)
{
	(void)cfg;
	(void)stop; /* a run indexes the few seconds' posts that wait, in moments */
	if (db_kind(db) != DB_SQLITE)
		return 0; /* nothing waits there: no connection taken every 2 s */
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(err, errlen, "the database cannot be reached");
		return DB_ERR_CONN;
	}
	char why[256];
	int rc = search_index_queued(c, why, sizeof why);
	if (rc != DB_OK)
		snprintf(err, errlen, "cannot index new posts for search: %s", why);
	db_release(c);
	return rc;
}

int search_run(struct db_conn *c, const struct viewer *viewer, const struct search_filter *f,
               struct search_result *out, size_t max, size_t *n, bool *more)
{
	*n = 0;
	*more = false;
	bool sqlite = db_conn_kind(c) == DB_SQLITE;
	struct buf query, author, ids, titles;
	buf_init(&query, 8 * SEARCH_MAX_QUERY_BYTES + 64);
	buf_init(&author, 3 * LIMIT_NAME_BYTES + 8);
	buf_init(&ids, 24 * SEARCH_CANDIDATES + 8); /* "{id,id,…}" */
	buf_init(&titles, 24 * SEARCH_CANDIDATES + 8);
	buf_puts(&query, "");
	buf_puts(&author, "");
	buf_puts(&ids, "");
	buf_puts(&titles, "");
	int words = sqlite ? search_fts5_query(f->q, &query) : 1;
	if (!sqlite)
		buf_puts(&query, f->q ? f->q : "");
	if (f->author && *f->author)
		listing_like_pattern(&author, f->author);
	int rc = DB_OK;
	bool own = !sqlite && !db_in_transaction(c); /* the transaction SET LOCAL needs */
	struct db_stmt *st = NULL;
	if (words <= 0)
		goto done;
	/* On PostgreSQL a search is a transaction of a few statements. One that runs past
	 * SEARCH_TIME_LIMIT is given up (DB_ERR_TIMEOUT) and the person asked to narrow the
	 * search: a safety net, so that no search holds a worker for minutes. Custom plans:
	 * each statement is planned for its own words and window, which decide the plan,
	 * not once with a guess for every search. */
	if (own &&
	    (db_begin(c) || db_exec(c, "SET LOCAL statement_timeout = '" SEARCH_TIME_LIMIT
	                               "'; SET LOCAL plan_cache_mode = force_custom_plan"))) {
		rc = DB_ERR;
		goto done;
	}
	int64_t found = 0;
	if (!sqlite &&
	    (rc = search_newest_matches(c, query.data, f, SEARCH_CANDIDATES, SEARCH_FIRST_WINDOW,
	                                &ids, &titles, &found)) != DB_OK)
		goto done;
	if (!sqlite && !found)
		goto done; /* nothing matches: nothing to filter or rank */
	bool chosen = f->space_id || f->from != INT64_MIN || f->to != INT64_MAX;
	st = db_prepare(c, !sqlite ? postgres_sql : chosen ? sqlite_chosen_sql : sqlite_sql);
	if (!st) {
		rc = DB_ERR;
		goto done;
	}
	long long page = f->page > 0 ? f->page : 1;
	db_bind_int(st, 1, viewer->person_id);
	db_bind_text(st, 2, policy_role_name(viewer->role));
	db_bind_text(st, 3, query.data);
	db_bind_int(st, 4, f->space_id);
	db_bind_text(st, 5, author.data);
	db_bind_int(st, 6, f->from);
	db_bind_int(st, 7, f->to);
	db_bind_int(st, 8, (int64_t)max + 1);
	db_bind_int(st, 9, (int64_t)((page - 1) * (long long)max));
	if (!sqlite) {
		db_bind_text(st, 10, ids.data);
		db_bind_text(st, 11, titles.data);
	}
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == max) {
			*more = true;
			continue;
		}
		struct search_result *r = &out[(*n)++];
		memset(r, 0, sizeof *r);
		r->post_id = db_col_int(st, 0);
		r->thread_id = db_col_int(st, 1);
		snprintf(r->title, sizeof r->title, "%s", db_col_text(st, 2));
		r->space_id = db_col_int(st, 3);
		snprintf(r->space, sizeof r->space, "%s", db_col_text(st, 4));
		snprintf(r->author, sizeof r->author, "%s", db_col_text(st, 5));
		r->created_at = db_col_int(st, 6);
		time_format_date_time(r->created_at, r->when);
		/* Straight to the post: its page of the thread, and its anchor. */
		snprintf(r->href, sizeof r->href, "/discussions/threads/%lld?page=%lld#post-%lld",
		         (long long)r->thread_id,
		         (long long)(db_col_int(st, 9) / DISCUSSIONS_POSTS_PER_PAGE + 1),
		         (long long)r->post_id);
		struct buf h;
		buf_init(&h, 16 * LIMIT_NAME_BYTES);
		buf_puts(&h, "");
		const char *marked_title = db_col_text(st, 7);
		search_marked_html(&h, marked_title && *marked_title ? marked_title : r->title);
		r->title_html.html = buf_take(&h);
		buf_init(&h, 64u << 10);
		buf_puts(&h, "");
		search_marked_html(&h, db_col_text(st, 8));
		r->snippet.html = buf_take(&h);
	}
	db_reset(st);
	rc = rc == DB_DONE ? DB_OK : rc;
	if (own && rc == DB_OK && db_commit(c))
		rc = DB_ERR;
done:
	if (own && db_in_transaction(c))
		db_rollback(c);
	buf_free(&query);
	buf_free(&author);
	buf_free(&ids);
	buf_free(&titles);
	return rc;
}

void search_result_free(struct search_result *r)
{
	free((char *)r->title_html.html);
	free((char *)r->snippet.html);
	r->title_html.html = r->snippet.html = NULL;
}
