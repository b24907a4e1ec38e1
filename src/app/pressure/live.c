/*
 * live.c — live updates of pressure figures (docs/pressure.md, "Live updates").
 *
 * Saving a return signals "the summary of period N changed" in the same
 * transaction (pressure_live_changed, through src/db/notify.h, so every node
 * hears it on PostgreSQL). Each node's listener passes the signal to the
 * browsers following GET /pressure/live (src/http/sse.h), whose script
 * (web/live.js) fetches the page again and swaps in the new figures. The
 * event names a period and nothing else, so it is safe for anyone who may see
 * the dashboard: what they then fetch is checked as any page is.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/access.h"
#include "app/pressure/pressure.h"
#include "core/log.h"
#include "db/notify.h"
#include "http/sse.h"

#define LIVE_TOPIC  "pressure"
#define LIVE_PREFIX "pressure "

int pressure_live_changed(struct db_conn *c, int64_t period_id)
{
	char payload[48];
	snprintf(payload, sizeof payload, LIVE_PREFIX "%" PRId64, period_id);
	return db_notify(c, payload);
}

/* The listener thread's callback: one signal, to this node's streams. */
static void deliver(const char *payload, void *arg)
{
	(void)arg;
	char data[64];
	if (!payload) {
		/* Signals may have been missed: everyone looks again. */
		sse_broadcast(LIVE_TOPIC, "changed", "{\"period\":null}");
		return;
	}
	if (strncmp(payload, LIVE_PREFIX, strlen(LIVE_PREFIX)))
		return;
	int64_t id = http_parse_id(payload + strlen(LIVE_PREFIX));
	if (!id)
		return;
	snprintf(data, sizeof data, "{\"period\":%" PRId64 "}", id);
	sse_broadcast(LIVE_TOPIC, "changed", data);
}

int pressure_live_start(struct db *db, const char *url)
{
	return db_listen_start(db, url, deliver, NULL);
}

void pressure_live_stop(void)
{
	db_listen_stop();
}

void pressure_live(struct http_request *req, struct http_response *res)
{
	if (!policy_may_follow_pressure(access_viewer(req))) {
		res->status = 403;
		return;
	}
	/* Browsers' EventSource always asks for an event stream. Anything else (a
	 * link followed by hand, a crawler, a script reading to the end) would hang
	 * on a response that never ends, so it gets a page that says what this is. */
	const char *accept = http_header(req, "Accept");
	if (!accept || !strstr(accept, "text/event-stream")) {
		res->status = 406;
		res->reason =
		    "This address sends live updates to the pressure pages, which ask for "
		    "them by themselves. Open the pressure pages instead.";
		return;
	}
	if (sse_open(req, res, LIVE_TOPIC))
		log_info("request %s: live updates refused: %d streams open", req->id, sse_count());
}
