/*
 * test_search.c — the search words made safe for FTS5, and snippets made safe
 * for HTML (src/app/search/search.c). Besides fixed cases, thousands of random
 * queries built from FTS5's own syntax characters must all parse (run against
 * a real FTS5 table), and random marked text must come out escaped and with
 * balanced <mark> tags. On PostgreSQL (SHOAL_TEST_DB), the newest matches found
 * through widening windows are exactly those of one query over every post. On
 * SQLite, new posts wait in search_queue until search_index_queued indexes them,
 * and an edit, deletion or hiding in the meantime counts at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "app/search/search.h"
#include "db/db.h"
#include "db/migrate.h"

static char *fts(const char *q, int *words)
{
	struct buf b;
	buf_init(&b, 1u << 16);
	buf_puts(&b, "");
	*words = search_fts5_query(q, &b);
	return buf_take(&b);
}

static void test_quoting(void **state)
{
	(void)state;
	int w;
	char *s = fts("winter  plan", &w);
	assert_int_equal(w, 2);
	assert_string_equal(s, "\"winter\" \"plan\"");
	free(s);
	s = fts("say \"hi\" NEAR(a b) OR title:x*", &w);
	assert_int_equal(w, 6);
	assert_string_equal(s, "\"say\" \"\"\"hi\"\"\" \"NEAR(a\" \"b)\" \"OR\" \"title:x*\"");
	free(s);
	s = fts(" \t\r\n ", &w);
	assert_int_equal(w, 0);
	free(s);
	s = fts("a\x01"
	        "b \x7f",
	        &w);
	assert_int_equal(w, 1);
	assert_string_equal(s, "\"ab\"");
	free(s);
	s = fts("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", &w);
	assert_int_equal(w, 20);
	free(s);
	s = fts("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21", &w);
	assert_int_equal(w, -1);
	free(s);
}

/* Random queries from FTS5's syntax characters, words and UTF-8 all parse. */
static void test_quoting_fuzz(void **state)
{
	(void)state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE VIRTUAL TABLE f USING fts5 (title, body, tokenize = "
	                              "'porter unicode61 remove_diacritics 2'); INSERT INTO f "
	                              "VALUES ('near or and', 'not \"quoted\" * stars')",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM f WHERE f MATCH ?", -1, &st, NULL),
	    SQLITE_OK);
	static const char *const pieces[] = {
	    "\"",   "'",      "(",   ")",     "*",    "^",      ":",
	    "-",    "+",      "{",   "}",     ",",    "NEAR",   "NEAR(",
	    "OR",   "AND",    "NOT", "title", "body", "title:", "{title body}:",
	    " ",    "  ",     "\t",  "a",     "near", "stars",  "é",
	    "💥",    "…",      "\\",  "/",     "%",    "_",      "\x01",
	    "\x7f", "quoted", "0"};
	srand(4242);
	for (int i = 0; i < 20000; i++) {
		char q[SEARCH_MAX_QUERY_BYTES + 1] = "";
		size_t len = 0;
		int n = rand() % 12;
		for (int j = 0; j < n; j++) {
			const char *p = pieces[rand() % (int)(sizeof pieces / sizeof pieces[0])];
			if (len + strlen(p) > SEARCH_MAX_QUERY_BYTES)
				break;
			memcpy(q + len, p, strlen(p) + 1);
			len += strlen(p);
		}
		int words;
		char *m = fts(q, &words);
		if (words > 0) {
			sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
			int rc = sqlite3_step(st);
			if (rc != SQLITE_ROW)
				fail_msg("query [%s] as [%s]: %s", q, m, sqlite3_errmsg(db));
			sqlite3_reset(st);
		}
		free(m);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static char *marked(const char *s)
{
	struct buf b;
	buf_init(&b, 1u << 16);
	buf_puts(&b, "");
	search_marked_html(&b, s);
	return buf_take(&b);
}

static void test_marks(void **state)
{
	(void)state;
	char *s = marked("<\x02"
	                 "a&b\x03>");
	assert_string_equal(s, "&lt;<mark>a&amp;b</mark>&gt;");
	free(s);
	s = marked("\x03x\x02y\x02z");
	assert_string_equal(s, "x<mark>yz</mark>");
	free(s);
	s = marked("\"'<script>");
	assert_string_equal(s, "&quot;&#39;&lt;script&gt;");
	free(s);
}

/* Whatever the text, the only tags out are balanced <mark> and </mark>. */
static void test_marks_fuzz(void **state)
{
	(void)state;
	static const char alphabet[] = "<>&\"'/ab \x02\x03";
	srand(99);
	for (int i = 0; i < 20000; i++) {
		char in[64];
		int n = rand() % 63;
		for (int j = 0; j < n; j++)
			in[j] = alphabet[rand() % (int)(sizeof alphabet - 1)];
		in[n] = 0;
		char *out = marked(in);
		int depth = 0;
		for (const char *p = out; *p; p++) {
			assert_true(*p != '\x02' && *p != '\x03' && *p != '>' && *p != '"');
			if (*p != '<')
				continue;
			if (!strncmp(p, "<mark>", 6)) {
				assert_int_equal(depth, 0);
				depth = 1;
				p += 5;
			} else {
				assert_true(!strncmp(p, "</mark>", 7));
				assert_int_equal(depth, 1);
				depth = 0;
				p += 6;
			}
		}
		assert_int_equal(depth, 0);
		free(out);
	}
}

/* Runs sql with $1 text and $2 integer; the first column of its one row, copied. */
static char *one_text(struct db_conn *c, const char *sql, const char *q, int64_t n)
{
	struct db_stmt *st = db_prepare(c, sql);
	assert_non_null(st);
	db_bind_text(st, 1, q);
	db_bind_int(st, 2, n);
	assert_int_equal(db_step(st), DB_ROW);
	char *s = strdup(db_col_text(st, 0) ? db_col_text(st, 0) : "");
	db_reset(st);
	return s;
}

/* The newest matches by one query over every post and title, as search.c's steps
 * would find them with no window: "{id,…}" newest first, and those that are title hits. */
#define ALL_MATCHES                                                                                \
	"WITH w AS (SELECT websearch_to_tsquery('english', $1) AS q), t AS (SELECT (SELECT "       \
	"min(f.id) FROM posts f WHERE f.thread_id = t.id) AS id FROM threads t, w WHERE "          \
	"t.search_vector @@ w.q), h AS (SELECT id FROM (SELECT p.id FROM posts p, w WHERE "        \
	"p.search_vector @@ w.q UNION SELECT id FROM t) u ORDER BY id DESC LIMIT $2) "
static const char all_ids_sql[] =
    ALL_MATCHES "SELECT '{' || coalesce(string_agg(id::text, ',' ORDER BY id DESC), '') || '}' "
                "FROM h";
static const char all_titles_sql[] =
    ALL_MATCHES "SELECT '{' || coalesce(string_agg(id::text, ',' ORDER BY id DESC), '') || '}' "
                "FROM h WHERE id IN (SELECT id FROM t)";

/*
 * 600 posts in 60 threads, older threads still answered now and then, so opening
 * posts are spread over the ids. "kestrel" is in a quarter of the posts, "osprey" in
 * one old post and with "kestrel" in a few, "heron" only in titles, "red kite" a
 * phrase; some matching posts are deleted or hidden (out of the index).
 */
static const char region_sql[] =
    "INSERT INTO people (email, name, role, created_at, updated_at) VALUES "
    "('ann@example.org', 'Ann', 'member', 0, 0);"
    "INSERT INTO spaces (name, visibility, created_by, created_at, updated_at) SELECT 'Birds', "
    "'members', min(id), 0, 0 FROM people;"
    "INSERT INTO threads (space_id, title, author_id, created_at, last_post_at) SELECT "
    "(SELECT min(id) FROM spaces), CASE WHEN g % 7 = 0 THEN 'Heron sightings ' ELSE 'Plain "
    "talk ' END || g, (SELECT min(id) FROM people), g, g FROM generate_series(1, 60) g;"
    "INSERT INTO posts (thread_id, space_id, author_id, body_source, body_html, created_at) "
    "SELECT (SELECT min(id) - 1 FROM threads) + CASE WHEN g % 3 = 0 THEN 1 + (g * 7) % (1 + g "
    "/ 10) ELSE 1 + g / 10 END, (SELECT min(id) FROM spaces), (SELECT min(id) FROM people), "
    "CASE WHEN g = 17 THEN 'A lone osprey' WHEN g % 36 = 0 THEN 'A kestrel and an osprey' "
    "WHEN g % 4 = 0 THEN 'The kestrel flew over' WHEN g % 50 = 1 THEN 'A red kite, then a "
    "kite that was red' ELSE 'Nothing to report' END, '', g FROM generate_series(0, 599) g "
    "ORDER BY g;"
    "UPDATE posts SET deleted_at = 1 WHERE created_at % 40 = 0;"
    "UPDATE posts SET hidden_at = 1 WHERE created_at % 40 = 20;"
    "UPDATE threads SET last_post_id = (SELECT max(id) FROM posts p WHERE p.thread_id = "
    "threads.id), post_count = (SELECT count(*) FROM posts p WHERE p.thread_id = threads.id);";

/* No space, no dates: every match counts. */
static const struct search_filter any = {.author = "", .from = INT64_MIN, .to = INT64_MAX};

/* The database at url, migrated to the current schema; fails the test otherwise. */
static struct db *open_migrated(const char *url)
{
	char err[256];
	struct db *db;
	int applied;
	if (db_open(url, 2, &db, err, sizeof err) || migrate_apply(db, &applied, err, sizeof err))
		fail_msg("%s", err);
	return db;
}

static void test_newest_matches(void **state)
{
	(void)state;
	const char *url = getenv("SHOAL_TEST_DB");
	if (!url || strncmp(url, "postgresql:", 11)) {
		skip(); /* PostgreSQL only: FTS5 gives the newest matches first itself */
		return;
	}
	struct db *db = open_migrated(url);
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	assert_int_equal(db_exec(c, region_sql), DB_OK);
	static const char *const queries[] = {
	    "kestrel", "osprey",        "heron",           "kestrel osprey",  "\"red kite\"",
	    "zzzyx",   "heron kestrel", "heron or osprey", "kestrel -osprey",
	};
	static const int64_t sizes[][2] = {{5, 1},   {5, 7},    {10, 3},   {40, 25},
	                                   {100, 2}, {1000, 1}, {3, 1000}, {1, 1}};
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			int64_t want = sizes[k][0], window = sizes[k][1], n = -1;
			struct buf ids, titles;
			buf_init(&ids, 1u << 20);
			buf_init(&titles, 1u << 20);
			assert_int_equal(search_newest_matches(c, queries[i], &any, want, window,
			                                       &ids, &titles, &n),
			                 DB_OK);
			char *all = one_text(c, all_ids_sql, queries[i], want);
			char *all_titles = one_text(c, all_titles_sql, queries[i], want);
			if (strcmp(ids.data, all) || strcmp(titles.data, all_titles))
				fail_msg("[%s] want %lld, window %lld: got %s titles %s; one query "
				         "gives %s "
				         "titles %s",
				         queries[i], (long long)want, (long long)window, ids.data,
				         titles.data, all, all_titles);
			int64_t commas = 0;
			for (const char *p = ids.data; *p; p++)
				commas += *p == ',';
			assert_int_equal(n, strcmp(ids.data, "{}") ? commas + 1 : 0);
			free(all);
			free(all_titles);
			buf_free(&ids);
			buf_free(&titles);
		}
	}
	/* The cases above are not empty by accident. */
	struct buf ids, titles;
	int64_t n;
	buf_init(&ids, 1u << 20);
	buf_init(&titles, 1u << 20);
	assert_int_equal(search_newest_matches(c, "osprey", &any, 100, 1, &ids, &titles, &n),
	                 DB_OK);
	assert_true(n > 3);
	assert_int_equal(search_newest_matches(c, "heron", &any, 3, 1, &ids, &titles, &n), DB_OK);
	assert_int_equal(n, 3);
	assert_string_equal(ids.data, titles.data);
	assert_int_equal(search_newest_matches(c, "kestrel", &any, 20, 1, &ids, &titles, &n),
	                 DB_OK);
	assert_int_equal(n, 20);
	/* Dates chosen: the newest matches among posts written before the date, though
	 * newer matches alone would fill the candidates. */
	struct search_filter before = any;
	before.to = 100;
	assert_int_equal(search_newest_matches(c, "kestrel", &before, 5, 1, &ids, &titles, &n),
	                 DB_OK);
	char *old = one_text(c,
	                     "SELECT '{' || string_agg(id::text, ',' ORDER BY id DESC) || '}' FROM "
	                     "(SELECT id FROM posts WHERE search_vector @@ websearch_to_tsquery("
	                     "'english', $1) AND created_at < 100 ORDER BY id DESC LIMIT $2) x",
	                     "kestrel", 5);
	assert_int_equal(n, 5);
	assert_string_equal(ids.data, old);
	free(old);
	buf_free(&ids);
	buf_free(&titles);
	db_release(c);
	db_close(db);
}

/* The first column of sql's one row, as an integer. */
static int64_t one_int(struct db_conn *c, const char *sql)
{
	struct db_stmt *st = db_prepare(c, sql);
	assert_non_null(st);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_col_int(st, 0);
	db_reset(st);
	return n;
}

/* The posts the index gives for an FTS5 query, as "body,body" by id. */
static char *found(struct db_conn *c, const char *match)
{
	char sql[512];
	snprintf(sql, sizeof sql,
	         "SELECT coalesce(group_concat(b, ','), '') FROM (SELECT p.body_source AS b FROM "
	         "post_search JOIN posts p ON p.id = post_search.rowid WHERE post_search MATCH "
	         "'%s' ORDER BY p.id)",
	         match);
	return one_text(c, sql, "", 0);
}

static void test_index_queue(void **state)
{
	(void)state;
	const char *env = getenv("SHOAL_TEST_DB");
	char url[512], dir[] = "/tmp/shoal-test-search-XXXXXX", err[256];
	if (env && *env && strncmp(env, "sqlite:", 7)) {
		skip(); /* SQLite only: PostgreSQL's index is the posts' own generated column */
		return;
	}
	if (env && *env)
		snprintf(url, sizeof url, "%s", env);
	else if (mkdtemp(dir))
		snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
	else
		fail_msg("cannot make a temporary directory");
	struct db *db = open_migrated(url);
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	assert_int_equal(
	    db_exec(c,
	            "INSERT INTO people (email, name, role, created_at, updated_at) VALUES "
	            "('queue@example.org', 'Queue', 'member', 0, 0);"
	            "INSERT INTO spaces (name, visibility, created_by, created_at, updated_at) "
	            "SELECT 'Queue', 'members', max(id), 0, 0 FROM people;"
	            "INSERT INTO threads (space_id, title, author_id, created_at, last_post_at) "
	            "SELECT max(s.id), 'Heron sightings', max(p.id), 0, 0 FROM spaces s, people p;"
	            "INSERT INTO posts (thread_id, space_id, author_id, body_source, body_html, "
	            "created_at) SELECT (SELECT max(id) FROM threads), (SELECT max(id) FROM "
	            "spaces), (SELECT max(id) FROM people), v.column1, '', 0 FROM (VALUES "
	            "('kestrels opening'), ('ospreys reply'), ('wrens reply'), ('buzzards reply'), "
	            "('falcons reply')) v;"),
	    DB_OK);
	assert_int_equal(one_int(c, "SELECT count(*) FROM search_queue"), 5);
	char *f = found(c, "kestrels");
	assert_string_equal(f, ""); /* waiting, not yet indexed */
	free(f);

	/* While they wait: an edit is indexed at once, by its new words only; a deleted and
	 * a hidden post leave the queue; a new title is the one the opening post gets. */
	assert_int_equal(db_exec(c, "UPDATE posts SET body_source = 'swifts edited' WHERE "
	                            "body_source = 'wrens reply';"
	                            "DELETE FROM posts WHERE body_source = 'buzzards reply';"
	                            "UPDATE posts SET hidden_at = 1 WHERE body_source = "
	                            "'falcons reply';"
	                            "UPDATE threads SET title = 'Egret sightings';"),
	                 DB_OK);
	assert_int_equal(one_int(c, "SELECT count(*) FROM search_queue"), 2);
	f = found(c, "swifts");
	assert_string_equal(f, "swifts edited");
	free(f);

	assert_int_equal(search_index_queued(c, err, sizeof err), DB_OK);
	assert_int_equal(one_int(c, "SELECT count(*) FROM search_queue"), 0);
	static const char *const expect[][2] = {
	    {"kestrels", "kestrels opening"},
	    {"ospreys", "ospreys reply"},
	    {"swifts", "swifts edited"},
	    {"wrens", ""},
	    {"buzzards", ""},
	    {"falcons", ""},
	    {"egret", "kestrels opening"},
	    {"heron", ""},
	};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
		f = found(c, expect[i][0]);
		if (strcmp(f, expect[i][1]))
			fail_msg("%s: found \"%s\", expected \"%s\"", expect[i][0], f,
			         expect[i][1]);
		free(f);
	}
	assert_int_equal(search_index_queued(c, err, sizeof err), DB_OK); /* nothing waits */

	/* Inside a transaction, the posts of that transaction are indexed in it. */
	assert_int_equal(db_begin(c), DB_OK);
	assert_int_equal(db_exec(c,
	                         "INSERT INTO posts (thread_id, space_id, author_id, "
	                         "body_source, body_html, created_at) SELECT thread_id, "
	                         "space_id, author_id, 'plovers late', '', 1 FROM posts LIMIT 1"),
	                 DB_OK);
	assert_int_equal(search_index_queued(c, err, sizeof err), DB_OK);
	assert_int_equal(db_commit(c), DB_OK);
	f = found(c, "plovers");
	assert_string_equal(f, "plovers late");
	free(f);
	assert_int_equal(one_int(c, "SELECT count(*) FROM search_queue"), 0);

	/* A row already in the index under a waiting post's id (a hand-made change) is
	 * replaced: it must not keep the queue, and every search after, failing. */
	assert_int_equal(db_exec(c, "INSERT INTO posts (thread_id, space_id, author_id, "
	                            "body_source, body_html, created_at) SELECT thread_id, "
	                            "space_id, author_id, 'curlews real', '', 2 FROM posts LIMIT 1;"
	                            "INSERT INTO post_search (rowid, title, body) SELECT max(id), "
	                            "'', 'stray words' FROM posts;"),
	                 DB_OK);
	assert_int_equal(search_index_queued(c, err, sizeof err), DB_OK);
	f = found(c, "curlews");
	assert_string_equal(f, "curlews real");
	free(f);
	f = found(c, "stray");
	assert_string_equal(f, "");
	free(f);
	assert_int_equal(one_int(c, "SELECT count(*) FROM search_queue"), 0);
	db_release(c);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quoting),        cmocka_unit_test(test_quoting_fuzz),
	    cmocka_unit_test(test_marks),          cmocka_unit_test(test_marks_fuzz),
	    cmocka_unit_test(test_newest_matches), cmocka_unit_test(test_index_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
