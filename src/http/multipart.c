/*
 * multipart.c — multipart/form-data parsing (see multipart.h).
 *
 * The body is "--B" CRLF, then per part: header lines, an empty line, the
 * data, and CRLF "--B" followed by CRLF (another part) or "--" (the end).
 * The delimiter search looks for CR and compares from there; the delimiter
 * holds no CR after its first byte, so each comparison stops at the next CR of
 * the data at the latest and the whole search is linear in the body.
 */
#include "http/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

bool multipart_is_form_data(const char *type)
{
	if (!type)
		return false;
	type += strspn(type, " \t");
	return !strncasecmp(type, "multipart/form-data", 19) &&
	       (type[19] == '\0' || type[19] == ';' || type[19] == ' ' || type[19] == '\t');
}

/* RFC 2046 bchars (what may appear in a boundary; a space only inside). */
static bool bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       strchr("'()+_,-./:=? ", c);
}

/*
 * Finds parameter key (case-insensitive) in a header value's "; k=v" list and
 * copies its value (a token, or a quoted string without escapes: browsers
 * percent-encode '"' in names) into out. Returns 1 found, 0 absent, -1 bad.
 */
static int header_param(const char *value, size_t vlen, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), i = 0;
	/* Skip the first item (the type or "form-data"). */
	while (i < vlen && value[i] != ';')
		i++;
	while (i < vlen) {
		i++; /* the ';' */
		while (i < vlen && (value[i] == ' ' || value[i] == '\t'))
			i++;
		size_t k = i;
		while (i < vlen && value[i] != '=' && value[i] != ';')
			i++;
		size_t kend = i;
		while (kend > k && (value[kend - 1] == ' ' || value[kend - 1] == '\t'))
			kend--;
		if (i == vlen || value[i] == ';') {
			if (kend == k)
				continue; /* an empty item: "a;;b" */
			return -1;        /* a key without a value */
		}
		i++; /* the '=' */
		while (i < vlen && (value[i] == ' ' || value[i] == '\t'))
			i++;
		const char *v;
		size_t n;
		if (i < vlen && value[i] == '"') {
			v = value + ++i;
			while (i < vlen && value[i] != '"')
				i++;
			if (i == vlen)
				return -1; /* an unclosed quote */
			n = (size_t)(value + i - v);
			i++;
			while (i < vlen && (value[i] == ' ' || value[i] == '\t'))
				i++;
			if (i < vlen && value[i] != ';')
				return -1; /* text after the closing quote */
		} else {
			v = value + i;
			while (i < vlen && value[i] != ';')
				i++;
			n = (size_t)(value + i - v);
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
		}
		if (kend - k == klen && !strncasecmp(value + k, key, klen)) {
			if (n >= outlen || memchr(v, '\0', n))
				return -1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

int multipart_boundary(const char *type, char *out, size_t outlen)
{
	if (!multipart_is_form_data(type))
		return -1;
	char b[MULTIPART_MAX_BOUNDARY + 2];
	if (header_param(type, strlen(type), "boundary", b, sizeof b) != 1)
		return -1;
	size_t n = strlen(b);
	if (n == 0 || n > MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ' || n >= outlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!bchar(b[i]))
			return -1;
	memcpy(out, b, n + 1);
	return 0;
}

/* The first "\r\n--B" at or after from, or NULL. */
static const char *find_delimiter(const char *from, const char *end, const char *delim, size_t dlen)
{
	while ((size_t)(end - from) >= dlen) {
		const char *cr = memchr(from, '\r', (size_t)(end - from) - dlen + 1);
		if (!cr)
			return NULL;
		if (!memcmp(cr, delim, dlen))
			return cr;
		from = cr + 1;
	}
	return NULL;
}

/* Reads one part's header block at *p; fills part; moves *p past the empty line. */
static int read_headers(const char **p, const char *end, struct multipart_part *part, char *err,
                        size_t errlen)
{
	const char *start = *p;
	bool disposition = false;
	for (;;) {
		size_t room = (size_t)(end - *p);
		const char *cr = memchr(*p, '\r', room);
		if (!cr || cr + 1 == end || cr[1] != '\n')
			return fail(err, errlen, "a part's headers do not end with CRLF");
		if ((size_t)(cr - start) > MULTIPART_MAX_HEADER_BYTES)
			return fail(err, errlen, "a part's headers are too long");
		const char *line = *p;
		size_t len = (size_t)(cr - line);
		*p = cr + 2;
		if (len == 0)
			break;
		if (memchr(line, '\n', len) || memchr(line, '\0', len))
			return fail(err, errlen, "a part's header holds a bare LF or a NUL");
		const char *colon = memchr(line, ':', len);
		if (!colon || colon == line)
			return fail(err, errlen, "a part's header line has no name");
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vlen = (size_t)(line + len - v);
		while (vlen && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		if (nlen == 19 && !strncasecmp(line, "Content-Disposition", 19)) {
			if (disposition)
				return fail(err, errlen,
				            "a part has two Content-Disposition headers");
			disposition = true;
			if (vlen < 9 || strncasecmp(v, "form-data", 9) ||
			    (vlen > 9 && v[9] != ';' && v[9] != ' '))
				return fail(err, errlen, "a part is not form-data");
			int rc = header_param(v, vlen, "name", part->name, sizeof part->name);
			if (rc != 1 || !part->name[0])
				return fail(err, errlen, "a part has no name, or a bad one");
			rc = header_param(v, vlen, "filename", part->filename,
			                  sizeof part->filename);
			if (rc < 0)
				return fail(err, errlen,
				            "a part's filename is too long or malformed");
			part->is_file = rc == 1;
		} else if (nlen == 12 && !strncasecmp(line, "Content-Type", 12)) {
			if (vlen >= sizeof part->content_type)
				return fail(err, errlen, "a part's Content-Type is too long");
			memcpy(part->content_type, v, vlen);
			part->content_type[vlen] = '\0';
		}
		/* Other headers (Content-Transfer-Encoding, …) are ignored, as RFC 7578 allows. */
	}
	if (!disposition)
		return fail(err, errlen, "a part has no Content-Disposition");
	return 0;
}

int multipart_parse(struct multipart *m, const char *content_type, const char *body, size_t len,
                    char *err, size_t errlen)
{
	m->n = 0;
	char boundary[MULTIPART_MAX_BOUNDARY + 1];
	if (multipart_boundary(content_type, boundary, sizeof boundary))
		return fail(err, errlen, "the Content-Type has no valid boundary");
	char delim[MULTIPART_MAX_BOUNDARY + 5];
	size_t dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	const char *p = body, *end = body + len;
	/* No preamble: the body starts with the first delimiter (without its CRLF). */
	if (len < dlen - 2 || memcmp(p, delim + 2, dlen - 2))
		return fail(err, errlen, "the body does not start with the boundary");
	p += dlen - 2;
	for (;;) {
		/* After a delimiter: "--" ends the body, CRLF starts a part. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0; /* anything after is the epilogue, which RFC 2046 says to ignore
			           */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return fail(err, errlen, "a boundary is not followed by CRLF or --");
		p += 2;
		if (m->n == MULTIPART_MAX_PARTS)
			return fail(err, errlen, "the form has too many parts");
		struct multipart_part *part = &m->parts[m->n];
		memset(part, 0, sizeof *part);
		if (read_headers(&p, end, part, err, errlen))
			return -1;
		/* The data ends at the next delimiter (at once, when the data is empty). */
		const char *next = find_delimiter(p, end, delim, dlen);
		if (!next)
			return fail(err, errlen, "the body ends without its final boundary");
		part->data = p;
		part->len = (size_t)(next - p);
		m->n++;
		p = next + dlen;
	}
}

int multipart_form(const struct multipart *m, struct form *f)
{
	for (int i = 0; i < m->n; i++) {
		const struct multipart_part *part = &m->parts[i];
		if (part->is_file)
			continue;
		if (f->n == LIMIT_FORM_FIELDS || !utf8_valid(part->name, strlen(part->name)) ||
		    !utf8_valid(part->data, part->len))
			return -1;
		char *value = xmalloc(part->len + 1);
		memcpy(value, part->data, part->len);
		value[part->len] = '\0';
		f->names[f->n] = xstrdup(part->name);
		f->values[f->n++] = value;
	}
	return 0;
}
