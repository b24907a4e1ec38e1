/* fuzz_email.c — email address normalisation (src/app/people/people.c): what
 * it accepts is short, lower-case, one @, and safe in a mail header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/people/people.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[LIMIT_EMAIL_BYTES + 1];
	memcpy(s, data, size);
	s[size] = '\0';
	if (people_normalise_email(s, out) == 0) {
		if (strlen(out) > LIMIT_EMAIL_BYTES || strpbrk(out, "\r\n<> ,;") ||
		    strchr(out, '@') != strrchr(out, '@'))
			abort();
	}
	free(s);
	return 0;
}
