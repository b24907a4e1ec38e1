/*
 * invitations.h — inviting people by email, and accepting an invitation.
 *
 * Shoal has no self-registration: administrators, the executive and practice
 * leads invite people (policy_may_invite says whom to what). An invitation is a
 * single-use link valid for ENROLMENT_INVITATION_SECONDS that the inviter can
 * cancel. Accepting it creates the person and their membership, marks the
 * invitation used and signs them in, all in one transaction; the UPDATE that
 * marks it used only matches an invitation still open, so two people racing
 * with one link cannot both get an account.
 */
#ifndef SHOAL_APP_INVITATIONS_H
#define SHOAL_APP_INVITATIONS_H

#include <stdint.h>

#include "app/enrolment/enrolment.h"
#include "app/page.h"
#include "db/db.h"
#include "http/http.h"

/* One row of the invitations list. */
struct invite_row {
	int64_t id;
	const char *email, *name, *role, *organisation, *invited_by;
	char sent[32], expires[32];
	const char *status;    /* Pending, Accepted, Expired, Cancelled */
	const char *tag_class; /* the nhsuk-tag colour of the status */
	int may_cancel;
};

/* The view of templates/invite_list.html. */
struct invite_list_view {
	const char *csrf;
	const char *notice; /* after sending or cancelling */
	const struct invite_row *rows;
	size_t n_rows;
	int truncated; /* more than ENROLMENT_LIST_ROWS exist */
	int all;       /* the viewer sees every invitation, not only their practices' */
};

/* A choice in a list of radios or a select. */
struct invite_option {
	const char *value, *label, *hint;
	int selected;
};

/* The view of templates/invite_new.html. */
struct invite_new_view {
	struct form_errors errors;
	const char *csrf;
	const char *email, *name;
	const struct invite_option *roles;
	size_t n_roles;
	const struct invite_option *organisations;
	size_t n_organisations;
	int organisation_chosen; /* one of organisations is selected */
	int own_practices;       /* the viewer invites only to the practices they lead */
	const char *email_error, *name_error, *role_error, *organisation_error;
};

/* The view of templates/invite_accept.html. */
struct invite_accept_view {
	struct form_errors errors;
	const char *csrf;
	const char *token;
	const char *collective, *inviter, *role, *organisation, *email, *expires;
	const char *name;
	const char *name_error;
	struct enrolment_password_fields pw;
};

/* What invitations_create needs to know. */
struct invitation_new {
	const char *email; /* normalised */
	const char *name;
	const char *role;        /* member, practice-lead, executive, administrator, partner */
	int64_t organisation_id; /* 0 for none */
};

enum invitation_rc {
	INVITATION_OK = 0,
	INVITATION_ERR = -1,             /* database or mail failure (logged) */
	INVITATION_ACCOUNT_EXISTS = -20, /* the email address already has an account */
	INVITATION_PENDING = -21,        /* an open invitation to it exists */
};

/**
 * Creates an invitation from the request's viewer, queues its email and records
 * "invitation-sent", all on c inside the caller's transaction (the caller
 * commits, then calls mail_wake). The caller has already asked the policy.
 * Returns an enum invitation_rc; *id is the new invitation's id.
 */
int invitations_create(struct db_conn *c, struct http_request *req,
                       const struct invitation_new *inv, int64_t *id)
    __attribute__((warn_unused_result));

/** How a role reads in a sentence: "a practice lead". */
const char *invitations_role_phrase(const char *role);

/** GET /invitations (ACCESS_LEAD) */
void invitations_list(struct http_request *req, struct http_response *res);
/** GET /invitations/new (ACCESS_LEAD) */
void invitations_new_page(struct http_request *req, struct http_response *res);
/** POST /invitations/new (ACCESS_LEAD) */
void invitations_send(struct http_request *req, struct http_response *res);
/** POST /invitations/{id}/revoke (ACCESS_LEAD, then policy_may_revoke_invitation) */
void invitations_revoke(struct http_request *req, struct http_response *res);
/** GET /invitations/accept/{token} (ACCESS_PUBLIC) */
void invitations_accept_page(struct http_request *req, struct http_response *res);
/** POST /invitations/accept/{token} (ACCESS_PUBLIC) */
void invitations_accept(struct http_request *req, struct http_response *res);

#endif
