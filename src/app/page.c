/*
 * page.c — the page shell and the error pages (see page.h).
 */
#include "app/page.h"

#include <string.h>

#include "app/app.h"
#include "http/static.h"
#include "templates.h"

static const struct nav_item nav[] = {
    {"/", "Home", 0},
};

void page_render(struct http_request *req, struct http_response *res, const char *title,
                 const char *main_html)
{
	const struct app *app = req->app;
	struct nav_item items[sizeof nav / sizeof nav[0]];
	memcpy(items, nav, sizeof nav);
	for (size_t i = 0; i < sizeof nav / sizeof nav[0]; i++)
		items[i].current = !strcmp(items[i].href, req->path);
	struct page p = {
	    .title = title,
	    .collective = app->collective_name,
	    .css_url = static_url("nhsuk-frontend.min.css"),
	    .app_css_url = static_url("app.css"),
	    .demo = app->demo,
	    .nav = items,
	    .n_nav = sizeof items / sizeof items[0],
	    .main = {main_html},
	};
	buf_clear(&res->body);
	tpl_layout(&res->body, &p);
}

struct error_text {
	unsigned status;
	const char *title, *message, *hint;
};

/* Plain English, as the NHS service manual asks of error pages. */
static const struct error_text errors[] = {
    {400, "There is a problem with the request",
     "Shoal could not understand what your browser sent.", "Go back and try again."},
    {403, "You do not have access to this page",
     "Your account does not allow you to see this page.",
     "If you think you should have access, ask your practice lead or the collective's "
     "administrator."},
    {404, "Page not found", "If you typed the web address, check it is correct.",
     "If you pasted the web address, check you copied the entire address."},
    {405, "This page cannot do that",
     "The page exists, but not for the kind of request your browser made.",
     "Go back and try again from the page you came from."},
    {413, "What you sent is too large",
     "The information or file you sent is larger than Shoal accepts.",
     "Go back, make it smaller (for example, split a long post in two), and try again."},
    {414, "The web address is too long", "Shoal does not accept web addresses this long.",
     "Check the link you followed or typed."},
    {431, "Your browser sent too much information",
     "The request headers (often cookies) are larger than Shoal accepts.",
     "Clear this site's cookies in your browser, then try again."},
    {503, "Sorry, the service is unavailable", "Shoal cannot reach its database at the moment.",
     "Try again in a few minutes."},
    {500, "Sorry, there is a problem with the service", "Try again later.",
     "If the problem continues, tell the collective's administrator."},
};

void page_error(struct http_request *req, struct http_response *res)
{
	const struct error_text *e = &errors[sizeof errors / sizeof errors[0] - 1];
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].status == res->status)
			e = &errors[i];
	struct error_view v = {e->title, e->message, e->hint};
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_error(&main, &v);
	page_render(req, res, e->title, main.data);
	buf_free(&main);
}
