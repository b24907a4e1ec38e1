/*
 * export.c — a person's data as a subject access export (see privacy.h).
 *
 * The export is a list of sections, each one query about the person ($1 is
 * their id) and the names of its columns. A feature that holds more personal
 * data adds a line to `sections` (discussion posts, say); the JSON download
 * and the readable page both come from the same document, so they always
 * agree. Each export is audited, whoever asks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/privacy/privacy.h"
#include "auth/audit.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "render/json.h"
#include "templates.h"

/* At most this many rows of one section in the file (it lists the sections
 * cut), and on the page, which says how many more the file holds. */
#define EXPORT_SECTION_ROWS 10000
#define EXPORT_PAGE_ROWS    100

enum col_type { COL_TEXT, COL_INT, COL_BOOL, COL_TIME };
struct column {
	const char *name;
	enum col_type type;
};
#define EXPORT_MAX_COLUMNS 12
struct section {
	const char *key;     /* in the JSON document */
	const char *heading; /* on the page */
	bool single;         /* one record (an object), not a list */
	const char *sql;     /* $1: the person's id */
	struct column cols[EXPORT_MAX_COLUMNS];
};

/* 'person:' || id, in SQL both engines accept with $1 typed as a number. */
#define SUBJECT_OF_1 "('person:' || CAST(CAST($1 AS BIGINT) AS TEXT))"

static const struct section sections[] = {
    {"profile",
     "Profile",
     true,
     "SELECT id, email, name, role, job_title, can_help_with, visible_to_partners, "
     "totp_secret IS NOT NULL, created_at, updated_at, deactivated_at FROM people WHERE id = $1",
     {{"id", COL_INT},
      {"email", COL_TEXT},
      {"name", COL_TEXT},
      {"role", COL_TEXT},
      {"job_title", COL_TEXT},
      {"can_help_with", COL_TEXT},
      {"visible_to_partners", COL_BOOL},
      {"two_step_sign_in", COL_BOOL},
      {"created_at", COL_TIME},
      {"updated_at", COL_TIME},
      {"deactivated_at", COL_TIME}}},
    {"memberships",
     "Organisations",
     false,
     "SELECT o.ods_code, o.name, o.kind, m.lead, m.created_at FROM memberships m "
     "JOIN organisations o ON o.id = m.organisation_id WHERE m.person_id = $1 "
     "ORDER BY o.name, o.id",
     {{"ods_code", COL_TEXT},
      {"organisation", COL_TEXT},
      {"kind", COL_TEXT},
      {"practice_lead", COL_BOOL},
      {"since", COL_TIME}}},
    {"sign_ins",
     "Sign-in history",
     false,
     "SELECT at, action, address FROM audit_log WHERE actor_id = $1 AND action IN "
     "('sign-in', 'sign-in-failed', 'sign-out', 'mfa-failed') ORDER BY id DESC",
     {{"at", COL_TIME}, {"what", COL_TEXT}, {"address", COL_TEXT}}},
    {"sessions",
     "Where you are signed in now",
     false,
     "SELECT created_at, last_seen_at, address, user_agent FROM sessions WHERE person_id = $1 "
     "ORDER BY created_at DESC",
     {{"signed_in_at", COL_TIME},
      {"last_seen_at", COL_TIME},
      {"address", COL_TEXT},
      {"browser", COL_TEXT}}},
    {"audit",
     "Audit entries by or about you",
     false,
     "SELECT id, at, actor, action, subject, detail, address FROM audit_log "
     "WHERE actor_id = $1 OR subject = " SUBJECT_OF_1 " ORDER BY id DESC",
     {{"id", COL_INT},
      {"at", COL_TIME},
      {"actor", COL_TEXT},
      {"action", COL_TEXT},
      {"subject", COL_TEXT},
      {"detail", COL_TEXT},
      {"address", COL_TEXT}}},
    {"pressure_returns",
     "Pressure returns sent or amended",
     false,
     "SELECT r.id, o.ods_code, o.name, r.period_id, r.level, r.comments, r.submitted_at, "
     "r.updated_at, r.submitted_by = $1 FROM pressure_returns r "
     "JOIN organisations o ON o.id = r.organisation_id "
     "WHERE r.submitted_by = $1 OR r.updated_by = $1 ORDER BY r.id DESC",
     {{"id", COL_INT},
      {"ods_code", COL_TEXT},
      {"practice", COL_TEXT},
      {"period_id", COL_INT},
      {"level", COL_INT},
      {"comments", COL_TEXT},
      {"submitted_at", COL_TIME},
      {"updated_at", COL_TIME},
      {"first_sent_by_you", COL_BOOL}}},
    {"api_tokens",
     "API tokens (never the tokens themselves)",
     false,
     "SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens "
     "WHERE person_id = $1 ORDER BY id DESC",
     {{"id", COL_INT},
      {"name", COL_TEXT},
      {"scope", COL_TEXT},
      {"created_at", COL_TIME},
      {"last_used_at", COL_TIME},
      {"revoked_at", COL_TIME}}},
    /* Discussion posts and other features' data: add a section here. */
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static json_t *column_value(struct db_stmt *st, int i, enum col_type type)
{
	if (db_col_is_null(st, i))
		return json_null();
	switch (type) {
	case COL_INT:
		return json_integer(db_col_int(st, i));
	case COL_BOOL:
		return json_boolean(db_col_int(st, i) != 0);
	case COL_TIME: {
		char iso[TIME_ISO_BYTES];
		time_format_utc_iso(db_col_int(st, i), iso);
		return json_string(iso);
	}
	case COL_TEXT:
	default:
		/* Stored text is UTF-8 (forms check it); a bad byte still must not lose
		 * the row, so it is written with replacement characters. */
		{
			json_t *text = json_string(db_col_text(st, i));
			return text ? text : json_string("(not valid UTF-8)");
		}
	}
}

/* One section's rows as JSON; NULL on a database error. */
static json_t *read_section(struct db_conn *c, const struct section *s, int64_t person_id,
                            bool *truncated)
{
	struct db_stmt *st = db_prepare(c, s->sql);
	if (!st)
		return NULL;
	db_bind_int(st, 1, person_id);
	json_t *list = json_array();
	int rc, n = 0;
	*truncated = false;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n++ == EXPORT_SECTION_ROWS) {
			*truncated = true;
			break;
		}
		json_t *row = json_object();
		for (int i = 0; i < EXPORT_MAX_COLUMNS && s->cols[i].name; i++)
			json_object_set_new(row, s->cols[i].name,
			                    column_value(st, i, s->cols[i].type));
		json_array_append_new(list, row);
	}
	db_reset(st);
	if (rc < 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

json_t *privacy_export(struct db_conn *c, int64_t person_id, int *rc)
{
	char now[TIME_ISO_BYTES];
	time_format_utc_iso(time(NULL), now);
	json_t *doc = json_pack("{s:I, s:s, s:{}}", "person_id", (json_int_t)person_id,
	                        "generated_at", now, "sections");
	json_t *all = json_object_get(doc, "sections");
	json_t *cut = json_array();
	bool found = true;
	*rc = DB_OK;
	for (size_t i = 0; i < N_SECTIONS; i++) {
		bool truncated;
		json_t *rows = read_section(c, &sections[i], person_id, &truncated);
		if (!rows) {
			*rc = DB_ERR;
			break;
		}
		if (sections[i].single) {
			if (json_array_size(rows) == 0) {
				json_decref(rows);
				found = false; /* no such person: *rc stays 0 */
				break;
			}
			json_object_set(all, sections[i].key, json_array_get(rows, 0));
			json_decref(rows);
		} else {
			json_object_set_new(all, sections[i].key, rows);
		}
		if (truncated)
			json_array_append_new(cut, json_string(sections[i].key));
	}
	if (*rc != DB_OK || !found) {
		json_decref(doc);
		json_decref(cut);
		return NULL;
	}
	json_object_set_new(doc, "truncated_sections", cut);
	return doc;
}

/* Reads the export of person_id and audits who asked for it, in one transaction.
 * Sets res->status and returns NULL when it cannot. */
static json_t *export_audited(struct http_request *req, struct http_response *res,
                              int64_t person_id, const char *how)
{
	struct app *app = req->app;
	const struct viewer *v = access_viewer(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return NULL;
	}
	int rc = db_begin(c);
	json_t *doc = rc ? NULL : privacy_export(c, person_id, &rc);
	if (doc) {
		char subject[32], detail[96];
		snprintf(subject, sizeof subject, "person:%lld", (long long)person_id);
		snprintf(detail, sizeof detail, "personal data exported %s", how);
		struct audit_entry e = {v->person_id, v->email, "personal-data-exported",
		                        subject,      detail,   req->address};
		rc = audit_record(c, &e);
		if (!rc)
			rc = db_commit(c);
		if (rc) {
			json_decref(doc);
			doc = NULL;
		}
	}
	if (!doc) {
		if (db_in_transaction(c))
			db_rollback(c);
		if (rc < 0)
			log_error("request %s: cannot export person %lld: %s", req->id,
			          (long long)person_id, db_errmsg(c));
		res->status = rc == 0 ? 404 : rc == DB_ERR_CONN ? 503 : 500;
	}
	db_release(c);
	return doc;
}

static void send_json(struct http_request *req, struct http_response *res, int64_t person_id)
{
	json_t *doc = export_audited(req, res, person_id, "as JSON");
	if (!doc)
		return;
	char name[96];
	snprintf(name, sizeof name, "attachment; filename=\"shoal-personal-data-%lld.json\"",
	         (long long)person_id);
	if (render_json(res, 200, doc) == 0)
		http_response_header_copy(res, "Content-Disposition", name);
}

/* The value of one field, as the page shows it. */
static const char *show(const json_t *value, char *scratch, size_t len)
{
	if (json_is_string(value))
		return json_string_value(value);
	if (json_is_integer(value)) {
		snprintf(scratch, len, "%lld", (long long)json_integer_value(value));
		return scratch;
	}
	if (json_is_boolean(value))
		return json_is_true(value) ? "Yes" : "No";
	return "";
}

static void send_page(struct http_request *req, struct http_response *res, int64_t person_id,
                      bool own)
{
	json_t *doc = export_audited(req, res, person_id, "as a page");
	if (!doc)
		return;
	const json_t *all = json_object_get(doc, "sections");
	struct privacy_section view_sections[N_SECTIONS];
	/* Every value the page shows is a string inside doc, or a number written into
	 * numbers[], which live until the page is rendered. */
	size_t n_values = 0;
	for (size_t i = 0; i < N_SECTIONS; i++) {
		const json_t *s = json_object_get(all, sections[i].key);
		size_t records = sections[i].single ? 1 : json_array_size(s);
		if (records > EXPORT_PAGE_ROWS)
			records = EXPORT_PAGE_ROWS;
		size_t cols = 0;
		while (cols < EXPORT_MAX_COLUMNS && sections[i].cols[cols].name)
			cols++;
		n_values += records * cols;
	}
	struct privacy_row *rows = xcalloc(n_values + 1, sizeof *rows);
	char(*numbers)[24] = xcalloc(n_values + 1, sizeof *numbers);
	size_t at = 0;
	for (size_t i = 0; i < N_SECTIONS; i++) {
		const json_t *s = json_object_get(all, sections[i].key);
		size_t records = sections[i].single ? 1 : json_array_size(s);
		view_sections[i].more = 0;
		if (records > EXPORT_PAGE_ROWS) {
			view_sections[i].more = (int)(records - EXPORT_PAGE_ROWS);
			records = EXPORT_PAGE_ROWS;
		}
		view_sections[i].heading = sections[i].heading;
		view_sections[i].rows = rows + at;
		size_t first = at;
		for (size_t r = 0; r < records; r++) {
			const json_t *record = sections[i].single ? s : json_array_get(s, r);
			size_t start = at;
			for (int k = 0; k < EXPORT_MAX_COLUMNS && sections[i].cols[k].name; k++) {
				rows[at].key = sections[i].cols[k].name;
				rows[at].value =
				    show(json_object_get(record, sections[i].cols[k].name),
				         numbers[at], sizeof numbers[at]);
				at++;
			}
			if (at > start) {
				rows[start].starts = true;
				rows[at - 1].ends = true;
			}
		}
		view_sections[i].n = (int)(at - first);
	}
	const json_t *profile = json_object_get(all, "profile");
	char href[64];
	if (own)
		snprintf(href, sizeof href, "/account/export.json");
	else
		snprintf(href, sizeof href, "/admin/people/%lld/export.json", (long long)person_id);
	const json_t *deactivated = json_object_get(profile, "deactivated_at");
	struct privacy_export_view v = {
	    .whose = own ? NULL : json_string_value(json_object_get(profile, "name")),
	    .own = own,
	    .json_href = href,
	    .generated = json_string_value(json_object_get(doc, "generated_at")),
	    .sections = view_sections,
	    .n = (int)N_SECTIONS,
	    .csrf = access_csrf(req, res),
	    .may_anonymise = !own && policy_may_anonymise(access_viewer(req), person_id,
	                                                  json_is_string(deactivated)),
	    .person_id = person_id,
	};
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_privacy_export(&main, &v);
	page_render(req, res, own ? "Your personal data" : "Personal data held", main.data);
	buf_free(&main);
	free(rows);
	free(numbers);
	json_decref(doc);
}

void privacy_export_own_page(struct http_request *req, struct http_response *res)
{
	send_page(req, res, access_viewer(req)->person_id, true);
}

void privacy_export_own_json(struct http_request *req, struct http_response *res)
{
	send_json(req, res, access_viewer(req)->person_id);
}

/* The person named in the path, if the viewer may export them; else sets 404/403. */
static int64_t person_param(struct http_request *req, struct http_response *res)
{
	int64_t id = http_parse_id(req->params[0]);
	if (!id) {
		res->status = 404;
		return 0;
	}
	if (!policy_may_export_person(access_viewer(req), id)) {
		res->status = 403;
		return 0;
	}
	return id;
}

void privacy_export_person_page(struct http_request *req, struct http_response *res)
{
	int64_t id = person_param(req, res);
	if (id)
		send_page(req, res, id, id == access_viewer(req)->person_id);
}

void privacy_export_person_json(struct http_request *req, struct http_response *res)
{
	int64_t id = person_param(req, res);
	if (id)
		send_json(req, res, id);
}
