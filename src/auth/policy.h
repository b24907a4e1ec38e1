/*
 * policy.h — who may do what: every access decision in Shoal is made here.
 *
 * Routes declare the least role they need (enum access, in src/app/routes.c)
 * and the before hook (src/app/access.c) asks policy_allows before the handler
 * runs. Decisions about one object (may this person invite to that practice?)
 * are the policy_may_* functions, which handlers call. A test matrix
 * (tests/http/policy.test.mjs) checks every route against every role.
 */
#ifndef SHOAL_AUTH_POLICY_H
#define SHOAL_AUTH_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"

/* A person's place in the collective (people.role). Leading a practice is a
 * membership flag on top of ROLE_MEMBER (or any role). */
enum role { ROLE_MEMBER, ROLE_EXECUTIVE, ROLE_ADMINISTRATOR, ROLE_PARTNER };

/* The least a route needs. Each level includes those above it in this list,
 * except that partners only ever pass ACCESS_PUBLIC and ACCESS_SIGNED_IN. */
enum access {
	ACCESS_PUBLIC = 0, /* anyone, signed in or not */
	ACCESS_ENROLLING,  /* any signed-in person, even one who must still set up MFA */
	ACCESS_SIGNED_IN,  /* any active person, partners included */
	ACCESS_MEMBER,     /* staff of member practices, the executive, administrators */
	ACCESS_LEAD,       /* practice leads (of some practice), the executive, administrators */
	ACCESS_EXECUTIVE,  /* the executive and administrators */
	ACCESS_ADMIN,      /* administrators */
};

enum via { VIA_NONE, VIA_SESSION, VIA_TOKEN };

/* Who is asking: loaded once per request by src/app/access.c. */
struct viewer {
	int64_t person_id; /* 0 when anonymous */
	enum role role;
	bool leads; /* leads at least one practice */
	bool mfa_enrolled;
	char email[LIMIT_EMAIL_BYTES + 1];
	char name[LIMIT_NAME_BYTES + 1];
	enum via via;
	int64_t session_id;
	bool mfa_pending;   /* signed in with a password, second factor still to come */
	int64_t expires_at; /* when the session ends if idle (for the timeout warning) */
	char csrf[48];      /* the session's CSRF token */
	bool token_write;   /* an API token with write scope */
};

/** The role named s ("member", "executive", "administrator", "partner"); -1 if none. */
int policy_role_from_name(const char *s);
/** The name of a role, as stored. */
const char *policy_role_name(enum role r);
/** Whether v may call a route that needs access a. */
bool policy_allows(const struct viewer *v, enum access a);
/** Whether v must enrol in MFA before doing anything else (executives and administrators
 * signed in through a browser; API tokens are issued to them only by an administrator). */
bool policy_requires_mfa(const struct viewer *v);
/**
 * Whether v may invite someone with invited_role ("member", "practice-lead",
 * "executive", "administrator", "partner") to organisation_id (0 = none).
 * lead_of_organisation says whether v leads that organisation.
 */
bool policy_may_invite(const struct viewer *v, const char *invited_role, bool lead_of_organisation);
/** Whether v may decide a request to join an organisation v does or does not lead. */
bool policy_may_decide_join(const struct viewer *v, bool lead_of_organisation);
/** Whether v may see a person's profile in the directory. */
bool policy_may_see_person(const struct viewer *v, enum role person_role,
                           bool person_visible_to_partners);

#endif
