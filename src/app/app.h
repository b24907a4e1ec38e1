/*
 * app.h — the application context every handler reaches through req->app,
 * and the route table (routes.c) that joins the features to the server.
 */
#ifndef SHOAL_APP_APP_H
#define SHOAL_APP_APP_H

#include "core/config.h"
#include "core/limits.h"
#include "db/db.h"
#include "http/http.h"

struct http_server;

struct app {
	struct db *db;
	const struct config *config;
	struct http_server *server;
	char collective_name[LIMIT_NAME_BYTES + 1]; /* read from settings at start-up */
	int demo;                                   /* the fictional demo collective is loaded */
};

/** The routes of every feature, in one table (routes.c). */
extern const struct http_route app_routes[];
extern const int app_n_routes;
/** The routes allowed a larger body than LIMIT_BODY_BYTES (uploads), in routes.c. */
extern const struct http_body_limit app_body_limits[];
extern const int app_n_body_limits;

/** Reads installation settings (the collective's name, demo flag) into app. Returns 0 or < 0. */
int app_load_settings(struct app *app, char *err, size_t errlen);

#endif
