/*
 * limits.h — every input limit in one place.
 *
 * Each one is enforced where the input arrives and answered with a clear 4xx
 * page (or a one-line error on the command line); none is a silent truncation.
 */
#ifndef SHOAL_CORE_LIMITS_H
#define SHOAL_CORE_LIMITS_H

/* HTTP (src/http/server.c) */
#define LIMIT_URL_BYTES          2048       /* longer request targets get 414 */
#define LIMIT_HEADER_BYTES       8192       /* all request headers together; more gets 431 */
#define LIMIT_BODY_BYTES         (1u << 20) /* form and JSON bodies; more gets 413 */
#define LIMIT_DRAIN_BYTES        (32u << 20) /* read and discarded after a 413, so the client sees it */
#define LIMIT_CONNECTION_MEMORY  (64u << 10) /* libmicrohttpd's per-connection pool */
#define LIMIT_CONNECTION_TIMEOUT 30          /* seconds a quiet connection is kept */
#define LIMIT_CONNECTIONS        1000        /* open connections at once */
#define LIMIT_PAGE_BYTES         (4u << 20)  /* a rendered response body */
#define LIMIT_SHUTDOWN_SECONDS   10          /* grace for in-flight requests on SIGTERM */
#define LIMIT_ROUTE_PARAMS       4           /* {params} in one route pattern */

/* Configuration (src/core/config.c) */
#define LIMIT_CONFIG_VALUE_BYTES 1024

/* Organisations */
#define LIMIT_NAME_BYTES 200

#endif
