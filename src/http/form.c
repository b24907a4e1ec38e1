/*
 * form.c — urlencoded form parsing (see form.h).
 */
#include "http/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len;
		unsigned min;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		/* No overlong forms, no surrogates, nothing past U+10FFFF. */
		if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return false;
		i += len;
	}
	return true;
}

/* Decodes s[0..n) into a new string; NULL if malformed. */
static char *decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? hex(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	if (!utf8_valid(out, (size_t)(o - out))) {
		free(out);
		return NULL;
	}
	return out;
}

int form_parse(struct form *f, const char *body, size_t len)
{
	memset(f, 0, sizeof *f);
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end > i) {
			const char *eq = memchr(body + i, '=', end - i);
			size_t name_len = eq ? (size_t)(eq - (body + i)) : end - i;
			if (f->n == LIMIT_FORM_FIELDS)
				goto fail;
			char *name = decode(body + i, name_len);
			char *value =
			    eq ? decode(eq + 1, (size_t)(body + end - eq - 1)) : xstrdup("");
			if (!name || !value) {
				free(name);
				free(value);
				goto fail;
			}
			f->names[f->n] = name;
			f->values[f->n++] = value;
		}
		i = end + 1;
	}
	return 0;
fail:
	form_free(f);
	return -1;
}

const char *form_get(const struct form *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->names[i], name))
			return f->values[i];
	return NULL;
}

void form_free(struct form *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	f->n = 0;
}
