/*
 * test_tplc.c — the template compiler, from both ends.
 *
 * The templates in tests/unit/templates/ are compiled by tplc at build time and
 * linked in here, so these tests render real pages and assert the exact HTML a
 * browser would get: hostile titles escaped, javascript: links neutralised, blocks
 * leaving no stray blank lines. The second half runs the tplc binary (its path in
 * the TPLC environment variable, set by the build) on broken templates and checks
 * that each is refused with exit status 1, a FILE:LINE message, and no output.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "test_templates.h"
#include "test_tplc.h"

static const struct test_item items[] = {
    {"A & B", "/a?x=1&y=2"},
    {"C", "JavaScript:evil()"},
};

static const struct test_page hostile = {
    .title = "<script>alert(1)</script>",
    .link = "javascript:alert(1)",
    .checked = true,
    .count = 2,
    .items = items,
    .body = {"<em>hi</em>"},
};

/* Renders page or edge (whichever render is) and returns the HTML; the caller frees it. */
static char *render(void (*fn)(struct buf *, const struct test_page *), const struct test_page *v)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	fn(&b, v);
	assert_false(b.overflow);
	return buf_take(&b);
}

static void test_page_exact(void **state)
{
	(void)state;
	char *html = render(tpl_page, &hostile);
	assert_string_equal(
	    html, "<!DOCTYPE html>\n"
	          "<html lang=\"en\">\n"
	          "<head>\n"
	          "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>\n"
	          "</head>\n"
	          "<body>\n"
	          "<h1 class=\"title\" data-count='2'>&lt;script&gt;alert(1)&lt;/script&gt;</h1>\n"
	          "<a href=\"#\" title=\"javascript:alert(1)\">Home</a>\n"
	          "<a href=\"/search?q=&lt;script&gt;alert(1)&lt;/script&gt;\">Search</a>\n"
	          "<input type=\"checkbox\" checked>\n"
	          "<p>2 items</p>\n"
	          "<ul>\n"
	          "\t<li id=\"item-0\"><a href=\"/a?x=1&amp;y=2\">A &amp; B</a></li>\n"
	          "\t<li id=\"item-1\"><a href=\"#\">C</a></li>\n"
	          "</ul>\n"
	          "<div><em>hi</em></div>\n"
	          "<footer>&copy; Shoal</footer>\n"
	          "</body>\n"
	          "</html>\n");
	free(html);
}

static void test_page_branches(void **state)
{
	(void)state;
	struct test_page v = {.title = "T", .link = "https://example.org/?a=1&b=2"};
	char *html = render(tpl_page, &v);
	assert_non_null(strstr(html, "<a href=\"https://example.org/?a=1&amp;b=2\" title="));
	assert_non_null(
	    strstr(html, "<input type=\"checkbox\">\n<p>0 items</p>\n<p>None</p>\n<div>"));
	free(html);

	v.count = 1;
	v.items = items;
	html = render(tpl_page, &v);
	assert_non_null(strstr(html, "<p>1 items</p>\n<p>One</p>\n<div></div>\n"));
	assert_null(strstr(html, "<li"));
	free(html);
}

static void render_aside(struct buf *out, const void *view)
{
	buf_puts(out, view);
}

static void test_edge(void **state)
{
	(void)state;
	struct test_page v = {.title = "javascript:", .link = "alert(1)"};
	char *html = render(tpl_edge, &v);
	assert_string_equal(
	    html, "<!-- a comment with a \" quote and <b> in it -->\n"
	          "<script src=\"/app.js\"></script><style>p > a { color: red; }</style>\n"
	          "<a href=\" alert(1)\">spaced</a>\n"
	          "<a href=\"alert(1)\">branch</a>\n"
	          "<a href=\"#alert(1)\">two</a>\n"
	          "<textarea name=\"t\">javascript:</textarea>\n"
	          "<p>Café £5 — \"quoted\" \\ back?\?=slash\ttab</p>\n"
	          "<p>A long line of text that goes on well past eighty columns so that tplc has "
	          "to split its literal in two.</p>\n"
	          "<div></div>\n");
	free(html);

	/* A slot's renderer writes in place, into the same buffer. */
	v.aside = (struct html_slot){render_aside, "<em>aside</em>"};
	html = render(tpl_edge, &v);
	assert_non_null(strstr(html, "in two.</p>\n<div><em>aside</em></div>\n"));
	free(html);
	v.aside = (struct html_slot){NULL, NULL};

	/* Leading whitespace does not hide a scheme, and a branch can start the URL. */
	v.link = " javascript:alert(1)";
	html = render(tpl_edge, &v);
	assert_non_null(strstr(html, "<a href=\" #\">spaced</a>\n<a href=\"#\">branch</a>\n"));
	free(html);
	v.checked = true;
	html = render(tpl_edge, &v);
	assert_non_null(strstr(html, "<a href=\"/fixed\">branch</a>"));
	free(html);
}

static void test_cap_respected(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 64);
	tpl_page(&b, &hostile);
	assert_true(b.overflow);
	assert_true(b.len <= 64);
	buf_free(&b);
}

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * Runs tplc on one template holding text in a fresh directory and checks that it
 * exits 1 with exactly "DIR/bad.html:LINE: message" and leaves no file behind.
 */
static void expect_error(const char *text, int line, const char *message)
{
	const char *tplc = getenv("TPLC");
	if (!tplc)
		fail_msg("TPLC is not set: the build passes the tplc path in it");
	char dir[] = "/tmp/test_tplc.XXXXXX", in[512], out_c[512], out_h[512], err[512];
	assert_non_null(mkdtemp(dir));
	write_file(dir, "bad.html", text);
	snprintf(in, sizeof in, "%s/bad.html", dir);
	snprintf(out_c, sizeof out_c, "%s/out.c", dir);
	snprintf(out_h, sizeof out_h, "%s/out.h", dir);
	snprintf(err, sizeof err, "%s/err", dir);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (!freopen(err, "w", stderr))
			_exit(127);
		execl(tplc, tplc, out_c, out_h, in, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);

	char got[1024] = "", want[1024];
	FILE *f = fopen(err, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	snprintf(want, sizeof want, "%s:%d: %s\n", in, line, message);
	assert_string_equal(got, want);

	/* Only the template and the captured stderr: no output, no temporary files. */
	DIR *d = opendir(dir);
	assert_non_null(d);
	int files = 0;
	for (struct dirent *e; (e = readdir(d));)
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 2);
	unlink(in);
	unlink(err);
	rmdir(dir);
}

static void test_refused_contexts(void **state)
{
	(void)state;
	expect_error("{% view none %}\n<p>\n<script>\nvar x = \"{{ x }}\";\n</script>\n", 4,
	             "{{ }} not allowed here (script)");
	expect_error("{% view none %}\n<style>p { color: {{ c }} }</style>\n", 2,
	             "{{ }} not allowed here (style)");
	expect_error("{% view none %}\n<a href={{ x }}>x</a>\n", 2,
	             "{{ }} not allowed here (unquoted attribute value)");
	expect_error("{% view none %}\n<{{ x }}>\n", 2, "{{ }} not allowed here (tag name)");
	expect_error("{% view none %}\n<p {{ x }}>\n", 2,
	             "{{ }} not allowed here (attribute name)");
	expect_error("{% view none %}\n<!-- {{ x }} -->\n", 2, "{{ }} not allowed here (comment)");
	expect_error("{% view none %}\n<a onclick=\"f('{{ x }}')\">\n", 2,
	             "{{ }} not allowed here (event handler, style or srcdoc attribute)");
	expect_error("{% view none %}\n<a title=\"{{ html x }}\">\n", 2,
	             "{{ }} not allowed here (html value in an attribute)");
	expect_error("{% view none %}\n<a title=\"{{ slot x }}\">\n", 2,
	             "{{ }} not allowed here (slot in an attribute)");
	expect_error("{% view none %}\n<script>{{ slot x }}</script>\n", 2,
	             "{{ }} not allowed here (script)");
	/* A value after an {% if %} is checked against every path through it. */
	expect_error(
	    "{% view none %}\n<p{% if a %} class=\"x\"{% end %}>\n<a{% if b %}>{% end %} {{ x }}\n",
	    3, "{{ }} not allowed here (attribute name)");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("{% view none %}\n<p>\n{% if x %}\nhi\n", 3, "unclosed {% if %}");
	expect_error("{% view none %}\n{% for i in a, n %}\n", 2, "unclosed {% for %}");
	expect_error("{% view none %}\n{% if x %}\n{% end %}\n{% end %}\n", 4,
	             "{% end %} without an open {% if %} or {% for %}");
	expect_error(
	    "<p>hi</p>\n", 1,
	    "the first line must be {% view struct NAME \"header.h\" %} or {% view none %}");
	expect_error("{% view none %}\n<p>{{ x </p>\n", 2, "unclosed {{");
	expect_error("{% view none %}\n{% while x %}\n", 2, "unknown directive {% while x %}");
	expect_error("{% view none %}\n{% else %}\n", 2, "{% else %} without an open {% if %}");
	expect_error("{% view none %}\n{% include nowhere %}\n", 2,
	             "{% include nowhere %}: no template nowhere.html in this build");
	expect_error("{% view none %}\n<p>\n<a href=\"x\n", 3,
	             "template ends inside attribute value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_page_exact),
	    cmocka_unit_test(test_page_branches),
	    cmocka_unit_test(test_edge),
	    cmocka_unit_test(test_cap_respected),
	    cmocka_unit_test(test_refused_contexts),
	    cmocka_unit_test(test_syntax_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
