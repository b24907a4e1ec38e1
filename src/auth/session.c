/*
 * session.c — database-held sessions and API tokens (see session.h).
 */
#include "auth/session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"

/* Touching last_seen_at on every request would make every read a write;
 * once a minute is precise enough for a 30-minute idle timeout. */
#define TOUCH_INTERVAL 60

int session_create(struct db_conn *c, int64_t person_id, bool mfa_pending, const char *user_agent,
                   const char *address, char token[AUTH_TOKEN_CHARS + 1], int64_t *session_id)
{
	char hash[AUTH_HASH_CHARS + 1], csrf[AUTH_TOKEN_CHARS + 1], agent[201];
	auth_random_token(token);
	auth_random_token(csrf);
	auth_hash_token(token, hash);
	snprintf(agent, sizeof agent, "%s", user_agent ? user_agent : "");
	int64_t now = (int64_t)time(NULL);
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO sessions (token_hash, person_id, csrf_token, mfa_pending, created_at, "
	       "last_seen_at, user_agent, address) VALUES ($1, $2, $3, $4, $5, $5, $6, $7) "
	       "RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	db_bind_int(st, 2, person_id);
	db_bind_text(st, 3, csrf);
	db_bind_int(st, 4, mfa_pending);
	db_bind_int(st, 5, now);
	db_bind_text(st, 6, agent);
	db_bind_text(st, 7, address ? address : "");
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*session_id = db_col_int(st, 0);
		rc = db_step(st);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

int session_complete_mfa(struct db_conn *c, int64_t session_id, char token[AUTH_TOKEN_CHARS + 1])
{
	char hash[AUTH_HASH_CHARS + 1];
	auth_random_token(token);
	auth_hash_token(token, hash);
	struct db_stmt *st = db_prepare(c, "UPDATE sessions SET mfa_pending = 0, token_hash = $1, "
	                                   "last_seen_at = $2 WHERE id = $3");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	db_bind_int(st, 2, (int64_t)time(NULL));
	db_bind_int(st, 3, session_id);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc;
}

static int run_one(struct db_conn *c, const char *sql, int64_t a, int64_t b, int n)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, a);
	if (n > 1)
		db_bind_int(st, 2, b);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc;
}

int session_end(struct db_conn *c, int64_t session_id)
{
	return run_one(c, "DELETE FROM sessions WHERE id = $1", session_id, 0, 1);
}

int session_end_all(struct db_conn *c, int64_t person_id)
{
	return run_one(c, "DELETE FROM sessions WHERE person_id = $1", person_id, 0, 1);
}

int session_touch(struct db_conn *c, int64_t session_id)
{
	return run_one(c, "UPDATE sessions SET last_seen_at = $2 WHERE id = $1", session_id,
	               (int64_t)time(NULL), 2);
}

/* A person's columns, the same in the two queries below: "role, email, name, MFA enrolled,
 * leads a practice", of a person who is not deactivated. */
#define PERSON_COLUMNS                                                                             \
	"p.role, p.email, p.name, p.totp_secret IS NOT NULL, "                                     \
	"EXISTS (SELECT 1 FROM memberships m WHERE m.person_id = p.id AND m.lead = 1)"

/* Fills v from PERSON_COLUMNS, read from column `first` of st's current row. */
static void read_person(struct db_stmt *st, int first, int64_t person_id, struct viewer *v)
{
	int role = policy_role_from_name(db_col_text(st, first));
	v->person_id = person_id;
	v->role = role < 0 ? ROLE_PARTNER : (enum role)role; /* unknown: least access */
	snprintf(v->email, sizeof v->email, "%s", db_col_text(st, first + 1));
	snprintf(v->name, sizeof v->name, "%s", db_col_text(st, first + 2));
	v->mfa_enrolled = db_col_int(st, first + 3) != 0;
	v->leads = db_col_int(st, first + 4) != 0;
}

int session_load_person(struct db_conn *c, int64_t person_id, struct viewer *v)
{
	struct db_stmt *st = db_prepare(c, "SELECT " PERSON_COLUMNS " FROM people p "
	                                   "WHERE p.id = $1 AND p.deactivated_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_person(st, 0, person_id, v);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

int session_load_viewer(struct db_conn *c, const char *token, struct viewer *v)
{
	char hash[AUTH_HASH_CHARS + 1];
	if (strlen(token) != AUTH_TOKEN_CHARS)
		return 0;
	auth_hash_token(token, hash);
	/* The session and its person in one statement: every signed-in request runs it, and
	 * on PostgreSQL each statement is a round trip. A deactivated person's row is NULL. */
	struct db_stmt *st =
	    db_prepare(c, "SELECT s.id, s.person_id, s.csrf_token, s.mfa_pending, s.created_at, "
	                  "s.last_seen_at, " PERSON_COLUMNS " FROM sessions s "
	                  "LEFT JOIN people p ON p.id = s.person_id AND p.deactivated_at IS NULL "
	                  "WHERE s.token_hash = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? 0 : rc;
	}
	/* Read aside, and given to v only if the session holds: a viewer with a person
	 * in it is a signed-in viewer, whatever this function returns. */
	struct viewer who = *v;
	int64_t id = db_col_int(st, 0), person = db_col_int(st, 1);
	int64_t created = db_col_int(st, 4), seen = db_col_int(st, 5);
	bool active = !db_col_is_null(st, 6); /* people.role is NOT NULL */
	snprintf(who.csrf, sizeof who.csrf, "%s", db_col_text(st, 2));
	who.mfa_pending = db_col_int(st, 3) != 0;
	if (active)
		read_person(st, 6, person, &who);
	db_reset(st);
	int64_t now = (int64_t)time(NULL);
	/* Expired, or its person deactivated (by a restore, say: deactivating deletes them). */
	if (!active || now - seen > LIMIT_SESSION_IDLE || now - created > LIMIT_SESSION_ABSOLUTE) {
		rc = session_end(c, id);
		return rc < 0 ? rc : 0;
	}
	if (now - seen > TOUCH_INTERVAL && (rc = session_touch(c, id)) < 0)
		return rc;
	*v = who;
	v->via = VIA_SESSION;
	v->session_id = id;
	int64_t idle_end = (now - seen > TOUCH_INTERVAL ? now : seen) + LIMIT_SESSION_IDLE;
	int64_t absolute_end = created + LIMIT_SESSION_ABSOLUTE;
	v->expires_at = idle_end < absolute_end ? idle_end : absolute_end;
	return 1;
}

int session_load_token_viewer(struct db_conn *c, const char *token, struct viewer *v)
{
	char hash[AUTH_HASH_CHARS + 1];
	if (strlen(token) > 100)
		return 0;
	auth_hash_token(token, hash);
	struct db_stmt *st =
	    db_prepare(c, "SELECT id, person_id, scope, last_used_at FROM api_tokens "
	                  "WHERE token_hash = $1 AND revoked_at IS NULL");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? 0 : rc;
	}
	int64_t id = db_col_int(st, 0), person = db_col_int(st, 1), used = db_col_int(st, 3);
	bool write = !strcmp(db_col_text(st, 2), "write");
	db_reset(st);
	int64_t now = (int64_t)time(NULL);
	if (now - used > TOUCH_INTERVAL &&
	    (rc = run_one(c, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, now, 2)) <
	        0)
		return rc;
	rc = session_load_person(c, person, v);
	if (rc != 1)
		return rc; /* a deactivated person's tokens stop working */
	v->via = VIA_TOKEN;
	v->token_write = write;
	return 1;
}
