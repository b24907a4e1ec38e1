/*
 * reset.h — "I have forgotten my password": a single-use link by email.
 *
 * Asking for a link always gets the same page, whether or not the address has
 * an account, and costs the same work (the throttles and the audit entry are
 * written either way), so the page reveals nothing; only an active account's
 * address gets the email. A link works once, for ENROLMENT_RESET_SECONDS, and
 * a newer link replaces older ones. Using it sets the password, ends every
 * session of the person, and sends them a security notice.
 */
#ifndef SHOAL_APP_RESET_H
#define SHOAL_APP_RESET_H

#include "app/enrolment/enrolment.h"
#include "app/page.h"
#include "http/http.h"

/* The view of templates/reset_request.html. */
struct reset_request_view {
	struct form_errors errors;
	const char *csrf;
	const char *email;
	const char *email_error;
};

/* The view of templates/reset_choose.html. */
struct reset_choose_view {
	struct form_errors errors;
	const char *csrf;
	const char *token;
	const char *email; /* for password managers */
	struct enrolment_password_fields pw;
};

/** GET /password-reset (ACCESS_PUBLIC) */
void reset_request_page(struct http_request *req, struct http_response *res);
/** POST /password-reset (ACCESS_PUBLIC) */
void reset_request(struct http_request *req, struct http_response *res);
/** GET /password-reset/{token} (ACCESS_PUBLIC) */
void reset_choose_page(struct http_request *req, struct http_response *res);
/** POST /password-reset/{token} (ACCESS_PUBLIC) */
void reset_choose(struct http_request *req, struct http_response *res);

#endif
