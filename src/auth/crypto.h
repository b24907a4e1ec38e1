/*
 * crypto.h — random tokens, token hashes and constant-time comparison (libsodium).
 *
 * Every secret Shoal hands out (session cookies, CSRF tokens, links in emails,
 * API tokens) is 32 random bytes in URL-safe base64; the database keeps only a
 * SHA-256 of it, so a copy of the database opens no account.
 */
#ifndef SHOAL_AUTH_CRYPTO_H
#define SHOAL_AUTH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_TOKEN_CHARS 43 /* 32 bytes in unpadded base64url */
#define AUTH_HASH_CHARS  64 /* SHA-256 in hex */

/** Initialises libsodium; call once before threads start. Returns 0 or -1. */
int auth_crypto_init(void);
/** Writes a fresh random token (AUTH_TOKEN_CHARS + NUL). */
void auth_random_token(char out[AUTH_TOKEN_CHARS + 1]);
/** Writes the hex SHA-256 of s (AUTH_HASH_CHARS + NUL). */
void auth_hash_token(const char *s, char out[AUTH_HASH_CHARS + 1]);
/** Compares two strings in time that depends only on their lengths. */
bool auth_equal(const char *a, const char *b);

#endif
