/*
 * enrolment.h — what invitations, requests to join and password resets share:
 * their limits, the message page, links in emails, UK dates, the allowed
 * email domains, and the audit call.
 *
 * The three features are the only ways into Shoal (there is no
 * self-registration), so they live together in src/app/enrolment/ and keep
 * one set of rules: every link carries a single-use random token of which the
 * database keeps only a hash, every change is one transaction with its audit
 * entry and its email, and no page or message says whether an account exists.
 */
#ifndef SHOAL_APP_ENROLMENT_H
#define SHOAL_APP_ENROLMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/page.h"
#include "auth/policy.h" /* templates/account.html reads roles with policy_role_from_name */
#include "core/limits.h"
#include "db/db.h"
#include "http/http.h"

/* How long links stay valid. */
#define ENROLMENT_INVITATION_SECONDS (14 * 24 * 3600) /* "valid 14 days" */
#define ENROLMENT_RESET_SECONDS      3600             /* "valid 1 hour" */

/* Limits on what the pages show and accept. */
#define ENROLMENT_LIST_ROWS         200  /* newest invitations or requests on one page */
#define ENROLMENT_MAX_ORGANISATIONS 5000 /* choices in an organisation list */
#define ENROLMENT_MAX_DOMAINS       50   /* allowed email domains */
#define ENROLMENT_DOMAIN_BYTES      253  /* one domain name (RFC 1035) */
#define ENROLMENT_DOMAINS_BYTES     (ENROLMENT_MAX_DOMAINS * (ENROLMENT_DOMAIN_BYTES + 1))
#define ENROLMENT_MESSAGE_BYTES     1000 /* "what you do at the practice" on a request to join */
#define ENROLMENT_LEADS_NOTIFIED    20   /* emails about one request to join */
#define ENROLMENT_LINK_BYTES        (LIMIT_CONFIG_VALUE_BYTES + 64)

/* Throttles (src/auth/throttle.h), each counted over LIMIT_SIGNIN_WINDOW: enough
 * for a person who mistypes, too few to fill someone's inbox. */
#define ENROLMENT_RESET_PER_EMAIL   5
#define ENROLMENT_RESET_PER_ADDRESS 50 /* many staff share an NHS gateway address */
#define ENROLMENT_JOIN_PER_EMAIL    3
#define ENROLMENT_JOIN_PER_ADDRESS  20

/* The view of templates/invite_message.html: a page of plain text, for
 * confirmations and for links that no longer work. */
#define ENROLMENT_MAX_PARAGRAPHS 4
struct enrolment_message {
	const char *title; /* the <title>; the heading when NULL */
	const char *heading;
	const char *paragraphs[ENROLMENT_MAX_PARAGRAPHS];
	int n_paragraphs;
	const char *link_href; /* a link to what to do next, or NULL */
	const char *link_text;
	int success; /* shown as a confirmation panel */
};

/* The view of templates/invite_password.html: "choose a password" twice, on the
 * invitation and password reset forms. */
struct enrolment_password_fields {
	const char *password_error, *confirm_error;
};

/**
 * Checks a new password and its confirmation (NCSC rules: password_problem),
 * sets the messages in pw and adds them to errors (fields "password" and
 * "confirm-password"). Returns the number of problems.
 */
int enrolment_check_password(const char *password, const char *confirm,
                             struct enrolment_password_fields *pw, struct form_errors *errors);

/** Renders m as the page, with res->status set to status (200, 404, 409, 410 …). */
void enrolment_render_message(struct http_request *req, struct http_response *res, unsigned status,
                              const struct enrolment_message *m);

/**
 * Appends an audit entry for the request's client address, on c and so inside
 * its transaction. subject_kind/subject_id make a subject like "invitation:12"
 * (subject_kind NULL for none). Returns 0 or a negative enum db_rc.
 */
int enrolment_audit(struct db_conn *c, const struct http_request *req, int64_t actor_id,
                    const char *actor, const char *action, const char *subject_kind,
                    int64_t subject_id, const char *detail) __attribute__((warn_unused_result));

/**
 * Writes base_url + path + token (token may be NULL) into out: the link for an
 * email. A trailing '/' of base_url is dropped. Returns 0, or -1 if it does not fit.
 */
int enrolment_link(const struct http_request *req, const char *path, const char *token,
                   char out[ENROLMENT_LINK_BYTES]);

/** Whether a token from a link has the form of auth_random_token's (so it is worth a lookup). */
bool enrolment_token_plausible(const char *token);

/** Why name is not acceptable as a person's name (a message for the form), or NULL.
 * if_empty is the message for a missing name ("Enter your full name"). */
const char *enrolment_name_problem(const char *name, const char *if_empty);

/** Copies s into out without leading and trailing white space (out of outlen bytes). */
void enrolment_trim(const char *s, char *out, size_t outlen);

/** Whether person_id leads organisation_id: 1 yes, 0 no, < 0 error. */
int enrolment_leads(struct db_conn *c, int64_t person_id, int64_t organisation_id)
    __attribute__((warn_unused_result));

/**
 * Reads the allowed email domains (settings key "allowed_domains",
 * comma-separated, lower-case) into out; "" when none are set. Read per request
 * so that every node sees a change at once. Returns 0 or a negative enum db_rc.
 */
int enrolment_allowed_domains(struct db_conn *c, char out[ENROLMENT_DOMAINS_BYTES + 1])
    __attribute__((warn_unused_result));

/**
 * Whether email (normalised) is at one of domains (as stored): its domain is
 * one of them or a subdomain of one ("gp.nhs.net" is in "nhs.net").
 */
bool enrolment_domain_allowed(const char *domains, const char *email);

/**
 * Parses what an administrator typed as allowed domains: separated by commas,
 * spaces or new lines, a leading '@' ignored, duplicates dropped. Writes them
 * comma-separated and lower-case to out. Returns 0, or -1 with a message for
 * the form in problem (naming the domain that is wrong).
 */
int enrolment_parse_domains(const char *in, char out[ENROLMENT_DOMAINS_BYTES + 1], char *problem,
                            size_t problemlen);

/** Writes domains (as stored) for people to read: "nhs.net or wyvern.example" into out. */
void enrolment_domains_phrase(const char *domains, char *out, size_t outlen);

#endif
