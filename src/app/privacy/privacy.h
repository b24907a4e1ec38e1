/*
 * privacy.h — data protection (issue 7): a person's data as a subject access
 * export (JSON download and a readable page), removing a deactivated person's
 * details while their records stay attributable, and retention of audit
 * entries and pressure returns (an administrator setting and a job).
 * See docs/security.md.
 */
#ifndef SHOAL_APP_PRIVACY_H
#define SHOAL_APP_PRIVACY_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/page.h"
#include "core/config.h"
#include "db/db.h"
#include "http/http.h"

/** Builds the export of a person: {"person_id", "generated_at", "sections": {…}}.
 * NULL when the person does not exist or the database fails (*rc says which:
 * 0 not found, < 0 an enum db_rc). */
json_t *privacy_export(struct db_conn *c, int64_t person_id, int *rc);

/* Routes (src/app/routes.c). */
void privacy_export_own_page(struct http_request *req, struct http_response *res);
void privacy_export_own_json(struct http_request *req, struct http_response *res);
void privacy_export_person_page(struct http_request *req, struct http_response *res);
void privacy_export_person_json(struct http_request *req, struct http_response *res);
void privacy_anonymise(struct http_request *req, struct http_response *res);
void privacy_retention_page(struct http_request *req, struct http_response *res);
void privacy_retention_save(struct http_request *req, struct http_response *res);

/** The retention job (src/jobs/jobs.c): deletes audit entries and pressure
 * returns older than the settings allow, in batches. */
int privacy_retention_job(struct db *db, const struct config *cfg, const atomic_bool *stop,
                          char *err, size_t errlen);
/** One pass of it at time now, on c. Returns 0 (done), 1 (more to do) or < 0. */
int privacy_retention_run(struct db_conn *c, int64_t now, char *err, size_t errlen);

/* The readable export page (templates/privacy_export.html). */
struct privacy_row {
	const char *key;
	const char *value;
	bool starts; /* the first row of one record: opens its list */
	bool ends;   /* the last row of one record */
};
struct privacy_section {
	const char *heading;
	const struct privacy_row *rows;
	int n;
	int more; /* records not shown on the page (the file has them) */
};
struct privacy_export_view {
	const char *whose; /* "your" or the person's name */
	bool own;
	const char *json_href;
	const char *generated;
	const struct privacy_section *sections;
	int n;
	const char *csrf;
	bool may_anonymise;
	int64_t person_id;
};

/* The retention settings page (templates/privacy_retention.html). */
struct privacy_retention_view {
	struct form_errors errors;
	const char *audit_years;
	const char *pressure_years;
	const char *audit_error;
	const char *pressure_error;
	const char *csrf;
	const char *notice;
	const char *chain_start;
};

#endif
