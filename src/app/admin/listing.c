/*
 * listing.c — paging, search patterns and URL checks for list pages (see listing.h).
 */
#include "app/admin/listing.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "http/form.h"
#include "http/http.h"

long long listing_page_parse(const char *s)
{
	if (!s || !*s)
		return 1;
	long long n = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p) || p - s >= 6)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n >= 1 && n <= LISTING_MAX_PAGE ? n : -1;
}

void listing_query_add(struct buf *q, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	buf_puts(q, name);
	buf_putc(q, '=');
	http_url_encode(q, value);
	buf_putc(q, '&');
}

void listing_pager_init(struct listing_pager *p, const char *base, const char *query,
                        long long page, bool has_next)
{
	size_t prev_at = 0, next_at = 0;
	*p = (struct listing_pager){.page = page, .prev = page - 1, .next = page + 1};
	buf_init(&p->store, 2 * (strlen(base) + strlen(query) + 32));
	if (page > 1) {
		prev_at = p->store.len;
		buf_printf(&p->store, "%s?%spage=%lld", base, query, page - 1);
		buf_putc(&p->store, '\0');
	}
	if (has_next) {
		next_at = p->store.len;
		buf_printf(&p->store, "%s?%spage=%lld", base, query, page + 1);
		buf_putc(&p->store, '\0');
	}
	/* Pointers are taken only now: the buffer may have moved while growing. */
	if (page > 1)
		p->prev_href = p->store.data + prev_at;
	if (has_next)
		p->next_href = p->store.data + next_at;
}

void listing_pager_free(struct listing_pager *p)
{
	buf_free(&p->store);
	p->prev_href = p->next_href = NULL;
}

void listing_like_pattern(struct buf *out, const char *s)
{
	buf_putc(out, '%');
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			buf_putc(out, '\\');
		buf_putc(out, (char)tolower((unsigned char)*s));
	}
	buf_putc(out, '%');
}

bool listing_text_ok(const char *s, size_t max)
{
	if (!s)
		return true;
	size_t n = strlen(s);
	if (n > max || !utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

const char *listing_display(const char *s)
{
	return s && utf8_valid(s, strlen(s)) ? s : "";
}
