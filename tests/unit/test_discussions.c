/*
 * test_discussions.c — the Markdown renderer of posts (src/app/discussions/
 * markdown.c): what a post may contain and what it never can (raw HTML,
 * script links, images that load or run anything), mentions, and that
 * adversarial input of the largest allowed size stays fast; and the visibility
 * rule of spaces asked both ways, policy_may_see_space and the SQL filter
 * DISCUSSIONS_VISIBLE_SQL, for every role and kind of space, on the database
 * SHOAL_TEST_DB names (a temporary SQLite file without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "app/discussions/discussions.h"
#include "app/discussions/markdown.h"
#include "db/db.h"
#include "db/migrate.h"

/* Ann is person 7; two people are called Bob; nobody else exists. */
static int resolve(void *ctx, const char *name, int64_t *id)
{
	(void)ctx;
	if (!strcasecmp(name, "Ann")) {
		*id = 7;
		return 1;
	}
	return !strcmp(name, "Bob") ? 2 : 0;
}

static char *render(const char *source)
{
	struct markdown_result r;
	assert_int_equal(markdown_render(source, resolve, NULL, &r), 0);
	return r.html;
}

static bool contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = haystack; *p; p++)
		if (!strncasecmp(p, needle, n))
			return true;
	return false;
}

static void test_markdown_features(void **state)
{
	(void)state;
	char *html = render("**bold** _it_ ~~gone~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
	                    "see www.example.org and https://nhs.uk\n\n> quoted");
	assert_non_null(strstr(html, "<strong>bold</strong>"));
	assert_non_null(strstr(html, "<em>it</em>"));
	assert_non_null(strstr(html, "<del>gone</del>"));
	assert_non_null(strstr(html, "<table>"));
	assert_non_null(strstr(html, "<a href=\"http://www.example.org\">"));
	assert_non_null(strstr(html, "<a href=\"https://nhs.uk\">"));
	assert_non_null(strstr(html, "<blockquote>"));
	free(html);
}

static void test_markdown_neutralises_attacks(void **state)
{
	(void)state;
	static const char *const attacks[] = {
	    "<script>alert(1)</script>",
	    "<img src=x onerror=alert(1)>",
	    "<a href=\"javascript:alert(1)\">x</a>",
	    "[x](javascript:alert(1))",
	    "[x](JaVaScRiPt:alert(1))",
	    "[x](  javascript:alert(1))",
	    "[x](<javascript:alert(1)>)",
	    "[x](vbscript:msgbox(1))",
	    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
	    "[x](file:///etc/passwd)",
	    "![x](javascript:alert(1))",
	    "![x\" onerror=\"alert(1)](https://example.org/a.png)",
	    "![x](https://example.org/a.png \"t\" onerror=alert(1))",
	    "[x](https://example.org \"\\\" onmouseover=alert(1)\")",
	    "<javascript:alert(1)>",
	    "javascript:alert(1)",
	    "<iframe src=https://example.org></iframe>",
	    "<svg onload=alert(1)>",
	    "<style>body{display:none}</style>",
	    "[x]: javascript:alert(1)\n\n[click][x]",
	    "[![pic](https://example.org/p.png)](https://example.org)",
	    "<div\nonmouseover=alert(1)>x</div>",
	};
	for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
		char *html = render(attacks[i]);
		const char *bad[] = {"<script", "<img", "<iframe", "<svg", "<style", "<div"};
		for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
			if (contains_ci(html, bad[j]))
				fail_msg("input %zu (%s) rendered %s: %s", i, attacks[i], bad[j],
				         html);
		/* No tag carries an event handler or a style (text may mention them, escaped). */
		for (const char *t = strchr(html, '<'); t; t = strchr(t + 1, '<')) {
			const char *end = strchr(t, '>');
			assert_non_null(end);
			static const char *const schemes[] = {
			    "javascript:", "vbscript:", "data:", "file:"};
			for (size_t j = 0; j < sizeof schemes / sizeof schemes[0]; j++) {
				const char *hit = NULL;
				for (const char *a = t; a < end && !hit; a++)
					if (!strncasecmp(a, schemes[j], strlen(schemes[j])))
						hit = a;
				if (hit)
					fail_msg("input %zu (%s) kept %s in a tag: %s", i,
					         attacks[i], schemes[j], html);
			}
			char quote = 0;
			for (const char *a = t; a < end; a++) {
				if (quote) {
					quote = *a == quote ? 0 : quote;
				} else if (*a == '"' || *a == '\'') {
					quote = *a;
				} else if ((a[0] == ' ' || a[0] == '\n') &&
				           (!strncasecmp(a + 1, "on", 2) ||
				            !strncasecmp(a + 1, "style", 5))) {
					fail_msg("input %zu (%s) rendered an attribute: %s", i,
					         attacks[i], html);
				}
			}
		}
		free(html);
	}
}

static void test_mentions(void **state)
{
	(void)state;
	struct markdown_result r;
	assert_int_equal(markdown_render("Thanks @[ann], and @[Ann] again. `@[Ann]` in code.",
	                                 resolve, NULL, &r),
	                 0);
	assert_non_null(strstr(r.html, "<a href=\"/people/7\">@ann</a>"));
	assert_non_null(strstr(r.html, "<code>@[Ann]</code>"));
	assert_int_equal(r.n_mentions, 1);
	assert_int_equal(r.mentions[0], 7);
	markdown_result_free(&r);
	assert_int_equal(markdown_render("Hello @[Zed]", resolve, NULL, &r), 1);
	assert_non_null(strstr(r.problem, "Nobody called Zed"));
	assert_int_equal(markdown_render("Hello @[Bob]", resolve, NULL, &r), 1);
	assert_non_null(strstr(r.problem, "More than one person is called Bob"));
	/* Not mentions: an email address, an unclosed bracket, a link. */
	assert_int_equal(markdown_render("a@b.org @[ open [Ann](https://x.org)", resolve, NULL, &r),
	                 0);
	assert_int_equal(r.n_mentions, 0);
	markdown_result_free(&r);
	/* Without a resolver, mentions stay text. */
	assert_int_equal(markdown_render("@[Ann]", NULL, NULL, &r), 0);
	assert_null(strstr(r.html, "/people/"));
	markdown_result_free(&r);
}

static void test_chars(void **state)
{
	(void)state;
	assert_int_equal(markdown_chars(""), 0);
	assert_int_equal(markdown_chars("abc"), 3);
	assert_int_equal(markdown_chars("é€😀"), 3);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills 50,000 characters with unit repeated. */
static char *repeat(const char *unit, const char *tail)
{
	size_t n = strlen(unit), total = DISCUSSIONS_MAX_POST_CHARS - strlen(tail);
	char *s = malloc(DISCUSSIONS_MAX_POST_CHARS + 1);
	size_t len = 0;
	while (len + n <= total) {
		memcpy(s + len, unit, n);
		len += n;
	}
	strcpy(s + len, tail);
	return s;
}

static void test_adversarial_inputs_stay_fast(void **state)
{
	(void)state;
	/* Known worst cases of CommonMark parsers: nesting and unmatched openers. */
	static const char *const units[][2] = {
	    {"[", ""},
	    {"[a](", ""},
	    {"*a", ""},
	    {"_a", ""},
	    {"**_", ""},
	    {"> ", "x"},
	    {"- ", "x"},
	    {"1. ", "x"},
	    {"`", ""},
	    {"![", ""},
	    {"<", ""},
	    {"|", "\n|-|"},
	    {"a|", "\n-|"},
	    {"~~a", ""},
	    {"@[", ""},
	    {"[a]: b\n", ""},
	    {"*a_", ""},
	    {"\\", ""},
	    {"&#", ""},
	    {"www.a", ""},
	    {"| a |\n", ""},
	    {"[](", ""},
	    {"<a", ""},
	    {"a@b.", ""},
	    {"_*", "a"},
	    {"-\n", ""},
	    {"=\n", ""},
	    {"    ", "x"},
	    {"```\n", ""},
	    {"[x]", ""},
	    {"|", "\n|-|"},
	    {"||", "\n|-|-|"},
	    {"|a", "\n|-|"},
	    {" |", "\n|-|"},
	    /* Many tables of 63 columns, just under the limit on pipes in a line. */
	    {"|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|"
	     "a|a|a"
	     "|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|a|\n|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-"
	     "|-|-"
	     "|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|\n",
	     ""},
	    {"|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|"
	     "1|1|1"
	     "|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|\n",
	     ""},
	};
	double worst = 0;
	const char *worst_unit = "";
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		char *s = repeat(units[i][0], units[i][1]);
		struct markdown_result r;
		double t0 = seconds();
		int rc = markdown_render(s, resolve, NULL, &r);
		double t = seconds() - t0;
		assert_true(rc == 0 || rc == 1);
		if (rc == 0)
			markdown_result_free(&r);
		if (t > worst) {
			worst = t;
			worst_unit = units[i][0];
		}
		free(s);
	}
	/* A table of 50,000 characters with many columns and rows. */
	char *table = malloc(DISCUSSIONS_MAX_POST_CHARS + 1);
	size_t len = 0;
	strcpy(table, "|a|b|c|d|e|f|g|h|\n|-|-|-|-|-|-|-|-|\n");
	len = strlen(table);
	while (len + 17 <= DISCUSSIONS_MAX_POST_CHARS) {
		memcpy(table + len, "|1|2|3|4|5|6|7|8\n", 17);
		len += 17;
	}
	table[len] = '\0';
	struct markdown_result r;
	double t0 = seconds();
	assert_int_equal(markdown_render(table, resolve, NULL, &r), 0);
	double t = seconds() - t0;
	markdown_result_free(&r);
	free(table);
	if (t > worst) {
		worst = t;
		worst_unit = "table";
	}
	printf("# slowest adversarial 50,000-character post: %.3f s (%s)\n", worst, worst_unit);
	/* Generous for sanitizer builds on a busy machine; a quadratic case takes minutes. */
	assert_true(worst < 2.0);
}

/* ------------------------------------------------------------ visibility, both ways */

static struct db *db;

static int64_t insert_id(struct db_conn *c, const char *sql, const char *a, const char *b,
                         int64_t n)
{
	struct db_stmt *st = db_prepare(c, sql);
	assert_non_null(st);
	if (a)
		db_bind_text(st, 1, a);
	if (b)
		db_bind_text(st, 2, b);
	if (n)
		db_bind_int(st, 3, n);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t id = db_col_int(st, 0);
	db_reset(st);
	return id;
}

static void test_visibility_policy_and_sql_agree(void **state)
{
	(void)state;
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	/* One person of each role in the group, and one of each outside it. */
	static const char *const roles[] = {"member", "executive", "administrator", "partner"};
	int64_t people[8];
	for (int i = 0; i < 8; i++) {
		char email[64];
		snprintf(email, sizeof email, "p%d@example.org", i);
		people[i] =
		    insert_id(c,
		              "INSERT INTO people (email, name, role, created_at, updated_at) "
		              "VALUES ($1, $1, $2, 1, 1) RETURNING id",
		              email, roles[i % 4], 0);
	}
	int64_t group = insert_id(
	    c, "INSERT INTO discussion_groups (name, created_at) VALUES ($1, 1) RETURNING id",
	    "Test group", NULL, 0);
	for (int i = 0; i < 4; i++) {
		struct db_stmt *st =
		    db_prepare(c, "INSERT INTO discussion_group_members (group_id, "
		                  "person_id, created_at) VALUES ($1, $2, 1)");
		db_bind_int(st, 1, group);
		db_bind_int(st, 2, people[i]);
		assert_int_equal(db_step(st), DB_DONE);
		db_reset(st);
	}
	static const char *const kinds[] = {"members", "executive", "group", "partners"};
	int64_t spaces[4];
	for (int k = 0; k < 4; k++) {
		struct db_stmt *st = db_prepare(
		    c, "INSERT INTO spaces (name, visibility, group_id, created_by, created_at, "
		       "updated_at) VALUES ($1, $2, $3, $4, 1, 1) RETURNING id");
		db_bind_text(st, 1, kinds[k]);
		db_bind_text(st, 2, kinds[k]);
		if (!strcmp(kinds[k], "group"))
			db_bind_int(st, 3, group);
		else
			db_bind_null(st, 3);
		db_bind_int(st, 4, people[1]);
		assert_int_equal(db_step(st), DB_ROW);
		spaces[k] = db_col_int(st, 0);
		db_reset(st);
	}
	/* What docs/discussions.md says, written out: [person][kind]. */
	static const bool expected[8][4] = {
	    {1, 0, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}, {0, 0, 0, 1}, /* in the group */
	    {1, 0, 0, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}, {0, 0, 0, 1}, /* not in it */
	};
	for (int i = 0; i < 8; i++) {
		struct viewer v = {.person_id = people[i],
		                   .role = (enum role)policy_role_from_name(roles[i % 4]),
		                   .mfa_enrolled = true,
		                   .via = VIA_SESSION};
		bool listed[4] = {0};
		struct db_stmt *st = db_prepare(
		    c, "SELECT s.id FROM spaces s WHERE " DISCUSSIONS_VISIBLE_SQL " ORDER BY s.id");
		assert_non_null(st);
		db_bind_int(st, 1, v.person_id);
		db_bind_text(st, 2, policy_role_name(v.role));
		while (db_step(st) == DB_ROW)
			for (int k = 0; k < 4; k++)
				listed[k] |= db_col_int(st, 0) == spaces[k];
		db_reset(st);
		for (int k = 0; k < 4; k++) {
			struct disc_space s;
			int one = disc_load_space(c, &v, spaces[k], &s);
			assert_true(one >= 0);
			if (listed[k] != expected[i][k] || (one == 1) != expected[i][k])
				fail_msg(
				    "%s %s the group, space %s: SQL %d, policy %d, expected %d",
				    roles[i % 4], i < 4 ? "in" : "outside", kinds[k], listed[k],
				    one, expected[i][k]);
		}
	}
	db_release(c);
}

static int setup(void **state)
{
	(void)state;
	char url[512], err[256];
	const char *env = getenv("SHOAL_TEST_DB");
	if (env && *env) {
		snprintf(url, sizeof url, "%s", env);
	} else {
		char dir[] = "/tmp/shoal-test-disc-XXXXXX";
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
	}
	int applied;
	if (db_open(url, 2, &db, err, sizeof err) || migrate_apply(db, &applied, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close(db);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_markdown_features),
	    cmocka_unit_test(test_markdown_neutralises_attacks),
	    cmocka_unit_test(test_mentions),
	    cmocka_unit_test(test_chars),
	    cmocka_unit_test(test_adversarial_inputs_stay_fast),
	    cmocka_unit_test(test_visibility_policy_and_sql_agree),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
