/* fuzz_html.c — the escaping writer (src/render/html.c): no markup survives
 * html_text, and html_url never lets a dangerous scheme through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct buf out;
	buf_init(&out, 16 * size + 64);
	html_text(&out, s);
	if (out.data && strpbrk(out.data, "<>\"'"))
		abort();
	buf_clear(&out);
	html_url(&out, s);
	if (out.data && (strpbrk(out.data, "<>\"'") || !strncasecmp(out.data, "javascript:", 11)))
		abort();
	buf_free(&out);
	free(s);
	return 0;
}
