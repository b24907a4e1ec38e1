/*
 * static.h — front-end assets compiled into the binary (nhsuk-frontend, web/),
 * served under content-hashed URLs with year-long cache headers.
 */
#ifndef SHOAL_HTTP_STATIC_H
#define SHOAL_HTTP_STATIC_H

#include "http/http.h"

/** The content-hashed URL of an asset by file name ("app.css"), or NULL if there is none. */
const char *static_url(const char *name);
/** Handler for GET /assets/{hash}/{name}: cached for a year, immutable. */
void static_serve_hashed(struct http_request *req, struct http_response *res);
/** Handler for GET /assets/images/{name}: the icons nhsuk-frontend's CSS refers to by plain URL. */
void static_serve_image(struct http_request *req, struct http_response *res);
/** Handler for GET /favicon.ico. */
void static_serve_favicon(struct http_request *req, struct http_response *res);

#endif
