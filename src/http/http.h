/*
 * http.h — requests, responses and routes, as handlers see them.
 *
 * A handler gets a request whose body has been read whole (within
 * LIMIT_BODY_BYTES) and fills in a response; server.c sends it. Handlers never
 * touch libmicrohttpd: this file is the whole HTTP surface a feature needs.
 * Nothing here knows about features (see DESIGN.md: http/ is below app/).
 */
#ifndef SHOAL_HTTP_HTTP_H
#define SHOAL_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/limits.h"

struct MHD_Connection;
struct sse_stream;

struct http_request {
	const char *method;                     /* "GET", "POST", … ("HEAD" is routed as "GET") */
	const char *path;                       /* the URL path, without the query string */
	const char *params[LIMIT_ROUTE_PARAMS]; /* {params} of the matched route, in order */
	struct buf body;                        /* the request body, NUL-terminated */
	char id[17];                            /* request id, also in the access log */
	void *app;                              /* the application's context (http_server_start) */
	void *state; /* the application's per-request state (before/after hooks) */
	const struct http_route *route;    /* the matched route, or NULL */
	char address[64];                  /* the client's IP address */
	struct MHD_Connection *connection; /* private to server.c */
};

#define HTTP_MAX_EXTRA_HEADERS 8

struct http_response {
	unsigned status;
	const char *content_type; /* default "text/html; charset=utf-8" */
	const char *reason; /* for an error status: what went wrong, shown on the error page */
	struct buf body;    /* what to send; capped at LIMIT_PAGE_BYTES */
	const unsigned char *static_body; /* instead of body: bytes that outlive the response */
	size_t static_size;
	/* Extra headers: name, value; both must outlive the response. */
	const char *headers[HTTP_MAX_EXTRA_HEADERS][2];
	int n_headers;
	char header_store[2048]; /* copies of header values (http_response_header_copy) */
	size_t header_used;
	struct sse_stream *stream; /* instead of body: an event stream (sse_open in sse.h) */
	void *allocated; /* freed by the server once the response is sent (e.g. static_body) */
};

/** A request handler: reads req, fills res. A handler that sets an error status
 * (>= 400) and writes no body gets the application's standard error page. */
typedef void (*http_handler)(struct http_request *req, struct http_response *res);

struct http_route {
	const char *method;  /* "GET", "POST", … */
	const char *pattern; /* "/threads/{id}"; {x} matches one non-empty path segment */
	http_handler handler;
	int access; /* who may call it: meaningful to the application's before hook only */
};

/* A route whose body may be larger than LIMIT_BODY_BYTES (a form carrying files). The
 * server looks it up when the headers arrive, before reading the body. */
struct http_body_limit {
	const char *method;
	const char *pattern; /* as in struct http_route */
	size_t bytes;
	const char *too_large; /* the 413 page's message (e.g. "The file is larger than 20 MB") */
};

/** Value of a request header, or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/** Value of a query-string argument, or NULL. */
const char *http_query(const struct http_request *req, const char *name);
/** Whether address is one of the comma-separated addresses in list. */
int http_address_in_list(const char *address, const char *list);
/**
 * Behind a trusted proxy (out, the peer's address, is in the trusted list),
 * replaces out with the client named by header (X-Forwarded-For): the
 * right-most address that is not itself trusted. Leaves out alone otherwise.
 */
void http_forwarded_client(const char *header, const char *trusted, char *out, size_t len);
/**
 * A positive id from a path segment, query or form value: 1 to 18 ASCII digits
 * (so "/people/1x" is not person 1, and no id overflows). 0 when it is not one.
 */
int64_t http_parse_id(const char *s);
/** Value of a cookie sent with the request, or NULL. */
const char *http_cookie(const struct http_request *req, const char *name);
/** Adds a response header (both strings must outlive the response). Ignored past
 * HTTP_MAX_EXTRA_HEADERS. */
void http_response_header(struct http_response *res, const char *name, const char *value);
/** Adds a header whose value is copied (for values built on the stack). 0, or -1 when full. */
int http_response_header_copy(struct http_response *res, const char *name, const char *value);
/** Appends s percent-encoded for a query string value (unreserved characters and '/' kept). */
void http_url_encode(struct buf *out, const char *s);
/** Answers 303 See Other to location (a path on this site). */
void http_redirect(struct http_response *res, const char *location);

#endif
