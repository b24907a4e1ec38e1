/*
 * router.c — a linear route table with {params}.
 *
 * A linear scan is plenty for a few dozen routes and keeps the table readable
 * in one place (src/app/routes.c); it is not on the profile.
 */
#include "http/router.h"

#include <string.h>

/* Matches one pattern; writes params into scratch (a copy of path). */
static int match(const char *pattern, const char *path, const char *params[], char *scratch)
{
	int n = 0;
	const char *p = pattern, *s = path;
	char *out = scratch;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t len = strcspn(s, "/");
			if (!close || len == 0 || n == LIMIT_ROUTE_PARAMS)
				return 0;
			memcpy(out, s, len);
			out[len] = '\0';
			params[n++] = out;
			out += len + 1;
			s += len;
			p = close + 1;
		} else if (*p++ != *s++) {
			return 0;
		}
	}
	return *p == '\0' && *s == '\0';
}

enum router_result router_match(const struct http_route *routes, int n_routes, const char *method,
                                const char *path, int *index,
                                const char *params[LIMIT_ROUTE_PARAMS], char *scratch)
{
	const char *m = strcmp(method, "HEAD") ? method : "GET";
	enum router_result result = ROUTER_NOT_FOUND;
	for (int i = 0; i < n_routes; i++) {
		if (!match(routes[i].pattern, path, params, scratch))
			continue;
		if (!strcmp(routes[i].method, m)) {
			*index = i;
			return ROUTER_FOUND;
		}
		result = ROUTER_METHOD_NOT_ALLOWED;
	}
	return result;
}
