/*
 * test_csv.c — the CSV reader (quotes, line endings, line numbers, UTF-8, caps)
 * and writer (quoting, spreadsheet formula injection), and the import problem list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/csv.h"

/* Reads every record of s into a printable summary: "L<line>:field|field;" per record, and
 * "E<code>@<line>;" per error, so that each test states the whole outcome in one string. */
static char *read_all(const char *s, size_t len, size_t max_fields, size_t max_field_bytes)
{
	struct csv_reader r;
	struct csv_record rec;
	struct buf out;
	buf_init(&out, 1 << 16);
	csv_reader_init(&r, s, len, max_fields, max_field_bytes);
	int rc;
	while ((rc = csv_next(&r, &rec)) != CSV_END) {
		if (rc < 0) {
			buf_printf(&out, "E%d@%lu;", rc, r.error_line);
			assert_true(r.error[0] != '\0');
			assert_int_equal(rec.line > 0, 1);
			continue;
		}
		buf_printf(&out, "L%lu:", rec.line);
		for (size_t i = 0; i < rec.n_fields; i++)
			buf_printf(&out, "%s%s", i ? "|" : "", rec.fields[i]);
		buf_puts(&out, ";");
	}
	/* The end is sticky. */
	assert_int_equal(csv_next(&r, &rec), CSV_END);
	csv_reader_free(&r);
	return buf_take(&out);
}

static void expect(const char *input, const char *want)
{
	char *got = read_all(input, strlen(input), 8, 32);
	assert_string_equal(got, want);
	free(got);
}

static void test_plain_records_and_line_endings(void **state)
{
	(void)state;
	expect("a,b,c\n1,2,3\n", "L1:a|b|c;L2:1|2|3;");
	expect("a,b\r\n1,2\r\n", "L1:a|b;L2:1|2;");
	expect("a,b\r1,2\r", "L1:a|b;L2:1|2;"); /* old Mac line endings */
	expect("a,b\n1,2", "L1:a|b;L2:1|2;");   /* no final line break */
	expect("a,,c,\n", "L1:a||c|;");         /* empty fields, a trailing comma */
	expect(",\n", "L1:|;");
	expect("", "");
	expect("\n\r\n\n", "");
}

static void test_empty_lines_are_skipped_but_counted(void **state)
{
	(void)state;
	expect("\n\na\n\r\n\nb\n\n\n", "L3:a;L6:b;");
	expect("a\r\n\r\nb", "L1:a;L3:b;");
}

static void test_bom(void **state)
{
	(void)state;
	expect("\xEF\xBB\xBFods_code,name\nA,B\n", "L1:ods_code|name;L2:A|B;");
	/* Only at the very start: elsewhere it is ordinary (valid) text. */
	expect("a,\xEF\xBB\xBFx\n", "L1:a|\xEF\xBB\xBFx;");
	expect("\xEF\xBB\xBF", "");
}

static void test_quotes(void **state)
{
	(void)state;
	expect("\"a,b\",c\n", "L1:a,b|c;");
	expect("\"say \"\"hi\"\"\",x\n", "L1:say \"hi\"|x;");
	expect("\"\",\"\"\"\"\n", "L1:|\";");
	expect("\"last\"", "L1:last;");
	expect("\"\"\n", "L1:;"); /* a quoted empty field is a record, not an empty line */
}

static void test_embedded_newlines_keep_line_numbers(void **state)
{
	(void)state;
	expect("h\n\"one\ntwo\nthree\",x\nnext\n", "L1:h;L2:one\ntwo\nthree|x;L5:next;");
	expect("h\r\n\"a\r\nb\"\r\nc\r\n", "L1:h;L2:a\r\nb;L4:c;");
	expect("\"a\rb\"\nc\n", "L1:a\rb;L3:c;");
}

static void test_unterminated_quote_is_fatal(void **state)
{
	(void)state;
	/* Reported on the line where the quote opened; nothing after it is read. */
	expect("a\n\"open,b\nc\nd\n", "L1:a;E-6@2;");
	expect("a,\"x\"\"\n", "E-6@1;");
}

static void test_bad_quotes_skip_only_their_record(void **state)
{
	(void)state;
	expect("a\"b,c\nok\n", "E-5@1;L2:ok;");
	expect("\"a\"b,c\nok\n", "E-5@1;L2:ok;");
	expect("x\n\"a\nb\"junk\nok\n", "L1:x;E-5@3;L4:ok;");
}

static void test_bad_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "\xE9",             /* Windows-1252 e-acute */
	    "\xC0\xAF",         /* overlong '/' */
	    "\xC1\xBF",         /* overlong */
	    "\xE0\x80\xAF",     /* overlong three-byte */
	    "\xF0\x80\x80\xAF", /* overlong four-byte */
	    "\xED\xA0\x80",     /* surrogate U+D800 */
	    "\xED\xBF\xBF",     /* surrogate U+DFFF */
	    "\xF4\x90\x80\x80", /* above U+10FFFF */
	    "\xF5\x80\x80\x80", /* never valid */
	    "\x80",             /* a lone continuation byte */
	    "\xC3",             /* truncated at the end of the field */
	    "\xE2\x82",         /* truncated */
	    "\xFF",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char input[64], want[64];
		snprintf(input, sizeof input, "ok\nx,%s\nafter\n", bad[i]);
		char *got = read_all(input, strlen(input), 8, 32);
		snprintf(want, sizeof want, "L1:ok;E-1@2;L3:after;");
		assert_string_equal(got, want);
		free(got);
	}
	/* Valid text of every length passes, including the edges of the ranges. */
	expect("\xC2\x80,\xDF\xBF,\xE0\xA0\x80,\xED\x9F\xBF,\xEE\x80\x80,\xF0\x90\x80\x80,"
	       "\xF4\x8F\xBF\xBF\n",
	       "L1:\xC2\x80|\xDF\xBF|\xE0\xA0\x80|\xED\x9F\xBF|\xEE\x80\x80|\xF0\x90\x80\x80|"
	       "\xF4\x8F\xBF\xBF;");
	expect("Caf\xC3\xA9,Ysbyty Gwynedd \xE2\x80\x94 \xF0\x9F\x8F\xA5\n",
	       "L1:Caf\xC3\xA9|Ysbyty Gwynedd \xE2\x80\x94 \xF0\x9F\x8F\xA5;");
}

static void test_bad_utf8_inside_a_quoted_field_names_its_own_line(void **state)
{
	(void)state;
	/* The record starts on line 1; the bad byte is on line 3. */
	const char input[] = "\"a\nb\nc\xE9\",x\n";
	struct csv_reader r;
	struct csv_record rec;
	csv_reader_init(&r, input, strlen(input), 8, 32);
	assert_int_equal(csv_next(&r, &rec), CSV_ERR_UTF8);
	assert_int_equal(rec.line, 1);
	assert_int_equal(r.error_line, 3);
	assert_non_null(strstr(r.error, "0xE9"));
	/* The fields are still there for a caller that wants the rest of the line. */
	assert_int_equal(rec.n_fields, 2);
	assert_string_equal(rec.fields[1], "x");
	assert_int_equal(csv_next(&r, &rec), CSV_END);
	csv_reader_free(&r);
}

static void test_nul_byte(void **state)
{
	(void)state;
	const char input[] = "a\nb\0c,d\ne\n";
	char *got = read_all(input, sizeof input - 1, 8, 32);
	assert_string_equal(got, "L1:a;E-2@2;L3:e;");
	free(got);
}

static void test_field_and_record_caps(void **state)
{
	(void)state;
	/* 32 bytes is the cap in expect(): 32 pass, 33 do not, quoted or not. */
	char input[256], want[256];
	char f32[33], f33[34];
	memset(f32, 'x', 32);
	f32[32] = '\0';
	memset(f33, 'y', 33);
	f33[33] = '\0';
	snprintf(input, sizeof input, "%s\n%s,b\n\"%s\"\nok\n", f32, f33, f33);
	snprintf(want, sizeof want, "L1:%s;E-3@2;E-3@3;L4:ok;", f32);
	char *got = read_all(input, strlen(input), 8, 32);
	assert_string_equal(got, want);
	free(got);
	/* 8 fields are allowed, 9 are not; the next record is read normally. */
	expect("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8,9\n1,2,3,4,5,6,7,8,9,10,11,12\nok\n",
	       "L1:1|2|3|4|5|6|7|8;E-4@2;E-4@3;L4:ok;");
	/* A single-field reader still works. */
	got = read_all("a,b\nc\n", 6, 1, 32);
	assert_string_equal(got, "E-4@1;L2:c;");
	free(got);
}

static void test_errors_do_not_hide_later_lines(void **state)
{
	(void)state;
	expect("h\n\xE9\na\"b\n1,2,3,4,5,6,7,8,9\ngood\n", "L1:h;E-1@2;E-5@3;E-4@4;L5:good;");
}

static char *written(const char *const *fields, size_t n)
{
	struct buf out;
	buf_init(&out, 1024);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&out, ',');
		csv_write_field(&out, fields[i]);
	}
	buf_puts(&out, "\r\n");
	return buf_take(&out);
}

static void test_write_quotes_as_needed(void **state)
{
	(void)state;
	const char *const plain[] = {"Z80001", "Riverside Medical Centre", "", NULL, "Caf\xC3\xA9"};
	char *s = written(plain, 5);
	assert_string_equal(s, "Z80001,Riverside Medical Centre,,,Caf\xC3\xA9\r\n");
	free(s);
	const char *const quoted[] = {"a,b", "say \"hi\"", "two\nlines", "cr\rhere"};
	s = written(quoted, 4);
	assert_string_equal(s, "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\"\r\n");
	free(s);
}

static void test_write_defuses_formulas(void **state)
{
	(void)state;
	const char *const risky[] = {
	    "=HYPERLINK(\"http://x\",\"click\")", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"};
	char *s = written(risky, 6);
	assert_string_equal(s, "\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\",\"'+1\",\"'-2+3\","
	                       "\"'@SUM(A1)\",\"'\tcmd\",\"'\rcmd\"\r\n");
	free(s);
	/* Only the first character matters; elsewhere these are plain text. */
	const char *const safe[] = {"a=b", "1+1", "x@y.nhs.uk"};
	s = written(safe, 3);
	assert_string_equal(s, "a=b,1+1,x@y.nhs.uk\r\n");
	free(s);
}

static void test_written_fields_read_back(void **state)
{
	(void)state;
	const char *const fields[] = {"a,b", "say \"hi\"", "two\r\nlines", "plain", ""};
	char *s = written(fields, 5);
	struct csv_reader r;
	struct csv_record rec;
	csv_reader_init(&r, s, strlen(s), 8, 64);
	assert_int_equal(csv_next(&r, &rec), CSV_RECORD);
	assert_int_equal(rec.n_fields, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(rec.fields[i], fields[i]);
	assert_int_equal(csv_next(&r, &rec), CSV_END);
	csv_reader_free(&r);
	free(s);
}

static void test_report_keeps_the_earliest_lines(void **state)
{
	(void)state;
	struct import_report *r = malloc(sizeof *r);
	assert_non_null(r);
	import_report_init(r);
	/* More problems than fit, found out of line order (as the passes of an import do). */
	for (unsigned long line = 300; line > 150; line--)
		import_report_add(r, line, "late %lu", line);
	for (unsigned long line = 2; line < 52; line++)
		import_report_add(r, line, "early %lu", line);
	import_report_add(r, 2, "second on line 2");
	import_report_add(r, 0, "whole file");
	assert_int_equal(r->n_problems, 150 + 50 + 2);
	assert_int_equal(r->n_kept, LIMIT_IMPORT_PROBLEMS);
	import_report_sort(r);
	assert_int_equal(r->problems[0].line, 0);
	assert_string_equal(r->problems[1].message, "early 2");
	assert_string_equal(r->problems[2].message, "second on line 2");
	assert_int_equal(r->problems[3].line, 3);
	/* 1 + 51 early ones, then the earliest 48 of the late ones. */
	assert_int_equal(r->problems[LIMIT_IMPORT_PROBLEMS - 1].line, 151 + 47);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_records_and_line_endings),
	    cmocka_unit_test(test_empty_lines_are_skipped_but_counted),
	    cmocka_unit_test(test_bom),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_embedded_newlines_keep_line_numbers),
	    cmocka_unit_test(test_unterminated_quote_is_fatal),
	    cmocka_unit_test(test_bad_quotes_skip_only_their_record),
	    cmocka_unit_test(test_bad_utf8),
	    cmocka_unit_test(test_bad_utf8_inside_a_quoted_field_names_its_own_line),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_field_and_record_caps),
	    cmocka_unit_test(test_errors_do_not_hide_later_lines),
	    cmocka_unit_test(test_write_quotes_as_needed),
	    cmocka_unit_test(test_write_defuses_formulas),
	    cmocka_unit_test(test_written_fields_read_back),
	    cmocka_unit_test(test_report_keeps_the_earliest_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
