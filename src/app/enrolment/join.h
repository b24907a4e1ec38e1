/*
 * join.h — asking to join a practice, answering those requests, and the
 * settings page where an administrator lists the email domains allowed to ask.
 *
 * Requests to join are open only while the allowed_domains setting lists at
 * least one domain (e.g. nhs.net). A request goes to the practice's leads
 * (administrators when it has none); approving it sends an ordinary invitation
 * (invitations_create), so the person still proves the address by accepting.
 * Asking never reveals whether the address already has an account: the page is
 * the same, and an existing account's owner gets an email saying so instead.
 */
#ifndef SHOAL_APP_JOIN_H
#define SHOAL_APP_JOIN_H

#include <stdint.h>

#include "app/enrolment/invitations.h"
#include "app/page.h"
#include "http/http.h"

/* The view of templates/join_form.html. */
struct join_form_view {
	struct form_errors errors;
	const char *csrf;
	const char *name, *email, *message;
	const char *domains; /* "@nhs.net or @wyvern.example" */
	const struct invite_option *practices;
	size_t n_practices;
	int practice_chosen;
	const char *name_error, *email_error, *practice_error, *message_error;
};

/* One pending request on the requests page. */
struct join_row {
	int64_t id;
	char *name, *email, *practice, *message;
	char requested[32];
};

/* The view of templates/join_requests.html. */
struct join_requests_view {
	const char *csrf;
	const char *notice;
	const struct join_row *rows;
	size_t n_rows;
	int truncated;
	int all; /* the viewer answers requests for every practice */
};

/* The view of templates/join_settings.html. */
struct join_settings_view {
	struct form_errors errors;
	const char *csrf;
	const char *notice;
	const char *domains; /* as typed, or one per line as stored */
	const char *domains_error;
	const char *join_link; /* where people ask to join */
};

/** GET /join (ACCESS_PUBLIC; 404 while no domains are allowed) */
void join_form_page(struct http_request *req, struct http_response *res);
/** POST /join (ACCESS_PUBLIC) */
void join_submit(struct http_request *req, struct http_response *res);
/** GET /join/requests (ACCESS_LEAD) */
void join_requests_page(struct http_request *req, struct http_response *res);
/** POST /join/requests/{id}/approve (ACCESS_LEAD, then policy_may_decide_join) */
void join_approve(struct http_request *req, struct http_response *res);
/** POST /join/requests/{id}/refuse (ACCESS_LEAD, then policy_may_decide_join) */
void join_refuse(struct http_request *req, struct http_response *res);
/** GET /admin/settings (ACCESS_ADMIN) */
void join_settings_page(struct http_request *req, struct http_response *res);
/** POST /admin/settings (ACCESS_ADMIN) */
void join_settings_save(struct http_request *req, struct http_response *res);

#endif
