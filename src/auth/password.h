/*
 * password.h — password hashing (argon2id) and the NCSC rules for new passwords.
 *
 * NCSC guidance: no composition rules, no forced expiry, a minimum length
 * (LIMIT_PASSWORD_MIN_CHARS) and a deny-list of common passwords. The list is
 * john-data's password.lst (a Debian package), read once at start-up.
 */
#ifndef SHOAL_AUTH_PASSWORD_H
#define SHOAL_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_BYTES 128 /* crypto_pwhash_STRBYTES */

/** Loads the common-password list (path NULL = the Debian default). Returns the count, or -1. */
int password_load_common(const char *path);
/** Why a new password is not acceptable, in plain English, or NULL when it is fine. */
const char *password_problem(const char *password);
/** Hashes a password with argon2id. Returns 0, or -1 when out of memory. */
int password_hash(const char *password, char out[PASSWORD_HASH_BYTES]);
/**
 * Checks a password against a stored hash; *rehash is set when the hash was made
 * with older parameters and should be replaced. A NULL hash (no password set,
 * or no such account) is checked against a dummy so that timing reveals nothing.
 */
bool password_verify(const char *password, const char *hash, bool *rehash);

#endif
