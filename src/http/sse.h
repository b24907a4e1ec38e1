/*
 * sse.h — Server-Sent Events: long-lived text/event-stream responses that the
 * server pushes events into (live updates of the pressure dashboard).
 *
 * A handler calls sse_open; server.c then sends a streamed response instead of
 * res->body. Each stream has a topic (for example "pressure"); sse_broadcast
 * sends an event to every open stream of a topic, on this node only (src/db/
 * notify.h carries events between nodes). Between events a comment line keeps
 * proxies from closing the connection, and each stream ends after
 * SSE_MAX_SECONDS so that the browser reconnects and its access is checked again.
 *
 * The number of streams is capped (SSE_MAX_STREAMS): each holds a connection,
 * and a page left open must not starve ordinary requests. Streams never block a
 * server thread: while a stream has nothing to send, its connection is
 * suspended (libmicrohttpd), and resumed when an event or a ping arrives.
 *
 * Written by hand: libmicrohttpd has no event-stream support of its own.
 */
#ifndef SHOAL_HTTP_SSE_H
#define SHOAL_HTTP_SSE_H

#include "http/http.h"

#define SSE_MAX_STREAMS  200  /* open streams per node; more get 503 */
#define SSE_PING_SECONDS 15   /* a comment line this often keeps proxies from timing out */
#define SSE_MAX_SECONDS  600  /* a stream ends after this; EventSource reconnects */
#define SSE_QUEUE_BYTES  8192 /* unsent bytes per stream; a client this far behind is cut off */
#define SSE_RETRY_MS     3000 /* how long the browser waits before reconnecting */
#define SSE_TOPIC_BYTES  32
#define SSE_EVENT_BYTES  512 /* one event: name and data */

struct sse_stream;
struct MHD_Response;

/**
 * Makes res a stream of topic's events. 0, or -1 when there are too many
 * streams or the server is stopping (res is then a 503 with Retry-After).
 */
int sse_open(struct http_request *req, struct http_response *res, const char *topic)
    __attribute__((warn_unused_result));

/**
 * Sends "event: NAME / data: DATA" to every open stream of topic on this node.
 * event and data must be one line each (a newline is cut off there). Safe from
 * any thread.
 */
void sse_broadcast(const char *topic, const char *event, const char *data);

/** Open streams now (for /metrics and tests). */
int sse_count(void);

/**
 * Ends every stream (for shutdown): each sends what it has queued and closes,
 * and no new stream opens. Must run before the server stops, because
 * libmicrohttpd must not be stopped with suspended connections.
 */
void sse_shutdown(void);

/** For server.c: the libmicrohttpd response that sends the stream. Takes ownership
 * of stream. NULL when out of resources (the stream is then freed). */
struct MHD_Response *sse_response(struct sse_stream *stream);

#endif
