/*
 * test_json.c — the JSON API's building blocks without a server: JSON
 * responses (src/render/json.c), the embedded OpenAPI document, API token
 * names and format (src/app/api/tokens.c), and the policy rules for
 * tokens, including the scope rule (a read token changes nothing; partners
 * hold read tokens only), which HTTP tests can only reach in part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/api/api.h"
#include "app/api/tokens.h"
#include "auth/crypto.h"
#include "auth/policy.h"
#include "render/json.h"

static const char *header_of(const struct http_response *res, const char *name)
{
	for (int i = 0; i < res->n_headers; i++)
		if (!strcmp(res->headers[i][0], name))
			return res->headers[i][1];
	return NULL;
}

static void test_render_json(void **state)
{
	(void)state;
	struct http_response res = {0};
	buf_init(&res.body, LIMIT_PAGE_BYTES);
	/* Quotes, backslashes, control characters and markup come out as data. */
	assert_int_equal(render_json(&res, 201,
	                             json_pack("{s:s, s:I, s:b}", "name", "a\"b\\c\n</script>", "n",
	                                       (json_int_t)42, "ok", 1)),
	                 0);
	assert_int_equal(res.status, 201);
	assert_string_equal(res.content_type, "application/json");
	assert_string_equal(header_of(&res, "Cache-Control"), "no-store");
	assert_string_equal(res.body.data,
	                    "{\"name\":\"a\\\"b\\\\c\\n</script>\",\"n\":42,\"ok\":true}\n");
	buf_free(&res.body);
}

static void test_render_json_failures(void **state)
{
	(void)state;
	struct http_response res = {0};
	buf_init(&res.body, 100);
	/* A document built from invalid UTF-8 fails to pack: a 500, not a crash. */
	assert_int_equal(render_json(&res, 200, json_pack("{s:s}", "name", "\xff\xfe")), -1);
	assert_int_equal(res.status, 500);
	assert_string_equal(res.body.data, "{\"error\":\"the answer could not be written\"}\n");
	/* Past the body's cap: a 500 with a whole error document, never half a document. */
	char big[500];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	res.n_headers = 0;
	assert_int_equal(render_json(&res, 200, json_pack("{s:s}", "big", big)), -1);
	assert_int_equal(res.status, 500);
	json_t *doc = json_loads(res.body.data, 0, NULL);
	assert_non_null(doc);
	json_decref(doc);
	buf_free(&res.body);
}

static void test_render_json_error(void **state)
{
	(void)state;
	struct http_response res = {0};
	buf_init(&res.body, LIMIT_PAGE_BYTES);
	render_json_error(&res, 403, "this token may only read");
	assert_int_equal(res.status, 403);
	assert_string_equal(res.body.data, "{\"error\":\"this token may only read\"}\n");
	buf_free(&res.body);
}

static void test_openapi_document(void **state)
{
	(void)state;
	size_t size;
	const char *text = api_openapi_text(&size);
	assert_non_null(text);
	json_error_t error;
	json_t *doc = json_loadb(text, size, 0, &error);
	if (!doc)
		fail_msg("openapi.json line %d: %s", error.line, error.text);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	json_t *paths = json_object_get(doc, "paths");
	assert_non_null(json_object_get(json_object_get(paths, "/api/v1/me"), "get"));
	json_t *components = json_object_get(doc, "components");
	assert_non_null(json_object_get(json_object_get(components, "schemas"), "Me"));
	assert_non_null(json_object_get(json_object_get(components, "schemas"), "Error"));
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(components, "securitySchemes"), "bearer"),
	        "scheme")),
	    "bearer");
	json_decref(doc);
}

static void test_token_names(void **state)
{
	(void)state;
	char out[TOKENS_NAME_MAX_BYTES + 1];
	assert_null(tokens_clean_name("  Practice dashboard \n", out));
	assert_string_equal(out, "Practice dashboard");
	assert_string_equal(tokens_clean_name(NULL, out),
	                    "Enter a name that says what the token is for");
	assert_non_null(tokens_clean_name(" \t ", out));
	assert_non_null(tokens_clean_name("two\nlines", out));
	assert_non_null(tokens_clean_name("bad \xff byte", out));
	/* 100 characters are allowed, counted as characters: "é" is two bytes. */
	char name[2 * 101 + 1] = "";
	for (int i = 0; i < 100; i++)
		strcat(name, "\xc3\xa9");
	assert_null(tokens_clean_name(name, out));
	strcat(name, "\xc3\xa9");
	assert_string_equal(tokens_clean_name(name, out),
	                    "Token name must be 100 characters or fewer");
}

static void test_token_format(void **state)
{
	(void)state;
	char a[TOKENS_CHARS + 1], b[TOKENS_CHARS + 1];
	tokens_generate(a);
	tokens_generate(b);
	assert_int_equal(strlen(a), 49);
	assert_memory_equal(a, "shoal_", 6);
	assert_string_not_equal(a, b);
	for (const char *p = a + 6; *p; p++)
		assert_non_null(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
}

static void test_parse_id(void **state)
{
	(void)state;
	assert_int_equal(api_parse_id("42"), 42);
	assert_int_equal(api_parse_id("999999999999999999"), 999999999999999999LL);
	assert_int_equal(api_parse_id("0"), 0);
	assert_int_equal(api_parse_id("007"), 0);
	assert_int_equal(api_parse_id("-1"), 0);
	assert_int_equal(api_parse_id("1x"), 0);
	assert_int_equal(api_parse_id(""), 0);
	assert_int_equal(api_parse_id(NULL), 0);
	assert_int_equal(api_parse_id("9999999999999999999"), 0);
}

static struct viewer person(enum role role, enum via via, bool token_write)
{
	struct viewer v = {.person_id = 7, .role = role, .via = via, .token_write = token_write};
	v.mfa_enrolled = true;
	return v;
}

static void test_token_policy(void **state)
{
	(void)state;
	struct viewer member = person(ROLE_MEMBER, VIA_SESSION, false);
	struct viewer partner = person(ROLE_PARTNER, VIA_SESSION, false);
	struct viewer admin = person(ROLE_ADMINISTRATOR, VIA_SESSION, false);
	struct viewer nobody = {0};
	assert_true(policy_may_hold_token(&member, true));
	assert_true(policy_may_hold_token(&member, false));
	assert_true(policy_may_hold_token(&partner, false));
	assert_false(policy_may_hold_token(&partner, true));
	assert_false(policy_may_hold_token(&nobody, false));

	/* Only one's own tokens: not even an administrator revokes another's here. */
	assert_true(policy_may_revoke_token(&member, 7));
	assert_false(policy_may_revoke_token(&member, 8));
	assert_false(policy_may_revoke_token(&admin, 8));
	assert_false(policy_may_revoke_token(&nobody, 0));

	/* The scope rule. */
	struct viewer read = person(ROLE_MEMBER, VIA_TOKEN, false);
	struct viewer write = person(ROLE_MEMBER, VIA_TOKEN, true);
	struct viewer partner_write = person(ROLE_PARTNER, VIA_TOKEN, true);
	assert_true(policy_may_write(&member));
	assert_true(policy_may_write(&write));
	assert_false(policy_may_write(&read));
	assert_false(policy_may_write(&partner_write));
	assert_false(policy_may_write(&nobody));
	/* Tokens read what their holder may read, without the browser's MFA step. */
	read.mfa_enrolled = false;
	read.role = ROLE_EXECUTIVE;
	assert_true(policy_allows(&read, ACCESS_EXECUTIVE));
}

int main(void)
{
	if (auth_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_json),       cmocka_unit_test(test_render_json_failures),
	    cmocka_unit_test(test_render_json_error), cmocka_unit_test(test_openapi_document),
	    cmocka_unit_test(test_token_names),       cmocka_unit_test(test_token_format),
	    cmocka_unit_test(test_parse_id),          cmocka_unit_test(test_token_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
