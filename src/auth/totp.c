/*
 * totp.c — RFC 6238 codes on liboath (see totp.h).
 *
 * liboath computes the codes; this file adds what it leaves to its callers:
 * secret generation (libsodium's random bytes), the replay rule, and a
 * comparison that does not stop at the first differing digit. Each step of the
 * window is generated and compared in turn, rather than with
 * oath_totp_validate, so that a code of an already-used step can be told apart
 * from a wrong one and the step matched is known exactly.
 */
#include "auth/totp.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = OATH_OK;

static void oath_start(void)
{
	oath_status = oath_init();
}

/* liboath wants oath_init once before use; handlers call in from many threads. */
static int oath_ready(void)
{
	pthread_once(&oath_once, oath_start);
	if (oath_status != OATH_OK) {
		log_error("liboath cannot start: %s", oath_strerror(oath_status));
		return -1;
	}
	return 0;
}

void totp_new_secret(char out[TOTP_SECRET_CHARS + 1])
{
	/* Base32 by hand: 20 bytes are exactly 32 characters, with no padding, and
	 * this needs neither liboath's allocation nor a failure path. */
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char bytes[TOTP_SECRET_BYTES];
	randombytes_buf(bytes, sizeof bytes);
	size_t o = 0;
	for (size_t i = 0; i < sizeof bytes; i += 5) {
		uint64_t group = 0;
		for (size_t j = 0; j < 5; j++)
			group = group << 8 | bytes[i + j];
		for (int shift = 35; shift >= 0; shift -= 5)
			out[o++] = alphabet[(group >> shift) & 31];
	}
	out[o] = '\0';
	sodium_memzero(bytes, sizeof bytes);
}

/* Decodes a base32 secret; the caller frees *key (after wiping it). */
static int decode_secret(const char *secret, char **key, size_t *key_len)
{
	if (!secret || !*secret || strlen(secret) > 128 || oath_ready())
		return TOTP_ERROR;
	*key = NULL;
	if (oath_base32_decode(secret, strlen(secret), key, key_len) != OATH_OK || !*key_len) {
		free(*key);
		*key = NULL;
		return TOTP_ERROR;
	}
	return 0;
}

static void free_key(char *key, size_t key_len)
{
	if (key) {
		sodium_memzero(key, key_len);
		free(key);
	}
}

int totp_generate(const char *secret, int64_t now, unsigned digits, char *out)
{
	char *key;
	size_t key_len;
	if (digits < 6 || digits > 8 || now < 0 || decode_secret(secret, &key, &key_len))
		return TOTP_ERROR;
	int rc = oath_totp_generate(key, key_len, (time_t)now, TOTP_STEP_SECONDS,
	                            OATH_TOTP_DEFAULT_START_TIME, digits, out);
	free_key(key, key_len);
	return rc == OATH_OK ? 0 : TOTP_ERROR;
}

int totp_normalise(const char *code, char out[TOTP_DIGITS + 1])
{
	size_t n = 0;
	out[0] = '\0';
	if (!code)
		return TOTP_MALFORMED;
	for (const char *p = code; *p; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n == TOTP_DIGITS) {
			out[0] = '\0';
			return TOTP_MALFORMED;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n != TOTP_DIGITS) {
		out[0] = '\0';
		return TOTP_MALFORMED;
	}
	return 0;
}

int totp_verify(const char *secret, const char *code, int64_t now, int64_t last_step, int64_t *step)
{
	char typed[TOTP_DIGITS + 1];
	if (totp_normalise(code, typed))
		return TOTP_MALFORMED;
	char *key;
	size_t key_len;
	if (now < 0 || decode_secret(secret, &key, &key_len))
		return TOTP_ERROR;
	int64_t current = now / TOTP_STEP_SECONDS;
	bool fresh = false, reused = false;
	int rc = TOTP_OK;
	/* Every step of the window is computed, match or not, so that the time
	 * taken says nothing about which step (if any) matched. */
	for (int64_t s = current - TOTP_WINDOW; s <= current + TOTP_WINDOW; s++) {
		char expected[TOTP_DIGITS + 1];
		if (s < 0)
			continue;
		if (oath_totp_generate(key, key_len, (time_t)(s * TOTP_STEP_SECONDS),
		                       TOTP_STEP_SECONDS, OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS,
		                       expected) != OATH_OK) {
			rc = TOTP_ERROR;
			break;
		}
		if (sodium_memcmp(expected, typed, TOTP_DIGITS) != 0)
			continue;
		if (s > last_step && !fresh) {
			fresh = true;
			*step = s;
		} else if (s <= last_step) {
			reused = true;
		}
	}
	free_key(key, key_len);
	if (rc)
		return rc;
	return fresh ? TOTP_OK : reused ? TOTP_REUSED : TOTP_WRONG;
}

void totp_group(const char *secret, char out[TOTP_SECRET_CHARS + TOTP_SECRET_CHARS / 4 + 1])
{
	size_t o = 0;
	for (size_t i = 0; secret[i] && i < TOTP_SECRET_CHARS; i++) {
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = secret[i];
	}
	out[o] = '\0';
}
