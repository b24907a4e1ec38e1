/*
 * routes.c — every route of Shoal in one table: method, path, handler, and the
 * least access it needs (enum access in src/auth/policy.h; the before hook in
 * src/app/access.c asks the policy module before any handler runs).
 *
 * Start here to follow a request: find its path, then open the handler's folder.
 * tests/http/policy.test.mjs holds the expected outcome of every route for every
 * role and fails when a route here is missing from it.
 */
#include "app/access.h"
#include "app/account/account.h"
#include "app/api/api.h"
#include "app/api/tokens.h"
#include "app/app.h"
#include "app/health/health.h"
#include "app/home/home.h"
#include "auth/policy.h"
#include "http/static.h"

const struct http_route app_routes[] = {
    {"GET", "/", home_page, ACCESS_PUBLIC},
    {"GET", "/healthz", health_check, ACCESS_PUBLIC},
    {"GET", "/metrics", health_metrics, ACCESS_PUBLIC},
    {"GET", "/assets/images/{name}", static_serve_image, ACCESS_PUBLIC},
    {"GET", "/assets/{hash}/{name}", static_serve_hashed, ACCESS_PUBLIC},
    {"GET", "/favicon.ico", static_serve_favicon, ACCESS_PUBLIC},
    {"GET", "/sign-in", account_sign_in_page, ACCESS_PUBLIC},
    {"POST", "/sign-in", account_sign_in, ACCESS_PUBLIC},
    {"POST", "/sign-out", account_sign_out, ACCESS_ENROLLING},
    {"POST", "/sign-out-everywhere", account_sign_out_everywhere, ACCESS_ENROLLING},
    {"POST", "/session/extend", account_extend, ACCESS_ENROLLING},
    {"GET", "/account", account_page, ACCESS_SIGNED_IN},
    /* API tokens (the person's own, on their account) and the JSON API: src/app/api/ */
    {"GET", "/account/tokens", tokens_page, ACCESS_SIGNED_IN},
    {"POST", "/account/tokens", tokens_create_page, ACCESS_SIGNED_IN},
    {"POST", "/account/tokens/{id}/revoke", tokens_revoke_page, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/me", api_me, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/tokens", api_tokens_list, ACCESS_SIGNED_IN},
    {"DELETE", "/api/v1/tokens/{id}", api_token_revoke, ACCESS_SIGNED_IN},
    {"GET", "/api/v1/openapi.json", api_openapi, ACCESS_PUBLIC},
};
const int app_n_routes = sizeof app_routes / sizeof app_routes[0];
