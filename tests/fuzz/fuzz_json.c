/* fuzz_json.c — JSON API bodies (json_parse_body in src/render/json.c): the size
 * and nesting limits checked before jansson, then jansson itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "render/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How deep v nests; a document past LIMIT_JSON_DEPTH must have been refused. */
static int depth_of(const json_t *v)
{
	int deepest = 0;
	if (json_is_array(v)) {
		size_t i;
		const json_t *e;
		json_array_foreach(v, i, e)
		{
			int d = depth_of(e);
			if (d > deepest)
				deepest = d;
		}
		return deepest + 1;
	}
	if (json_is_object(v)) {
		const char *k;
		const json_t *e;
		json_object_foreach((json_t *)v, k, e)
		{
			int d = depth_of(e);
			if (d > deepest)
				deepest = d;
		}
		return deepest + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200];
	unsigned status = 0;
	json_t *doc = json_parse_body((const char *)data, size, &status, err, sizeof err);
	if (!doc) {
		/* The message goes back to the client as a JSON string: it must be
		 * printable ASCII, and the status one of the two documented. */
		for (const char *p = err; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
		if (status != 400 && status != 413)
			abort();
		/* It must also survive being written as an answer. */
		json_t *answer = json_pack("{s:s}", "error", err);
		if (!answer)
			abort();
		json_decref(answer);
		return 0;
	}
	if (size > LIMIT_JSON_BYTES || depth_of(doc) > LIMIT_JSON_DEPTH)
		abort();
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		abort();
	free(text);
	json_decref(doc);
	return 0;
}
