/*
 * search.h — full-text search over the discussions a person may see
 * (docs/discussions.md, "Search"): SQLite FTS5 or PostgreSQL full-text search,
 * ranked, with highlighted snippets, filtered by space, author and date.
 *
 * Results are posts. Every search joins the post to its space and filters with
 * DISCUSSIONS_VISIBLE_SQL, and skips deleted and hidden posts (which are not in
 * the index either), so a result never shows what its reader may not see.
 */
#ifndef SHOAL_APP_SEARCH_H
#define SHOAL_APP_SEARCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/audit/audit.h"
#include "app/discussions/discussions.h"
#include "core/buf.h"
#include "core/config.h"

#define SEARCH_MAX_QUERY_BYTES 200 /* what may be typed in the search box */
#define SEARCH_MAX_TERMS       20  /* words in one search */
#define SEARCH_PER_PAGE        20
/* What a search given up at its time limit (DB_ERR_TIMEOUT) tells the person. */
#define SEARCH_TOO_BROAD                                                                           \
	"This search matched too many posts to rank in time. Add another word, or choose a "       \
	"space or dates"
#define SEARCH_MAX_PAGE 50 /* beyond this, narrower filters are asked for */

/* Marks around matched words in snippets from the database; search_marked_html
 * turns them into <mark> after escaping everything else. */
#define SEARCH_MARK_START '\x02'
#define SEARCH_MARK_END   '\x03'

/**
 * Writes q as an FTS5 query that matches posts holding every word of q: each
 * word (split at white space) becomes a quoted string, with '"' doubled, so no
 * FTS5 syntax (NEAR, OR, *, column filters, brackets) ever reaches the parser.
 * Control characters are dropped. Returns the number of words (0: nothing to
 * search for), or -1 when q has more than SEARCH_MAX_TERMS words.
 */
int search_fts5_query(const char *q, struct buf *out);
/**
 * Writes marked text (from snippet() or ts_headline() with SEARCH_MARK_START
 * and SEARCH_MARK_END) as HTML: everything escaped, each marked run in
 * <mark>…</mark>, always balanced, whatever the text holds.
 */
void search_marked_html(struct buf *out, const char *marked);

/* What to search for: checked input. */
struct search_filter {
	const char *q;      /* the words as typed */
	int64_t space_id;   /* 0: every space */
	const char *author; /* part of the author's name; "" for anyone */
	int64_t from, to;   /* posts written at or after from, before to (Unix seconds) */
	long long page;     /* from 1 */
};

/**
 * PostgreSQL only: the newest want posts that match q (websearch_to_tsquery; a
 * thread's title counts for its opening post) in f's space and dates (f->q and
 * f->author are not looked at), whoever may see them, as an array literal
 * "{id,…}" newest first in ids, and those found by their thread's title in
 * titles, likewise; *n gets how many. Looks among the newest window posts first
 * and widens the window eightfold until it holds want matches or every post
 * (search.c says why). DB_OK or < 0.
 */
int search_newest_matches(struct db_conn *c, const char *q, const struct search_filter *f,
                          int64_t want, int64_t window, struct buf *ids, struct buf *titles,
                          int64_t *n) __attribute__((warn_unused_result));

/**
 * SQLite: moves the posts waiting in search_queue (new posts, put there by a
 * trigger: migration 0014 says why) into the search index, those waiting when it
 * starts, SEARCH_INDEX_BATCH at a time, each batch in a transaction of its own (in
 * c's transaction when one is open). Nothing to do on PostgreSQL, whose index is
 * kept by the posts themselves. DB_OK, or < 0 with the reason in err.
 */
int search_index_queued(struct db_conn *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
#define SEARCH_INDEX_BATCH 5000

/**
 * Before a search: search_index_queued, so that the search finds every post written
 * before it. A failure is logged (with request_id) and the search goes on without
 * those posts: one post that cannot be indexed must not stop everyone searching.
 * Outside gate_enter: it may wait for the writer.
 */
void search_catch_up(struct db_conn *c, const char *request_id);

/* The jobs thread's run of search_index_queued (src/jobs/jobs.c): the queue stays
 * short whether or not anyone searches. */
int search_index_job(struct db *db, const struct config *cfg, const atomic_bool *stop, char *err,
                     size_t errlen);

/* One result: a post and where it stands, and its snippet as safe HTML. */
struct search_result {
	int64_t post_id, thread_id, space_id, created_at;
	char title[LIMIT_NAME_BYTES + 1], space[LIMIT_NAME_BYTES + 1];
	char author[LIMIT_NAME_BYTES + 1];
	char when[TIME_DATE_TIME_BYTES];
	char href[96];
	struct safe_html title_html, snippet; /* owned */
};

/**
 * Runs f for viewer: up to max results of page f->page, best first, into out;
 * *n gets how many, *more whether another page follows. 0 or < 0 (database).
 * Free each result with search_result_free.
 */
int search_run(struct db_conn *c, const struct viewer *viewer, const struct search_filter *f,
               struct search_result *out, size_t max, size_t *n, bool *more)
    __attribute__((warn_unused_result));
void search_result_free(struct search_result *r);

/* The view of templates/search.html. */
struct search_view {
	struct form_errors errors;
	const char *q, *author, *q_error, *author_error, *space_error;
	struct audit_date_field from, to;
	struct disc_space_option spaces[DISCUSSIONS_MAX_SPACES];
	bool space_selected[DISCUSSIONS_MAX_SPACES];
	size_t n_spaces;
	bool searched; /* words were given and the filters were usable */
	struct search_result results[SEARCH_PER_PAGE];
	size_t n;
	long long first;
	struct listing_pager pager;
};

/** GET /search */
void search_page(struct http_request *req, struct http_response *res);

#endif
