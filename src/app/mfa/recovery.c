/*
 * recovery.c — making and reading recovery codes (see mfa.h).
 *
 * Kept apart from mfa.c, which needs the whole web layer, so that the unit
 * tests can check the code format on its own.
 */
#include <sodium.h>
#include <string.h>

#include "app/mfa/mfa.h"

/* Lower-case letters and digits that cannot be mistaken for each other when
 * written down: no i, l, o, 0 or 1. */
static const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

void mfa_recovery_code_new(char out[MFA_RECOVERY_CODE_CHARS + 4])
{
	size_t o = 0;
	for (int i = 0; i < MFA_RECOVERY_CODE_CHARS; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = recovery_alphabet[randombytes_uniform(sizeof recovery_alphabet - 1)];
	}
	out[o] = '\0';
}

int mfa_recovery_code_normalise(const char *typed, char out[MFA_RECOVERY_CODE_CHARS + 1])
{
	size_t n = 0;
	if (!typed || strlen(typed) > MFA_INPUT_MAX_BYTES)
		return -1;
	for (const char *p = typed; *p; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		if (ch == ' ' || ch == '-')
			continue;
		if (!strchr(recovery_alphabet, ch) || n == MFA_RECOVERY_CODE_CHARS)
			return -1;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == MFA_RECOVERY_CODE_CHARS ? 0 : -1;
}
