/*
 * test_search.c — the search words made safe for FTS5, and snippets made safe
 * for HTML (src/app/search/search.c). Besides fixed cases, thousands of random
 * queries built from FTS5's own syntax characters must all parse (run against
 * a real FTS5 table), and random marked text must come out escaped and with
 * balanced <mark> tags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "app/search/search.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_quoting_fuzz),
	    cmocka_unit_test(test_marks),
	    cmocka_unit_test(test_marks_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
