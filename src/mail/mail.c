/*
 * mail.c — the outbox: queueing, building RFC 5322 messages, and delivering
 * them over SMTP (libcurl) or into .eml files, with retries.
 *
 * The message builder is written by hand: libcurl's MIME API can only render
 * a message inside a transfer, and file delivery needs the same bytes with no
 * transfer at all; the rest (RFC 2047 encoded-words, quoted-printable) is a few
 * dozen lines. Bodies are quoted-printable so that .eml files stay readable and
 * no line passes 76 characters, whatever the caller wrote. The multipart
 * boundary starts with "=_", which quoted-printable output can never contain,
 * so it needs no search through the bodies.
 *
 * Delivery takes one row at a time, holding a database connection only to
 * claim and to record the outcome, never while talking to a mail server.
 */
#include "mail/mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "jobs/jobs.h"

#define MAIL_ERROR_BYTES   512 /* last_error is one line of at most this */
#define MAIL_LINE_MAX      76  /* quoted-printable lines, RFC 2045 */
#define MAIL_HEADER_FOLD   78  /* header lines we fold before, RFC 5322 "SHOULD" */
#define MAIL_WORD_BYTES    39  /* UTF-8 bytes per encoded-word: 52 base64 chars, 64 in all */
#define MAIL_BOUNDARY      "=_shoal_alternative"
#define MAIL_MIXED         "=_shoal_mixed" /* neither base64 nor quoted-printable holds "=_" */
#define MAIL_NAME_MAX      100             /* an attachment's file name */
#define MAIL_PATH_BYTES    (LIMIT_CONFIG_VALUE_BYTES + 64)
#define MAIL_CLAIM_COLUMNS "id, to_address, subject, body_text, body_html, created_at, attempts"

/* ---------------------------------------------------------------- checks */

/* Length of the UTF-8 sequence at s (1 to 4), or 0 when it is not well formed
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned char b = s[0];
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (b >= 0xe0 && b <= 0xef) {
		unsigned char lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (b >= 0xf0 && b <= 0xf4) {
		unsigned char lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
		           ? 4
		           : 0;
	}
	return 0;
}

static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = utf8_sequence(p);
		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

/* Header text (a subject, a display name): UTF-8 with no control characters,
 * so nothing a member types can end a header line and start another. */
static int header_text_valid(const char *s, size_t max)
{
	if (strlen(s) > max || !utf8_valid(s))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int body_valid(const char *s)
{
	return s && strlen(s) <= MAIL_BODY_MAX_BYTES && utf8_valid(s);
}

static int local_char(unsigned char ch)
{
	/* RFC 5322 atext, plus the dot (checked separately for position). */
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-/=?^_`{|}~.", ch));
}

int mail_address_valid(const char *address)
{
	if (!address)
		return 0;
	size_t len = strlen(address);
	const char *at = strchr(address, '@');
	if (!len || len > MAIL_ADDRESS_MAX_BYTES || !at || strchr(at + 1, '@'))
		return 0;
	size_t local = (size_t)(at - address);
	const char *domain = at + 1;
	if (!local || local > 64 || address[0] == '.' || at[-1] == '.')
		return 0;
	for (size_t i = 0; i < local; i++)
		if (!local_char((unsigned char)address[i]) ||
		    (address[i] == '.' && address[i + 1] == '.'))
			return 0;
	if (!*domain || *domain == '.' || *domain == '-' || address[len - 1] == '.' ||
	    address[len - 1] == '-')
		return 0;
	for (const char *p = domain; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		         (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
		if (!ok || (ch == '.' && p[1] == '.'))
			return 0;
	}
	return 1;
}

/* Splits a From value into its display name (may be empty) and address. */
static int from_parts(const char *from, char *name, size_t namelen, char *addr, size_t addrlen)
{
	const char *lt = strchr(from, '<');
	const char *a = from, *a_end = from + strlen(from);
	const char *n = from, *n_end = from;
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1] != '\0')
			return MAIL_ERR_FROM;
		a = lt + 1;
		a_end = gt;
		n_end = lt;
	}
	while (n < n_end && *n == ' ')
		n++;
	while (n_end > n && n_end[-1] == ' ')
		n_end--;
	if (n_end - n >= 2 && *n == '"' && n_end[-1] == '"') {
		n++;
		n_end--;
	}
	size_t alen = (size_t)(a_end - a), nlen = (size_t)(n_end - n);
	if (alen >= addrlen || nlen >= namelen)
		return MAIL_ERR_FROM;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	memcpy(name, n, nlen);
	name[nlen] = '\0';
	if (!mail_address_valid(addr) || !header_text_valid(name, LIMIT_CONFIG_VALUE_BYTES))
		return MAIL_ERR_FROM;
	return MAIL_OK;
}

int mail_from_address(const char *from, char *out, size_t outlen)
{
	char name[LIMIT_CONFIG_VALUE_BYTES];
	return from_parts(from, name, sizeof name, out, outlen);
}

/* -------------------------------------------------------------- encoders */

static void base64_add(struct buf *out, const unsigned char *p, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char four[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
		                i + 1 < n ? alphabet[(v >> 6) & 63] : '=',
		                i + 2 < n ? alphabet[v & 63] : '='};
		buf_add(out, four, 4);
	}
}

/* Writes s as RFC 2047 encoded-words, each whole characters and at most 75
 * bytes, separated by folding whitespace (which decoders drop). */
static void encoded_words_add(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int first = 1;
	while (*p || first) {
		size_t n = 0;
		while (p[n]) {
			size_t k = utf8_sequence(p + n);
			if (!k || n + k > MAIL_WORD_BYTES)
				break;
			n += k;
		}
		if (!first)
			buf_puts(out, "\r\n ");
		buf_puts(out, "=?UTF-8?B?");
		base64_add(out, p, n);
		buf_puts(out, "?=");
		p += n;
		first = 0;
		if (!n)
			break;
	}
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Writes the subject: plain ASCII folded at spaces to stay near 78 columns,
 * anything else (or text that looks like an encoded-word) as encoded-words. */
static void subject_add(struct buf *out, const char *subject)
{
	buf_puts(out, "Subject: ");
	if (!is_ascii(subject) || strstr(subject, "=?")) {
		encoded_words_add(out, subject);
		buf_puts(out, "\r\n");
		return;
	}
	size_t col = strlen("Subject: ");
	const char *p = subject;
	while (*p) {
		/* A segment is one optional space and the non-space run after it. */
		const char *end = p + 1;
		while (*end && *end != ' ')
			end++;
		size_t len = (size_t)(end - p);
		if (*p == ' ' && len > 1 && col + len > MAIL_HEADER_FOLD && col > 9) {
			buf_puts(out, "\r\n");
			col = 0;
		}
		buf_add(out, p, len);
		col += len;
		p = end;
	}
	buf_puts(out, "\r\n");
}

/* A display name for From: as it is when it is plain words, as a quoted
 * string when it holds specials, encoded-words when it is not ASCII. */
static void display_name_add(struct buf *out, const char *name)
{
	if (!is_ascii(name) || strstr(name, "=?")) {
		encoded_words_add(out, name);
		return;
	}
	int plain = 1;
	for (const char *p = name; *p; p++)
		if (!local_char((unsigned char)*p) && *p != ' ')
			plain = 0;
	if (strchr(name, '.'))
		plain = 0; /* a dot is atext in addresses but not in a phrase */
	if (plain) {
		buf_puts(out, name);
		return;
	}
	buf_putc(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

/* Quoted-printable (RFC 2045 6.7) with CRLF line ends. A line-initial dot is
 * encoded too, so no SMTP server or mbox tool ever sees a bare "." line. */
static void quoted_printable_add(struct buf *out, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)text;
	while (*p) {
		const unsigned char *eol = p;
		while (*eol && *eol != '\n')
			eol++;
		const unsigned char *end = eol;
		if (end > p && end[-1] == '\r')
			end--; /* CRLF and LF both end a line */
		size_t col = 0;
		for (const unsigned char *q = p; q < end; q++) {
			int last = q + 1 == end;
			int literal = (*q >= 33 && *q <= 126 && *q != '=') ||
			              ((*q == ' ' || *q == '\t') && !last);
			if (*q == '.' && col == 0)
				literal = 0;
			size_t width = literal ? 1 : 3;
			/* Leave room for the "=" of a soft line break. */
			if (col + width > MAIL_LINE_MAX - 1) {
				buf_puts(out, "=\r\n");
				col = 0;
				if (*q == '.') {
					literal = 0;
					width = 3;
				}
			}
			if (literal) {
				buf_putc(out, (char)*q);
			} else {
				char enc[3] = {'=', hex[*q >> 4], hex[*q & 15]};
				buf_add(out, enc, 3);
			}
			col += width;
		}
		buf_puts(out, "\r\n");
		p = *eol ? eol + 1 : eol;
	}
}

static void date_add(struct buf *out, time_t t)
{
	/* Day and month names by hand: strftime's depend on the locale. */
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	gmtime_r(&t, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	           tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	           tm.tm_sec);
}

static void text_part_headers_add(struct buf *out, const char *type)
{
	buf_printf(out,
	           "Content-Type: text/%s; charset=UTF-8\r\n"
	           "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	           type);
}

/* Whether s is 1 to max characters, each in allowed (an attachment's name or type,
 * written into headers as it is). */
static int token_valid(const char *s, size_t max, const char *allowed)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= max && strspn(s, allowed) == n;
}

static const char name_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
static const char type_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+/";

static int attachment_valid(const struct mail_message *m)
{
	if (!m->attachment_base64)
		return 1;
	size_t n = strlen(m->attachment_base64);
	return token_valid(m->attachment_name, MAIL_NAME_MAX, name_chars) &&
	       token_valid(m->attachment_type, MAIL_NAME_MAX, type_chars) &&
	       n <= (MAIL_ATTACHMENT_MAX_BYTES + 2) / 3 * 4 &&
	       strspn(m->attachment_base64,
	              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == n;
}

int mail_build(const struct mail_message *m, struct buf *out)
{
	char name[LIMIT_CONFIG_VALUE_BYTES], addr[MAIL_ADDRESS_MAX_BYTES + 1];
	int rc;
	buf_init(out, MAIL_MESSAGE_MAX_BYTES);
	if ((rc = from_parts(m->from ? m->from : "", name, sizeof name, addr, sizeof addr)))
		goto fail;
	rc = MAIL_ERR_ADDRESS;
	if (!mail_address_valid(m->to))
		goto fail;
	rc = MAIL_ERR_SUBJECT;
	if (!m->subject || !header_text_valid(m->subject, MAIL_SUBJECT_MAX_BYTES))
		goto fail;
	rc = MAIL_ERR_BODY;
	if (!body_valid(m->text) || (m->html && !body_valid(m->html)) || !attachment_valid(m))
		goto fail;
	/* The id is Shoal's own, but it lands in a header: keep it to safe characters. */
	const char *id = m->message_id && *m->message_id ? m->message_id : "shoal";
	for (const char *p = id; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_",
		            *p))
			goto fail;

	date_add(out, m->date);
	buf_puts(out, "From: ");
	if (*name) {
		display_name_add(out, name);
		buf_printf(out, " <%s>\r\n", addr);
	} else {
		buf_printf(out, "%s\r\n", addr);
	}
	buf_printf(out, "To: %s\r\n", m->to);
	subject_add(out, m->subject);
	buf_printf(out, "Message-ID: <%s@%s>\r\n", id, strchr(addr, '@') + 1);
	/* Asks vacation responders and the like not to answer (RFC 3834). */
	buf_puts(out, "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
	if (m->attachment_base64)
		buf_puts(out, "Content-Type: multipart/mixed; boundary=\"" MAIL_MIXED
		              "\"\r\n\r\n--" MAIL_MIXED "\r\n");
	if (m->html) {
		buf_puts(out, "Content-Type: multipart/alternative; boundary=\"" MAIL_BOUNDARY
		              "\"\r\n\r\n--" MAIL_BOUNDARY "\r\n");
		text_part_headers_add(out, "plain");
		quoted_printable_add(out, m->text);
		buf_puts(out, "--" MAIL_BOUNDARY "\r\n");
		text_part_headers_add(out, "html");
		quoted_printable_add(out, m->html);
		buf_puts(out, "--" MAIL_BOUNDARY "--\r\n");
	} else {
		text_part_headers_add(out, "plain");
		quoted_printable_add(out, m->text);
	}
	if (m->attachment_base64) {
		buf_printf(out,
		           "--" MAIL_MIXED "\r\nContent-Type: %s; name=\"%s\"\r\n"
		           "Content-Disposition: attachment; filename=\"%s\"\r\n"
		           "Content-Transfer-Encoding: base64\r\n\r\n",
		           m->attachment_type, m->attachment_name, m->attachment_name);
		for (const char *p = m->attachment_base64; *p;) {
			size_t n = strnlen(p, MAIL_LINE_MAX);
			buf_add(out, p, n);
			buf_puts(out, "\r\n");
			p += n;
		}
		buf_puts(out, "--" MAIL_MIXED "--\r\n");
	}
	if (out->overflow)
		goto fail;
	return MAIL_OK;
fail:
	buf_free(out);
	return rc;
}

/* ---------------------------------------------------------------- queue */

int mail_queue_get_id(struct db_conn *c, const char *to, const char *subject, const char *text,
                      const char *html, int64_t *id)
{
	if (!mail_address_valid(to))
		return MAIL_ERR_ADDRESS;
	if (!subject || !header_text_valid(subject, MAIL_SUBJECT_MAX_BYTES))
		return MAIL_ERR_SUBJECT;
	if (!body_valid(text) || (html && !body_valid(html)))
		return MAIL_ERR_BODY;
	struct db_stmt *st = db_prepare(
	    c,
	    "INSERT INTO outbox (to_address, subject, body_text, body_html, created_at, attempts, "
	    "next_attempt_at) VALUES ($1, $2, $3, $4, $5, 0, $5) RETURNING id");
	if (!st)
		return MAIL_ERR_DB;
	db_bind_text(st, 1, to);
	db_bind_text(st, 2, subject);
	db_bind_text(st, 3, text);
	db_bind_text(st, 4, html);
	db_bind_int(st, 5, (int64_t)time(NULL));
	int rc = db_step(st);
	if (rc == DB_ROW && id)
		*id = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? MAIL_OK : MAIL_ERR_DB;
}

int mail_queue(struct db_conn *c, const char *to, const char *subject, const char *text,
               const char *html)
{
	return mail_queue_get_id(c, to, subject, text, html, NULL);
}

int mail_attach(struct db_conn *c, int64_t outbox_id, const char *name, const char *type,
                const unsigned char *data, size_t size)
{
	if (!token_valid(name, MAIL_NAME_MAX, name_chars) ||
	    !token_valid(type, MAIL_NAME_MAX, type_chars) || size > MAIL_ATTACHMENT_MAX_BYTES)
		return MAIL_ERR_BODY;
	struct buf encoded;
	buf_init(&encoded, (MAIL_ATTACHMENT_MAX_BYTES + 2) / 3 * 4 + 1);
	base64_add(&encoded, data, size);
	buf_putc(&encoded, '\0');
	int rc = MAIL_ERR_DB;
	struct db_stmt *st = db_prepare(c, "INSERT INTO outbox_attachments (outbox_id, filename, "
	                                   "content_type, content_base64) VALUES ($1, $2, $3, $4)");
	if (st && !encoded.overflow) {
		db_bind_int(st, 1, outbox_id);
		db_bind_text(st, 2, name);
		db_bind_text(st, 3, type);
		db_bind_text(st, 4, encoded.data);
		rc = db_step(st) == DB_DONE ? MAIL_OK : MAIL_ERR_DB;
		db_reset(st);
	}
	buf_free(&encoded);
	return rc;
}

void mail_wake(void)
{
	jobs_wake();
}

/* -------------------------------------------------------------- delivery */

/* A claimed outbox row, copied out of the statement. */
struct outbox_row {
	int64_t id, created_at, attempts;
	char *to, *subject, *text, *html;
	char *attachment_name, *attachment_type, *attachment_base64; /* NULL when none */
};

static void outbox_row_free(struct outbox_row *r)
{
	free(r->to);
	free(r->subject);
	free(r->text);
	free(r->html);
	free(r->attachment_name);
	free(r->attachment_type);
	free(r->attachment_base64);
	memset(r, 0, sizeof *r);
}

/* Claims the next due row by moving its next_attempt_at to the end of a lease,
 * in the statement that finds it. Returns 1 (claimed), 0 (nothing due) or < 0. */
static int claim(struct db_conn *c, struct outbox_row *r, char *err, size_t errlen)
{
	static const char sqlite_sql[] =
	    "UPDATE outbox SET next_attempt_at = $1 WHERE id = (SELECT id FROM outbox "
	    "WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 "
	    "ORDER BY next_attempt_at, id LIMIT 1) RETURNING " MAIL_CLAIM_COLUMNS;
	/* SKIP LOCKED: another node's claim in flight is passed over, not waited for. */
	static const char postgres_sql[] =
	    "UPDATE outbox SET next_attempt_at = $1 WHERE id = (SELECT id FROM outbox "
	    "WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 "
	    "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    "RETURNING " MAIL_CLAIM_COLUMNS;
	int sqlite = db_conn_kind(c) == DB_SQLITE;
	int64_t now = (int64_t)time(NULL);
	/* On SQLite the write lock is taken before the read, so two processes on
	 * one file cannot both pick the row. */
	if (sqlite && db_begin(c))
		goto fail;
	struct db_stmt *st = db_prepare(c, sqlite ? sqlite_sql : postgres_sql);
	if (!st)
		goto fail;
	db_bind_int(st, 1, now + MAIL_LEASE_SECONDS);
	db_bind_int(st, 2, now);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		r->id = db_col_int(st, 0);
		r->to = xstrdup(db_col_text(st, 1) ? db_col_text(st, 1) : "");
		r->subject = xstrdup(db_col_text(st, 2) ? db_col_text(st, 2) : "");
		r->text = xstrdup(db_col_text(st, 3) ? db_col_text(st, 3) : "");
		r->html = db_col_is_null(st, 4) ? NULL : xstrdup(db_col_text(st, 4));
		r->created_at = db_col_int(st, 5);
		r->attempts = db_col_int(st, 6);
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	if (sqlite && db_commit(c))
		goto fail;
	if (r->id) {
		st = db_prepare(c, "SELECT filename, content_type, content_base64 FROM "
		                   "outbox_attachments WHERE outbox_id = $1");
		if (!st)
			goto fail;
		db_bind_int(st, 1, r->id);
		rc = db_step(st);
		if (rc == DB_ROW) {
			r->attachment_name = xstrdup(db_col_text(st, 0));
			r->attachment_type = xstrdup(db_col_text(st, 1));
			r->attachment_base64 = xstrdup(db_col_text(st, 2));
		}
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			goto fail;
	}
	return r->id ? 1 : 0;
fail:
	snprintf(err, errlen, "cannot claim mail from the outbox: %s", db_errmsg(c));
	if (sqlite)
		db_rollback(c);
	outbox_row_free(r);
	return MAIL_ERR_DB;
}

/* Makes err one line: a server's multi-line reply must not split last_error. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes <mail_dir>/<id>-<time>.eml so that a reader sees the whole file or
 * none: a hidden temporary file, flushed to disk, then renamed into place. */
static int deliver_file(const struct config *cfg, const struct outbox_row *r, const struct buf *msg,
                        char *err, size_t errlen)
{
	const char *dir = cfg->mail_dir[0] ? cfg->mail_dir : ".";
	char path[MAIL_PATH_BYTES], tmp[MAIL_PATH_BYTES];
	long long now = (long long)time(NULL);
	int fd = -1;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the mail directory %.300s: %s", dir,
		         strerror(errno));
		return MAIL_ERR_SEND;
	}
	snprintf(path, sizeof path, "%s/%lld-%lld.eml", dir, (long long)r->id, now);
	snprintf(tmp, sizeof tmp, "%s/.%lld-%lld.eml.tmp", dir, (long long)r->id, now);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (write_all(fd, msg->data, msg->len) || fsync(fd))
		goto fail;
	int closed = close(fd);
	fd = -1;
	if (closed || rename(tmp, path))
		goto fail;
	/* The rename itself survives a power cut only once the directory is synced. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		int ignored = fsync(dfd);
		(void)ignored;
		close(dfd);
	}
	return MAIL_OK;
fail:
	snprintf(err, errlen, "cannot write to the mail directory %.300s: %s", dir,
	         strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return MAIL_ERR_SEND;
}

struct upload {
	const struct buf *msg;
	size_t off;
};

static size_t upload_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct upload *u = userdata;
	size_t n = size * nmemb, left = u->msg->len - u->off;
	if (n > left)
		n = left;
	memcpy(ptr, u->msg->data + u->off, n);
	u->off += n;
	return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Sends over SMTP on *curl, created on first use and kept for the rest of the
 * run so that a batch of messages shares one connection to the server. */
static int deliver_smtp(CURL **curl, const struct config *cfg, const struct outbox_row *r,
                        const struct buf *msg, char *err, size_t errlen)
{
	char from[MAIL_ADDRESS_MAX_BYTES + 1], sender[MAIL_ADDRESS_MAX_BYTES + 3];
	char rcpt[MAIL_ADDRESS_MAX_BYTES + 3], curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpts = NULL;
	struct upload u = {msg, 0};
	int rc = MAIL_ERR_SEND;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "SMTP: libcurl did not initialise: %s",
		         curl_easy_strerror(curl_init_rc));
		return MAIL_ERR_SEND;
	}
	if (mail_from_address(cfg->mail_from, from, sizeof from)) {
		snprintf(err, errlen, "the mail_from setting holds no usable address");
		return MAIL_ERR_FROM;
	}
	if (!*curl && !(*curl = curl_easy_init())) {
		snprintf(err, errlen, "SMTP: libcurl could not start a transfer");
		return MAIL_ERR_SEND;
	}
	CURL *h = *curl;
	curl_easy_reset(h); /* keeps the open connection, drops the last message's options */
	snprintf(sender, sizeof sender, "<%s>", from);
	snprintf(rcpt, sizeof rcpt, "<%s>", r->to);
	rcpts = curl_slist_append(NULL, rcpt);
	if (!rcpts)
		abort(); /* out of memory, as xmalloc would */
	int smtps = !strncmp(cfg->smtp_url, "smtps://", 8);
	curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* smtps:// is TLS from the start; smtp:// upgrades with STARTTLS when offered. */
	curl_easy_setopt(h, CURLOPT_USE_SSL, (long)(smtps ? CURLUSESSL_ALL : CURLUSESSL_TRY));
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, sender);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)MAIL_SMTP_TIMEOUT_SECONDS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)MAIL_SMTP_TIMEOUT_SECONDS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded server */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	CURLcode cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		rc = MAIL_OK;
	} else {
		long code = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		int n = snprintf(err, errlen, "SMTP: %s",
		                 curl_err[0] ? curl_err : curl_easy_strerror(cc));
		if (code && n > 0 && (size_t)n < errlen)
			snprintf(err + n, errlen - (size_t)n, " (last reply %ld)", code);
	}
	/* The error buffer and the recipient list die with this call. */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	return rc;
}

/* Records the outcome of one attempt. */
static int record(struct db_conn *c, const struct outbox_row *r, const char *error, char *err,
                  size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	struct db_stmt *st;
	if (!error) {
		st = db_prepare(c, "UPDATE outbox SET sent_at = $1 WHERE id = $2");
		if (!st)
			goto fail;
		db_bind_int(st, 1, now);
		db_bind_int(st, 2, r->id);
	} else {
		int64_t attempts = r->attempts + 1;
		int64_t delay = MAIL_RETRY_FIRST_SECONDS;
		for (int64_t i = 1; i < attempts && delay < MAIL_RETRY_MAX_SECONDS; i++)
			delay *= 2;
		if (delay > MAIL_RETRY_MAX_SECONDS)
			delay = MAIL_RETRY_MAX_SECONDS;
		int give_up = attempts >= MAIL_MAX_ATTEMPTS;
		st = db_prepare(c, "UPDATE outbox SET attempts = $1, last_error = $2, "
		                   "next_attempt_at = $3, failed_at = $4 WHERE id = $5");
		if (!st)
			goto fail;
		db_bind_int(st, 1, attempts);
		db_bind_text(st, 2, error);
		db_bind_int(st, 3, give_up ? now : now + delay);
		if (give_up)
			db_bind_int(st, 4, now);
		else
			db_bind_null(st, 4);
		db_bind_int(st, 5, r->id);
		/* No address in the log: the row has it, the journal need not. */
		if (give_up)
			log_error("mail %lld: attempt %lld failed, giving up: %s", (long long)r->id,
			          (long long)attempts, error);
		else
			log_error("mail %lld: attempt %lld failed, retrying in %lld s: %s",
			          (long long)r->id, (long long)attempts, (long long)delay, error);
	}
	int rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	return MAIL_OK;
fail:
	snprintf(err, errlen, "cannot record the outcome of mail %lld: %s", (long long)r->id,
	         db_errmsg(c));
	return MAIL_ERR_DB;
}

/* Builds and sends one claimed row; on failure writes the reason to error. */
static int send_one(CURL **curl, const struct config *cfg, const struct outbox_row *r, char *error,
                    size_t errlen)
{
	char id[64];
	struct buf msg;
	/* The same Message-ID on every attempt lets a recipient's client drop a
	 * duplicate if a send was recorded as failed after it had in fact arrived. */
	snprintf(id, sizeof id, "shoal.%lld.%lld", (long long)r->id, (long long)r->created_at);
	struct mail_message m = {.from = cfg->mail_from,
	                         .to = r->to,
	                         .subject = r->subject,
	                         .text = r->text,
	                         .html = r->html,
	                         .date = (time_t)r->created_at,
	                         .message_id = id,
	                         .attachment_name = r->attachment_name,
	                         .attachment_type = r->attachment_type,
	                         .attachment_base64 = r->attachment_base64};
	int rc = mail_build(&m, &msg);
	if (rc) {
		snprintf(error, errlen, "cannot build the message: %s",
		         rc == MAIL_ERR_FROM ? "the mail_from setting holds no usable address"
		                             : "a field is not valid");
		return rc;
	}
	if (cfg->smtp_url[0])
		rc = deliver_smtp(curl, cfg, r, &msg, error, errlen);
	else
		rc = deliver_file(cfg, r, &msg, error, errlen);
	buf_free(&msg);
	return rc;
}

int mail_deliver(struct db *db, const struct config *cfg, const atomic_bool *stop, int *sent,
                 int *failed, char *err, size_t errlen)
{
	CURL *curl = NULL;
	int rc = MAIL_OK, n_sent = 0, n_failed = 0;
	while (!(stop && atomic_load(stop))) {
		struct outbox_row r = {0};
		struct db_conn *c = db_acquire(db);
		if (!c) {
			snprintf(err, errlen,
			         "cannot deliver mail: the database cannot be reached");
			rc = MAIL_ERR_DB;
			break;
		}
		int claimed = claim(c, &r, err, errlen);
		db_release(c);
		if (claimed <= 0) {
			rc = claimed;
			break;
		}
		char error[MAIL_ERROR_BYTES] = "";
		int sent_ok = send_one(&curl, cfg, &r, error, sizeof error) == MAIL_OK;
		one_line(error);
		c = db_acquire(db);
		/* Unrecorded, the row stays leased and is tried again when the lease ends. */
		rc = c ? record(c, &r, sent_ok ? NULL : error, err, errlen) : MAIL_ERR_DB;
		if (!c)
			snprintf(err, errlen,
			         "cannot record mail %lld: the database cannot be reached",
			         (long long)r.id);
		db_release(c);
		if (sent_ok)
			log_info("mail %lld sent%s", (long long)r.id,
			         cfg->smtp_url[0] ? " over SMTP" : " to the mail directory");
		n_sent += sent_ok;
		n_failed += !sent_ok;
		outbox_row_free(&r);
		if (rc)
			break;
	}
	if (curl)
		curl_easy_cleanup(curl);
	if (sent)
		*sent = n_sent;
	if (failed)
		*failed = n_failed;
	return rc;
}

int mail_deliver_due(struct db *db, const struct config *cfg, int *sent, int *failed)
{
	char err[512];
	int rc = mail_deliver(db, cfg, NULL, sent, failed, err, sizeof err);
	if (rc)
		log_error("%s", err);
	return rc;
}
