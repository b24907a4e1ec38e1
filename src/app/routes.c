/*
 * routes.c — every route of Shoal in one table: method, path, handler.
 *
 * Start here to follow a request: find its path, then open the handler's folder.
 */
#include "app/app.h"
#include "app/health/health.h"
#include "app/home/home.h"
#include "http/static.h"

const struct http_route app_routes[] = {
    {"GET", "/", home_page},
    {"GET", "/healthz", health_check},
    {"GET", "/metrics", health_metrics},
    {"GET", "/assets/images/{name}", static_serve_image},
    {"GET", "/assets/{hash}/{name}", static_serve_hashed},
    {"GET", "/favicon.ico", static_serve_favicon},
};
const int app_n_routes = sizeof app_routes / sizeof app_routes[0];
