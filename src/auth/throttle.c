/*
 * throttle.c — failed sign-in counters (see throttle.h).
 */
#include "auth/throttle.h"

#include <time.h>

#include "core/limits.h"

int throttle_locked(struct db_conn *c, const char *key, int64_t *until)
{
	struct db_stmt *st = db_prepare(c, "SELECT locked_until FROM throttle WHERE key = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	int rc = db_step(st);
	*until = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc < 0)
		return rc;
	return *until > (int64_t)time(NULL);
}

int throttle_locked_either(struct db_conn *c, const char *key, const char *other_key)
{
	int64_t until;
	int locked = throttle_locked(c, key, &until);
	return locked == 0 ? throttle_locked(c, other_key, &until) : locked;
}

int throttle_fail(struct db_conn *c, const char *key, int limit)
{
	int64_t now = (int64_t)time(NULL);
	/* A failure outside the window starts a new count. */
	struct db_stmt *st =
	    db_prepare(c, "INSERT INTO throttle (key, failures, window_start, locked_until) "
	                  "VALUES ($1, 1, $2, 0) ON CONFLICT (key) DO UPDATE SET "
	                  "failures = CASE WHEN throttle.window_start < $3 THEN 1 ELSE "
	                  "throttle.failures + 1 END, "
	                  "window_start = CASE WHEN throttle.window_start < $3 THEN $2 "
	                  "ELSE throttle.window_start END "
	                  "RETURNING failures");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	db_bind_int(st, 2, now);
	db_bind_int(st, 3, now - LIMIT_SIGNIN_WINDOW);
	int rc = db_step(st);
	int64_t failures = rc == DB_ROW ? db_col_int(st, 0) : 0;
	if (rc == DB_ROW)
		rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	if (failures < limit)
		return 0;
	st = db_prepare(c, "UPDATE throttle SET locked_until = $2 WHERE key = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	db_bind_int(st, 2, now + LIMIT_SIGNIN_WINDOW);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

int throttle_clear(struct db_conn *c, const char *key)
{
	struct db_stmt *st = db_prepare(c, "DELETE FROM throttle WHERE key = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, key);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}
