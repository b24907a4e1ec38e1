/* fuzz_markdown.c — the Markdown renderer of posts (src/app/discussions/markdown.c):
 * any text, valid UTF-8 or not, renders without crashing, and no output carries a
 * script or an event handler in a tag. Mentions resolve to a fixed person so that
 * the tree surgery around them is exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/discussions/markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int resolve(void *ctx, const char *name, int64_t *id)
{
	(void)ctx;
	*id = 42;
	return name[0] == 'x' ? 0 : name[0] == 'y' ? 2 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 60000) /* posts are capped at 50,000 characters before rendering */
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0'; /* as from a form: text up to the first NUL */
	struct markdown_result r;
	if (markdown_render(s, resolve, NULL, &r) == 0) {
		/* Raw HTML is never passed through: every '<' starts a tag cmark-gfm wrote. */
		for (const char *t = strchr(r.html, '<'); t; t = strchr(t + 1, '<')) {
			if (!strncasecmp(t, "<script", 7) || !strncasecmp(t, "<img", 4) ||
			    !strncasecmp(t, "<iframe", 7) || !strncasecmp(t, "<svg", 4))
				abort();
			const char *end = strchr(t, '>');
			char quote = 0;
			for (const char *a = t; end && a < end; a++) {
				if (quote)
					quote = *a == quote ? 0 : quote;
				else if (*a == '"' || *a == '\'')
					quote = *a;
				else if ((*a == ' ' || *a == '\n') && !strncasecmp(a + 1, "on", 2))
					abort();
			}
			if (end && (!strncasecmp(t, "<a href=\"javascript:", 20) ||
			            !strncasecmp(t, "<a href=\"vbscript:", 18)))
				abort();
		}
		markdown_result_free(&r);
	}
	free(s);
	return 0;
}
