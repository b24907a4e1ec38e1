/*
 * format.c — numbers as people read them (see format.h).
 */
#include "core/format.h"

#include <stdio.h>
#include <string.h>

char *format_thousands(char out[32], long long v)
{
	char digits[24];
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	int n = snprintf(digits, sizeof digits, "%llu", u);
	char *p = out;
	if (v < 0)
		*p++ = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			*p++ = ',';
		*p++ = digits[i];
	}
	*p = '\0';
	return out;
}
