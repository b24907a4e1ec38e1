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
	const char *js_url;
	int demo;                  /* show the "fictional demo" banner */
	const char *person_name;   /* the signed-in person, or NULL */
	const char *csrf;          /* for the sign-out and stay-signed-in forms */
	long long session_seconds; /* until the session ends if idle; 0 when not signed in.
	                            * Relative, so a wrong clock on the computer does not matter. */
	const char *path;          /* this page, to come back to after "stay signed in" */
	long long unread;          /* unread notifications, for the header badge (capped) */
	int unread_more;           /* more than NOTIFICATIONS_BADGE_MAX: "99+" */
	const struct nav_item *nav;
	size_t n_nav;
	struct html_slot main; /* writes the page's own content (page_render_view) */
};

/* The view of templates/error.html. */
struct error_view {
	const char *heading;
	const char *message;
	const char *hint;
};

/* Validation errors of a form: the "There is a problem" summary links each to its field. */
#define FORM_MAX_ERRORS 8
struct form_error {
	const char *field; /* the id of the input */
	const char *message;
};
struct form_errors {
	struct form_error errors[FORM_MAX_ERRORS];
	int n;
};

/** Adds an error (ignored past FORM_MAX_ERRORS). */
void form_error_add(struct form_errors *e, const char *field, const char *message);
/** The message for field, or NULL: for the error message beside the input. */
const char *form_error_for(const struct form_errors *e, const char *field);

/** Wraps main (already rendered) in the page shell and writes it to res->body. */
void page_render(struct http_request *req, struct http_response *res, const char *title,
                 const char *main_html);
/**
 * Writes the page shell to res->body with the page's content rendered in place by
 * main.render(out, main.view): no copy of the content, one allocation when
 * main_bytes (the content's expected size; 0 if unknown) is about right.
 */
void page_render_view(struct http_request *req, struct http_response *res, const char *title,
                      struct html_slot main, size_t main_bytes);
/** The error page for res->status (404, 403, 405, 413, 414, 431, 500, 503 …). */
void page_error(struct http_request *req, struct http_response *res);

#endif
