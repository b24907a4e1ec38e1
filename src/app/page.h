/*
 * page.h — the page shell (nhsuk-frontend header, navigation, footer, skip
 * link) around every HTML page, and the error pages.
 */
#ifndef SHOAL_APP_PAGE_H
#define SHOAL_APP_PAGE_H

#include <stddef.h>

#include "http/http.h"
#include "render/html.h"

struct nav_item {
	const char *href;
	const char *text;
	int current;
};

/* The view of templates/layout.html. */
struct page {
	const char *title;      /* this page's title; the <title> adds the collective's name */
	const char *collective; /* the collective's name, in the header */
	const char *css_url;    /* content-hashed stylesheet URLs */
	const char *app_css_url;
	int demo; /* show the "fictional demo" banner */
	const struct nav_item *nav;
	size_t n_nav;
	struct safe_html main; /* the page's own content */
};

/* The view of templates/error.html. */
struct error_view {
	const char *heading;
	const char *message;
	const char *hint;
};

/** Wraps main (already rendered) in the page shell and writes it to res->body. */
void page_render(struct http_request *req, struct http_response *res, const char *title,
                 const char *main_html);
/** The error page for res->status (404, 403, 405, 413, 414, 431, 500, 503 …). */
void page_error(struct http_request *req, struct http_response *res);

#endif
