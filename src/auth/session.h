/*
 * session.h — who is asking: browser sessions and API tokens, held in the
 * database so that any node can answer any request.
 *
 * Only SHA-256 hashes of session and API tokens are stored. A session ends
 * after LIMIT_SESSION_IDLE without a request, or LIMIT_SESSION_ABSOLUTE after
 * sign-in, whichever comes first; a deactivated person's sessions and tokens
 * stop working at once.
 */
#ifndef SHOAL_AUTH_SESSION_H
#define SHOAL_AUTH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/crypto.h"
#include "auth/policy.h"
#include "db/db.h"

#define SESSION_COOKIE "shoal_session"

/**
 * Starts a session for a person. mfa_pending marks a session that has passed
 * the password but not yet the second factor. Writes the cookie's token.
 */
int session_create(struct db_conn *c, int64_t person_id, bool mfa_pending, const char *user_agent,
                   const char *address, char token[AUTH_TOKEN_CHARS + 1], int64_t *session_id)
    __attribute__((warn_unused_result));
/** Marks the second factor done, and replaces the token (a new token for a new privilege). */
int session_complete_mfa(struct db_conn *c, int64_t session_id, char token[AUTH_TOKEN_CHARS + 1])
    __attribute__((warn_unused_result));
/** Ends one session. */
int session_end(struct db_conn *c, int64_t session_id);
/** Ends every session of a person ("sign out of all devices", deactivation, password change). */
int session_end_all(struct db_conn *c, int64_t person_id);
/** Keeps a session alive now (the "stay signed in" button). */
int session_touch(struct db_conn *c, int64_t session_id);

/**
 * Loads the viewer behind a session token. Returns 1 when found and still
 * valid, 0 when there is none (or it timed out: then it is deleted), < 0 on error.
 */
int session_load_viewer(struct db_conn *c, const char *token, struct viewer *v)
    __attribute__((warn_unused_result));
/** Same for an API token ("Authorization: Bearer …"). */
int session_load_token_viewer(struct db_conn *c, const char *token, struct viewer *v)
    __attribute__((warn_unused_result));

/** Fills the person part of a viewer (role, name, MFA, leadership) by id. 1 found, 0 not, < 0
 * error. */
int session_load_person(struct db_conn *c, int64_t person_id, struct viewer *v)
    __attribute__((warn_unused_result));

#endif
