/*
 * json.h — JSON responses for the API, written by jansson.
 *
 * Every JSON byte Shoal sends is produced by jansson from a json_t, never by
 * printf with data in it, so no value can break out of its string. These
 * helpers put a document into a response with the right content type, and
 * with Cache-Control: no-store, because API answers are about people and no
 * shared cache may keep them.
 */
#ifndef SHOAL_RENDER_JSON_H
#define SHOAL_RENDER_JSON_H

#include <jansson.h>

#include "http/http.h"

/**
 * Writes value (compact, UTF-8) as the body of res with the given status, and
 * takes the caller's reference to value. A NULL value (a jansson allocation or
 * encoding failure while building it) or a body past LIMIT_PAGE_BYTES becomes
 * a 500 error document instead. Returns 0, or -1 when the 500 was sent.
 */
int render_json(struct http_response *res, unsigned status, json_t *value);
/** Answers {"error": message} with status (message must be valid UTF-8). */
void render_json_error(struct http_response *res, unsigned status, const char *message);
/**
 * Parses a JSON request body within Shoal's limits: at most LIMIT_JSON_BYTES,
 * nesting at most LIMIT_JSON_DEPTH deep (checked before jansson sees it, so a
 * deep document costs one pass and no recursion), valid UTF-8, no NUL in
 * strings, no duplicate keys. Returns a new reference, or NULL with a short
 * message in err (printable ASCII, safe to send back) and *status set to 413
 * (too large) or 400.
 */
json_t *json_parse_body(const char *text, size_t len, unsigned *status, char *err, size_t errlen);

#endif
