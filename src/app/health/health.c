/*
 * health.c — /healthz and /metrics (see health.h).
 *
 * Neither shows anything about people or practices: only whether the node and
 * its database work, and how busy they are.
 */
#include "app/health/health.h"

#include "app/app.h"
#include "db/migrate.h"
#include "http/server.h"
#include "shoal_version.h"

void health_check(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	int ok = db_ping(app->db);
	res->status = ok ? 200 : 503;
	res->content_type = "application/json";
	http_response_header(res, "Cache-Control", "no-store");
	buf_printf(&res->body, "{\"status\":\"%s\",\"database\":\"%s\",\"version\":\"%s\"}\n",
	           ok ? "ok" : "unavailable",
	           db_kind(app->db) == DB_SQLITE ? "sqlite" : "postgresql", SHOAL_VERSION);
}

void health_metrics(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	/* Request counts by route are for the monitoring system, not for the world. */
	if (!http_address_in_list(req->address, app->config->metrics_from)) {
		res->status = 404;
		return;
	}
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	http_server_metrics(app->server, &res->body);
	struct db_pool_stats p;
	db_pool_stats(app->db, &p);
	buf_printf(
	    &res->body,
	    "# HELP shoal_db_pool_connections Database connections the pool may hold.\n"
	    "# TYPE shoal_db_pool_connections gauge\nshoal_db_pool_connections %u\n"
	    "# HELP shoal_db_pool_in_use Database connections borrowed now.\n"
	    "# TYPE shoal_db_pool_in_use gauge\nshoal_db_pool_in_use %u\n"
	    "# HELP shoal_db_pool_acquired_total Borrows of a database connection.\n"
	    "# TYPE shoal_db_pool_acquired_total counter\nshoal_db_pool_acquired_total %llu\n"
	    "# HELP shoal_db_pool_waited_total Borrows that waited for a free connection.\n"
	    "# TYPE shoal_db_pool_waited_total counter\nshoal_db_pool_waited_total %llu\n",
	    p.size, p.in_use, (unsigned long long)p.acquired, (unsigned long long)p.waited);
}
