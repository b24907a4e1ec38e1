/* fuzz_form.c — urlencoded form bodies (src/http/form.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f;
	if (form_parse(&f, (const char *)data, size) == 0) {
		/* Every name and value decoded is valid UTF-8 with no NUL. */
		for (int i = 0; i < f.n; i++)
			if (!utf8_valid(f.names[i], strlen(f.names[i])) ||
			    !utf8_valid(f.values[i], strlen(f.values[i])))
				abort();
		form_free(&f);
	}
	return 0;
}
