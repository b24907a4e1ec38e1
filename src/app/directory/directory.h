/*
 * directory.h — the directory of people (who is who, and what they can help
 * with) and each person's own profile.
 *
 * Members, the executive and administrators see every active person. Partners
 * see only the executive and the people who chose to be visible to partners
 * (policy_directory_partner_view and policy_may_see_person): the SQL filters
 * on it, so a partner's list, search and page count never include anyone
 * else, and a profile they may not see is a 404, exactly like one that does
 * not exist. Deactivated people are not listed.
 */
#ifndef SHOAL_APP_DIRECTORY_H
#define SHOAL_APP_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "app/admin/listing.h"
#include "app/page.h"
#include "http/http.h"

#define DIRECTORY_PAGE_SIZE     50
#define DIRECTORY_SUMMARY_BYTES 240 /* "can help with" shown in the list before "…" */
#define DIRECTORY_MAX_ORGS      50  /* organisations shown for one person */
#define DIRECTORY_MAX_LINES     100 /* lines of "can help with" on a profile */

struct directory_org {
	const char *name;
	bool lead;
};

struct directory_person {
	long long id;
	const char *name, *job_title, *role_label, *can_help_with;
	struct directory_org *orgs;
	size_t n_orgs;
};

/* The view of templates/people.html. */
struct directory_view {
	struct form_errors errors;
	const char *q, *q_error;
	bool partner_view;
	const struct directory_person *people;
	size_t n_people;
	struct listing_pager pager;
};

/* The view of templates/people_person.html. */
struct directory_profile_view {
	const struct directory_person *person;
	const char *const *help_lines; /* "can help with", one paragraph a line */
	size_t n_help_lines;
	bool own;    /* the viewer's own profile: link to edit it */
	bool manage; /* the viewer may manage people: link to the admin page */
	bool visible_to_partners;
};

/* The view of templates/people_profile.html (the form on /account/profile). */
struct directory_edit_view {
	struct form_errors errors;
	const char *csrf;
	const char *job_title, *can_help_with;
	bool visible_to_partners;
	const char *job_title_error, *can_help_with_error;
	bool saved;
	long long id;
	char text_limit[32]; /* LIMIT_TEXT_BYTES, formatted */
};

/** GET /people */
void directory_page(struct http_request *req, struct http_response *res);
/** GET /people/{id} */
void directory_person_page(struct http_request *req, struct http_response *res);
/** GET /account/profile */
void directory_profile_page(struct http_request *req, struct http_response *res);
/** POST /account/profile */
void directory_profile_save(struct http_request *req, struct http_response *res);

/** The label of a stored role for people to read ("Executive team"). */
const char *directory_role_label(const char *role);

#endif
