/*
 * health.h — operational endpoints for load balancers and monitoring.
 */
#ifndef SHOAL_APP_HEALTH_H
#define SHOAL_APP_HEALTH_H

#include "http/http.h"

/** GET /healthz: 200 and {"status":"ok",…} when the database answers, else 503. */
void health_check(struct http_request *req, struct http_response *res);
/** GET /metrics: Prometheus text format (requests, latency, database pool). */
void health_metrics(struct http_request *req, struct http_response *res);

#endif
