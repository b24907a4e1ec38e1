/*
 * test_router.c — the router finds the right handler and its {params}, and
 * an id in a param is read strictly (http_parse_id).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static void handler_a(struct http_request *req, struct http_response *res)
{
	(void)req;
	(void)res;
}

static const struct http_route routes[] = {
    {"GET", "/", handler_a, 0},
    {"GET", "/threads/{id}", handler_a, 0},
    {"POST", "/threads/{id}/posts", handler_a, 0},
    {"GET", "/spaces/{space}/threads/{thread}", handler_a, 0},
};
#define N (int)(sizeof routes / sizeof routes[0])

static enum router_result route(const char *method, const char *path, int *idx, const char **p)
{
	static char scratch[256];
	return router_match(routes, N, method, path, idx, p, scratch);
}

static void test_exact_and_params(void **state)
{
	(void)state;
	int idx;
	const char *p[LIMIT_ROUTE_PARAMS];
	assert_int_equal(route("GET", "/", &idx, p), ROUTER_FOUND);
	assert_int_equal(idx, 0);
	assert_int_equal(route("GET", "/threads/42", &idx, p), ROUTER_FOUND);
	assert_int_equal(idx, 1);
	assert_string_equal(p[0], "42");
	assert_int_equal(route("GET", "/spaces/7/threads/99", &idx, p), ROUTER_FOUND);
	assert_int_equal(idx, 3);
	assert_string_equal(p[0], "7");
	assert_string_equal(p[1], "99");
}

static void test_head_is_get(void **state)
{
	(void)state;
	int idx;
	const char *p[LIMIT_ROUTE_PARAMS];
	assert_int_equal(route("HEAD", "/threads/1", &idx, p), ROUTER_FOUND);
}

static void test_not_found_and_method(void **state)
{
	(void)state;
	int idx;
	const char *p[LIMIT_ROUTE_PARAMS];
	assert_int_equal(route("GET", "/threads", &idx, p), ROUTER_NOT_FOUND);
	assert_int_equal(route("GET", "/threads/", &idx, p), ROUTER_NOT_FOUND);
	assert_int_equal(route("GET", "/threads/1/", &idx, p), ROUTER_NOT_FOUND);
	assert_int_equal(route("GET", "/threads/1/2", &idx, p), ROUTER_NOT_FOUND);
	assert_int_equal(route("GET", "//", &idx, p), ROUTER_NOT_FOUND);
	assert_int_equal(route("GET", "", &idx, p), ROUTER_NOT_FOUND);
	assert_int_equal(route("DELETE", "/threads/1", &idx, p), ROUTER_METHOD_NOT_ALLOWED);
	assert_int_equal(route("GET", "/threads/1/posts", &idx, p), ROUTER_METHOD_NOT_ALLOWED);
}

static void test_parse_id(void **state)
{
	(void)state;
	assert_int_equal(http_parse_id("42"), 42);
	assert_int_equal(http_parse_id("007"), 7);
	assert_int_equal(http_parse_id("999999999999999999"), 999999999999999999LL);
	assert_int_equal(http_parse_id("0"), 0);
	assert_int_equal(http_parse_id("-3"), 0);
	assert_int_equal(http_parse_id("4x"), 0);
	assert_int_equal(http_parse_id(" 4"), 0);
	assert_int_equal(http_parse_id(""), 0);
	assert_int_equal(http_parse_id("99999999999999999999"), 0);
	assert_int_equal(http_parse_id(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_and_params),
	    cmocka_unit_test(test_head_is_get),
	    cmocka_unit_test(test_not_found_and_method),
	    cmocka_unit_test(test_parse_id),
	};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
