/*
 * test_mail.c — the outbox: how messages are built (headers, encodings, no
 * header injection, line lengths), what mail_queue refuses, delivery into .eml
 * files, retries with backoff against a mail server that is not there, two
 * deliverers racing for one outbox, and the jobs thread.
 *
 * Runs on whichever engine SHOAL_TEST_DB names (a fresh, empty database), or
 * on a temporary SQLite file without it.
 */
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "jobs/jobs.h"
#include "mail/mail.h"

static char url[1024];
static char tmpdir[256];
static struct db *db;

static int setup(void **state)
{
	(void)state;
	log_set_quiet(1); /* errors still show: each failed attempt is one line */
	snprintf(tmpdir, sizeof tmpdir, "/tmp/shoal-test-mail-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	const char *env = getenv("SHOAL_TEST_DB");
	if (env && *env)
		snprintf(url, sizeof url, "%s", env);
	else
		snprintf(url, sizeof url, "sqlite:%s/test.db", tmpdir);
	char err[512];
	if (db_open(url, 4, &db, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	int applied;
	if (migrate_apply(db, &applied, err, sizeof err)) {
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

/* ------------------------------------------------------------- helpers */

static int b64_value(char ch)
{
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(alphabet, ch);
	return ch && p ? (int)(p - alphabet) : -1;
}

/* Decodes n base64 characters, appending to out. */
static void b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int d = b64_value(s[i]);
		assert_true(d >= 0);
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((v >> bits) & 0xff));
		}
	}
}

/* Decodes a header value: unfolds it, and decodes =?UTF-8?B?…?= words (with
 * the whitespace between two adjacent words dropped, as RFC 2047 says). */
static char *header_decode(const char *value)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	const char *p = value;
	int after_word = 0;
	while (*p) {
		if (!strncmp(p, "\r\n", 2)) {
			p += 2; /* unfolding: CRLF before whitespace goes */
			continue;
		}
		if (!strncmp(p, "=?UTF-8?B?", 10)) {
			const char *end = strstr(p + 10, "?=");
			assert_non_null(end);
			assert_true(end + 2 - p <= 75);
			/* Each word alone must be whole UTF-8 characters. */
			struct buf word;
			buf_init(&word, 1024);
			b64_decode(p + 10, (size_t)(end - p - 10), &word);
			for (size_t i = 0; i < word.len;) {
				unsigned char b = (unsigned char)word.data[i];
				size_t k = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
				assert_true(i + k <= word.len);
				i += k;
			}
			buf_add(&out, word.data, word.len);
			buf_free(&word);
			p = end + 2;
			after_word = 1;
			continue;
		}
		if (after_word && (*p == ' ' || *p == '\t')) {
			const char *q = p;
			while (*q == ' ' || *q == '\t' || !strncmp(q, "\r\n", 2))
				q += *q == '\r' ? 2 : 1;
			if (!strncmp(q, "=?UTF-8?B?", 10)) {
				p = q;
				continue;
			}
		}
		after_word = 0;
		buf_putc(&out, *p++);
	}
	buf_putc(&out, '\0');
	return buf_take(&out);
}

/* Decodes quoted-printable with CRLF line ends into text with LF line ends. */
static char *qp_decode(const char *s, size_t n)
{
	struct buf out;
	buf_init(&out, 1 << 24);
	for (size_t i = 0; i < n;) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 3;
		} else if (s[i] == '=') {
			assert_true(i + 2 < n);
			char hex[3] = {s[i + 1], s[i + 2], 0};
			buf_putc(&out, (char)strtol(hex, NULL, 16));
			i += 3;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			buf_putc(&out, '\n');
			i += 2;
		} else {
			buf_putc(&out, s[i++]);
		}
	}
	buf_putc(&out, '\0');
	return buf_take(&out);
}

/* The value of header name in a built message (folded lines included). */
static char *header_value(const char *msg, const char *name)
{
	size_t n = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n");
	assert_non_null(end);
	for (const char *p = msg; p < end; p = strstr(p, "\r\n") + 2) {
		if (!strncmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			const char *e = v;
			while (strncmp(e, "\r\n", 2) || e[2] == ' ' || e[2] == '\t')
				e++;
			return strndup(v, (size_t)(e - v));
		}
	}
	return NULL;
}

/* Every line ends in CRLF, none is longer than max, and there is no bare CR or LF. */
static void assert_lines(const char *msg, size_t len, size_t max)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r') {
			assert_true(i + 1 < len && msg[i + 1] == '\n');
			i++;
			col = 0;
			continue;
		}
		assert_true(msg[i] != '\n');
		col++;
		assert_true(col <= max);
	}
	assert_int_equal(col, 0);
}

static struct mail_message sample(void)
{
	struct mail_message m = {
	    .from = "Shoal <shoal@localhost>",
	    .to = "gp.lead@example.nhs.uk",
	    .subject = "Your invitation to Shoal",
	    .text = "Hello,\n\nYou have been invited.\n",
	    .html = NULL,
	    .date = 1700000000,
	    .message_id = "shoal.1.1700000000",
	};
	return m;
}

/* ------------------------------------------------------------ building */

static void test_build_headers(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf out;
	assert_int_equal(mail_build(&m, &out), 0);
	const char *msg = out.data;
	assert_lines(msg, out.len, 998);
	assert_lines(msg, out.len, 78);
	assert_non_null(strstr(msg, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(msg, "From: Shoal <shoal@localhost>\r\n"));
	assert_non_null(strstr(msg, "To: gp.lead@example.nhs.uk\r\n"));
	assert_non_null(strstr(msg, "Subject: Your invitation to Shoal\r\n"));
	assert_non_null(strstr(msg, "Message-ID: <shoal.1.1700000000@localhost>\r\n"));
	assert_non_null(strstr(msg, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_null(strstr(msg, "multipart"));
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	assert_string_equal(body, "Hello,\r\n\r\nYou have been invited.\r\n");
	buf_free(&out);

	/* A display name with specials is quoted; a bare address stays bare. */
	m.from = "Wyvern Vale GP Collective (Shoal) <no-reply@shoal.example>";
	assert_int_equal(mail_build(&m, &out), 0);
	assert_non_null(strstr(
	    out.data, "From: \"Wyvern Vale GP Collective (Shoal)\" <no-reply@shoal.example>\r\n"));
	assert_non_null(strstr(out.data, "Message-ID: <shoal.1.1700000000@shoal.example>\r\n"));
	buf_free(&out);
	m.from = "no-reply@shoal.example";
	assert_int_equal(mail_build(&m, &out), 0);
	assert_non_null(strstr(out.data, "From: no-reply@shoal.example\r\n"));
	buf_free(&out);
	m.from = "Sîan's Surgery <s@x.example>";
	assert_int_equal(mail_build(&m, &out), 0);
	char *from = header_value(out.data, "From");
	char *decoded = header_decode(from);
	assert_string_equal(decoded, "Sîan's Surgery <s@x.example>");
	free(from);
	free(decoded);
	buf_free(&out);

	char addr[64];
	assert_int_equal(mail_from_address("Shoal <shoal@localhost>", addr, sizeof addr), 0);
	assert_string_equal(addr, "shoal@localhost");
	assert_true(mail_from_address("Shoal <not an address>", addr, sizeof addr) < 0);
}

static void test_build_encoded_subject(void **state)
{
	(void)state;
	struct mail_message m = sample();
	const char *subjects[] = {
	    "Café rota — règles d’été 🐟",
	    "Ünïcödé",
	    "plain text that mentions =?UTF-8?B?Zm9v?= literally",
	    "",
	};
	for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
		m.subject = subjects[i];
		struct buf out;
		assert_int_equal(mail_build(&m, &out), 0);
		assert_lines(out.data, out.len, 78);
		char *raw = header_value(out.data, "Subject");
		assert_non_null(raw);
		if (i < 3)
			assert_non_null(strstr(raw, "=?UTF-8?B?"));
		for (const char *p = raw; *p; p++)
			assert_true((unsigned char)*p < 0x80); /* headers are ASCII */
		char *decoded = header_decode(raw);
		assert_string_equal(decoded, subjects[i]);
		free(raw);
		free(decoded);
		buf_free(&out);
	}

	/* A long subject of two-byte characters becomes several words, each
	 * at most 75 bytes and whole characters (header_decode checks both). */
	char longer[MAIL_SUBJECT_MAX_BYTES + 1] = "";
	for (int i = 0; i < 240; i++)
		strcat(longer, i % 3 ? "é" : "e");
	m.subject = longer;
	struct buf out;
	assert_int_equal(mail_build(&m, &out), 0);
	assert_lines(out.data, out.len, 78);
	char *raw = header_value(out.data, "Subject");
	char *decoded = header_decode(raw);
	assert_string_equal(decoded, longer);
	free(raw);
	free(decoded);
	buf_free(&out);

	/* A long ASCII subject is folded at spaces, and unfolds to itself. */
	char words[MAIL_SUBJECT_MAX_BYTES + 1] = "";
	for (int i = 0; i < 40; i++)
		strcat(words, i ? " reminder" : "Reminder");
	m.subject = words;
	assert_int_equal(mail_build(&m, &out), 0);
	assert_lines(out.data, out.len, 78);
	raw = header_value(out.data, "Subject");
	assert_non_null(strstr(raw, "\r\n "));
	decoded = header_decode(raw);
	assert_string_equal(decoded, words);
	free(raw);
	free(decoded);
	buf_free(&out);
}

static void test_build_refuses_injection(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf out;
	const char *subjects[] = {"Hi\r\nBcc: victim@example.org",
	                          "Hi\nBcc: x@y",
	                          "Hi\rX",
	                          "tab\there",
	                          "bad utf-8 \xc3\x28",
	                          "overlong \xc0\xaf",
	                          "nul-like \x7f"};
	for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
		m.subject = subjects[i];
		assert_int_equal(mail_build(&m, &out), MAIL_ERR_SUBJECT);
	}
	m = sample();
	m.to = "a@example.org\r\nBcc: victim@example.org";
	assert_int_equal(mail_build(&m, &out), MAIL_ERR_ADDRESS);
	m.to = "a@example.org, b@example.org";
	assert_int_equal(mail_build(&m, &out), MAIL_ERR_ADDRESS);
	m = sample();
	m.from = "Shoal\r\nBcc: x@y <shoal@localhost>";
	assert_int_equal(mail_build(&m, &out), MAIL_ERR_FROM);
	m.from = "";
	assert_int_equal(mail_build(&m, &out), MAIL_ERR_FROM);
	m = sample();
	m.text = "bad \xff utf-8";
	assert_int_equal(mail_build(&m, &out), MAIL_ERR_BODY);

	/* A body that looks like headers, or holds SMTP's end of data, stays body. */
	m = sample();
	m.text = "\r\nBcc: victim@example.org\r\n.\r\nMAIL FROM:<x@y>\n.\n";
	assert_int_equal(mail_build(&m, &out), 0);
	const char *end = strstr(out.data, "\r\n\r\n");
	assert_true(strstr(out.data, "Bcc") > end);
	assert_null(strstr(out.data, "\r\n.\r\n"));
	assert_non_null(strstr(end, "\r\n=2E\r\n"));
	char *decoded = qp_decode(end + 4, strlen(end + 4));
	assert_string_equal(decoded, "\nBcc: victim@example.org\n.\nMAIL FROM:<x@y>\n.\n");
	free(decoded);
	buf_free(&out);
}

static void test_build_multipart(void **state)
{
	(void)state;
	struct mail_message m = sample();
	m.text = "Sign in at https://shoal.example/sign-in?a=1&b=2\n";
	m.html = "<p>Sign in at <a href=\"https://shoal.example/sign-in?a=1&amp;b=2\">Shoal</a></p>"
	         "<p>--=_shoal_alternative</p>\n";
	struct buf out;
	assert_int_equal(mail_build(&m, &out), 0);
	const char *msg = out.data;
	assert_lines(msg, out.len, 78);
	char *type = header_value(msg, "Content-Type");
	assert_string_equal(type, "multipart/alternative; boundary=\"=_shoal_alternative\"");
	free(type);
	const char *text_part = strstr(msg, "\r\n--=_shoal_alternative\r\n");
	assert_non_null(text_part);
	const char *html_part = strstr(text_part + 1, "\r\n--=_shoal_alternative\r\n");
	assert_non_null(html_part);
	const char *close = strstr(html_part + 1, "\r\n--=_shoal_alternative--\r\n");
	assert_non_null(close);
	assert_string_equal(close + strlen("\r\n--=_shoal_alternative--\r\n"), "");
	/* The boundary appears nowhere else: quoted-printable cannot write "=_". */
	int count = 0;
	for (const char *p = msg; (p = strstr(p, "=_shoal_alternative")); p++)
		count++;
	assert_int_equal(count, 4);
	assert_true(strstr(text_part, "Content-Type: text/plain; charset=UTF-8\r\n") < html_part);
	assert_non_null(strstr(html_part, "Content-Type: text/html; charset=UTF-8\r\n"));
	const char *text_body = strstr(text_part + 2, "\r\n\r\n") + 4;
	char *text = qp_decode(text_body, (size_t)(html_part + 2 - text_body));
	assert_string_equal(text, m.text);
	const char *html_body = strstr(html_part + 2, "\r\n\r\n") + 4;
	char *html = qp_decode(html_body, (size_t)(close + 2 - html_body));
	assert_string_equal(html, m.html);
	free(text);
	free(html);
	buf_free(&out);
}

/* A file attached: the body inside multipart/mixed, the file in base64 lines of
 * at most 76 characters, and names that could break the headers refused. */
static void test_build_attachment(void **state)
{
	(void)state;
	struct mail_message m = sample();
	char b64[401];
	memset(b64, 'A', 400);
	b64[400] = '\0';
	m.attachment_name = "briefing-12.pdf";
	m.attachment_type = "application/pdf";
	m.attachment_base64 = b64;
	struct buf out;
	assert_int_equal(mail_build(&m, &out), 0);
	assert_lines(out.data, out.len, 78);
	assert_non_null(strstr(out.data, "Content-Type: multipart/mixed; boundary="));
	assert_non_null(strstr(out.data, "Content-Type: text/plain; charset=UTF-8\r\n"));
	assert_non_null(strstr(out.data,
	                       "Content-Type: application/pdf; name=\"briefing-12.pdf\"\r\n"
	                       "Content-Disposition: attachment; filename=\"briefing-12.pdf\"\r\n"
	                       "Content-Transfer-Encoding: base64\r\n\r\n"));
	/* 400 characters: five lines of 76 and one of 20. */
	const char *file = strstr(out.data, "base64\r\n\r\n") + 10;
	for (int line = 0; line < 6; line++) {
		size_t n = strcspn(file, "\r");
		assert_int_equal(n, line < 5 ? 76 : 20);
		file += n + 2;
	}
	assert_true(!strncmp(file, "--=_shoal_mixed--\r\n", 19));
	buf_free(&out);

	const char *bad_names[] = {"a\"b.pdf", "a b.pdf", "a\r\nX: y", ""};
	for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
		m.attachment_name = bad_names[i];
		assert_true(mail_build(&m, &out) < 0);
	}
	m.attachment_name = "b.pdf";
	m.attachment_type = "application/pdf; x=\"y\"";
	assert_true(mail_build(&m, &out) < 0);
	m.attachment_type = "application/pdf";
	m.attachment_base64 = "not base64!";
	assert_true(mail_build(&m, &out) < 0);
}

static void test_build_long_lines(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct buf text;
	buf_init(&text, 1 << 20);
	for (int i = 0; i < 5000; i++)
		buf_putc(&text, (char)('a' + i % 26));
	buf_puts(&text, "\nline with trailing spaces   \n\ttabbed = equals\n");
	for (int i = 0; i < 300; i++)
		buf_puts(&text, "ü");
	buf_puts(&text, "\n.starts with a dot\nno newline at the end");
	m.text = text.data;
	m.html = text.data;
	struct buf out;
	assert_int_equal(mail_build(&m, &out), 0);
	assert_lines(out.data, out.len, 78);
	assert_null(strstr(out.data, " \r\n")); /* trailing white space is encoded */
	const char *body = strstr(out.data, "Content-Type: text/plain");
	body = strstr(body, "\r\n\r\n") + 4;
	const char *end = strstr(body, "\r\n--=_shoal_alternative");
	char *decoded = qp_decode(body, (size_t)(end + 2 - body));
	size_t n = strlen(decoded);
	assert_true(n > 0 && decoded[n - 1] == '\n');
	decoded[n - 1] = '\0'; /* the builder ends the last line */
	assert_string_equal(decoded, text.data);
	free(decoded);
	buf_free(&out);

	/* Past the cap: refused, not truncated. */
	buf_clear(&text);
	for (size_t i = 0; i <= MAIL_BODY_MAX_BYTES; i++)
		buf_putc(&text, 'x');
	m.text = text.data;
	m.html = NULL;
	assert_int_equal(mail_build(&m, &out), MAIL_ERR_BODY);
	buf_free(&text);
}

static void test_address_validation(void **state)
{
	(void)state;
	const char *good[] = {"a@b", "gp.lead@example.nhs.uk", "first.o'neil+tag@x-y.example",
	                      "root@localhost"};
	const char *bad[] = {"",
	                     "plain",
	                     "@example.org",
	                     "a@",
	                     "a@@b",
	                     "a@b@c",
	                     "a b@example.org",
	                     "a@exa mple.org",
	                     "<a@b.c>",
	                     "a@b.c\r\n",
	                     "a@b.c\nBcc: x@y",
	                     ".a@b.c",
	                     "a.@b.c",
	                     "a..b@c.d",
	                     "a@b..c",
	                     "a@.b",
	                     "a@b.",
	                     "a@-b",
	                     "\"quoted\"@b.c",
	                     "a,b@c.d",
	                     "jos\xc3\xa9@b.c",
	                     "a@[127.0.0.1]"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		assert_true(mail_address_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (mail_address_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	/* A 64-byte local part and a 189-byte domain: 254 bytes, the most allowed. */
	char longest[300];
	memset(longest, 'a', 64);
	longest[64] = '@';
	memset(longest + 65, 'b', 189);
	longest[100] = '.';
	longest[254] = '\0';
	assert_true(mail_address_valid(longest));
	strcpy(longest + 254, "b"); /* 255 */
	assert_false(mail_address_valid(longest));
	memset(longest, 'a', 65); /* a local part of 65 */
	strcpy(longest + 65, "@b.example");
	assert_false(mail_address_valid(longest));
}

/* ------------------------------------------------------------ database */

static int64_t outbox_count(const char *where)
{
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox%s%s", where ? " WHERE " : "",
	         where ? where : "");
	struct db_stmt *st = db_prepare(c, sql);
	assert_non_null(st);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_col_int(st, 0);
	db_reset(st);
	db_release(c);
	return n;
}

static void outbox_exec(const char *sql)
{
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	assert_int_equal(db_exec(c, sql), 0);
	db_release(c);
}

static int64_t queue(const char *to, const char *subject, const char *text, const char *html)
{
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	int64_t id = 0;
	assert_int_equal(mail_queue_get_id(c, to, subject, text, html, &id), 0);
	db_release(c);
	assert_true(id > 0);
	return id;
}

static void test_queue_refuses(void **state)
{
	(void)state;
	outbox_exec("DELETE FROM outbox");
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	assert_int_equal(mail_queue(c, "a@b.c\r\nBcc: x@y", "Hi", "text", NULL), MAIL_ERR_ADDRESS);
	assert_int_equal(mail_queue(c, "not an address", "Hi", "text", NULL), MAIL_ERR_ADDRESS);
	assert_int_equal(mail_queue(c, NULL, "Hi", "text", NULL), MAIL_ERR_ADDRESS);
	assert_int_equal(mail_queue(c, "a@b.c", "Hi\r\nBcc: x@y", "text", NULL), MAIL_ERR_SUBJECT);
	assert_int_equal(mail_queue(c, "a@b.c", "Hi\n", "text", NULL), MAIL_ERR_SUBJECT);
	assert_int_equal(mail_queue(c, "a@b.c", NULL, "text", NULL), MAIL_ERR_SUBJECT);
	assert_int_equal(mail_queue(c, "a@b.c", "Hi", NULL, NULL), MAIL_ERR_BODY);
	assert_int_equal(mail_queue(c, "a@b.c", "Hi", "text", "\xff"), MAIL_ERR_BODY);
	/* Queued inside a transaction, a message goes away with its rollback. */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(mail_queue(c, "a@b.c", "Hi", "text", NULL), 0);
	db_rollback(c);
	db_release(c);
	mail_wake(); /* harmless without a jobs thread */
	assert_int_equal(outbox_count(NULL), 0);
}

/* Settings for delivery into files under the test's own directory. */
static struct config file_config(const char *name)
{
	struct config cfg;
	config_defaults(&cfg);
	cfg.quiet = 1;
	snprintf(cfg.mail_dir, sizeof cfg.mail_dir, "%s/%s", tmpdir, name);
	return cfg;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	struct buf b;
	buf_init(&b, 1 << 24);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	buf_putc(&b, '\0');
	return buf_take(&b);
}

/* The .eml files in dir, their contents joined; *count gets how many. */
static char *read_mail_dir(const char *dir, int *count, int64_t first_id)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct buf all;
	buf_init(&all, 1 << 24);
	struct dirent *e;
	*count = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		long long id, at;
		char tail[8];
		assert_int_equal(sscanf(e->d_name, "%lld-%lld%7s", &id, &at, tail), 3);
		assert_string_equal(tail, ".eml");
		assert_true(id >= first_id);
		assert_true(at > 1700000000);
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char *content = read_file(path);
		buf_puts(&all, content);
		free(content);
		(*count)++;
	}
	closedir(d);
	buf_putc(&all, '\0');
	return buf_take(&all);
}

static void test_deliver_to_files(void **state)
{
	(void)state;
	outbox_exec("DELETE FROM outbox");
	struct config cfg = file_config("files");
	int64_t first = queue("one@example.org", "First message", "Body one\n", NULL);
	queue("two@example.org", "Zweite Nachricht für Sie", "Body two\n", "<p>Body two</p>\n");
	queue("three@example.org", "Third message", "Body three\n", NULL);
	int sent = -1, failed = -1;
	assert_int_equal(mail_deliver_due(db, &cfg, &sent, &failed), 0);
	assert_int_equal(sent, 3);
	assert_int_equal(failed, 0);
	int count;
	char *all = read_mail_dir(cfg.mail_dir, &count, first);
	assert_int_equal(count, 3);
	assert_non_null(strstr(all, "To: one@example.org\r\nSubject: First message\r\n"));
	assert_non_null(strstr(all, "To: two@example.org\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(all, "To: three@example.org\r\nSubject: Third message\r\n"));
	assert_non_null(strstr(all, "\r\n\r\nBody one\r\n"));
	assert_non_null(strstr(all, "Content-Type: multipart/alternative"));
	assert_non_null(strstr(all, "<p>Body two</p>"));
	assert_non_null(strstr(all, "Body three"));
	assert_non_null(strstr(all, "From: Shoal <shoal@localhost>\r\n"));
	free(all);
	assert_int_equal(outbox_count("sent_at IS NOT NULL AND attempts = 0"), 3);
	/* Sent mail is not sent again. */
	assert_int_equal(mail_deliver_due(db, &cfg, &sent, &failed), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 0);
	all = read_mail_dir(cfg.mail_dir, &count, first);
	assert_int_equal(count, 3);
	free(all);
}

static void test_deliver_unwritable_dir(void **state)
{
	(void)state;
	outbox_exec("DELETE FROM outbox");
	/* A directory inside a plain file cannot exist, even for root. */
	char file[512];
	snprintf(file, sizeof file, "%s/not-a-directory", tmpdir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	struct config cfg;
	config_defaults(&cfg);
	snprintf(cfg.mail_dir, sizeof cfg.mail_dir, "%s/mail", file);
	queue("one@example.org", "Hello", "Body\n", NULL);
	int sent, failed;
	assert_int_equal(mail_deliver_due(db, &cfg, &sent, &failed), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(
	    outbox_count("attempts = 1 AND last_error LIKE 'cannot create the mail directory %'"),
	    1);
}

/* A loopback port with nothing listening on it. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_retry_backoff(void **state)
{
	(void)state;
	outbox_exec("DELETE FROM outbox");
	struct config cfg = file_config("unused");
	snprintf(cfg.smtp_url, sizeof cfg.smtp_url, "smtp://127.0.0.1:%d", closed_port());
	int64_t id = queue("one@example.org", "Hello", "Body\n", NULL);
	int64_t expect_delay = MAIL_RETRY_FIRST_SECONDS;
	for (int attempt = 1; attempt <= MAIL_MAX_ATTEMPTS; attempt++) {
		int sent = -1, failed = -1;
		time_t before = time(NULL);
		assert_int_equal(mail_deliver_due(db, &cfg, &sent, &failed), 0);
		assert_int_equal(sent, 0);
		assert_int_equal(failed, 1);
		struct db_conn *c = db_acquire(db);
		struct db_stmt *st = db_prepare(c, "SELECT attempts, last_error, next_attempt_at, "
		                                   "sent_at, failed_at FROM outbox WHERE id = $1");
		db_bind_int(st, 1, id);
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_int(st, 0), attempt);
		const char *error = db_col_text(st, 1);
		assert_non_null(error);
		assert_non_null(strstr(error, "SMTP"));
		assert_null(strchr(error, '\n'));
		int64_t next = db_col_int(st, 2);
		assert_true(db_col_is_null(st, 3));
		if (attempt < MAIL_MAX_ATTEMPTS) {
			assert_true(db_col_is_null(st, 4));
			assert_true(next >= before + expect_delay);
			assert_true(next <= time(NULL) + expect_delay);
		} else {
			assert_false(db_col_is_null(st, 4)); /* given up */
		}
		db_reset(st);
		db_release(c);
		/* Not due again yet: nothing is tried. */
		assert_int_equal(mail_deliver_due(db, &cfg, &sent, &failed), 0);
		assert_int_equal(failed, 0);
		/* Pretend the wait is over. */
		outbox_exec("UPDATE outbox SET next_attempt_at = 0");
		expect_delay *= 2;
		if (expect_delay > MAIL_RETRY_MAX_SECONDS)
			expect_delay = MAIL_RETRY_MAX_SECONDS;
	}
	/* A message given up on stays given up. */
	int sent, failed;
	assert_int_equal(mail_deliver_due(db, &cfg, &sent, &failed), 0);
	assert_int_equal(failed, 0);
	assert_int_equal(outbox_count("failed_at IS NOT NULL AND attempts = 8"), 1);
}

struct racer {
	struct config *cfg;
	int sent, failed, rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	r->rc = mail_deliver_due(db, r->cfg, &r->sent, &r->failed);
	return NULL;
}

static void test_two_deliverers_send_once(void **state)
{
	(void)state;
	outbox_exec("DELETE FROM outbox");
	struct config cfg = file_config("race");
	int64_t first = 0;
	for (int i = 0; i < 30; i++) {
		char to[64];
		snprintf(to, sizeof to, "member%d@example.org", i);
		int64_t id = queue(to, "Digest", "Body\n", NULL);
		if (!first)
			first = id;
	}
	struct racer a = {&cfg, 0, 0, 0}, b = {&cfg, 0, 0, 0};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, race, &a);
	pthread_create(&tb, NULL, race, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_int_equal(a.sent + b.sent, 30);
	assert_int_equal(a.failed + b.failed, 0);
	int count;
	char *all = read_mail_dir(cfg.mail_dir, &count, first);
	assert_int_equal(count, 30);
	for (int i = 0; i < 30; i++) {
		char to[64];
		snprintf(to, sizeof to, "To: member%d@example.org\r\n", i);
		const char *at = strstr(all, to);
		assert_non_null(at);
		assert_null(strstr(at + 1, to));
	}
	free(all);
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void test_jobs_thread(void **state)
{
	(void)state;
	outbox_exec("DELETE FROM outbox");
	struct config cfg = file_config("jobs");
	jobs_stop(); /* harmless before a start */
	assert_int_equal(jobs_start(db, &cfg), 0);
	assert_int_equal(jobs_start(db, &cfg), -1); /* one thread only */
	sleep_ms(200);                              /* let the first run pass */
	queue("woken@example.org", "Woken", "Body\n", NULL);
	double t0 = seconds_now();
	mail_wake();
	while (outbox_count("sent_at IS NOT NULL") < 1 && seconds_now() - t0 < 3)
		sleep_ms(20);
	assert_int_equal(outbox_count("sent_at IS NOT NULL"), 1);
	assert_true(seconds_now() - t0 < 2); /* woken, not the 5 s tick */
	t0 = seconds_now();
	jobs_stop();
	assert_true(seconds_now() - t0 < 1);
	jobs_stop();
	/* And it starts again after a stop. */
	assert_int_equal(jobs_start(db, &cfg), 0);
	jobs_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_headers),
	    cmocka_unit_test(test_build_encoded_subject),
	    cmocka_unit_test(test_build_refuses_injection),
	    cmocka_unit_test(test_build_multipart),
	    cmocka_unit_test(test_build_attachment),
	    cmocka_unit_test(test_build_long_lines),
	    cmocka_unit_test(test_address_validation),
	    cmocka_unit_test(test_queue_refuses),
	    cmocka_unit_test(test_deliver_to_files),
	    cmocka_unit_test(test_deliver_unwritable_dir),
	    cmocka_unit_test(test_retry_backoff),
	    cmocka_unit_test(test_two_deliverers_send_once),
	    cmocka_unit_test(test_jobs_thread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
