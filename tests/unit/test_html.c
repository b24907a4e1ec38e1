/*
 * test_html.c — the escaping writer every template value goes through.
 *
 * A slip here is a cross-site scripting hole on every page, so each special
 * character, each refused URL scheme (in any case, behind any whitespace) and
 * the buffer cap are pinned down one by one.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "render/html.h"

/* Runs one writer on s and compares the output with want. */
static void check(void (*writer)(struct buf *, const char *), const char *s, const char *want)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	writer(&b, s);
	assert_false(b.overflow);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.len ? b.data : "", want, b.len);
	buf_free(&b);
}

static void test_text_special_chars(void **state)
{
	(void)state;
	check(html_text, "&", "&amp;");
	check(html_text, "<", "&lt;");
	check(html_text, ">", "&gt;");
	check(html_text, "\"", "&quot;");
	check(html_text, "'", "&#39;");
	check(html_text, "plain text, é", "plain text, é");
	check(html_text, "<a href='x'>Tom & \"Jerry\"</a>",
	      "&lt;a href=&#39;x&#39;&gt;Tom &amp; &quot;Jerry&quot;&lt;/a&gt;");
	check(html_text, "", "");
	check(html_text, NULL, "");
	check(html_attr, "\" onmouseover='x' a=<>&",
	      "&quot; onmouseover=&#39;x&#39; a=&lt;&gt;&amp;");
	check(html_attr, NULL, "");
}

static void test_text_long(void **state)
{
	(void)state;
	enum { N = 100000 };
	char *s = malloc(N + 1), *want = malloc(N * 5 + 1), *w = want;
	assert_non_null(s);
	assert_non_null(want);
	for (size_t i = 0; i < N; i++) {
		s[i] = i % 1000 == 999 ? '<' : (char)('a' + i % 26);
		if (s[i] == '<') {
			memcpy(w, "&lt;", 4);
			w += 4;
		} else {
			*w++ = s[i];
		}
	}
	s[N] = *w = '\0';
	check(html_text, s, want);
	free(s);
	free(want);
}

static void test_url_allowed(void **state)
{
	(void)state;
	check(html_url, "https://example.org/a?b=1&c=2", "https://example.org/a?b=1&amp;c=2");
	check(html_url, "HTTP://example.org", "HTTP://example.org");
	check(html_url, "mailto:gp@example.org", "mailto:gp@example.org");
	check(html_url, "tel:+441234567890", "tel:+441234567890");
	check(html_url, "/spaces/12", "/spaces/12");
	check(html_url, "relative/path", "relative/path");
	check(html_url, "//example.org/x", "//example.org/x");
	check(html_url, "/x:y", "/x:y");
	check(html_url, "?a:b", "?a:b");
	check(html_url, "#frag:ment", "#frag:ment");
	check(html_url, "", "");
	check(html_url, NULL, "");
	check(html_url, "/a\"onclick='x'", "/a&quot;onclick=&#39;x&#39;");
}

static void test_url_refused(void **state)
{
	(void)state;
	check(html_url, "javascript:alert(1)", "#");
	check(html_url, "JaVaScRiPt:alert(1)", "#");
	check(html_url, " javascript:alert(1)", "#");
	check(html_url, "\t\n\x01javascript:alert(1)", "#");
	check(html_url, "java\tscript:alert(1)", "#");
	check(html_url, "data:text/html,<script>alert(1)</script>", "#");
	check(html_url, "vbscript:msgbox(1)", "#");
	check(html_url, "file:///etc/passwd", "#");
	check(html_url, "httpx://example.org", "#");
	check(html_url, ":nothing", "#");
}

static void test_int_and_safe(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 256);
	html_int(&b, 0);
	buf_putc(&b, ' ');
	html_int(&b, -42);
	buf_putc(&b, ' ');
	html_int(&b, LLONG_MAX);
	buf_putc(&b, ' ');
	html_int(&b, LLONG_MIN);
	html_safe(&b, (struct safe_html){"<em>kept</em>"});
	html_safe(&b, (struct safe_html){NULL});
	assert_string_equal(b.data, "0 -42 9223372036854775807 -9223372036854775808<em>kept</em>");
	buf_free(&b);
}

static void test_cap_respected(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 8);
	html_text(&b, "abc&def");
	assert_true(b.overflow);
	assert_true(b.len <= 8);
	assert_memory_equal(b.data, "abc&amp;", b.len);
	buf_free(&b);

	buf_init(&b, 4);
	html_url(&b, "https://example.org");
	assert_true(b.overflow);
	assert_true(b.len <= 4);
	buf_free(&b);
}

/* The escaper copies runs between special bytes whole (strcspn): a special byte at every
 * place in a run, back to back, at either end, and every byte value on its own. */
static void test_escape_runs(void **state)
{
	(void)state;
	check(html_text, "&&<<>>\"\"''", "&amp;&amp;&lt;&lt;&gt;&gt;&quot;&quot;&#39;&#39;");
	check(html_attr, "<abc", "&lt;abc");
	check(html_attr, "abc>", "abc&gt;");
	check(html_attr, "a'b\"c", "a&#39;b&quot;c");
	/* UTF-8, including bytes that are not valid UTF-8: never special, copied as they are. */
	check(html_text, "caf\xc3\xa9 \xf0\x9f\x8f\xa5 & \xe2\x80\x93 \xff\xfe<",
	      "caf\xc3\xa9 \xf0\x9f\x8f\xa5 &amp; \xe2\x80\x93 \xff\xfe&lt;");
	for (int c = 1; c < 256; c++) {
		char s[2] = {(char)c, '\0'};
		const char *want = c == '&'    ? "&amp;"
		                   : c == '<'  ? "&lt;"
		                   : c == '>'  ? "&gt;"
		                   : c == '"'  ? "&quot;"
		                   : c == '\'' ? "&#39;"
		                               : s;
		check(html_text, s, want);
		check(html_attr, s, want);
	}
	/* A special byte at each offset of a 40-byte run (across 16-byte blocks). */
	for (size_t at = 0; at < 40; at++) {
		char s[41], want[48];
		memset(s, 'x', 40);
		s[40] = '\0';
		s[at] = '>';
		memcpy(want, s, at);
		memcpy(want + at, "&gt;", 4);
		memcpy(want + at + 4, s + at + 1, 40 - at);
		check(html_text, s, want);
	}
}

static void render_words(struct buf *out, const void *view)
{
	buf_puts(out, view);
}

/* Numbers written in place (html_int) whatever room is left, and slots. */
static void test_int_in_place_and_slot(void **state)
{
	(void)state;
	static const long long values[] = {0,  9,   10,        99,         100,       -1,
	                                   -9, -10, 123456789, -987654321, LLONG_MAX, LLONG_MIN};
	static const char *const want[] = {"0",
	                                   "9",
	                                   "10",
	                                   "99",
	                                   "100",
	                                   "-1",
	                                   "-9",
	                                   "-10",
	                                   "123456789",
	                                   "-987654321",
	                                   "9223372036854775807",
	                                   "-9223372036854775808"};
	/* Each number after 0 to 300 bytes of padding, so that some must grow the buffer. */
	for (size_t pad = 0; pad < 300; pad += 7) {
		for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
			struct buf b;
			buf_init(&b, 1 << 20);
			for (size_t j = 0; j < pad; j++)
				buf_putc(&b, '.');
			html_int(&b, values[i]);
			assert_int_equal(b.len, pad + strlen(want[i]));
			assert_string_equal(b.data + pad, want[i]);
			buf_free(&b);
		}
	}
	struct buf b;
	buf_init(&b, 5);
	html_int(&b, 12345);
	html_int(&b, 6); /* past the cap: refused, the rest kept */
	assert_true(b.overflow);
	assert_string_equal(b.data, "12345");
	buf_free(&b);

	buf_init(&b, 256);
	html_slot(&b, (struct html_slot){render_words, "<p>in place</p>"});
	html_slot(&b, (struct html_slot){NULL, NULL});
	assert_string_equal(b.data, "<p>in place</p>");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_special_chars), cmocka_unit_test(test_text_long),
	    cmocka_unit_test(test_url_allowed),        cmocka_unit_test(test_url_refused),
	    cmocka_unit_test(test_int_and_safe),       cmocka_unit_test(test_cap_respected),
	    cmocka_unit_test(test_escape_runs),        cmocka_unit_test(test_int_in_place_and_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
