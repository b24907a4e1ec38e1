/*
 * server.h — the HTTP server: libmicrohttpd with epoll and a thread pool.
 *
 * It reads each request whole (within limits.h), routes it, calls the handler,
 * adds the security headers, logs one access line and counts it for /metrics.
 * Errors it finds itself (414, 431, 413, 404, 405) are rendered by the
 * application's error_page callback so that they look like every other page.
 */
#ifndef SHOAL_HTTP_SERVER_H
#define SHOAL_HTTP_SERVER_H

#include "core/buf.h"
#include "http/http.h"

struct http_server;

struct http_server_options {
	const char *host; /* numeric address or name to listen on */
	unsigned port;    /* 0 picks a free port; see http_server_port */
	unsigned threads; /* worker threads (the pool); 0 = one per core (main.c passes four) */
	const struct http_route *routes;
	int n_routes;
	void *app; /* handed to handlers as req->app */
	/* Renders the page for res->status (404, 413, …) into res. */
	void (*error_page)(struct http_request *req, struct http_response *res);
	/* Runs before a matched route's handler: returns 0 to go on, or leaves a response
	 * (an error status, a redirect) in res and returns non-zero to skip the handler. */
	int (*before)(struct http_request *req, struct http_response *res);
	/* Runs when the request is finished, to free req->state. */
	void (*after)(struct http_request *req);
	int quiet; /* no access log */
	/* Comma-separated addresses of reverse proxies (nginx) whose X-Forwarded-For
	 * names the real client; empty when Shoal faces clients directly. */
	const char *trusted_proxies;
	/* Routes allowed a larger body than LIMIT_BODY_BYTES; every other keeps that limit. */
	const struct http_body_limit *body_limits;
	int n_body_limits;
	/* Asked when the headers of a request to one of body_limits arrive (req has its
	 * method, path, headers and cookies): non-zero lets it send the larger body, so
	 * that only someone signed in can make the server hold 20 MB. NULL allows all. */
	int (*may_send_large_body)(struct http_request *req);
};

/** Starts serving. On failure writes one line to err and returns NULL. */
struct http_server *http_server_start(const struct http_server_options *opt, char *err,
                                      size_t errlen);
/** The port actually bound. */
unsigned http_server_port(const struct http_server *s);
/**
 * Stops accepting connections, lets in-flight requests finish (up to
 * LIMIT_SHUTDOWN_SECONDS), then stops and frees the server.
 */
void http_server_stop(struct http_server *s);
/** Writes the request counters and latency histogram in Prometheus text format. */
void http_server_metrics(struct http_server *s, struct buf *out);

#endif
