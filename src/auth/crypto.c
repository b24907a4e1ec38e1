/*
 * crypto.c — random tokens and hashes on libsodium (see crypto.h).
 */
#include "auth/crypto.h"

#include <sodium.h>
#include <string.h>

int auth_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void auth_random_token(char out[AUTH_TOKEN_CHARS + 1])
{
	unsigned char bytes[32];
	randombytes_buf(bytes, sizeof bytes);
	sodium_bin2base64(out, AUTH_TOKEN_CHARS + 1, bytes, sizeof bytes,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void auth_hash_token(const char *s, char out[AUTH_HASH_CHARS + 1])
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(hash, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, AUTH_HASH_CHARS + 1, hash, sizeof hash);
}

bool auth_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}
