/*
 * admin.h — the administration pages: an index, and people (their roles,
 * memberships, lead flags, and deactivation).
 *
 * A person is never deleted, only deactivated, so that everything they did
 * stays attributable; deactivation ends their sessions at once, and their API
 * tokens stop working because every token lookup checks the person is active.
 * Every change is recorded in the audit trail with what it was before and
 * after, in the same transaction as the change. An administrator cannot
 * deactivate themselves, and the last active administrator can be neither
 * deactivated nor given another role (policy_may_deactivate,
 * policy_may_change_role); on PostgreSQL those checks hold under concurrent
 * requests through an advisory lock, on SQLite through BEGIN IMMEDIATE.
 */
#ifndef SHOAL_APP_ADMIN_H
#define SHOAL_APP_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "app/admin/listing.h"
#include "app/page.h"
#include "http/http.h"

#define ADMIN_PAGE_SIZE       50
#define ADMIN_MAX_ORGS_SHOWN  50    /* memberships listed for one person */
#define ADMIN_MAX_ORG_CHOICES 10000 /* organisations offered in a select */

/* One link on the administration index. */
struct admin_link {
	const char *href, *title, *description;
};

/* The view of templates/admin.html. */
struct admin_view {
	const struct admin_link *links;
	size_t n_links;
};

/* An organisation to choose, in a select. */
struct admin_org_choice {
	long long id;
	const char *label; /* "Riverside Medical Centre (Z80001)" */
	const char *code;
	bool selected;
};

struct admin_membership {
	long long organisation_id;
	const char *name, *code;
	bool lead;
};

/* One person in the list. */
struct admin_person_row {
	long long id;
	const char *name, *email, *role_label;
	bool deactivated;
	struct admin_membership *memberships;
	size_t n_memberships;
};

/* One choice of a select whose options are fixed (roles, statuses). */
struct admin_choice {
	const char *value, *label;
	bool selected;
};

/* The view of templates/admin_people.html. */
struct admin_people_view {
	struct form_errors errors;
	const char *q, *q_error, *role_error, *organisation_error, *status_error;
	const struct admin_choice *roles, *statuses;
	size_t n_roles, n_statuses;
	const struct admin_org_choice *orgs;
	size_t n_orgs;
	const struct admin_person_row *people;
	size_t n_people;
	bool filtered;
	struct listing_pager pager;
};

/* The view of templates/admin_person.html. */
struct admin_person_view {
	struct form_errors errors;
	const char *csrf;
	long long id;
	const char *name, *email, *role, *role_label, *job_title;
	bool deactivated, self, mfa, mfa_reset; /* mfa_reset: that route exists */
	char deactivated_on[32], created_on[32];
	const struct admin_membership *memberships;
	size_t n_memberships;
	const struct admin_choice *roles;
	size_t n_roles;
	const struct admin_org_choice *orgs;
	size_t n_orgs;
	bool lead_checked;
	const char *role_error, *organisation_error, *status_error;
	const char *notice;
};

/** GET /admin */
void admin_index(struct http_request *req, struct http_response *res);
/** GET /admin/people */
void admin_people(struct http_request *req, struct http_response *res);
/** GET /admin/people/{id} */
void admin_person(struct http_request *req, struct http_response *res);
/** POST /admin/people/{id}/role */
void admin_person_role(struct http_request *req, struct http_response *res);
/** POST /admin/people/{id}/memberships: adds a membership, or changes its lead flag */
void admin_person_membership(struct http_request *req, struct http_response *res);
/** POST /admin/people/{id}/memberships/{org}/remove */
void admin_person_membership_remove(struct http_request *req, struct http_response *res);
/** POST /admin/people/{id}/deactivate */
void admin_person_deactivate(struct http_request *req, struct http_response *res);
/** POST /admin/people/{id}/reactivate */
void admin_person_reactivate(struct http_request *req, struct http_response *res);

#endif
