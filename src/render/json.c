/*
 * json.c — JSON responses for the API (see json.h).
 */
#include "render/json.h"

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
