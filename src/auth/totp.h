/*
 * totp.h — time-based one-time codes (RFC 6238) for two-step sign-in, on liboath.
 *
 * A person's authenticator app and Shoal share a secret: 20 random bytes,
 * written in base32 (32 characters) so that it can be typed or put in a QR
 * code. Both derive a 6-digit code from the secret and the current 30-second
 * time step. Shoal accepts the codes of the step before and after the current
 * one too, because phone clocks drift and people type slowly.
 *
 * A code is accepted once: the step of the last accepted code is kept
 * (people.totp_last_step), and a code whose step is not later than it is
 * refused, so a code read over someone's shoulder or from a phishing page
 * cannot be used again.
 */
#ifndef SHOAL_AUTH_TOTP_H
#define SHOAL_AUTH_TOTP_H

#include <stdint.h>

#define TOTP_SECRET_BYTES 20 /* RFC 4226's recommended 160 bits, the HMAC-SHA-1 block */
#define TOTP_SECRET_CHARS 32 /* in base32, without padding */
#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS       6
#define TOTP_WINDOW       1 /* steps accepted either side of the current one */

enum totp_rc {
	TOTP_OK = 0,
	TOTP_WRONG = -1,     /* well formed, but not the code of any step in the window */
	TOTP_REUSED = -2,    /* the code of a step at or before the last one accepted */
	TOTP_MALFORMED = -3, /* not TOTP_DIGITS digits (spaces aside) */
	TOTP_ERROR = -4,     /* the secret is not valid base32, or liboath failed */
};

/** Writes a new random secret in base32 (TOTP_SECRET_CHARS + NUL). Thread-safe. */
void totp_new_secret(char out[TOTP_SECRET_CHARS + 1]);

/**
 * Writes the code of secret (base32) for the time step holding now (Unix
 * seconds), with digits digits (6 to 8), into out (digits + NUL).
 * Returns 0 or TOTP_ERROR.
 */
int totp_generate(const char *secret, int64_t now, unsigned digits, char *out)
    __attribute__((warn_unused_result));

/**
 * Copies code into out without the spaces and hyphens people type between
 * groups of digits. Returns 0 when what is left is TOTP_DIGITS digits, else
 * TOTP_MALFORMED (out is then empty).
 */
int totp_normalise(const char *code, char out[TOTP_DIGITS + 1]) __attribute__((warn_unused_result));

/**
 * Checks code against secret at time now, within TOTP_WINDOW steps either
 * side. last_step is the step of the last code accepted for this secret (0 if
 * none). Returns TOTP_OK and sets *step to the step matched (store it as the
 * new last step), or TOTP_WRONG, TOTP_REUSED, TOTP_MALFORMED or TOTP_ERROR.
 * The comparison takes the same time whichever digits are wrong.
 */
int totp_verify(const char *secret, const char *code, int64_t now, int64_t last_step, int64_t *step)
    __attribute__((warn_unused_result));

/** Writes secret in groups of four characters ("JBSW Y3DP …"), for people to type. */
void totp_group(const char *secret, char out[TOTP_SECRET_CHARS + TOTP_SECRET_CHARS / 4 + 1]);

#endif
