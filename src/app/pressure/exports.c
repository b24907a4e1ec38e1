/*
 * exports.c — pressure figures leaving Shoal (see dashboard.h): the aggregate
 * CSV and summary API, which give everyone but the executive exactly the
 * suppressed figures partners see on the dashboard; the executive's CSV of
 * every return in full (audited); and the JSON API for returns, which reads
 * like the practice's own page and writes through the return form's checks
 * (pressure_submit_fields in form.c).
 *
 * CSV fields go through csv_write_field, which defuses spreadsheet formulas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/api/api.h"
#include "app/app.h"
#include "app/pressure/dashboard.h"
#include "auth/policy.h"
#include "core/csv.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/form.h"
#include "render/json.h"

/* The period asked for (?period=ID), else the current week. 1 found, 0 no such period
 * (or a malformed id), < 0 error. */
static int chosen_period(struct http_request *req, struct db_conn *c, int64_t *id)
{
	const char *q = http_query(req, "period");
	if (q && *q) {
		struct pressure_period p;
		*id = http_parse_id(q);
		return *id > 0 ? pressure_load_period(c, *id, &p) : 0;
	}
	struct pressure_period p;
	if (pressure_summary_current_week(c, (int64_t)time(NULL), &p))
		return DB_ERR;
	*id = p.id;
	return 1;
}

/* ------------------------------------------------------------ aggregate CSV */

static void csv_count(struct buf *out, const struct pressure_count *n)
{
	char num[24];
	buf_puts(out, ",");
	if (n->hidden) {
		csv_write_field(out, pressure_hidden_text(n->hidden));
		return;
	}
	snprintf(num, sizeof num, "%lld", (long long)n->value);
	csv_write_field(out, num);
}

static void csv_group(struct buf *out, const char *kind, const struct pressure_group *g)
{
	char num[32];
	csv_write_field(out, kind);
	buf_puts(out, ",");
	csv_write_field(out, g->ods);
	buf_puts(out, ",");
	csv_write_field(out, g->name);
	snprintf(num, sizeof num, ",%lld", (long long)g->practices);
	buf_puts(out, num);
	csv_count(out, &g->returned);
	for (int l = 1; l <= 4; l++)
		csv_count(out, &g->at_level[l]);
	csv_count(out, &g->patients_amber_or_above);
	buf_puts(out, ",");
	if (g->appointments_hidden)
		csv_write_field(out, pressure_hidden_text(g->appointments_hidden));
	else if (g->per_1000_x10 >= 0) {
		snprintf(num, sizeof num, "%lld.%lld", (long long)(g->per_1000_x10 / 10),
		         (long long)(g->per_1000_x10 % 10));
		csv_write_field(out, num);
	}
	buf_puts(out, "\r\n");
}

static void attachment(struct http_response *res, const char *what,
                       const struct pressure_summary *s)
{
	char disposition[128];
	snprintf(disposition, sizeof disposition,
	         "attachment; filename=\"shoal-pressure-%s-%s.csv\"", what,
	         s->period.reference_day);
	res->content_type = "text/csv; charset=utf-8";
	http_response_header(res, "Cache-Control", "no-store");
	http_response_header_copy(res, "Content-Disposition", disposition);
}

void pressure_summary_csv(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_see_pressure_summary(viewer)) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_summary *s = NULL;
	int64_t id = 0;
	int rc = chosen_period(req, c, &id);
	if (rc > 0)
		rc = pressure_summary_load(c, id, PRESSURE_AUDIENCE_AGGREGATE, &s);
	if (rc <= 0) {
		db_release(c);
		res->status = rc < 0 ? 500 : 404;
		res->reason = rc < 0 ? NULL : "There is no such pressure period.";
		return;
	}
	db_release(c);
	/* Everyone gets the aggregate here, the executive included: a file of totals travels,
	 * so it carries only what partners may see. The executive's full file is returns.csv. */
	buf_puts(&res->body, "period,group,ods_code,name,practices,returned,green,amber,red,black,"
	                     "patients_amber_or_above,appointments_per_1000\r\n");
	char prefix[96];
	snprintf(prefix, sizeof prefix, "%s,", s->period.reference_day);
	buf_puts(&res->body, prefix);
	csv_group(&res->body, "collective", &s->all);
	for (size_t i = 0; i < s->n_localities; i++) {
		buf_puts(&res->body, prefix);
		csv_group(&res->body, "locality", &s->localities[i]);
	}
	for (size_t i = 0; i < s->n_pcns; i++) {
		buf_puts(&res->body, prefix);
		csv_group(&res->body, "pcn", &s->pcns[i]);
	}
	for (size_t i = 0; i < s->n_named; i++) {
		const struct pressure_named *p = &s->named[i];
		buf_puts(&res->body, prefix);
		csv_write_field(&res->body, "named practice");
		buf_puts(&res->body, ",");
		csv_write_field(&res->body, p->ods);
		buf_puts(&res->body, ",");
		csv_write_field(&res->body, p->name);
		buf_puts(&res->body, ",1,1");
		for (int l = 1; l <= 4; l++)
			buf_puts(&res->body, p->level == l ? ",1" : ",0");
		buf_puts(&res->body, ",,\r\n");
	}
	attachment(res, "summary", s);
	pressure_summary_free(s);
}

/* ------------------------------------------------------------ every return, in full */

static const char returns_sql[] =
    "SELECT o.ods_code, o.name, r.level, r.calculated_level, r.flow_rating, r.staffing_rating, "
    "r.comms_rating, r.appts_gp, r.appts_nurse, r.appts_hca, r.appts_pharmacist, "
    "r.appts_other, r.list_size, r.clinical_staff, r.staff_available_pct, r.absences, "
    "r.vacancies, r.nhs111_bookings, r.home_visits, r.incident, r.incident_detail, "
    "COALESCE(s.label, ''), r.action_plan, r.support_mutual_aid, r.support_call_redirection, "
    "r.support_111_review, r.support_other, r.comments, r.consent_to_share, r.late, "
    "r.updated_at FROM pressure_returns r JOIN organisations o ON o.id = r.organisation_id "
    "LEFT JOIN pressure_sources s ON s.id = r.source_id WHERE r.period_id = $1 ORDER BY "
    "o.name, o.id";
static const char returns_header[] =
    "ods_code,practice,level,calculated_level,flow_rating,staffing_rating,comms_rating,"
    "appts_gp,appts_nurse,appts_hca,appts_pharmacist,appts_other,list_size,clinical_staff,"
    "staff_available_pct,absences,vacancies,nhs111_bookings,home_visits,incident,"
    "incident_detail,main_source,action_plan,mutual_aid,call_redirection,review_111,"
    "support_other,comments,consent_to_share,late,updated_at\r\n";

void pressure_returns_csv(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_export_returns(viewer)) {
		res->status = 403;
		res->reason = "Only the collective's executive can download practices' returns.";
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct pressure_period period;
	int64_t id = 0;
	int rc = chosen_period(req, c, &id);
	if (rc > 0)
		rc = pressure_load_period(c, id, &period);
	if (rc <= 0) {
		db_release(c);
		res->status = rc < 0 ? 500 : 404;
		res->reason = rc < 0 ? NULL : "There is no such pressure period.";
		return;
	}
	/* Past LIMIT_PAGE_BYTES, like the audit CSV: a region's returns with every free-text
	 * field full (4 × 4,000 characters, quotes doubled) fit in PRESSURE_CSV_MAX_BYTES. */
	buf_free(&res->body);
	buf_init(&res->body, PRESSURE_CSV_MAX_BYTES);
	buf_puts(&res->body, returns_header);
	struct db_stmt *st = db_prepare(c, returns_sql);
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	long long rows = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		for (int col = 0; col < 31; col++) {
			if (col)
				buf_puts(&res->body, ",");
			if (col == 30) {
				char iso[TIME_ISO_BYTES];
				time_format_utc_iso(db_col_int(st, col), iso);
				csv_write_field(&res->body, iso);
			} else {
				csv_write_field(&res->body, db_col_text(st, col));
			}
		}
		buf_puts(&res->body, "\r\n");
		rows++;
	}
	db_reset(st);
	if (rc < 0 || res->body.overflow)
		goto fail;
	char subject[48], detail[96];
	snprintf(subject, sizeof subject, "pressure-period:%lld", (long long)id);
	snprintf(detail, sizeof detail, "%lld returns, %s", rows, period.reference_day);
	if (pressure_audit(c, req, "pressure-returns-exported", subject, detail))
		goto fail;
	db_release(c);
	struct pressure_summary label = {.period = period};
	attachment(res, "returns", &label);
	return;
fail:
	log_error("request %s: cannot export pressure returns: %s", req->id, db_errmsg(c));
	db_release(c);
	buf_free(&res->body);
	buf_init(&res->body, LIMIT_PAGE_BYTES);
	res->status = 500;
}

/* ------------------------------------------------------------ JSON */

static json_t *json_count(const struct pressure_count *n)
{
	return n->hidden ? json_null() : json_integer(n->value);
}

static json_t *json_group(const struct pressure_group *g)
{
	json_t *levels =
	    json_pack("{s:o, s:o, s:o, s:o}", "green", json_count(&g->at_level[1]), "amber",
	              json_count(&g->at_level[2]), "red", json_count(&g->at_level[3]), "black",
	              json_count(&g->at_level[4]));
	json_t *rate = g->appointments_hidden || g->per_1000_x10 < 0
	                   ? json_null()
	                   : json_real((double)g->per_1000_x10 / 10.0);
	json_t *suppressed = json_array();
	const struct {
		const char *name;
		bool hidden;
	} flags[] = {{"returned", g->returned.hidden},
	             {"green", g->at_level[1].hidden},
	             {"amber", g->at_level[2].hidden},
	             {"red", g->at_level[3].hidden},
	             {"black", g->at_level[4].hidden},
	             {"patients_amber_or_above", g->patients_amber_or_above.hidden},
	             {"appointments_per_1000", g->appointments_hidden}};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (flags[i].hidden)
			json_array_append_new(suppressed, json_string(flags[i].name));
	return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "ods_code", g->ods,
	                 "name", g->name, "practices", (json_int_t)g->practices, "patients",
	                 (json_int_t)g->patients, "returned", json_count(&g->returned), "levels",
	                 levels, "patients_amber_or_above", json_count(&g->patients_amber_or_above),
	                 "appointments_per_1000", rate, "suppressed", suppressed);
}

void pressure_api_summary(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	if (!policy_may_see_pressure_summary(viewer)) {
		render_json_error(res, 403, "you may not see pressure summaries");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		render_json_error(res, 503, "the database cannot be reached");
		return;
	}
	const char *q = http_query(req, "period");
	int64_t id = 0;
	int rc;
	if (q && *q && api_parse_id(q) <= 0) {
		db_release(c);
		render_json_error(res, 400, "period must be the id of a pressure period, like 42");
		return;
	}
	rc = chosen_period(req, c, &id);
	struct pressure_summary *s = NULL;
	if (rc > 0)
		rc = pressure_summary_load(c, id, PRESSURE_AUDIENCE_AGGREGATE, &s);
	db_release(c);
	if (rc <= 0) {
		if (rc < 0)
			render_json_error(res, 500, "something went wrong in Shoal");
		else
			render_json_error(res, 404, "there is no such pressure period");
		return;
	}
	json_t *pcns = json_array(), *localities = json_array(), *named = json_array();
	for (size_t i = 0; i < s->n_pcns; i++)
		json_array_append_new(pcns, json_group(&s->pcns[i]));
	for (size_t i = 0; i < s->n_localities; i++)
		json_array_append_new(localities, json_group(&s->localities[i]));
	for (size_t i = 0; i < s->n_named; i++)
		json_array_append_new(named, json_pack("{s:s, s:s, s:i, s:s}", "ods_code",
		                                       s->named[i].ods, "name", s->named[i].name,
		                                       "level", s->named[i].level, "word",
		                                       pressure_level_word(s->named[i].level)));
	json_t *doc = json_pack(
	    "{s:{s:I, s:s, s:s, s:s, s:b}, s:o, s:o, s:o, s:o, s:i, s:s}", "period", "id",
	    (json_int_t)s->period.id, "kind", s->period.kind, "reference_day",
	    s->period.reference_day, "label", s->label, "closed", s->closed, "collective",
	    json_group(&s->all), "localities", localities, "pcns", pcns, "named_practices", named,
	    "minimum_group", PRESSURE_MIN_GROUP, "suppression", pressure_suppressed_legend);
	pressure_summary_free(s);
	render_json(res, 200, doc);
}

/* ------------------------------------------------------------ returns */

void pressure_api_returns(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const char *ods = http_query(req, "practice");
	if (!ods || !*ods) {
		render_json_error(res, 400,
		                  "practice is required: the practice's ODS code, like Z80001");
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		render_json_error(res, 503, "the database cannot be reached");
		return;
	}
	struct pressure_practice p;
	struct pressure_standing standing;
	int rc = pressure_find_practice(c, ods, &p);
	if (rc < 0 || (rc > 0 && pressure_standing(c, viewer->person_id, p.id, &standing)))
		goto fail;
	/* Another practice's returns look exactly like a practice that does not exist, so the
	 * API does not even say which codes are practices. */
	if (rc == 0 || !policy_may_view_return(viewer, standing.member)) {
		db_release(c);
		render_json_error(res, 404,
		                  "there is no practice with that ODS code that you can see");
		return;
	}
	struct db_stmt *st = db_prepare(
	    c, "SELECT r.id, p.id, p.kind, p.reference_day, r.level, r.calculated_level, r.late, "
	       "r.consent_to_share, r.updated_at, r.staff_available_pct, COALESCE(r.appts_gp, 0) + "
	       "COALESCE(r.appts_nurse, 0) + COALESCE(r.appts_hca, 0) + "
	       "COALESCE(r.appts_pharmacist, 0) + COALESCE(r.appts_other, 0), r.incident "
	       "FROM pressure_returns r JOIN pressure_periods p ON p.id = r.period_id WHERE "
	       "r.organisation_id = $1 ORDER BY p.opens_at DESC, p.id DESC LIMIT 200");
	if (!st)
		goto fail;
	db_bind_int(st, 1, p.id);
	json_t *list = json_array();
	while ((rc = db_step(st)) == DB_ROW) {
		char iso[TIME_ISO_BYTES];
		time_format_utc_iso(db_col_int(st, 8), iso);
		int level = (int)db_col_int(st, 4), calculated = (int)db_col_int(st, 5);
		json_array_append_new(
		    list,
		    json_pack(
		        "{s:I, s:I, s:s, s:s, s:i, s:s, s:o, s:b, s:b, s:b, s:s, s:o, s:I, s:s}",
		        "id", (json_int_t)db_col_int(st, 0), "period",
		        (json_int_t)db_col_int(st, 1), "kind", db_col_text(st, 2), "reference_day",
		        db_col_text(st, 3), "level", level, "word", pressure_level_word(level),
		        "calculated_level", calculated ? json_integer(calculated) : json_null(),
		        "flagged", pressure_gap_flagged(level, calculated), "late",
		        db_col_int(st, 6) != 0, "consent_to_share", db_col_int(st, 7) != 0,
		        "updated_at", iso, "staff_available_pct",
		        db_col_is_null(st, 9) ? json_null() : json_integer(db_col_int(st, 9)),
		        "appointments", (json_int_t)db_col_int(st, 10), "incident",
		        db_col_text(st, 11)));
	}
	db_reset(st);
	if (rc < 0) {
		json_decref(list);
		goto fail;
	}
	if (!standing.member) {
		char subject[48];
		snprintf(subject, sizeof subject, "organisation:%lld", (long long)p.id);
		if (pressure_audit(c, req, "pressure-return-viewed", subject, p.ods)) {
			json_decref(list);
			goto fail;
		}
	}
	db_release(c);
	render_json(
	    res, 200,
	    json_pack("{s:s, s:s, s:o}", "practice", p.ods, "name", p.name, "returns", list));
	return;
fail:
	log_error("request %s: cannot list pressure returns: %s", req->id, db_errmsg(c));
	db_release(c);
	render_json_error(res, 500, "something went wrong in Shoal");
}

/* The API's fields, each as the return form names it: what JSON type it takes. */
enum field_type { F_INT, F_TEXT, F_BOOL };
static const struct {
	const char *name;
	enum field_type type;
	const char *form; /* the form's name, when the API also takes the column's name */
} api_fields[] = {
    /* The names of the columns (and of the returns the API reads back), for callers
     * that know the data rather than the form. */
    {"staff_available_pct", F_INT, "staff_pct"},
    {"nhs111_bookings", F_INT, "nhs111"},
    {"level", F_INT, NULL},
    {"flow", F_INT, NULL},
    {"staffing", F_INT, NULL},
    {"comms", F_INT, NULL},
    {"appts_gp", F_INT, NULL},
    {"appts_nurse", F_INT, NULL},
    {"appts_hca", F_INT, NULL},
    {"appts_pharmacist", F_INT, NULL},
    {"appts_other", F_INT, NULL},
    {"clinical_staff", F_INT, NULL},
    {"staff_pct", F_INT, NULL},
    {"absences", F_INT, NULL},
    {"vacancies", F_INT, NULL},
    {"nhs111", F_INT, NULL},
    {"home_visits", F_INT, NULL},
    {"incident", F_TEXT, NULL},
    {"incident_detail", F_TEXT, NULL},
    {"source", F_INT, NULL},
    {"action_plan", F_TEXT, NULL},
    {"mutual_aid", F_BOOL, NULL},
    {"call_redirection", F_BOOL, NULL},
    {"review_111", F_BOOL, NULL},
    {"support_other", F_TEXT, NULL},
    {"comments", F_TEXT, NULL},
    {"consent", F_BOOL, NULL},
    {"period", F_INT, NULL},
};

static void add_field(struct form *f, const char *name, const char *value)
{
	f->names[f->n] = xstrdup(name);
	f->values[f->n] = xstrdup(value);
	f->n++;
}

/* Turns the body into the form's fields. 0, or -1 with a message in err. */
static int body_to_form(const json_t *body, struct form *f, const char **practice, char *err,
                        size_t errlen)
{
	*practice = NULL;
	if (!json_is_object(body)) {
		snprintf(err, errlen,
		         "the body must be a JSON object, like "
		         "{\"practice\": \"Z80001\", \"level\": 2}");
		return -1;
	}
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)body, key, value)
	{
		if (!strcmp(key, "practice")) {
			if (!json_is_string(value)) {
				snprintf(err, errlen,
				         "practice must be an ODS code, like \"Z80001\"");
				return -1;
			}
			*practice = json_string_value(value);
			continue;
		}
		size_t i = 0, n = sizeof api_fields / sizeof api_fields[0];
		while (i < n && strcmp(api_fields[i].name, key))
			i++;
		if (i == n) {
			snprintf(err, errlen, "unknown field \"%.40s\"", key);
			return -1;
		}
		if (json_is_null(value))
			continue;
		char text[32];
		/* An alias and the form's name for one field must not both be sent. */
		const char *name = api_fields[i].form ? api_fields[i].form : key;
		if (form_get(f, name)) {
			snprintf(err, errlen, "%s is given twice (under two names)", name);
			return -1;
		}
		switch (api_fields[i].type) {
		case F_INT:
			if (!json_is_integer(value)) {
				snprintf(err, errlen, "%s must be a whole number", key);
				return -1;
			}
			/* The form's checks read text: a negative number becomes "-5" and gets the
			 * form's "must be 0 or more"; huge ones its "not a number". */
			snprintf(text, sizeof text, "%lld", (long long)json_integer_value(value));
			add_field(f, name, text);
			break;
		case F_BOOL:
			if (!json_is_boolean(value)) {
				snprintf(err, errlen, "%s must be true or false", key);
				return -1;
			}
			add_field(f, name, json_is_true(value) ? "yes" : "");
			break;
		case F_TEXT:
			if (!json_is_string(value)) {
				snprintf(err, errlen, "%s must be a string", key);
				return -1;
			}
			add_field(f, name, json_string_value(value));
			break;
		}
	}
	if (!*practice) {
		snprintf(err, errlen,
		         "practice is required: the practice's ODS code, like \"Z80001\"");
		return -1;
	}
	return 0;
}

void pressure_api_submit(struct http_request *req, struct http_response *res)
{
	const json_t *body = access_json(req);
	if (!body) {
		render_json_error(res, 400,
		                  "send the return as JSON (Content-Type: application/json)");
		return;
	}
	struct form f = {0};
	const char *practice;
	char err[200];
	if (body_to_form(body, &f, &practice, err, sizeof err)) {
		form_free(&f);
		render_json_error(res, 400, err);
		return;
	}
	struct pressure_submit_result r;
	int rc = pressure_submit_fields(req, practice, &f, &r);
	form_free(&f);
	if (rc < 0) {
		render_json_error(res, 500, "something went wrong in Shoal");
		return;
	}
	if (rc > 0) {
		if (r.status == 400) {
			json_t *errors = json_object();
			for (int i = 0; i < r.errors.n; i++)
				json_object_set_new(errors, r.errors.errors[i].field,
				                    json_string(r.errors.errors[i].message));
			render_json(res, 400,
			            json_pack("{s:s, s:o}", "error", r.errors.errors[0].message,
			                      "errors", errors));
		} else if (r.status == 403 || r.status == 404) {
			/* As for reading: a practice the person does not report for looks like
			 * none. */
			render_json_error(res, r.status,
			                  r.status == 404
			                      ? "there is no practice with that ODS code"
			                  : r.reason ? r.reason
			                             : "you may not send this practice's "
			                               "return");
		} else {
			render_json_error(res, r.status ? (unsigned)r.status : 500,
			                  r.reason ? r.reason : "the return could not be saved");
		}
		return;
	}
	render_json(res, (unsigned)r.status,
	            json_pack("{s:I, s:s, s:I, s:i, s:s, s:o, s:b, s:b}", "id", (json_int_t)r.id,
	                      "practice", practice, "period", (json_int_t)r.period_id, "level",
	                      r.level, "word", pressure_level_word(r.level), "calculated_level",
	                      r.calculated ? json_integer(r.calculated) : json_null(), "amended",
	                      r.amended, "late", r.late));
}
