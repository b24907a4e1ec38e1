/*
 * listing.h — what every long list page needs: page numbers in the query
 * string, links to the previous and next page, search patterns, and checks on
 * search text and ids that arrive in URLs.
 *
 * Shared by the administration pages, the audit trail and the directory, so
 * that each list pages, searches and refuses bad input the same way.
 */
#ifndef SHOAL_APP_ADMIN_LISTING_H
#define SHOAL_APP_ADMIN_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Beyond this a list asks for narrower filters instead (OFFSET grows linear). */
#define LISTING_MAX_PAGE 10000

/* The view of templates/admin_pagination.html: the NHS pagination component. */
struct listing_pager {
	long long page;        /* this page, from 1 */
	const char *prev_href; /* NULL on the first page */
	const char *next_href; /* NULL on the last page */
	long long prev, next;  /* their page numbers */
	struct buf store;      /* owns the two hrefs */
};

/**
 * The page number in s (the "page" query parameter): 1 when s is NULL or
 * empty, -1 when it is not a whole number from 1 to LISTING_MAX_PAGE.
 */
long long listing_page_parse(const char *s);
/** Appends "name=value&" to q, percent-encoded, when value is not NULL or empty. */
void listing_query_add(struct buf *q, const char *name, const char *value);
/**
 * Fills p's links for page of a list at base (a path) whose other query
 * parameters are query (as built by listing_query_add; may be ""). has_next
 * says whether rows follow this page. Free with listing_pager_free.
 */
void listing_pager_init(struct listing_pager *p, const char *base, const char *query,
                        long long page, bool has_next);
/** Frees the links. */
void listing_pager_free(struct listing_pager *p);
/**
 * Writes a LIKE pattern that finds s anywhere ("%s%", with % _ and \ escaped
 * by \, to be used with ESCAPE '\'), lower-cased for comparison with lower().
 */
void listing_like_pattern(struct buf *out, const char *s);
/**
 * Whether s is usable search text: valid UTF-8, no control characters, at
 * most max bytes. NULL counts as empty, which is usable.
 */
bool listing_text_ok(const char *s, size_t max);
/** s when it is valid UTF-8 (to show again in a form), else "" (bytes a page must not carry). */
const char *listing_display(const char *s);

#endif
