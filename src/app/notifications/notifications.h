/*
 * notifications.h — discussion notifications: in-app notices with an unread
 * badge, per-space levels (watching, normal, muted), email preferences
 * (immediately, daily digest, weekly digest, never) and the digest job
 * (docs/discussions.md, "Notifications and digests").
 *
 * Nobody is told about a post they may not see: recipients are checked with
 * DISCUSSIONS_VISIBLE_SQL when notified, and the list filters again when shown
 * (a thread may have moved, a person may have left a group since).
 */
#ifndef SHOAL_APP_NOTIFICATIONS_H
#define SHOAL_APP_NOTIFICATIONS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/page.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/limits.h"
#include "core/time.h"
#include "db/db.h"
#include "http/http.h"

#define NOTIFICATIONS_PER_PAGE     50
#define NOTIFICATIONS_BADGE_MAX    99 /* the badge says "99+" beyond; keeps its count cheap */
#define NOTIFICATIONS_DIGEST_ITEMS 20 /* of each kind in one digest */

enum notify_event {
	NOTIFY_POST,     /* a thread was started or a reply posted: post_id is the new post */
	NOTIFY_OFFICIAL, /* post_id was just marked its thread's official response */
};

/**
 * "Something happened" in discussions: tells everyone who should hear about it
 * and may see it, in-app, and by email at once for those who asked for that.
 *
 * Call it after the post (or the official marking) is stored, with the
 * connection that stored it: inside the caller's open transaction it joins it
 * (so the notices commit with the post, with one flush to disk for both); with
 * no transaction open it runs its own. cfg gives base_url for links in emails.
 * It never fails the caller: a problem is logged, undone (a savepoint), and the
 * post stands. Calling it twice for the same event adds nothing (a unique key).
 *
 * Returns true when it queued email inside the caller's transaction: the caller
 * then calls mail_wake() after its COMMIT, so that the mailer, woken, finds them.
 * Used by src/app/discussions and the JSON API.
 */
bool notifications_event(struct db_conn *c, const struct config *cfg, enum notify_event ev,
                         int64_t post_id);

/**
 * Unread notices of person_id (with role, for visibility) up to
 * NOTIFICATIONS_BADGE_MAX + 1, for the header badge: one indexed query. < 0 on error.
 */
long long notifications_unread(struct db_conn *c, int64_t person_id, const char *role);

/* ------------------------------------------------------------ views */

struct notification_row {
	int64_t id, thread_id, post_id;
	char text[LIMIT_NAME_BYTES * 2 + 80]; /* "Ann Smith replied to your thread" */
	char title[LIMIT_NAME_BYTES + 1];
	char space[LIMIT_NAME_BYTES + 1];
	char when[TIME_DATE_TIME_BYTES];
	bool unread;
};

struct notifications_view {
	const char *csrf, *notice;
	struct notification_row rows[NOTIFICATIONS_PER_PAGE];
	size_t n;
	long long unread;
	const char *email; /* the person's email preference, in words */
};

struct notifications_settings_view {
	const char *csrf, *notice;
	struct form_errors errors;
	const char *email; /* immediately, daily, weekly, never */
};

struct notifications_space_view {
	const char *csrf, *notice;
	struct form_errors errors;
	int64_t space_id;
	char space[LIMIT_NAME_BYTES + 1];
	const char *level; /* watching, normal, muted */
};

/* ------------------------------------------------------------ handlers (pages.c) */

void notifications_page(struct http_request *req, struct http_response *res);
/* GET /notifications/{id}: marks it read and opens the post it is about (the thread page
 * then decides, as always, whether the viewer may see it). */
void notifications_open(struct http_request *req, struct http_response *res);
void notifications_read_one(struct http_request *req, struct http_response *res);
void notifications_read_all(struct http_request *req, struct http_response *res);
void notifications_settings_page(struct http_request *req, struct http_response *res);
void notifications_settings_save(struct http_request *req, struct http_response *res);
void notifications_space_page(struct http_request *req, struct http_response *res);
void notifications_space_save(struct http_request *req, struct http_response *res);

/* ------------------------------------------------------------ digests (digest.c) */

/**
 * The digest job (src/jobs/jobs.c): at 07:00 London each day sends the daily
 * digests, and on Mondays at 07:00 the weekly ones, once per person per period
 * whatever the number of nodes (digests_sent). Returns 0 or < 0 with err.
 */
int notifications_digest_job(struct db *db, const struct config *cfg, const atomic_bool *stop,
                             char *err, size_t errlen);
/**
 * Sends the digests due at moment now (Unix seconds): the latest daily and weekly
 * send times at or before now, if not sent already. *sent counts emails queued.
 */
int notifications_digest_run(struct db *db, const struct config *cfg, int64_t now,
                             const atomic_bool *stop, int *sent, char *err, size_t errlen);
/** The latest daily (or, weekly, Monday) 07:00 London at or before now: a period's key. */
int64_t notifications_digest_period_end(int64_t now, bool weekly);
/** `shoal digest send [--at UNIX-SECONDS]`: runs the digest job once, as at that moment. */
int cmd_digest_send(struct cli *cli);
extern const struct cli_option digest_send_options[];

#endif
