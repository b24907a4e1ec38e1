/*
 * search.c — the search itself (see search.h): the user's words made safe for
 * FTS5, one query per engine, and snippets escaped before they are marked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/search/search.h"
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
 * $6 from, $7 to, $8 limit, $9 offset. Columns: post, thread, title, space id and
 * name, author, created_at, marked title, marked snippet, posts before it in its thread.
 *
 * Both queries work in three steps, because a common word matches a large part of a
 * region's million posts: (1) the newest SEARCH_CANDIDATES matching posts, by index,
 * in id order; (2) those the person may see, filtered and ranked, one page of them;
 * (3) snippets, highlights and positions for that page only. Ranking every match,
 * or making snippets for every match before sorting, took over a second a query.
 * The price: a word in more than SEARCH_CANDIDATES posts is ranked among its newest
 * ones only (docs/discussions.md). */
#define SEARCH_CANDIDATES "5000"
#define SEARCH_TIME_LIMIT "5s" /* PostgreSQL's statement_timeout for one search */

#define SEARCH_FILTERS                                                                             \
	" AND " DISCUSSIONS_VISIBLE_SQL " AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND "   \
	"($4 = 0 OR p.space_id = $4) AND ($5 = '' OR lower(a.name) LIKE $5 ESCAPE '\\') AND "      \
	"p.created_at >= $6 AND p.created_at < $7 "

/* From the candidates m to their posts, threads, spaces and authors. On SQLite the CROSS
 * JOINs fix that order: with the filters' parameters unknown when the statement is
 * prepared, its planner would otherwise walk all of posts and look each up in m. */
#define SEARCH_JOINS_AFTER_POSTS                                                                   \
	" JOIN threads t ON t.id = p.thread_id JOIN spaces s ON s.id = p.space_id JOIN people a "  \
	"ON "                                                                                      \
	"a.id = p.author_id "
#define SEARCH_JOINS        " JOIN posts p ON p.id = m.id" SEARCH_JOINS_AFTER_POSTS
#define SEARCH_JOINS_SQLITE " CROSS JOIN posts p ON p.id = m.id" SEARCH_JOINS_AFTER_POSTS

static const char sqlite_sql[] =
    "WITH m AS (SELECT rowid AS id, bm25(post_search, 4.0, 1.0) AS r FROM post_search WHERE "
    "post_search MATCH $3 ORDER BY rowid DESC LIMIT " SEARCH_CANDIDATES "), top AS (SELECT p.id, "
    "m.r FROM m" SEARCH_JOINS_SQLITE "WHERE true" SEARCH_FILTERS "ORDER BY m.r, p.id DESC LIMIT $8 "
    "OFFSET $9) SELECT p.id, p.thread_id, t.title, s.id, s.name, a.name, p.created_at, "
    "highlight(post_search, 0, char(2), char(3)), snippet(post_search, 1, char(2), char(3), "
    "'…', 30), (SELECT count(*) FROM posts x WHERE x.thread_id = p.thread_id AND x.id < p.id) "
    "FROM top m CROSS JOIN post_search ON post_search.rowid = m.id" SEARCH_JOINS_SQLITE
    "WHERE post_search MATCH $3 ORDER BY m.r, p.id DESC";

/* websearch_to_tsquery accepts any text without error (quotes, -, or). A title
 * counts for its thread's opening post, as in the SQLite index. The matching
 * posts are found first, by the two GIN indexes (an OR across the two tables
 * would read every post of the visible spaces), then filtered and ranked. */
static const char postgres_sql[] =
    "WITH w AS (SELECT websearch_to_tsquery('english', $3) AS q), hits AS (SELECT p.id FROM "
    "posts p, w WHERE p.search_vector @@ w.q UNION SELECT (SELECT min(f.id) FROM posts f WHERE "
    "f.thread_id = t.id) FROM threads t, w WHERE t.search_vector @@ w.q), m AS (SELECT id FROM "
    "hits ORDER BY id DESC LIMIT " SEARCH_CANDIDATES "), top AS (SELECT p.id, "
    "ts_rank(p.search_vector, w.q) + CASE WHEN o.first AND t.search_vector @@ w.q THEN 1 ELSE "
    "0 END AS r, o.first FROM m" SEARCH_JOINS "CROSS JOIN w CROSS JOIN LATERAL (SELECT p.id = "
    "(SELECT min(f.id) FROM posts f WHERE f.thread_id = p.thread_id) AS first) o WHERE "
    "true" SEARCH_FILTERS
    "ORDER BY r DESC, p.id DESC LIMIT $8 OFFSET $9) SELECT p.id, p.thread_id, "
    "t.title, s.id, s.name, a.name, p.created_at, CASE WHEN m.first THEN ts_headline('english', "
    "t.title, w.q, 'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3)) ELSE '' "
    "END, ts_headline('english', p.body_source, w.q, 'MaxFragments=2, MaxWords=30, "
    "MinWords=12, FragmentDelimiter=\" … \", StartSel=' || chr(2) || ', StopSel=' || chr(3)), "
    "(SELECT count(*) FROM posts x WHERE x.thread_id = p.thread_id AND x.id < p.id) FROM top "
    "m" SEARCH_JOINS "CROSS JOIN w ORDER BY m.r DESC, p.id DESC";

int search_run(struct db_conn *c, const struct viewer *viewer, const struct search_filter *f,
               struct search_result *out, size_t max, size_t *n, bool *more)
{
	*n = 0;
	*more = false;
	bool sqlite = db_conn_kind(c) == DB_SQLITE;
	struct buf query, author;
	buf_init(&query, 8 * SEARCH_MAX_QUERY_BYTES + 64);
	buf_init(&author, 3 * LIMIT_NAME_BYTES + 8);
	buf_puts(&query, "");
	buf_puts(&author, "");
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
	/* On PostgreSQL a word in a sixth of a million posts took 2.7 s to rank alone,
	 * and minutes with 32 at once, holding every worker: past SEARCH_TIME_LIMIT the
	 * search is given up (DB_ERR_TIMEOUT) and the person asked to narrow it. SQLite
	 * ranks only the newest matches from its index (SEARCH_CANDIDATES), fast enough. */
	if (own && (db_begin(c) || db_exec(c, "SET LOCAL statement_timeout = "
	                                      "'" SEARCH_TIME_LIMIT "'"))) {
		rc = DB_ERR;
		goto done;
	}
	st = db_prepare(c, sqlite ? sqlite_sql : postgres_sql);
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
	return rc;
}

void search_result_free(struct search_result *r)
{
	free((char *)r->title_html.html);
	free((char *)r->snippet.html);
	r->title_html.html = r->snippet.html = NULL;
}
