/*
 * csv.c — the CSV reader and writer, and the import problem list (see csv.h).
 *
 * A line break is LF, CRLF or a lone CR, wherever it appears (inside quotes
 * too), so that line numbers match what a text editor shows. UTF-8 is checked
 * on the raw bytes of a whole record once it has been split into fields: the
 * bytes that structure CSV (comma, quote, CR, LF) are ASCII and can never be
 * part of a multi-byte sequence, so the split cannot hide or cause a bad one.
 */
#include "core/csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void csv_reader_init(struct csv_reader *r, const char *data, size_t len, size_t max_fields,
                     size_t max_field_bytes)
{
	memset(r, 0, sizeof *r);
	if (max_fields < 1)
		max_fields = 1;
	r->data = data;
	r->len = len;
	r->line = 1;
	r->max_fields = max_fields;
	r->max_field_bytes = max_field_bytes;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		r->pos = 3;
	/* Each field is capped and followed by a NUL, so a record never needs more. */
	buf_init(&r->text, max_fields * (max_field_bytes + 1));
	r->offsets = xcalloc(max_fields, sizeof *r->offsets);
	r->fields = xcalloc(max_fields, sizeof *r->fields);
}

void csv_reader_free(struct csv_reader *r)
{
	buf_free(&r->text);
	free(r->offsets);
	free(r->fields);
	r->offsets = NULL;
	r->fields = NULL;
}

/* If data[pos] begins a line break, returns its length (1 or 2), else 0. */
static size_t line_break_at(const struct csv_reader *r, size_t pos)
{
	if (pos >= r->len)
		return 0;
	if (r->data[pos] == '\n')
		return 1;
	if (r->data[pos] == '\r')
		return pos + 1 < r->len && r->data[pos + 1] == '\n' ? 2 : 1;
	return 0;
}

/*
 * Returns the offset of the first byte of s[0..len) that does not belong to a
 * well-formed UTF-8 sequence (Unicode table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or len if there is none.
 */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0; /* shorter forms are overlong */
			else if (c == 0xED)
				hi = 0x9F; /* ED A0..BF would be a UTF-16 surrogate */
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F; /* beyond U+10FFFF */
		} else {
			return i; /* a continuation byte on its own, C0, C1 or F5..FF */
		}
		if (len - i <= need)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += need + 1;
	}
	return len;
}

/* The physical line of data[at], counting line breaks from the record's start. */
static unsigned long line_of(const struct csv_reader *r, size_t start, unsigned long start_line,
                             size_t at)
{
	unsigned long line = start_line;
	for (size_t p = start; p < at;) {
		size_t br = line_break_at(r, p);
		if (br) {
			line++;
			p += br;
		} else {
			p++;
		}
	}
	return line;
}

/* Records the first error of the current record. */
static void fail_once(struct csv_reader *r, int *err, int code, unsigned long line, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static void fail_once(struct csv_reader *r, int *err, int code, unsigned long line, const char *fmt,
                      ...)
{
	if (*err)
		return;
	*err = code;
	r->error_line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
}

/* Appends one byte to the current field unless an error has stopped storing or the field is
 * full. */
static void field_add(struct csv_reader *r, size_t n_fields, char c, int *err)
{
	if (*err)
		return;
	if (r->text.len - r->offsets[n_fields] >= r->max_field_bytes) {
		fail_once(r, err, CSV_ERR_FIELD_TOO_LONG, r->line,
		          "field %zu is longer than %zu bytes", n_fields + 1, r->max_field_bytes);
		return;
	}
	buf_putc(&r->text, c);
}

int csv_next(struct csv_reader *r, struct csv_record *out)
{
	out->n_fields = 0;
	out->fields = r->fields;
	if (r->finished)
		return CSV_END;
	/* Lines with nothing on them separate nothing: skip them (spreadsheets add some at the
	 * end). */
	for (size_t br; (br = line_break_at(r, r->pos));) {
		r->pos += br;
		r->line++;
	}
	if (r->pos >= r->len) {
		r->finished = true;
		return CSV_END;
	}
	size_t start = r->pos;
	unsigned long start_line = r->line;
	size_t n = 0;
	int err = 0;
	out->line = start_line;
	buf_clear(&r->text);
	r->error[0] = '\0';
	r->error_line = 0;
	for (;;) { /* one field per turn */
		r->offsets[n] = r->text.len;
		if (r->pos < r->len && r->data[r->pos] == '"') {
			unsigned long quote_line = r->line;
			r->pos++;
			for (;;) {
				if (r->pos >= r->len) {
					/* Nothing after the quote can be told apart: stop for good.
					 */
					r->finished = true;
					r->error_line = quote_line;
					snprintf(
					    r->error, sizeof r->error,
					    "a quoted field starting on this line has no closing "
					    "quote");
					return CSV_ERR_UNTERMINATED_QUOTE;
				}
				char c = r->data[r->pos];
				if (c == '"') {
					if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
						field_add(r, n, '"', &err);
						r->pos += 2;
						continue;
					}
					r->pos++;
					break;
				}
				size_t br = line_break_at(r, r->pos);
				if (br) {
					for (size_t k = 0; k < br; k++)
						field_add(r, n, r->data[r->pos + k], &err);
					r->pos += br;
					r->line++;
					continue;
				}
				field_add(r, n, c, &err);
				r->pos++;
			}
			if (r->pos < r->len && r->data[r->pos] != ',' && !line_break_at(r, r->pos))
				fail_once(
				    r, &err, CSV_ERR_BAD_QUOTE, r->line,
				    "field %zu has text after its closing quote (write a quote "
				    "inside a quoted field as \"\")",
				    n + 1);
		}
		/* An unquoted field, or what follows a closing quote (an error, skipped to the
		 * comma). */
		while (r->pos < r->len && r->data[r->pos] != ',' && !line_break_at(r, r->pos)) {
			char c = r->data[r->pos];
			if (c == '"')
				fail_once(
				    r, &err, CSV_ERR_BAD_QUOTE, r->line,
				    "field %zu has a quote but does not start with one (put the "
				    "field in quotes and double the quote: \"\")",
				    n + 1);
			field_add(r, n, c, &err);
			r->pos++;
		}
		if (!err)
			buf_putc(&r->text, '\0');
		n++;
		if (r->pos < r->len && r->data[r->pos] == ',') {
			r->pos++;
			if (n == r->max_fields) {
				fail_once(r, &err, CSV_ERR_TOO_MANY_FIELDS, r->line,
				          "the line has more than %zu fields", r->max_fields);
				n--; /* stay within the arrays while skipping the rest */
			}
			continue;
		}
		break;
	}
	size_t end = r->pos;
	size_t br = line_break_at(r, r->pos);
	r->pos += br;
	if (br)
		r->line++;
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		r->fields[i] = r->text.data + r->offsets[i];
	out->n_fields = n;
	const unsigned char *raw = (const unsigned char *)r->data + start;
	size_t bad = utf8_invalid_at(raw, end - start);
	if (bad < end - start) {
		r->error_line = line_of(r, start, start_line, start + bad);
		snprintf(r->error, sizeof r->error,
		         "byte 0x%02X is not UTF-8 text (save the file as \"CSV UTF-8\")",
		         raw[bad]);
		return CSV_ERR_UTF8;
	}
	const char *nul = memchr(r->data + start, '\0', end - start);
	if (nul) {
		r->error_line = line_of(r, start, start_line, (size_t)(nul - r->data));
		snprintf(r->error, sizeof r->error, "the line contains a NUL byte");
		return CSV_ERR_NUL;
	}
	return CSV_RECORD;
}

void csv_write_field(struct buf *out, const char *s)
{
	if (!s)
		s = "";
	bool formula = s[0] && strchr("=+-@\t\r", s[0]);
	bool quote = formula || strpbrk(s, ",\"\r\n");
	if (quote)
		buf_putc(out, '"');
	if (formula)
		buf_putc(out, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_putc(out, '"');
		buf_putc(out, *p);
	}
	if (quote)
		buf_putc(out, '"');
}

void import_report_init(struct import_report *r)
{
	memset(r, 0, sizeof *r);
}

void import_report_add(struct import_report *r, unsigned long line, const char *fmt, ...)
{
	size_t slot = r->n_kept;
	if (r->n_kept == LIMIT_IMPORT_PROBLEMS) {
		/* Full: this one replaces the latest line kept, if it comes before it. Problems are
		 * found in several passes, and a person fixes a file from the top. */
		slot = 0;
		for (size_t i = 1; i < r->n_kept; i++)
			if (r->problems[i].line > r->problems[slot].line ||
			    (r->problems[i].line == r->problems[slot].line &&
			     r->problems[i].seq > r->problems[slot].seq))
				slot = i;
		if (r->problems[slot].line <= line) {
			r->n_problems++;
			return;
		}
	} else {
		r->n_kept++;
	}
	struct import_problem *p = &r->problems[slot];
	p->line = line;
	p->seq = (unsigned long)r->n_problems++;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof p->message, fmt, ap);
	va_end(ap);
}

static int problem_cmp(const void *a, const void *b)
{
	const struct import_problem *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void import_report_sort(struct import_report *r)
{
	qsort(r->problems, r->n_kept, sizeof r->problems[0], problem_cmp);
}
