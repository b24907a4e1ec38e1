/*
 * html.c — the escaping writer behind every {{ value }} in a template (see html.h).
 *
 * Written by hand because it is a few dozen lines on the hottest path of every
 * page: runs of bytes that need no escaping are copied with one buf_add, and
 * only the five HTML-special characters are replaced. URLs are checked against
 * an allow-list of schemes, so javascript:, data: and the like can never reach
 * an href, whatever their case or leading whitespace.
 */
#include "render/html.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The entity for c, or NULL when c can be written as it is. */
static const char *html_entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

/** Writes s with the five special characters escaped; text and quoted attributes share it.
 * Each run of ordinary bytes is found by strcspn, which glibc scans 16 bytes at a time
 * (a test per byte here was most of the cost of escaping names and CSRF tokens), and
 * copied whole. UTF-8 bytes (0x80 and over) are never special. */
static void html_escape(struct buf *out, const char *s)
{
	if (!s)
		return;
	for (;;) {
		size_t run = strcspn(s, "&<>\"'");
		if (run)
			buf_add(out, s, run);
		s += run;
		if (!*s)
			return;
		buf_puts(out, html_entity((unsigned char)*s));
		s++;
	}
}

/* Text between tags (see html.h). */
void html_text(struct buf *out, const char *s)
{
	html_escape(out, s);
}

/*
 * A quoted attribute value. Escaping the quotes of both kinds makes one escaper
 * safe for text and attributes alike; the two names keep the compiled templates
 * saying which context each value is in.
 */
void html_attr(struct buf *out, const char *s)
{
	html_escape(out, s);
}

/*
 * True when s is relative or uses a scheme from the allow-list. Browsers skip
 * leading spaces and control characters before the scheme, so we do too; an
 * allow-list (not a deny-list) also refuses schemes with tabs or newlines
 * inside them ("java\tscript:"), which browsers would otherwise strip.
 */
static int url_allowed(const char *s)
{
	static const char *const schemes[] = {"http", "https", "mailto", "tel"};
	while (*s && (unsigned char)*s <= 0x20)
		s++;
	size_t n = strcspn(s, ":/?#");
	if (s[n] != ':')
		return 1; /* no scheme: a path, query or fragment */
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strlen(schemes[i]) == n && strncasecmp(s, schemes[i], n) == 0)
			return 1;
	return 0;
}

/* A URL attribute value: a refused URL becomes "#", a link that goes nowhere. */
void html_url(struct buf *out, const char *s)
{
	if (!s)
		return;
	if (url_allowed(s))
		html_escape(out, s);
	else
		buf_add(out, "#", 1);
}

/* A decimal integer; digits and a sign need no escaping. */
/* By hand, not snprintf: pages write hundreds of numbers (ids in links, counts), and
 * snprintf's format parsing was a fifth of a thread page's cost (bench/README.md). The
 * digits are written straight into the buffer, two at a time, counted first so that
 * nothing is copied: a thread page writes some 650 numbers. */
void html_int(struct buf *out, long long v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	size_t n = v < 0 ? 2 : 1; /* the sign, and the digits counted below */
	for (unsigned long long p = 10; u >= p; p *= 10) /* u <= 2^63 < 10^19: p cannot wrap */
		n++;
	if (n >= out->alloc - out->len && buf_reserve(out, n) < 0)
		return;
	char *d = out->data + out->len + n;
	*d = '\0';
	for (; u >= 100; u /= 100) {
		const char *pair = pairs + 2 * (u % 100);
		*--d = pair[1];
		*--d = pair[0];
	}
	if (u >= 10) {
		*--d = pairs[2 * u + 1];
		*--d = pairs[2 * u];
	} else {
		*--d = (char)('0' + u);
	}
	if (v < 0)
		*--d = '-';
	out->len += n;
}

/* Markup Shoal rendered itself (see struct safe_html), written as it is. */
void html_safe(struct buf *out, struct safe_html h)
{
	buf_puts(out, h.html);
}

/* Content rendered in place (see struct html_slot). */
void html_slot(struct buf *out, struct html_slot s)
{
	if (s.render)
		s.render(out, s.view);
}
