/*
 * page.c — the page shell and the error pages (see page.h).
 */
#include "app/page.h"

#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/api/api.h"
#include "app/app.h"
#include "app/notifications/notifications.h"
#include "http/static.h"
#include "templates.h"

/* The navigation, each item shown only to those who may follow it. */
static const struct {
	const char *href, *text;
	enum access access;
} nav[] = {
    {"/", "Home", ACCESS_PUBLIC},
    {"/people", "People", ACCESS_SIGNED_IN},
    {"/discussions", "Discussions", ACCESS_SIGNED_IN},
    {"/search", "Search", ACCESS_SIGNED_IN},
    {"/pressure", "Pressure", ACCESS_MEMBER},
    {"/pressure/dashboard", "Dashboard", ACCESS_SIGNED_IN},
    {"/pressure/briefing", "Briefing", ACCESS_SIGNED_IN},
    {"/admin", "Administration", ACCESS_ADMIN},
};
#define N_NAV (sizeof nav / sizeof nav[0])

/* The shell's own bytes, about: room reserved beside the content so that one
 * allocation holds the whole page. */
#define PAGE_SHELL_BYTES 8192

void page_render_view(struct http_request *req, struct http_response *res, const char *title,
                      struct html_slot main, size_t main_bytes)
{
	const struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct nav_item items[N_NAV];
	size_t n_items = 0;
	for (size_t i = 0; i < N_NAV; i++) {
		if (!policy_allows(viewer, nav[i].access))
			continue;
		size_t len = strlen(nav[i].href);
		int current = len == 1 ? !strcmp(req->path, "/")
		                       : !strncmp(req->path, nav[i].href, len) &&
		                             (req->path[len] == '\0' || req->path[len] == '/');
		items[n_items++] = (struct nav_item){nav[i].href, nav[i].text, current};
	}
	struct page p = {
	    .title = title,
	    .collective = app->collective_name,
	    .css_url = static_url("nhsuk-frontend.min.css"),
	    .app_css_url = static_url("app.css"),
	    .js_url = static_url("app.js"),
	    .demo = app->demo,
	    .path = req->path,
	    .nav = items,
	    .n_nav = n_items,
	    .main = main,
	};
	if (viewer->person_id && viewer->via == VIA_SESSION && !viewer->mfa_pending) {
		p.person_name = viewer->name;
		p.csrf = access_csrf(req, res);
		int64_t left = viewer->expires_at - (int64_t)time(NULL);
		p.session_seconds = left > 0 ? left : 1;
		/* The badge: one indexed, capped count (notifications_unread); not when the
		 * database is what failed (503), so an error page never waits on it. */
		struct db_conn *c = res->status == 503 ? NULL : db_acquire(app->db);
		long long unread =
		    c ? notifications_unread(c, viewer->person_id, policy_role_name(viewer->role))
		      : 0;
		db_release(c);
		p.unread_more = unread > NOTIFICATIONS_BADGE_MAX;
		p.unread = p.unread_more ? NOTIFICATIONS_BADGE_MAX : unread > 0 ? unread : 0;
	}
	/* Pages about people are private: no shared cache may keep them. */
	http_response_header(res, "Cache-Control", "no-store");
	buf_clear(&res->body);
	/* A hint only: past the cap, the page itself will say so (buf overflow). */
	if (main_bytes < res->body.cap - PAGE_SHELL_BYTES)
		buf_reserve(&res->body, main_bytes + PAGE_SHELL_BYTES);
	tpl_layout(&res->body, &p);
}

/* A page's content that was rendered apart, as a slot's renderer. */
static void write_html(struct buf *out, const void *html)
{
	buf_puts(out, html);
}

void page_render(struct http_request *req, struct http_response *res, const char *title,
                 const char *main_html)
{
	page_render_view(req, res, title, (struct html_slot){write_html, main_html},
	                 main_html ? strlen(main_html) : 0);
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
	if (access_is_api(req)) { /* programs get JSON, not a page */
		api_error_page(req, res);
		return;
	}
	const struct error_text *e = &errors[sizeof errors / sizeof errors[0] - 1];
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].status == res->status)
			e = &errors[i];
	struct error_view v = {e->title, res->reason ? res->reason : e->message,
	                       res->reason ? NULL : e->hint};
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_error(&main, &v);
	page_render(req, res, e->title, main.data);
	buf_free(&main);
}

void form_error_add(struct form_errors *e, const char *field, const char *message)
{
	if (e->n < FORM_MAX_ERRORS)
		e->errors[e->n++] = (struct form_error){field, message};
}

const char *form_error_for(const struct form_errors *e, const char *field)
{
	for (int i = 0; i < e->n; i++)
		if (!strcmp(e->errors[i].field, field))
			return e->errors[i].message;
	return NULL;
}
