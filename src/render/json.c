/*
 * json.c — JSON responses for the API (see json.h).
 */
#include "render/json.h"

#include <stdio.h>

#include "core/limits.h"

/* jansson calls this for each piece of the encoding; the buffer's cap stops a
 * runaway document, and -1 makes json_dump_callback give up at once. */
static int append(const char *data, size_t size, void *out)
{
	return buf_add(out, data, size);
}

static void answer(struct http_response *res, unsigned status)
{
	res->status = status;
	res->content_type = "application/json";
	res->static_body = NULL;
	http_response_header(res, "Cache-Control", "no-store");
}

int render_json(struct http_response *res, unsigned status, json_t *value)
{
	buf_clear(&res->body);
	int rc = value ? json_dump_callback(value, append, &res->body, JSON_COMPACT) : -1;
	json_decref(value);
	if (rc == 0 && !res->body.overflow && !buf_putc(&res->body, '\n')) {
		answer(res, status);
		return 0;
	}
	/* The only text here is constant, so this cannot fail in turn. */
	buf_clear(&res->body);
	buf_puts(&res->body, "{\"error\":\"the answer could not be written\"}\n");
	answer(res, 500);
	return -1;
}

void render_json_error(struct http_response *res, unsigned status, const char *message)
{
	json_t *doc = json_object();
	if (doc && json_object_set_new(doc, "error", json_string(message))) {
		json_decref(doc);
		doc = NULL;
	}
	render_json(res, status, doc);
}

/* The deepest nesting of arrays and objects in text, stopping once past limit.
 * Brackets inside strings do not count; the text need not be valid JSON. */
static int json_depth(const char *text, size_t len, int limit)
{
	int depth = 0, deepest = 0, in_string = 0;
	for (size_t i = 0; i < len && deepest <= limit; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

json_t *json_parse_body(const char *text, size_t len, unsigned *status, char *err, size_t errlen)
{
	*status = 400;
	if (len > LIMIT_JSON_BYTES) {
		*status = 413;
		snprintf(err, errlen, "the JSON body is larger than %u bytes", LIMIT_JSON_BYTES);
		return NULL;
	}
	if (json_depth(text, len, LIMIT_JSON_DEPTH) > LIMIT_JSON_DEPTH) {
		snprintf(err, errlen, "the JSON body is nested more than %d levels deep",
		         LIMIT_JSON_DEPTH);
		return NULL;
	}
	json_error_t e;
	json_t *doc = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &e);
	if (doc)
		return doc;
	/* jansson's message may quote the input: keep only printable ASCII of it,
	 * so the answer is valid UTF-8 and cannot carry the caller's bytes back raw. */
	char reason[80];
	size_t n = 0;
	for (const char *p = e.text; *p && n < sizeof reason - 1; p++)
		reason[n++] = (*p >= 0x20 && *p < 0x7f && *p != '\'' && *p != '"') ? *p : '?';
	reason[n] = '\0';
	snprintf(err, errlen, "the body is not valid JSON: %s (line %d, column %d)", reason, e.line,
	         e.column);
	return NULL;
}
