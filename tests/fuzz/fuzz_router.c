/* fuzz_router.c — the router (src/http/router.c) on any path and method. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(struct http_request *req, struct http_response *res)
{
	(void)req;
	(void)res;
}

static const struct http_route routes[] = {
    {"GET", "/", handler, 0},
    {"GET", "/threads/{id}", handler, 0},
    {"POST", "/threads/{id}/posts", handler, 0},
    {"GET", "/a/{b}/c/{d}/e/{f}/g/{h}", handler, 0},
    {"GET", "/assets/{hash}/{name}", handler, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1), *scratch = malloc(size + 1);
	memcpy(path, data, size);
	path[size] = '\0';
	const char *params[LIMIT_ROUTE_PARAMS];
	int idx;
	const char *method = size && data[0] & 1 ? "POST" : "GET";
	if (router_match(routes, 5, method, path, &idx, params, scratch) == ROUTER_FOUND) {
		if (idx < 0 || idx >= 5)
			abort();
		/* Each {param} of the matched route got a non-empty segment without '/'. */
		int n = 0;
		for (const char *p = routes[idx].pattern; (p = strchr(p, '{')); p++)
			if (!*params[n] || strchr(params[n++], '/'))
				abort();
	}
	free(path);
	free(scratch);
	return 0;
}
