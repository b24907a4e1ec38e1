/*
 * api.h — the JSON API under /api/v1: who am I, the person's tokens, the
 * OpenAPI document, and JSON error answers for every /api/ path.
 *
 * Callers authenticate with "Authorization: Bearer shoal_…" (src/app/access.c
 * loads the viewer and applies the token's scope before a handler runs). The
 * OpenAPI document is src/app/api/openapi.json, compiled into the binary;
 * tests/http/api.test.mjs fails when a /api/v1 route in src/app/routes.c is
 * missing from it. Every JSON byte is written by jansson (src/render/json.h).
 */
#ifndef SHOAL_APP_API_API_H
#define SHOAL_APP_API_API_H

#include <stdint.h>

#include "http/http.h"

/** GET /api/v1/me: the person, their roles and their organisations. */
void api_me(struct http_request *req, struct http_response *res);
/** GET /api/v1/openapi.json: the OpenAPI 3.1 document of every /api/v1 route. */
void api_openapi(struct http_request *req, struct http_response *res);
/** GET /api/v1/tokens: the person's live tokens (never the tokens themselves). */
void api_tokens_list(struct http_request *req, struct http_response *res);
/** DELETE /api/v1/tokens/{id}: revokes one of the person's tokens (write scope). */
void api_token_revoke(struct http_request *req, struct http_response *res);

/**
 * The error answer for an /api/ path: {"error": "…"} for res->status, in place
 * of the HTML error page (called by page_error).
 */
void api_error_page(struct http_request *req, struct http_response *res);

/**
 * A positive id from a path segment, as http_parse_id reads it but without
 * leading zeros (one spelling per resource); 0 when it is not one.
 */
int64_t api_parse_id(const char *s);

/** The embedded OpenAPI document (src/app/api/openapi.json) and its size. */
const char *api_openapi_text(size_t *size);

#endif
