/*
 * account.h — signing in and out, and the person's own account page.
 */
#ifndef SHOAL_APP_ACCOUNT_H
#define SHOAL_APP_ACCOUNT_H

#include "app/page.h"
#include "core/limits.h"
#include "http/http.h"

struct sign_in_view {
	struct form_errors errors;
	const char *csrf;
	const char *next;
	const char *email;
	const char *email_error;
	const char *password_error;
	const char *notice;
	int join; /* people from allowed email domains may ask to join */
};

struct account_view {
	const char *name, *email, *role, *csrf, *notice;
	const char *invite_text; /* what this person may invite, or NULL when they may not */
	int mfa;
	long long sessions;
};

/** GET /sign-in */
void account_sign_in_page(struct http_request *req, struct http_response *res);
/** POST /sign-in */
void account_sign_in(struct http_request *req, struct http_response *res);
/** POST /sign-out */
void account_sign_out(struct http_request *req, struct http_response *res);
/** POST /sign-out-everywhere */
void account_sign_out_everywhere(struct http_request *req, struct http_response *res);
/** POST /session/extend: "stay signed in" (JSON for app.js, a redirect otherwise) */
void account_extend(struct http_request *req, struct http_response *res);
/** GET /account */
void account_page(struct http_request *req, struct http_response *res);

/** Where to go after signing in: next when it is a path on this site, else "/". */
const char *account_safe_next(const char *next);

#endif
