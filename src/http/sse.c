/*
 * sse.c — Server-Sent Events (see sse.h).
 *
 * Each stream is a libmicrohttpd callback response. When the callback finds
 * nothing queued it suspends the connection (legal from a content reader), so
 * no thread waits on a quiet stream; whoever queues bytes resumes it.
 *
 * Locks, and why they never deadlock: the hub lock guards the list of streams
 * and is never held while calling libmicrohttpd or taking a stream's lock;
 * a stream's lock is held by the content reader while it suspends the
 * connection (so the suspension happens before anyone can see the flag and
 * resume it), and libmicrohttpd may call sse_free, which takes the hub lock
 * only. A broadcast first takes a reference on each stream under the hub lock,
 * then works on each with only that stream's lock, and resumes connections
 * with no lock held. References keep a stream alive until both the hub (the
 * broadcast in progress) and libmicrohttpd have let go of it.
 */
#include "http/sse.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/xmalloc.h"

struct sse_stream {
	pthread_mutex_t lock;
	atomic_int refs;
	struct MHD_Connection *conn;
	char topic[SSE_TOPIC_BYTES];
	time_t opened;
	/* Guarded by lock: */
	char queue[SSE_QUEUE_BYTES];
	size_t queued;
	bool suspended; /* the reader suspended the connection; the next writer resumes it */
	bool closing;   /* send what is queued, then end */
	/* Guarded by the hub's lock: */
	struct sse_stream *prev, *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct sse_stream *head;
	int count;
	bool stopping;
	bool ticking; /* the ping thread runs */
	pthread_t ticker;
} hub = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void stream_unref(struct sse_stream *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1) {
		pthread_mutex_destroy(&s->lock);
		free(s);
	}
}

/* Queues bytes (or, with text NULL, only the end of the stream) and resumes the
 * connection if the reader had suspended it. */
static void stream_push(struct sse_stream *s, const char *text, size_t len, bool close)
{
	pthread_mutex_lock(&s->lock);
	if (text && !s->closing) {
		if (len > sizeof s->queue - s->queued)
			/* The client has stopped reading: drop it rather than hold memory for
			 * it; EventSource reconnects and refetches. */
			s->closing = true;
		else {
			memcpy(s->queue + s->queued, text, len);
			s->queued += len;
		}
	}
	if (close)
		s->closing = true;
	bool resume = s->suspended;
	s->suspended = false;
	pthread_mutex_unlock(&s->lock);
	if (resume)
		MHD_resume_connection(s->conn);
}

/* References to the open streams of topic (NULL: all) into out. */
static size_t snapshot(const char *topic, struct sse_stream **out)
{
	size_t n = 0;
	pthread_mutex_lock(&hub.lock);
	for (struct sse_stream *s = hub.head; s && n < SSE_MAX_STREAMS; s = s->next) {
		if (topic && strcmp(s->topic, topic))
			continue;
		atomic_fetch_add(&s->refs, 1);
		out[n++] = s;
	}
	pthread_mutex_unlock(&hub.lock);
	return n;
}

void sse_broadcast(const char *topic, const char *event, const char *data)
{
	char msg[SSE_EVENT_BYTES + 32];
	int len = snprintf(msg, sizeof msg, "event: %.*s\ndata: %.*s\n\n",
	                   (int)strcspn(event, "\r\n"), event, (int)strcspn(data, "\r\n"), data);
	if (len < 0 || (size_t)len >= sizeof msg) {
		log_error("sse: event %s on %s is too long; not sent", event, topic);
		return;
	}
	struct sse_stream *streams[SSE_MAX_STREAMS];
	size_t n = snapshot(topic, streams);
	for (size_t i = 0; i < n; i++) {
		stream_push(streams[i], msg, (size_t)len, false);
		stream_unref(streams[i]);
	}
}

int sse_count(void)
{
	pthread_mutex_lock(&hub.lock);
	int n = hub.count;
	pthread_mutex_unlock(&hub.lock);
	return n;
}

/* Pings every stream, and ends those open longer than SSE_MAX_SECONDS. */
static void *ticker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hub.lock);
	while (!hub.stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SSE_PING_SECONDS;
		pthread_cond_timedwait(&hub.wake, &hub.lock, &until);
		if (hub.stopping)
			break;
		pthread_mutex_unlock(&hub.lock);
		struct sse_stream *streams[SSE_MAX_STREAMS];
		size_t n = snapshot(NULL, streams);
		time_t now = time(NULL);
		for (size_t i = 0; i < n; i++) {
			static const char ping[] = ": ping\n\n";
			stream_push(streams[i], ping, sizeof ping - 1,
			            now - streams[i]->opened >= SSE_MAX_SECONDS);
			stream_unref(streams[i]);
		}
		pthread_mutex_lock(&hub.lock);
	}
	pthread_mutex_unlock(&hub.lock);
	return NULL;
}

void sse_shutdown(void)
{
	pthread_mutex_lock(&hub.lock);
	hub.stopping = true;
	bool ticking = hub.ticking;
	hub.ticking = false;
	pthread_cond_broadcast(&hub.wake);
	pthread_mutex_unlock(&hub.lock);
	if (ticking)
		pthread_join(hub.ticker, NULL);
	struct sse_stream *streams[SSE_MAX_STREAMS];
	size_t n = snapshot(NULL, streams);
	for (size_t i = 0; i < n; i++) {
		stream_push(streams[i], NULL, 0, true);
		stream_unref(streams[i]);
	}
}

int sse_open(struct http_request *req, struct http_response *res, const char *topic)
{
	pthread_mutex_lock(&hub.lock);
	bool full = hub.stopping || hub.count >= SSE_MAX_STREAMS;
	if (!full && !hub.ticking) {
		if (pthread_create(&hub.ticker, NULL, ticker_main, NULL) == 0)
			hub.ticking = true;
		else
			full = true;
	}
	if (full) {
		pthread_mutex_unlock(&hub.lock);
		res->status = 503;
		res->reason = "Too many live updates are open just now. The page still works; "
		              "reload it to see the latest figures.";
		http_response_header(res, "Retry-After", "30");
		return -1;
	}
	struct sse_stream *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->refs, 1); /* let go by sse_free, when libmicrohttpd is done */
	s->conn = req->connection;
	s->opened = time(NULL);
	snprintf(s->topic, sizeof s->topic, "%s", topic);
	s->queued =
	    (size_t)snprintf(s->queue, sizeof s->queue, "retry: %d\n: open\n\n", SSE_RETRY_MS);
	s->next = hub.head;
	if (hub.head)
		hub.head->prev = s;
	hub.head = s;
	hub.count++;
	pthread_mutex_unlock(&hub.lock);
	res->status = 200;
	res->content_type = "text/event-stream; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	/* nginx would otherwise buffer the stream (docs/deployment.md). */
	http_response_header(res, "X-Accel-Buffering", "no");
	res->stream = s;
	return 0;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse_stream *s = cls;
	pthread_mutex_lock(&s->lock);
	if (s->queued) {
		size_t n = s->queued < max ? s->queued : max;
		memcpy(buf, s->queue, n);
		memmove(s->queue, s->queue + n, s->queued - n);
		s->queued -= n;
		pthread_mutex_unlock(&s->lock);
		return (ssize_t)n;
	}
	if (s->closing) {
		pthread_mutex_unlock(&s->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing to send: park the connection until stream_push resumes it. Done under
	 * the lock so that no writer can resume before this suspension. */
	s->suspended = true;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* libmicrohttpd is done with the stream: the client left, or the stream ended. */
static void sse_free(void *cls)
{
	struct sse_stream *s = cls;
	pthread_mutex_lock(&hub.lock);
	if (s->prev)
		s->prev->next = s->next;
	else if (hub.head == s)
		hub.head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	hub.count--;
	pthread_mutex_unlock(&hub.lock);
	stream_unref(s);
}

struct MHD_Response *sse_response(struct sse_stream *stream)
{
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, sse_read, stream, sse_free);
	if (!r)
		sse_free(stream);
	return r;
}
