/*
 * access.h — the before and after hooks around every handler: who is asking,
 * may they, and is a form really from this site.
 *
 * For each request it loads the viewer (a session cookie, or a bearer token on
 * /api/), asks the policy module whether the route's access level admits them,
 * sends anonymous visitors to sign in, and checks the CSRF token of every
 * state-changing browser request. Handlers then read the viewer and the parsed
 * form from here.
 */
#ifndef SHOAL_APP_ACCESS_H
#define SHOAL_APP_ACCESS_H

#include "auth/policy.h"
#include "http/form.h"
#include "http/multipart.h"
#include "http/http.h"

#include <jansson.h>

/** The before hook (http_server_options.before). */
int access_before(struct http_request *req, struct http_response *res);
/** The after hook: frees the request's state. */
void access_after(struct http_request *req);

/** Who is asking (an anonymous viewer has person_id 0). */
const struct viewer *access_viewer(const struct http_request *req);
/** The parsed form of a POST (empty for other requests). */
const struct form *access_form(const struct http_request *req);
/**
 * The CSRF token to put in this page's forms: the session's, or for an
 * anonymous visitor a random one also set as a cookie on res.
 */
const char *access_csrf(struct http_request *req, struct http_response *res);
/** Sets (token) or clears (NULL) the session cookie on a response. */
void access_set_session_cookie(struct http_response *res, const char *token);
/** The parsed JSON body of an API POST, PUT, PATCH or DELETE sent as
 * application/json (NULL otherwise); access_before refused it if it broke a
 * limit (LIMIT_JSON_BYTES, LIMIT_JSON_DEPTH) or was not JSON. */
const json_t *access_json(const struct http_request *req);
/** The parts of a POST sent as multipart/form-data (files included; their data
 * points into the request body), or NULL for any other request. Its text fields
 * are in access_form too. */
const struct multipart *access_multipart(const struct http_request *req);
/**
 * For http_server_options.may_send_large_body: whether the request, when its
 * headers arrive, comes from a signed-in browser session that may attach files
 * (so may send an upload's larger body). Anyone else keeps LIMIT_BODY_BYTES.
 */
int access_may_upload(struct http_request *req);
/** Whether the request came over the JSON API. */
int access_is_api(const struct http_request *req);

#endif
