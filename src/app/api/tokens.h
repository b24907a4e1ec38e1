/*
 * tokens.h — personal access tokens for the JSON API: the model, the pages on
 * which people create and revoke their own, and `shoal token create`.
 *
 * A token is "shoal_" and 43 random base64url characters. The prefix lets
 * secret scanners (GitHub's, gitleaks) recognise a leaked Shoal token; the
 * database keeps only the SHA-256 of the whole string, so the token is shown
 * once, when it is made, and never again. Scope is "read" (GET only) or
 * "write"; src/app/access.c turns "Authorization: Bearer" into a viewer and
 * applies the scope, and policy_may_hold_token keeps partners to read tokens.
 */
#ifndef SHOAL_APP_API_TOKENS_H
#define SHOAL_APP_API_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "app/page.h"
#include "auth/crypto.h"
#include "core/cli.h"
#include "db/db.h"
#include "http/http.h"

#define TOKENS_PREFIX "shoal_"
#define TOKENS_CHARS  (sizeof TOKENS_PREFIX - 1 + AUTH_TOKEN_CHARS) /* 49 */

/* Limits (kept beside the feature, as mail.h does): a name says what the token
 * is for; a person with more than a handful of live tokens has forgotten some. */
#define TOKENS_NAME_MAX_CHARS 100
#define TOKENS_NAME_MAX_BYTES (4 * TOKENS_NAME_MAX_CHARS)
#define TOKENS_MAX_PER_PERSON 20

/* tokens_create's refusals, beside the negative enum db_rc codes. */
enum tokens_rc {
	TOKENS_ERR_TOO_MANY = -20,  /* the person already holds TOKENS_MAX_PER_PERSON live tokens */
	TOKENS_ERR_NO_PERSON = -21, /* no such active person */
};

/* One live token, as its holder sees it (never the token itself). */
struct token_row {
	int64_t id;
	char name[TOKENS_NAME_MAX_BYTES + 1];
	bool write;
	int64_t created_at;
	int64_t last_used_at; /* 0: never used */
};

/**
 * Trims a token name into out and checks it: required, valid UTF-8 without
 * control characters, at most TOKENS_NAME_MAX_CHARS characters. Returns NULL
 * when it will do, or a message that says how to fix it.
 */
const char *tokens_clean_name(const char *in, char out[TOKENS_NAME_MAX_BYTES + 1]);
/** Writes a fresh token: TOKENS_PREFIX and AUTH_TOKEN_CHARS random characters, NUL-ended. */
void tokens_generate(char out[TOKENS_CHARS + 1]);

/**
 * Makes a token for an active person, inside the caller's transaction (so that
 * its audit entry commits with it). Writes the token, to be shown once, and its
 * id. Returns 0, TOKENS_ERR_TOO_MANY, TOKENS_ERR_NO_PERSON or a negative enum db_rc.
 * Does not check policy: callers ask policy_may_hold_token first.
 */
int tokens_create(struct db_conn *c, int64_t person_id, const char *name, bool write,
                  char token[TOKENS_CHARS + 1], int64_t *id) __attribute__((warn_unused_result));
/** A person's live tokens, newest first (at most TOKENS_MAX_PER_PERSON). Returns 0 or < 0. */
int tokens_list(struct db_conn *c, int64_t person_id, struct token_row out[TOKENS_MAX_PER_PERSON],
                int *n) __attribute__((warn_unused_result));
/**
 * Finds a token by id, revoked or not, for a policy check before revoking: 1 and
 * its holder and row, 0 when there is none, or < 0.
 */
int tokens_find(struct db_conn *c, int64_t id, int64_t *owner, struct token_row *row)
    __attribute__((warn_unused_result));
/**
 * Revokes token id for the viewer of req, with its audit entry, in one
 * transaction; how ends the audit detail (e.g. ", through the API"). Returns 1
 * when it is revoked (now or before), 0 when the viewer holds no such token
 * (policy_may_revoke_token), or < 0 (DB_ERR_CONN: the database cannot be reached).
 */
int tokens_revoke_as(struct http_request *req, int64_t id, const char *how)
    __attribute__((warn_unused_result));
/** Revokes a token: 1 revoked now, 0 already revoked (or none), < 0 error. */
int tokens_revoke(struct db_conn *c, int64_t id) __attribute__((warn_unused_result));

/* The pages' views (templates/tokens.html, templates/tokens_created.html). */
struct token_item {
	int64_t id;
	const char *name;
	int write;
	char created[48];
	char last_used[48]; /* "" when never used */
};

struct tokens_view {
	struct form_errors errors;
	const char *csrf;
	const char *notice;
	const struct token_item *tokens;
	int n;
	int max;
	int partner; /* may hold read tokens only */
	const char *name;
	int write;
	const char *name_error;
	const char *scope_error;
};

struct token_created_view {
	const char *name;
	const char *token;
	int write;
};

/** GET /account/tokens: the person's tokens and a form to create one. */
void tokens_page(struct http_request *req, struct http_response *res);
/** POST /account/tokens: creates a token and shows it once. */
void tokens_create_page(struct http_request *req, struct http_response *res);
/** POST /account/tokens/{id}/revoke */
void tokens_revoke_page(struct http_request *req, struct http_response *res);

/** `shoal token create --email E [--scope read|write] [--name N]`: prints the token alone. */
int cmd_token_create(struct cli *cli);
extern const struct cli_option token_create_options[];

#endif
