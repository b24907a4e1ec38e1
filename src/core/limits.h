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
#define LIMIT_JSON_BYTES         (1u << 18)  /* a JSON API body (256 KiB); more gets 413 */
#define LIMIT_JSON_DEPTH         32          /* arrays and objects nested; deeper gets 400 */

/* Uploads: multipart bodies (MULTIPART_* in src/http/multipart.h) and attached files
 * (ATTACH_* in src/app/discussions/attachments.h, the routes' larger body limit). */

/* Configuration (src/core/config.c) */
#define LIMIT_CONFIG_VALUE_BYTES 1024

/* Members and access */
#define LIMIT_EMAIL_BYTES             254         /* RFC 5321 path limit */
#define LIMIT_PASSWORD_MIN_CHARS      10          /* NCSC: length, not composition */
#define LIMIT_PASSWORD_BYTES          1000        /* longer is refused, not truncated */
#define LIMIT_SESSION_IDLE            (30 * 60)   /* seconds without a request before sign-out */
#define LIMIT_SESSION_ABSOLUTE        (12 * 3600) /* seconds after sign-in, whatever happens */
#define LIMIT_SIGNIN_WINDOW           (15 * 60)   /* failures count within this window */
#define LIMIT_SIGNIN_ACCOUNT_FAILURES 10          /* then the account is locked for the window */
#define LIMIT_SIGNIN_ADDRESS_FAILURES 100         /* per address: many staff share an NHS gateway */
#define LIMIT_MFA_FAILURES            5           /* wrong two-step codes per person per window */
#define LIMIT_FORM_FIELDS             64          /* fields in one form */
#define LIMIT_TEXT_BYTES              4000        /* a short free-text field (profiles, messages) */

/* Organisations */
#define LIMIT_NAME_BYTES 200
#define LIMIT_LIST_SIZE  1000000 /* a practice's registered patients; the largest have ~100,000 */

/* CSV imports (src/core/csv.c; `shoal import …`) */
#define LIMIT_IMPORT_BYTES         (5u << 20) /* the file; larger ones are refused before reading */
#define LIMIT_IMPORT_ROWS          20000      /* data rows (England has ~6,300 practices) */
#define LIMIT_IMPORT_PROBLEMS      100        /* problems listed; the rest are counted */
#define LIMIT_IMPORT_MESSAGE_BYTES 300        /* one problem's message */
#define LIMIT_CSV_FIELDS           64         /* fields in one record */
#define LIMIT_CSV_FIELD_BYTES      4096       /* one field */

#endif
