/*
 * throttle.h — counts failed sign-ins per account and per address, in the
 * database so that every node sees the same counts, and locks a key for
 * LIMIT_SIGNIN_WINDOW once it reaches its limit.
 */
#ifndef SHOAL_AUTH_THROTTLE_H
#define SHOAL_AUTH_THROTTLE_H

#include <stdint.h>

#include "db/db.h"

/** 1 when key is locked now (and *until says till when), 0 when not, < 0 on error. */
int throttle_locked(struct db_conn *c, const char *key, int64_t *until)
    __attribute__((warn_unused_result));
/**
 * 1 when key or other_key is locked now, 0 when neither is, < 0 on error. Each
 * limited action counts under two keys (say the account and the address), and
 * either one reaching its limit stops it.
 */
int throttle_locked_either(struct db_conn *c, const char *key, const char *other_key)
    __attribute__((warn_unused_result));
/** Counts one failure against key; locks it when failures reach limit. Returns 0 or < 0. */
int throttle_fail(struct db_conn *c, const char *key, int limit)
    __attribute__((warn_unused_result));
/** Forgets key's failures (after a successful sign-in). */
int throttle_clear(struct db_conn *c, const char *key);

#endif
