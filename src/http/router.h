/*
 * router.h — matches a method and path against a table of routes with {params}.
 */
#ifndef SHOAL_HTTP_ROUTER_H
#define SHOAL_HTTP_ROUTER_H

#include "http/http.h"

enum router_result {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,         /* no pattern matches the path: 404 */
	ROUTER_METHOD_NOT_ALLOWED /* a pattern matches, not for this method: 405 */
};

/**
 * Finds the route for method and path. On ROUTER_FOUND sets *index and fills
 * params (pointers into scratch, which must be at least strlen(path) + 1 bytes).
 * HEAD matches GET routes.
 */
enum router_result router_match(const struct http_route *routes, int n_routes, const char *method,
                                const char *path, int *index,
                                const char *params[LIMIT_ROUTE_PARAMS], char *scratch);

#endif
