/*
 * server.c — libmicrohttpd glue (see server.h).
 *
 * The access handler follows the pattern that keeps keep-alive working: the
 * first call for a request only allocates its context (never queues a
 * response), the following calls drain the body into a capped buffer, and the
 * last call (upload size 0) routes, runs the handler and queues the response.
 * Limits that libmicrohttpd would otherwise answer with its own bare text are
 * checked here first, below its own buffers, so that users get a real page.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "http/router.h"
#include "http/sse.h"

/* Status codes counted separately in /metrics; others are counted as "other". */
static const unsigned counted_status[] = {200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404,
                                          405, 409, 413, 414, 415, 422, 429, 431, 500, 503};
#define N_STATUS (sizeof counted_status / sizeof counted_status[0] + 1)
/* Latency histogram bucket upper bounds, in seconds. */
static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BUCKETS (sizeof latency_bounds / sizeof latency_bounds[0] + 1)

struct route_stats {
	atomic_ulong by_status[N_STATUS];
	atomic_ulong micros; /* total handling time */
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_server_options opt;
	unsigned port;
	atomic_int in_flight;
	atomic_ulong next_id;
	uint64_t id_seed;
	struct route_stats *routes; /* n_routes + 1: the last is "unmatched" */
	atomic_ulong latency[N_BUCKETS];
	atomic_ulong latency_count;
	atomic_ulong latency_micros;
};

struct request_ctx {
	struct http_request req;
	struct http_response res;
	struct timespec start;
	unsigned error; /* a limit was passed: answer with this status */
	size_t drained; /* body bytes read and thrown away after a 413 */
	int route;      /* index into routes, or n_routes when unmatched */
	/* The route's 413 message (struct http_body_limit), or NULL. */
	const char *too_large;
	size_t sent;
};

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

int64_t http_parse_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return 0;
	return strtoll(s, NULL, 10);
}

const char *http_cookie(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_COOKIE_KIND, name);
}

int http_response_header_copy(struct http_response *res, const char *name, const char *value)
{
	size_t n = strlen(value) + 1;
	if (n > sizeof res->header_store - res->header_used)
		return -1;
	char *copy = res->header_store + res->header_used;
	memcpy(copy, value, n);
	res->header_used += n;
	http_response_header(res, name, copy);
	return 0;
}

void http_url_encode(struct buf *out, const char *s)
{
	static const char hexdigits[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c)) {
			buf_putc(out, (char)c);
		} else {
			char esc[3] = {'%', hexdigits[c >> 4], hexdigits[c & 15]};
			buf_add(out, esc, 3);
		}
	}
}

void http_redirect(struct http_response *res, const char *location)
{
	res->status = 303;
	if (http_response_header_copy(res, "Location", location))
		http_response_header(res, "Location", "/");
}

void http_response_header(struct http_response *res, const char *name, const char *value)
{
	if (res->n_headers == HTTP_MAX_EXTRA_HEADERS)
		return;
	res->headers[res->n_headers][0] = name;
	res->headers[res->n_headers][1] = value;
	res->n_headers++;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

int http_address_in_list(const char *address, const char *list)
{
	size_t n = strlen(address);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len && len == n && !strncmp(p, address, n))
			return 1;
		p += len;
	}
	return 0;
}

/*
 * Behind a trusted reverse proxy, the client is the right-most address in
 * X-Forwarded-For that is not itself a trusted proxy: entries to its left were
 * written by the client and prove nothing. Anything that is not an IP address
 * leaves the peer's address in place.
 */
void http_forwarded_client(const char *header, const char *trusted, char *out, size_t len)
{
	if (!header || !trusted || !*trusted || !http_address_in_list(out, trusted))
		return;
	size_t end = strlen(header);
	while (end > 0) {
		size_t start = end;
		while (start > 0 && header[start - 1] != ',')
			start--;
		char candidate[64];
		size_t a = start, b = end;
		while (a < b && header[a] == ' ')
			a++;
		while (b > a && header[b - 1] == ' ')
			b--;
		if (b - a == 0 || b - a >= sizeof candidate)
			return;
		memcpy(candidate, header + a, b - a);
		candidate[b - a] = '\0';
		unsigned char ip[16];
		if (inet_pton(AF_INET, candidate, ip) != 1 &&
		    inet_pton(AF_INET6, candidate, ip) != 1)
			return;
		if (!http_address_in_list(candidate, trusted) || start == 0) {
			snprintf(out, len, "%s", candidate);
			return;
		}
		end = start - 1;
	}
}

static void forwarded_address(struct MHD_Connection *conn, const char *trusted, char *out,
                              size_t len)
{
	http_forwarded_client(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For"),
	                      trusted, out, len);
}

/* The peer's address as text. Behind a reverse proxy this is the proxy's. */
static void client_address(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!info || !info->client_addr)
		return;
	const struct sockaddr *sa = info->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)len);
}

/* A request id: 64 bits from a random per-process seed and a counter (splitmix64). */
static void make_request_id(struct http_server *s, char out[17])
{
	uint64_t z = s->id_seed + 0x9e3779b97f4a7c15ull * (atomic_fetch_add(&s->next_id, 1) + 1);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	snprintf(out, 17, "%016llx", (unsigned long long)z);
}

/* Security headers on every response (DESIGN.md). */
static void add_security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy",
	                        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
	                        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result send_response(struct request_ctx *ctx, struct MHD_Connection *conn)
{
	struct http_response *res = &ctx->res;
	struct MHD_Response *r;
	if (res->stream) {
		r = sse_response(res->stream);
		res->stream = NULL; /* libmicrohttpd owns it now, even if r is NULL */
	} else if (res->static_body) {
		r = MHD_create_response_from_buffer(res->static_size, (void *)res->static_body,
		                                    MHD_RESPMEM_PERSISTENT);
		ctx->sent = res->static_size;
	} else if (!res->body.len) {
		ctx->sent = 0;
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		/* libmicrohttpd takes the rendered body as it is and frees it once sent:
		 * copying a page of 80 KB again was a twentieth of a thread page's cost. */
		size_t len = res->body.len;
		char *data = buf_take(&res->body);
		ctx->sent = len;
		r = MHD_create_response_from_buffer_with_free_callback(len, data, free);
		if (!r)
			free(data);
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type",
	                        res->content_type ? res->content_type : "text/html; charset=utf-8");
	add_security_headers(r);
	MHD_add_response_header(r, "X-Request-Id", ctx->req.id);
	for (int i = 0; i < res->n_headers; i++)
		MHD_add_response_header(r, res->headers[i][0], res->headers[i][1]);
	if (ctx->error)
		MHD_add_response_header(r, "Connection", "close");
	enum MHD_Result ok = MHD_queue_response(conn, res->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Fills res with the application's page for an error status. */
static void error_response(struct http_server *s, struct request_ctx *ctx, unsigned status)
{
	buf_clear(&ctx->res.body);
	ctx->res.static_body = NULL;
	ctx->res.content_type = NULL;
	ctx->res.status = status;
	if (s->opt.error_page)
		s->opt.error_page(&ctx->req, &ctx->res);
}

/* Lists the methods that a path allows, for a 405's Allow header. */
static void allowed_methods(struct http_server *s, struct request_ctx *ctx)
{
	char *out = ctx->res.header_store;
	size_t cap = sizeof ctx->res.header_store, n = 0;
	char *scratch = xmalloc(strlen(ctx->req.path) + 1);
	const char *params[LIMIT_ROUTE_PARAMS];
	out[0] = '\0';
	for (int i = 0; i < s->opt.n_routes; i++) {
		int idx;
		const struct http_route *r = &s->opt.routes[i];
		if (router_match(r, 1, r->method, ctx->req.path, &idx, params, scratch) !=
		    ROUTER_FOUND)
			continue;
		if (strstr(out, r->method))
			continue;
		int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", r->method);
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	free(scratch);
	http_response_header(&ctx->res, "Allow", out);
}

static void dispatch(struct http_server *s, struct request_ctx *ctx)
{
	struct http_request *req = &ctx->req;
	ctx->route = s->opt.n_routes;
	if (ctx->error) {
		if (ctx->error == 413)
			ctx->res.reason = ctx->too_large;
		error_response(s, ctx, ctx->error);
		return;
	}
	char *scratch = xmalloc(strlen(req->path) + 1);
	int idx;
	switch (router_match(s->opt.routes, s->opt.n_routes, req->method, req->path, &idx,
	                     req->params, scratch)) {
	case ROUTER_FOUND:
		ctx->route = idx;
		ctx->res.status = 200;
		req->route = &s->opt.routes[idx];
		if (!s->opt.before || !s->opt.before(req, &ctx->res))
			s->opt.routes[idx].handler(req, &ctx->res);
		if (ctx->res.body.overflow) {
			log_error("request %s: response for %s passed LIMIT_PAGE_BYTES", req->id,
			          req->path);
			ctx->res.n_headers = 0;
			error_response(s, ctx, 500);
		} else if (ctx->res.status >= 400 && !ctx->res.body.len && !ctx->res.static_body) {
			/* A handler that only sets an error status gets the standard page. */
			error_response(s, ctx, ctx->res.status);
		}
		break;
	case ROUTER_METHOD_NOT_ALLOWED:
		error_response(s, ctx, 405);
		allowed_methods(s, ctx);
		break;
	case ROUTER_NOT_FOUND:
		error_response(s, ctx, 404);
		break;
	}
	free(scratch);
}

/* The most body bytes this method and path may send: LIMIT_BODY_BYTES unless the
 * application raised it for the route (uploads). Decided from the headers alone;
 * length is the declared Content-Length, or NULL (chunked). A body declared
 * within the usual limit needs no more, and no question to the application
 * (may_send_large_body looks up the session: a reply without files paid for it). */
static size_t body_limit(const struct http_server *s, struct http_request *req, const char *length,
                         const char **too_large)
{
	const char *method = req->method, *path = req->path;
	size_t limit = LIMIT_BODY_BYTES;
	*too_large = NULL;
	if (!s->opt.n_body_limits || strlen(path) > LIMIT_URL_BYTES ||
	    (length && strtoull(length, NULL, 10) <= LIMIT_BODY_BYTES))
		return limit;
	char *scratch = xmalloc(strlen(path) + 1);
	const char *params[LIMIT_ROUTE_PARAMS];
	for (int i = 0; i < s->opt.n_body_limits; i++) {
		const struct http_body_limit *l = &s->opt.body_limits[i];
		struct http_route r = {l->method, l->pattern, NULL, 0};
		int idx;
		if (strcmp(method, "HEAD") &&
		    router_match(&r, 1, method, path, &idx, params, scratch) == ROUTER_FOUND) {
			if (!s->opt.may_send_large_body || s->opt.may_send_large_body(req)) {
				limit = l->bytes;
				*too_large = l->too_large;
			}
			break;
		}
	}
	free(scratch);
	return limit;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	(void)version;
	struct http_server *s = cls;
	struct request_ctx *ctx = *req_cls;
	if (!ctx) {
		/* First call: headers are in. Check the limits, answer nothing yet. */
		ctx = xcalloc(1, sizeof *ctx);
		clock_gettime(CLOCK_MONOTONIC, &ctx->start);
		atomic_fetch_add(&s->in_flight, 1);
		ctx->req.method = method;
		ctx->req.path = url;
		ctx->req.app = s->opt.app;
		ctx->req.connection = conn;
		client_address(conn, ctx->req.address, sizeof ctx->req.address);
		forwarded_address(conn, s->opt.trusted_proxies, ctx->req.address,
		                  sizeof ctx->req.address);
		ctx->route = s->opt.n_routes;
		make_request_id(s, ctx->req.id);
		const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		size_t limit = body_limit(s, &ctx->req, length, &ctx->too_large);
		buf_init(&ctx->req.body, limit);
		buf_init(&ctx->res.body, LIMIT_PAGE_BYTES);
		size_t header_bytes = 0;
		MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_size, &header_bytes);
		if (strlen(url) > LIMIT_URL_BYTES)
			ctx->error = 414;
		else if (header_bytes > LIMIT_HEADER_BYTES)
			ctx->error = 431;
		else if (length && strtoull(length, NULL, 10) > limit)
			ctx->error = 413;
		else if (length && limit > LIMIT_BODY_BYTES)
			/* An upload of known length is buffered once, in one allocation. */
			buf_reserve(&ctx->req.body, (size_t)strtoull(length, NULL, 10));
		*req_cls = ctx;
		/* A client waiting for "100 Continue" is refused before it sends the body:
		 * the one case where answering on the first call is right. */
		const char *expect =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
		if (ctx->error == 413 && expect && !strcasecmp(expect, "100-continue")) {
			dispatch(s, ctx);
			return send_response(ctx, conn);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (ctx->error)
			ctx->drained += *upload_data_size;
		else if (buf_add(&ctx->req.body, upload_data, *upload_data_size))
			ctx->error = 413;
		*upload_data_size = 0;
		/* After a 413, keep reading (and discarding) a while before answering:
		 * closing with unread data makes the kernel send a reset, and the client
		 * would never see the page that says what went wrong. */
		if (!ctx->error || ctx->drained < LIMIT_DRAIN_BYTES)
			return MHD_YES;
	}
	dispatch(s, ctx);
	return send_response(ctx, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	struct http_server *s = cls;
	struct request_ctx *ctx = *req_cls;
	if (!ctx)
		return;
	double secs = seconds_since(&ctx->start);
	unsigned long micros = (unsigned long)(secs * 1e6);
	unsigned status = ctx->res.status;
	size_t si = N_STATUS - 1;
	for (size_t i = 0; i + 1 < N_STATUS; i++)
		if (counted_status[i] == status)
			si = i;
	atomic_fetch_add(&s->routes[ctx->route].by_status[si], 1);
	atomic_fetch_add(&s->routes[ctx->route].micros, micros);
	size_t b = 0;
	while (b + 1 < N_BUCKETS && secs > latency_bounds[b])
		b++;
	atomic_fetch_add(&s->latency[b], 1);
	atomic_fetch_add(&s->latency_count, 1);
	atomic_fetch_add(&s->latency_micros, micros);
	if (!s->opt.quiet)
		log_info("access id=%s method=%s path=\"%.200s\" status=%u bytes=%zu ms=%.2f%s",
		         ctx->req.id, ctx->req.method, ctx->req.path, status, ctx->sent,
		         secs * 1000, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
	if (s->opt.after)
		s->opt.after(&ctx->req);
	buf_free(&ctx->req.body);
	buf_free(&ctx->res.body);
	free(ctx->res.allocated);
	free(ctx);
	*req_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_error("http: %s", line);
}

struct http_server *http_server_start(const struct http_server_options *opt, char *err,
                                      size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	char port[8];
	snprintf(port, sizeof port, "%u", opt->port);
	int gai = getaddrinfo(opt->host, port, &hints, &ai);
	if (gai) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", opt->host, opt->port,
		         gai_strerror(gai));
		return NULL;
	}
	struct http_server *s = xcalloc(1, sizeof *s);
	s->opt = *opt;
	s->routes = xcalloc((size_t)opt->n_routes + 1, sizeof *s->routes);
	if (getrandom(&s->id_seed, sizeof s->id_seed, 0) != sizeof s->id_seed)
		s->id_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	unsigned threads = opt->threads ? opt->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
	                 MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME /* event streams (sse.c) */ |
	                 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	s->daemon = MHD_start_daemon(
	    flags, (uint16_t)opt->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LIMIT_CONNECTION_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LIMIT_CONNECTION_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)LIMIT_CONNECTIONS, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!s->daemon) {
		snprintf(err, errlen,
		         "cannot listen on %s:%u (is the address in use, or not on this machine?)",
		         opt->host, opt->port);
		free(s->routes);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : opt->port;
	return s;
}

unsigned http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	MHD_socket listener = MHD_quiesce_daemon(s->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	/* Event streams never finish by themselves, and libmicrohttpd must not stop
	 * with connections suspended: end them first. */
	sse_shutdown();
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&s->in_flight) > 0 && seconds_since(&start) < LIMIT_SHUTDOWN_SECONDS) {
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	if (atomic_load(&s->in_flight) > 0)
		log_error("shutdown: %d requests still running after %d s; stopping anyway",
		          atomic_load(&s->in_flight), LIMIT_SHUTDOWN_SECONDS);
	MHD_stop_daemon(s->daemon);
	free(s->routes);
	free(s);
}

void http_server_metrics(struct http_server *s, struct buf *out)
{
	buf_puts(out, "# HELP shoal_http_requests_total HTTP requests answered, by route and "
	              "status.\n# TYPE shoal_http_requests_total counter\n");
	for (int r = 0; r <= s->opt.n_routes; r++) {
		const char *method = r < s->opt.n_routes ? s->opt.routes[r].method : "";
		const char *route = r < s->opt.n_routes ? s->opt.routes[r].pattern : "unmatched";
		for (size_t i = 0; i < N_STATUS; i++) {
			unsigned long n = atomic_load(&s->routes[r].by_status[i]);
			if (!n)
				continue;
			if (i + 1 < N_STATUS)
				buf_printf(out,
				           "shoal_http_requests_total{method=\"%s\",route=\"%s\","
				           "status=\"%u\"} %lu\n",
				           method, route, counted_status[i], n);
			else
				buf_printf(out,
				           "shoal_http_requests_total{method=\"%s\",route=\"%s\","
				           "status=\"other\"} %lu\n",
				           method, route, n);
		}
	}
	buf_puts(out, "# HELP shoal_http_request_duration_seconds Time to answer a request.\n"
	              "# TYPE shoal_http_request_duration_seconds histogram\n");
	unsigned long cumulative = 0;
	for (size_t b = 0; b < N_BUCKETS; b++) {
		cumulative += atomic_load(&s->latency[b]);
		if (b + 1 < N_BUCKETS)
			buf_printf(out,
			           "shoal_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
			           latency_bounds[b], cumulative);
		else
			buf_printf(out,
			           "shoal_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n",
			           cumulative);
	}
	buf_printf(out, "shoal_http_request_duration_seconds_sum %.6f\n",
	           (double)atomic_load(&s->latency_micros) / 1e6);
	buf_printf(out, "shoal_http_request_duration_seconds_count %lu\n",
	           atomic_load(&s->latency_count));
	buf_printf(out,
	           "# HELP shoal_http_requests_in_flight Requests being answered now.\n"
	           "# TYPE shoal_http_requests_in_flight gauge\nshoal_http_requests_in_flight %d\n",
	           atomic_load(&s->in_flight));
}
