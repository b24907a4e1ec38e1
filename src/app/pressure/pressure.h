/*
 * pressure.h — pressure returns: the weekly (or, in a surge, daily) return a
 * practice makes, its periods and deadlines, the calculated level, and the
 * escalation of Red and Black returns to the executive, whose response the
 * practice then sees.
 *
 * Practice-identifiable returns are confidential (docs/pressure.md): only that
 * practice's staff, the executive and administrators see them, every decision
 * is a policy_may_* call, and every view by someone outside the practice is
 * written to the audit trail as "pressure-return-viewed".
 */
#ifndef SHOAL_APP_PRESSURE_H
#define SHOAL_APP_PRESSURE_H

#include <stdbool.h>
#include <stdint.h>

#include "app/page.h"
#include "app/pressure/rules.h"
#include "core/config.h"
#include "core/limits.h"
#include "core/time.h"
#include "db/db.h"
#include "http/http.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h> /* strcmp, in templates/pressure_form.html */

/* ------------------------------------------------------------ model */

/* A practice as pressure reporting needs it. */
struct pressure_practice {
	int64_t id;
	char ods[16];
	char name[LIMIT_NAME_BYTES + 1];
	int64_t list_size;   /* 0 when unknown */
	int64_t locality_id; /* 0 when the practice sits in no locality */
};

/* A period, as stored. */
struct pressure_period {
	int64_t id;
	char kind[8];           /* "weekly" or "daily" */
	char reference_day[11]; /* YYYY-MM-DD */
	int64_t opens_at, deadline_at, closes_at;
};

/** Finds a practice by ODS code: 1 found, 0 not (or not a practice), < 0 error. */
int pressure_find_practice(struct db_conn *c, const char *ods, struct pressure_practice *p)
    __attribute__((warn_unused_result));
/**
 * The period a practice reports for at moment now: today's daily period when a
 * surge covers its locality, else the week's. Made on first use (any node may
 * make it; the UNIQUE key keeps one). Returns 0 or < 0.
 */
int pressure_current_period(struct db_conn *c, const struct pressure_practice *p, int64_t now,
                            struct pressure_period *out) __attribute__((warn_unused_result));
/** A period by id: 1 found, 0 not, < 0 error. */
int pressure_load_period(struct db_conn *c, int64_t id, struct pressure_period *out)
    __attribute__((warn_unused_result));
/** "week beginning 23 November 2026" or "23 November 2026 (daily, surge)" into out. */
void pressure_period_label(const struct pressure_period *p, char *out, size_t len);

/* Where a person stands with a practice. */
struct pressure_standing {
	bool member, lead, may_report;
};
/** Reads person_id's membership of organisation_id. Returns 0 or < 0. */
int pressure_standing(struct db_conn *c, int64_t person_id, int64_t organisation_id,
                      struct pressure_standing *s) __attribute__((warn_unused_result));

/** The weekly settings (reference weekday, deadline weekday, deadline minutes), defaults
 * Monday, Thursday, 17:30. Returns 0 or < 0. */
int pressure_settings(struct db_conn *c, int *reference_weekday, int *deadline_weekday,
                      int *deadline_minutes) __attribute__((warn_unused_result));

/**
 * Records an audit entry of a view of practice-identifiable pressure data by
 * someone outside that practice (action "pressure-return-viewed").
 */
int pressure_audit(struct db_conn *c, struct http_request *req, const char *action,
                   const char *subject, const char *detail) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ views */

struct pressure_level_option {
	int value;
	const char *word, *opel;
};
struct pressure_number {
	const char *name, *label, *hint, *value;
	const char *error; /* its validation error, or NULL */
};
struct pressure_rating {
	const char *name, *label;
	int value; /* 0 none chosen */
};
struct pressure_source_option {
	int64_t id;
	char label[LIMIT_NAME_BYTES + 1];
};
#define PRESSURE_MAX_SOURCES 40
#define PRESSURE_N_NUMBERS   11

struct pressure_form_view {
	const char *csrf, *ods, *practice;
	int64_t period_id;
	char period[64], deadline[48];
	bool after_deadline, amending, closed_notice;
	struct form_errors errors;
	int level;
	const struct pressure_level_option *levels;
	struct pressure_rating ratings[3];
	struct pressure_number numbers[PRESSURE_N_NUMBERS];
	const char *incident, *incident_detail;
	struct pressure_source_option sources[PRESSURE_MAX_SOURCES];
	size_t n_sources;
	int64_t source_id;
	const char *action_plan, *support_other, *comments;
	bool mutual_aid, call_redirection, review_111, consent;
};

/* One return in a practice's history. */
struct pressure_return_row {
	int64_t id;
	char period[64], sent[TIME_DATE_TIME_BYTES];
	int level, calculated;
	bool flagged, late;
};
/* An escalation and the executive's response, as the practice and the executive see it. */
struct pressure_escalation_row {
	int64_t id;
	char ods[16], practice[LIMIT_NAME_BYTES + 1];
	const char *what; /* "Black alert", "Red: contact within one working day", "Review" */
	char period[64], raised[TIME_DATE_TIME_BYTES], respond_by[TIME_DATE_TIME_BYTES];
	char responded_at[TIME_DATE_TIME_BYTES], responder[LIMIT_NAME_BYTES + 1];
	bool responded, overdue;
	char *contact_made_by, *support_offered; /* owned by the row */
};
#define PRESSURE_MAX_ROWS 60

struct pressure_practice_view {
	const char *ods, *practice, *notice;
	char period[64], deadline[TIME_DATE_TIME_BYTES];
	bool may_submit, may_authorise, returned;
	struct pressure_return_row rows[PRESSURE_MAX_ROWS];
	size_t n_rows;
	struct pressure_escalation_row escalations[PRESSURE_MAX_ROWS];
	size_t n_escalations;
};

/* A practice on the viewer's /pressure page. */
struct pressure_mine_row {
	char ods[16], name[LIMIT_NAME_BYTES + 1], period[64], deadline[TIME_DATE_TIME_BYTES];
	bool may_submit, lead, returned, late;
	int level;
};
struct pressure_index_view {
	bool executive;
	long long open_escalations;
	struct pressure_mine_row mine[16];
	size_t n_mine;
};

/**
 * Loads escalations, newest first, open ones before answered ones: of one practice
 * (organisation_id), or of all (0); one (escalation_id, or 0 for any); only those without
 * a response when open_only.
 * The rows' texts are freed by pressure_free_escalations. Returns 0 or < 0.
 */
int pressure_load_escalations(struct db_conn *c, int64_t organisation_id, int64_t escalation_id,
                              bool open_only, struct pressure_escalation_row *rows, size_t max,
                              size_t *n) __attribute__((warn_unused_result));
/** Frees the texts of escalation rows. */
void pressure_free_escalations(struct pressure_escalation_row *rows, size_t n);

struct pressure_escalations_view {
	struct pressure_escalation_row rows[PRESSURE_MAX_ROWS];
	size_t n;
};
struct pressure_escalation_view {
	const char *csrf;
	struct pressure_escalation_row e;
	int64_t return_id;
	int level;
	struct form_errors errors;
	const char *contact, *support;
};

/* One return in full. */
struct pressure_detail_row {
	const char *key;
	char value[LIMIT_TEXT_BYTES + 1];
};
struct pressure_return_view {
	const char *ods, *practice;
	char period[64], sent[TIME_DATE_TIME_BYTES], by[LIMIT_NAME_BYTES + 1];
	int level, calculated;
	bool flagged, late;
	struct pressure_detail_row rows[24];
	size_t n_rows;
};

/* A person of the practice, on the lead's "who can send returns" page. */
struct pressure_reporter_row {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1], email[LIMIT_EMAIL_BYTES + 1];
	bool lead, may_report;
};
struct pressure_reporters_view {
	const char *csrf, *ods, *practice, *notice;
	struct pressure_reporter_row rows[PRESSURE_MAX_ROWS];
	size_t n;
};

/* A practice on the executive's periods page: returned or missing. */
struct pressure_status_row {
	char ods[16], name[LIMIT_NAME_BYTES + 1], period[64];
	bool returned, late, flagged;
	int level, calculated;
};
struct pressure_surge_row {
	int64_t id;
	char localities[512], starts[TIME_DATE_BYTES], ends[TIME_DATE_BYTES];
	char reason[LIMIT_TEXT_BYTES + 1];
	bool ended;
};
struct pressure_locality_option {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1];
	bool checked;
};
#define PRESSURE_MAX_PRACTICES 2000
struct pressure_periods_view {
	const char *csrf, *notice;
	struct form_errors errors;
	char weekly[64], deadline[TIME_DATE_TIME_BYTES];
	long long returned, missing;
	struct pressure_status_row *rows; /* PRESSURE_MAX_PRACTICES, missing first */
	size_t n_rows;
	struct pressure_surge_row surges[20];
	size_t n_surges;
	struct pressure_locality_option localities[40];
	size_t n_localities;
	bool all_localities;
	int64_t chosen[40]; /* localities ticked on a form sent back with errors */
	size_t n_chosen;
	const char *starts_on, *ends_on, *reason;
	int reference_weekday, deadline_weekday;
	char deadline_time[8];
	const char *const *weekdays; /* [1..7] */
};

/** Loads a few fictional returns for the demo collective (demo.c), inside the caller's
 * transaction. Returns 0 or < 0. */
int pressure_demo_load(struct db_conn *c, int64_t now) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ handlers */

/** GET /pressure: the viewer's practices and their returns; the executive's tools. */
void pressure_index(struct http_request *req, struct http_response *res);
/** GET /pressure/practices/{ods}: a practice's returns and the responses to them. */
void pressure_practice_page(struct http_request *req, struct http_response *res);
/** GET /pressure/practices/{ods}/return: the return form for the current period. */
void pressure_form_page(struct http_request *req, struct http_response *res);
/** POST /pressure/practices/{ods}/return: sends or amends the return. */
void pressure_form_submit(struct http_request *req, struct http_response *res);
/** GET /pressure/returns/{id}: one return in full. */
void pressure_return_page(struct http_request *req, struct http_response *res);
/** GET /pressure/practices/{ods}/reporters: the lead chooses who may report. */
void pressure_reporters_page(struct http_request *req, struct http_response *res);
/** POST /pressure/practices/{ods}/reporters: allows or stops one person reporting. */
void pressure_reporters_save(struct http_request *req, struct http_response *res);
/** GET /pressure/escalations: the executive's list of alerts and reviews. */
void pressure_escalations_page(struct http_request *req, struct http_response *res);
/** GET /pressure/escalations/{id}: one escalation and the form for the response. */
void pressure_escalation_page(struct http_request *req, struct http_response *res);
/** POST /pressure/escalations/{id}: records who made contact and what was offered. */
void pressure_escalation_respond(struct http_request *req, struct http_response *res);
/** GET /pressure/periods: current periods, who has not returned, surges, settings. */
void pressure_periods_page(struct http_request *req, struct http_response *res);
/** POST /pressure/surges: declares a surge. */
void pressure_surge_declare(struct http_request *req, struct http_response *res);
/** POST /pressure/surges/{id}/end: ends a surge early. */
void pressure_surge_end(struct http_request *req, struct http_response *res);
/** POST /pressure/settings: the weekly reference day and deadline. */
void pressure_settings_save(struct http_request *req, struct http_response *res);

/* ------------------------------------------------------------ live updates (live.c) */

/**
 * Signals, when c's transaction commits, that the figures of period_id changed:
 * every node tells the browsers following /pressure/live. Call it in the
 * transaction that saves a return. Returns 0 or < 0.
 */
int pressure_live_changed(struct db_conn *c, int64_t period_id) __attribute__((warn_unused_result));
/** Starts passing signals to this node's live streams (db and url as opened). 0 or -1. */
int pressure_live_start(struct db *db, const char *url) __attribute__((warn_unused_result));
/** Stops it (after http_server_stop). */
void pressure_live_stop(void);
/** GET /pressure/live: text/event-stream of "changed" events ({"period": N}). */
void pressure_live(struct http_request *req, struct http_response *res);

struct form; /* http/form.h */

/* The outcome of pressure_submit_fields. */
struct pressure_submit_result {
	int status;         /* 201 sent, 200 amended, or the refusal: 400, 403, 404, 409, 503 */
	const char *reason; /* why it was refused (403, 404, 409), or NULL */
	struct form_errors errors; /* 400: each field's problem, as the form words it */
	int64_t id, period_id;
	int level, calculated;
	bool amended, late;
};
/**
 * Sends or amends practice ods's return for the current period from fields named as
 * the return form's (the JSON API turns its body into them): the form's checks, one
 * return per practice per period, escalation, live update and audit, as the form does.
 * An optional "period" field must be the current period's id (else 409). Returns 0
 * saved, 1 refused (r->status says why), < 0 a database error.
 */
int pressure_submit_fields(struct http_request *req, const char *ods, const struct form *f,
                           struct pressure_submit_result *r) __attribute__((warn_unused_result));

/**
 * The reminders job: emails, once per period, the leads and authorised staff of
 * each practice without a return when the deadline is near. Signature of a job in
 * src/jobs/jobs.c.
 */
int pressure_reminders_job(struct db *db, const struct config *cfg, const atomic_bool *stop,
                           char *err, size_t errlen);

#endif
