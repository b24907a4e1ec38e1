/*
 * test_attachments.c — the multipart/form-data parser (src/http/multipart.c)
 * and the checks on attached files (src/app/discussions/attachments.c): types
 * by content, extensions that must agree, file names, sizes, and blobs stored
 * and read back through db.h on the backend under test (SHOAL_TEST_DB).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/discussions/attachments.h"
#include "core/buf.h"
#include "db/db.h"
#include "http/multipart.h"

#define CT "multipart/form-data; boundary=----b0undary"

static int parse(struct multipart *m, const char *type, const char *body, char *err, size_t len)
{
	return multipart_parse(m, type, body, strlen(body), err, len);
}

static void test_boundary(void **state)
{
	(void)state;
	char b[MULTIPART_MAX_BOUNDARY + 1];
	assert_int_equal(multipart_boundary(CT, b, sizeof b), 0);
	assert_string_equal(b, "----b0undary");
	assert_int_equal(multipart_boundary(
	                     "Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"", b, sizeof b),
	                 0);
	assert_string_equal(b, "a b:c");
	assert_int_equal(multipart_boundary("multipart/form-data", b, sizeof b), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=", b, sizeof b), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=\"abc", b, sizeof b),
	                 -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=a<b", b, sizeof b), -1);
	assert_int_equal(multipart_boundary("multipart/mixed; boundary=abc", b, sizeof b), -1);
	assert_int_equal(multipart_boundary("application/x-www-form-urlencoded", b, sizeof b), -1);
	assert_int_equal(multipart_boundary(NULL, b, sizeof b), -1);
	char long_type[200];
	snprintf(long_type, sizeof long_type, "multipart/form-data; boundary=%071d", 0);
	assert_int_equal(multipart_boundary(long_type, b, sizeof b), -1);
	snprintf(long_type, sizeof long_type, "multipart/form-data; boundary=%070d", 0);
	assert_int_equal(multipart_boundary(long_type, b, sizeof b), 0);
	assert_false(multipart_is_form_data("multipart/form-datax"));
	assert_true(multipart_is_form_data(" multipart/form-data;boundary=x"));
}

static void test_parse_fields_and_files(void **state)
{
	(void)state;
	struct multipart *m = malloc(sizeof *m);
	char err[160];
	const char *body = "------b0undary\r\n"
	                   "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	                   "tok\r\n"
	                   "------b0undary\r\n"
	                   "content-disposition: form-data; name=\"body\"\r\n\r\n"
	                   "line one\r\nline two --not-a-boundary\r\n\r\n"
	                   "------b0undary\r\n"
	                   "Content-Disposition: form-data; name=\"attachments\"; "
	                   "filename=\"C:\\\\dir\\\\a;b.pdf\"\r\n"
	                   "Content-Type: application/pdf\r\n\r\n"
	                   "%PDF-1.4 ------b0undary inside\r\n"
	                   "------b0undary\r\n"
	                   "Content-Disposition: form-data; name=\"attachments\"; filename=\"\"\r\n"
	                   "Content-Type: application/octet-stream\r\n\r\n"
	                   "\r\n"
	                   "------b0undary--\r\n";
	assert_int_equal(parse(m, CT, body, err, sizeof err), 0);
	assert_int_equal(m->n, 4);
	assert_string_equal(m->parts[0].name, "csrf");
	assert_false(m->parts[0].is_file);
	assert_int_equal(m->parts[0].len, 3);
	assert_memory_equal(m->parts[0].data, "tok", 3);
	assert_int_equal(m->parts[1].len, strlen("line one\r\nline two --not-a-boundary\r\n"));
	assert_true(m->parts[2].is_file);
	assert_string_equal(m->parts[2].filename, "C:\\\\dir\\\\a;b.pdf");
	assert_string_equal(m->parts[2].content_type, "application/pdf");
	assert_int_equal(m->parts[2].len, strlen("%PDF-1.4 ------b0undary inside"));
	/* Zero-copy: the data points into the body. */
	assert_true(m->parts[2].data > body && m->parts[2].data < body + strlen(body));
	assert_true(m->parts[3].is_file);
	assert_string_equal(m->parts[3].filename, "");
	assert_int_equal(m->parts[3].len, 0);

	struct form f = {0};
	assert_int_equal(multipart_form(m, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(form_get(&f, "csrf"), "tok");
	assert_string_equal(form_get(&f, "body"), "line one\r\nline two --not-a-boundary\r\n");
	assert_null(form_get(&f, "attachments"));
	form_free(&f);
	free(m);
}

static void test_parse_refuses(void **state)
{
	(void)state;
	struct multipart *m = malloc(sizeof *m);
	char err[160];
	static const struct {
		const char *body, *why;
	} bad[] = {
	    {"", "does not start"},
	    {"preamble\r\n------b0undary\r\nContent-Disposition: form-data; "
	     "name=\"a\"\r\n\r\nx\r\n------b0undary--",
	     "does not start"},
	    {"------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
	     "final boundary"},
	    {"------b0undary\r\nContent-Disposition: form-data; "
	     "name=\"a\"\r\n\r\nx\r\n------b0undary",
	     "not followed"},
	    {"------b0undary\nContent-Disposition: form-data; name=\"a\"\n\nx\n------b0undary--",
	     "not followed"},
	    {"------b0undary\r\nContent-Disposition: form-data; "
	     "name=\"a\"\n\nx\r\n------b0undary--",
	     "bare LF"},
	    {"------b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n------b0undary--",
	     "no name"},
	    {"------b0undary\r\nContent-Disposition: form-data; "
	     "name=\"\"\r\n\r\nx\r\n------b0undary--",
	     "no name"},
	    {"------b0undary\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n"
	     "------b0undary--",
	     "not form-data"},
	    {"------b0undary\r\nContent-Type: text/plain\r\n\r\nx\r\n------b0undary--",
	     "no Content-Disposition"},
	    {"------b0undary\r\nContent-Disposition: form-data; "
	     "name=\"a\r\n\r\nx\r\n------b0undary--",
	     "no name"},
	    {"------b0undary\r\nNoColonHere\r\n\r\nx\r\n------b0undary--", "no name"},
	    {"------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	     "Content-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n------b0undary--",
	     "two Content-Disposition"},
	    {"------b0undary\r\nContent-Disposition: form-data; name=\"a\"", "do not end"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(parse(m, CT, bad[i].body, err, sizeof err), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].why);
	}
	assert_int_equal(parse(m, "multipart/form-data", "--x--", err, sizeof err), -1);

	/* Huge headers. */
	size_t n = 4096;
	char *big = malloc(n + 200);
	int w = snprintf(big, n + 200,
	                 "------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\nX: ");
	memset(big + w, 'h', n - (size_t)w);
	strcpy(big + n, "\r\n\r\nx\r\n------b0undary--");
	assert_int_equal(parse(m, CT, big, err, sizeof err), -1);
	assert_non_null(strstr(err, "too long"));
	free(big);

	/* Too many parts. */
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
		buf_printf(
		    &b,
		    "------b0undary\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n",
		    i);
	buf_puts(&b, "------b0undary--");
	assert_int_equal(multipart_parse(m, CT, b.data, b.len, err, sizeof err), -1);
	assert_non_null(strstr(err, "too many parts"));
	buf_free(&b);

	/* A text field that is not UTF-8 is refused when it becomes a form field. */
	const char *latin1 = "------b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	                     "caf\xe9\r\n------b0undary--";
	assert_int_equal(parse(m, CT, latin1, err, sizeof err), 0);
	struct form f = {0};
	assert_int_equal(multipart_form(m, &f), -1);
	form_free(&f);
	free(m);
}

/* A stored zip whose central directory names these entries. */
static size_t make_zip(unsigned char *out, const char *const *names, int n)
{
	size_t p = 0, cd_start;
	size_t offsets[8];
	for (int i = 0; i < n; i++) {
		offsets[i] = p;
		memcpy(out + p, "PK\x03\x04", 4);
		memset(out + p + 4, 0, 26);
		out[p + 26] = (unsigned char)strlen(names[i]);
		p += 30;
		memcpy(out + p, names[i], strlen(names[i]));
		p += strlen(names[i]);
	}
	cd_start = p;
	for (int i = 0; i < n; i++) {
		memcpy(out + p, "PK\x01\x02", 4);
		memset(out + p + 4, 0, 42);
		out[p + 28] = (unsigned char)strlen(names[i]);
		out[p + 42] = (unsigned char)offsets[i];
		p += 46;
		memcpy(out + p, names[i], strlen(names[i]));
		p += strlen(names[i]);
	}
	size_t cd_size = p - cd_start;
	memcpy(out + p, "PK\x05\x06", 4);
	memset(out + p + 4, 0, 18);
	out[p + 8] = out[p + 10] = (unsigned char)n;
	out[p + 12] = (unsigned char)(cd_size & 0xff);
	out[p + 13] = (unsigned char)(cd_size >> 8);
	out[p + 16] = (unsigned char)(cd_start & 0xff);
	out[p + 17] = (unsigned char)(cd_start >> 8);
	return p + 22;
}

static enum attach_type sniff(const void *d, size_t n, const char *name, char *problem)
{
	problem[0] = '\0';
	return attach_sniff(d, n, name, problem, 300);
}

static void test_sniff(void **state)
{
	(void)state;
	char problem[300];
	assert_int_equal(sniff("%PDF-1.7 x", 10, "a.pdf", problem), ATTACH_PDF);
	assert_int_equal(sniff("%PDF-1.7 x", 10, "A.PDF", problem), ATTACH_PDF);
	assert_int_equal(sniff("\x89PNG\r\n\x1a\n....", 12, "a.png", problem), ATTACH_PNG);
	assert_int_equal(sniff("\xff\xd8\xff\xe0", 4, "a.jpg", problem), ATTACH_JPEG);
	assert_int_equal(sniff("\xff\xd8\xff\xe0", 4, "a.jpeg", problem), ATTACH_JPEG);
	const char ole[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
	assert_int_equal(sniff(ole, 8, "a.doc", problem), ATTACH_DOC);
	assert_int_equal(sniff(ole, 8, "a.xls", problem), ATTACH_XLS);
	assert_int_equal(sniff(ole, 8, "a.ppt", problem), ATTACH_PPT);
	assert_int_equal(sniff(ole, 8, "a.pdf", problem), ATTACH_NONE);

	unsigned char zip[1024];
	const char *word[] = {"[Content_Types].xml", "word/document.xml"};
	const char *xl[] = {"xl/workbook.xml"};
	const char *ppt[] = {"ppt/presentation.xml"};
	const char *other[] = {"lib/evil.js"};
	size_t n = make_zip(zip, word, 2);
	assert_int_equal(sniff(zip, n, "a.docx", problem), ATTACH_DOCX);
	assert_int_equal(sniff(zip, n, "a.xlsx", problem), ATTACH_NONE);
	assert_non_null(strstr(problem, "is a Word document, but its name does not end in .docx"));
	n = make_zip(zip, xl, 1);
	assert_int_equal(sniff(zip, n, "a.xlsx", problem), ATTACH_XLSX);
	n = make_zip(zip, ppt, 1);
	assert_int_equal(sniff(zip, n, "a.pptx", problem), ATTACH_PPTX);
	n = make_zip(zip, other, 1);
	assert_int_equal(sniff(zip, n, "a.docx", problem), ATTACH_NONE);
	assert_non_null(strstr(problem, "zip archive"));
	/* A zip signature with no central directory, or one pointing outside the file. */
	assert_int_equal(sniff("PK\x03\x04 truncated", 14, "a.docx", problem), ATTACH_NONE);
	n = make_zip(zip, word, 2);
	zip[n - 22 + 16] = 0xff; /* the directory's offset, past the end */
	assert_int_equal(sniff(zip, n, "a.docx", problem), ATTACH_NONE);

	assert_int_equal(sniff("MZ\x90\x00", 4, "report.pdf", problem), ATTACH_NONE);
	assert_non_null(strstr(problem, "The file report.pdf is a program or a script"));
	assert_int_equal(sniff("\x7f"
	                       "ELF\x02",
	                       5, "a.png", problem),
	                 ATTACH_NONE);
	assert_non_null(strstr(problem, "program"));
	assert_int_equal(sniff("#!/bin/sh\n", 10, "a.jpg", problem), ATTACH_NONE);
	assert_non_null(strstr(problem, "program"));
	assert_int_equal(sniff("\x89PNG\r\n\x1a\n", 8, "a.pdf", problem), ATTACH_NONE);
	assert_non_null(strstr(problem, "is a PNG image, but its name does not end in .png"));
	assert_int_equal(sniff("%PDF-", 5, "noextension", problem), ATTACH_NONE);
	assert_int_equal(sniff("<html>", 6, "a.html", problem), ATTACH_NONE);
	assert_non_null(strstr(problem, "is not a PDF, Word, Excel, PowerPoint, PNG or JPEG file"));
	assert_int_equal(sniff("", 0, "a.pdf", problem), ATTACH_NONE);
	assert_int_equal(sniff("%PD", 3, "a.pdf", problem), ATTACH_NONE);
}

static void test_names_and_sizes(void **state)
{
	(void)state;
	char out[ATTACH_NAME_BYTES + 1], problem[300];
	assert_int_equal(
	    attach_clean_name("C:\\Users\\gp\\plan.pdf", out, sizeof out, problem, 300), 0);
	assert_string_equal(out, "plan.pdf");
	assert_int_equal(attach_clean_name("../../etc/passwd.pdf", out, sizeof out, problem, 300),
	                 0);
	assert_string_equal(out, "passwd.pdf");
	assert_int_equal(attach_clean_name("  a\tb\x7f.pdf ", out, sizeof out, problem, 300), 0);
	assert_string_equal(out, "ab.pdf");
	assert_int_equal(attach_clean_name("x\xe2\x80\xae"
	                                   "fdp.exe",
	                                   out, sizeof out, problem, 300),
	                 0);
	assert_string_equal(out, "xfdp.exe");
	assert_int_equal(attach_clean_name("say %22hi%22%0D%0A.pdf", out, sizeof out, problem, 300),
	                 0);
	assert_string_equal(out, "say \"hi\".pdf");
	assert_int_equal(attach_clean_name("Caf\xc3\xa9.pdf", out, sizeof out, problem, 300), 0);
	assert_int_equal(attach_clean_name("dir/", out, sizeof out, problem, 300), -1);
	assert_int_equal(attach_clean_name("   ", out, sizeof out, problem, 300), -1);
	assert_int_equal(attach_clean_name("caf\xe9.pdf", out, sizeof out, problem, 300), -1);
	char long_name[300];
	memset(long_name, 'a', 151);
	strcpy(long_name + 151, ".pdf");
	assert_int_equal(attach_clean_name(long_name, out, sizeof out, problem, 300), -1);
	assert_non_null(strstr(problem, "150 characters or fewer"));

	char size[24];
	attach_format_size(512, size, sizeof size);
	assert_string_equal(size, "512 bytes");
	attach_format_size(12 * 1024, size, sizeof size);
	assert_string_equal(size, "12 KB");
	attach_format_size(1258291, size, sizeof size);
	assert_string_equal(size, "1.2 MB");
	attach_format_size(20 << 20, size, sizeof size);
	assert_string_equal(size, "20.0 MB");

	assert_string_equal(
	    attach_type_mime(ATTACH_DOCX),
	    "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
	assert_int_equal(attach_type_from_code("xlsx"), ATTACH_XLSX);
	assert_int_equal(attach_type_from_code("exe"), ATTACH_NONE);
	assert_string_equal(attach_type_word(ATTACH_PPT), "PowerPoint presentation");
}

/* db_bind_blob and db_col_blob on the backend under test: bytes with NULs and
 * every value, read back exactly; an empty blob is not NULL. */
static void test_blob_round_trip(void **state)
{
	(void)state;
	const char *url = getenv("SHOAL_TEST_DB");
	char path[] = "/tmp/shoal-attach-XXXXXX";
	char sqlite_url[64];
	if (!url) {
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		snprintf(sqlite_url, sizeof sqlite_url, "sqlite:%s", path);
		url = sqlite_url;
	}
	struct db *db;
	char err[256];
	assert_int_equal(db_open(url, 1, &db, err, sizeof err), 0);
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	int rc = db_exec(c, db_conn_kind(c) == DB_SQLITE
	                        ? "CREATE TABLE blob_test (id BIGINT, data BLOB)"
	                        : "CREATE TABLE blob_test (id BIGINT, data BYTEA)");
	assert_int_equal(rc, 0);
	unsigned char bytes[300];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)(i * 7);
	for (int64_t id = 1; id <= 2; id++) {
		struct db_stmt *st =
		    db_prepare(c, "INSERT INTO blob_test (id, data) VALUES ($1, $2)");
		assert_non_null(st);
		db_bind_int(st, 1, id);
		db_bind_blob(st, 2, id == 1 ? bytes : NULL, id == 1 ? sizeof bytes : 0);
		assert_int_equal(db_step(st), DB_DONE);
		db_reset(st);
	}
	struct db_stmt *st = db_prepare(c, "SELECT data, length(data) FROM blob_test ORDER BY id");
	assert_non_null(st);
	assert_int_equal(db_step(st), DB_ROW);
	size_t n;
	const void *p = db_col_blob(st, 0, &n);
	assert_non_null(p);
	assert_int_equal(n, sizeof bytes);
	assert_memory_equal(p, bytes, n);
	assert_int_equal(db_col_int(st, 1), sizeof bytes);
	assert_int_equal(db_step(st), DB_ROW);
	p = db_col_blob(st, 0, &n);
	assert_non_null(p);
	assert_int_equal(n, 0);
	db_reset(st);
	assert_int_equal(db_exec(c, "DROP TABLE blob_test"), 0);
	db_release(c);
	db_close(db);
	if (url == sqlite_url)
		unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_boundary),        cmocka_unit_test(test_parse_fields_and_files),
	    cmocka_unit_test(test_parse_refuses),   cmocka_unit_test(test_sniff),
	    cmocka_unit_test(test_names_and_sizes), cmocka_unit_test(test_blob_round_trip),
	};
	return cmocka_run_group_tests_name("attachments", tests, NULL, NULL);
}
