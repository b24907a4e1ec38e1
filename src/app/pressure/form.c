/*
 * form.c — the return form: one page, quick on a phone, that sends or amends
 * the practice's return for the current period (see pressure.h).
 *
 * One return per practice per period is the database's rule (UNIQUE), and the
 * form carries the period it was opened for, so a double click or a retried
 * request amends the same return, and a form left open past the end of its
 * period is refused with a clear message instead of landing in the next one.
 * Escalations (Black, Red, three in a row) are raised in the same transaction
 * as the return that causes them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/pressure/pressure.h"
#include "auth/policy.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "mail/mail.h"
#include "templates.h"

/* The template takes each level's meaning and colour from rules.c. */
static const struct pressure_level_option levels[4] = {
    {1, "Green", "OPEL 1"},
    {2, "Amber", "OPEL 2"},
    {3, "Red", "OPEL 3"},
    {4, "Black", "OPEL 4"},
};

/* The numbers on the form, in order; the template shows them in three groups. */
enum {
	N_APPTS_GP,
	N_APPTS_NURSE,
	N_APPTS_HCA,
	N_APPTS_PHARMACIST,
	N_APPTS_OTHER,
	N_CLINICAL_STAFF,
	N_STAFF_PCT,
	N_ABSENCES,
	N_VACANCIES,
	N_111,
	N_HOME_VISITS,
};
static const struct {
	const char *name, *label, *hint, *column;
} numbers[PRESSURE_N_NUMBERS] = {
    {"appts_gp", "GP appointments", NULL, "appts_gp"},
    {"appts_nurse", "Nurse appointments", NULL, "appts_nurse"},
    {"appts_hca", "Healthcare assistant appointments", NULL, "appts_hca"},
    {"appts_pharmacist", "Pharmacist appointments", NULL, "appts_pharmacist"},
    {"appts_other", "Other clinical appointments", NULL, "appts_other"},
    {"clinical_staff", "Clinical staff employed", "Head count", "clinical_staff"},
    {"staff_pct", "Clinical staff available (%)", "For example, 85", "staff_available_pct"},
    {"absences", "Clinical staff absent", NULL, "absences"},
    {"vacancies", "Vacancies", NULL, "vacancies"},
    {"nhs111", "NHS 111 bookings received", NULL, "nhs111_bookings"},
    {"home_visits", "Home visit and care home requests", NULL, "home_visits"},
};

static const char *const rating_names[3] = {"flow", "staffing", "comms"};
static const char *const rating_labels[3] = {"Patient flow", "Staffing", "Communications load"};

static void view_init(struct pressure_form_view *v)
{
	memset(v, 0, sizeof *v);
	v->levels = levels;
	for (int i = 0; i < PRESSURE_N_NUMBERS; i++)
		v->numbers[i] = (struct pressure_number){numbers[i].name, numbers[i].label,
		                                         numbers[i].hint, "", NULL};
	for (int i = 0; i < 3; i++)
		v->ratings[i] = (struct pressure_rating){rating_names[i], rating_labels[i], 0};
	v->incident = "none";
	v->incident_detail = v->action_plan = v->support_other = v->comments = "";
}

static int load_sources(struct db_conn *c, struct pressure_form_view *v)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT id, label FROM pressure_sources WHERE active = 1 ORDER BY position, label");
	if (!st)
		return DB_ERR;
	int rc;
	while ((rc = db_step(st)) == DB_ROW && v->n_sources < PRESSURE_MAX_SOURCES) {
		v->sources[v->n_sources].id = db_col_int(st, 0);
		snprintf(v->sources[v->n_sources].label, sizeof v->sources[0].label, "%s",
		         db_col_text(st, 1));
		v->n_sources++;
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

/* The form's view and the buffers its strings point into when they come from
 * the database (on a POST they point into the parsed form instead). */
struct form_state {
	struct pressure_form_view v;
	char nums[PRESSURE_N_NUMBERS][24];
	char incident[12];
	char texts[4][LIMIT_TEXT_BYTES + 1];
};

/* The practice's return for this period, to amend: 1 found, 0 not, < 0 error. */
static int load_existing(struct db_conn *c, int64_t org, int64_t period, struct form_state *s)
{
	struct pressure_form_view *v = &s->v;
	struct db_stmt *st = db_prepare(
	    c, "SELECT level, flow_rating, staffing_rating, comms_rating, appts_gp, appts_nurse, "
	       "appts_hca, appts_pharmacist, appts_other, clinical_staff, staff_available_pct, "
	       "absences, vacancies, nhs111_bookings, home_visits, incident, incident_detail, "
	       "source_id, action_plan, support_mutual_aid, support_call_redirection, "
	       "support_111_review, support_other, comments, consent_to_share "
	       "FROM pressure_returns WHERE organisation_id = $1 AND period_id = $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, org);
	db_bind_int(st, 2, period);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		v->level = (int)db_col_int(st, 0);
		for (int i = 0; i < 3; i++)
			v->ratings[i].value = (int)db_col_int(st, 1 + i);
		for (int i = 0; i < PRESSURE_N_NUMBERS; i++) {
			s->nums[i][0] = '\0';
			if (!db_col_is_null(st, 4 + i))
				snprintf(s->nums[i], sizeof s->nums[i], "%lld",
				         (long long)db_col_int(st, 4 + i));
			v->numbers[i].value = s->nums[i];
		}
		snprintf(s->incident, sizeof s->incident, "%s", db_col_text(st, 15));
		v->incident = s->incident;
		v->source_id = db_col_int(st, 17);
		v->mutual_aid = db_col_int(st, 19) != 0;
		v->call_redirection = db_col_int(st, 20) != 0;
		v->review_111 = db_col_int(st, 21) != 0;
		v->consent = db_col_int(st, 24) != 0;
		static const int text_cols[4] = {16, 18, 22, 23};
		for (int i = 0; i < 4; i++) {
			const char *t = db_col_text(st, text_cols[i]);
			snprintf(s->texts[i], sizeof s->texts[i], "%s", t ? t : "");
		}
		v->incident_detail = s->texts[0];
		v->action_plan = s->texts[1];
		v->support_other = s->texts[2];
		v->comments = s->texts[3];
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static void render(struct http_request *req, struct http_response *res, struct form_state *s)
{
	struct buf main;
	s->v.csrf = access_csrf(req, res);
	for (int i = 0; i < PRESSURE_N_NUMBERS; i++)
		s->v.numbers[i].error = form_error_for(&s->v.errors, s->v.numbers[i].name);
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_pressure_form(&main, &s->v);
	page_render(req, res, s->v.errors.n ? "Error: Pressure return" : "Pressure return",
	            main.data);
	buf_free(&main);
}

/* Everything the form needs to know before showing or saving: the practice, the
 * viewer's standing, the period. Sets res->status and returns -1 when refused. */
struct context {
	struct pressure_practice practice;
	struct pressure_standing standing;
	struct pressure_period period;
	int64_t now;
};

static int open_context(struct http_request *req, struct http_response *res, struct db_conn *c,
                        struct context *x)
{
	const struct viewer *viewer = access_viewer(req);
	x->now = (int64_t)time(NULL);
	int rc = pressure_find_practice(c, req->params[0], &x->practice);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		return -1;
	}
	if (pressure_standing(c, viewer->person_id, x->practice.id, &x->standing)) {
		res->status = 500;
		return -1;
	}
	if (!policy_may_submit_return(viewer, x->standing.member, x->standing.lead,
	                              x->standing.may_report)) {
		res->status = 403;
		res->reason =
		    x->standing.member
		        ? "Only your practice's leads, and staff they have authorised, can "
		          "send its pressure return. Ask your practice lead."
		        : "You can only send pressure returns for a practice you belong to.";
		return -1;
	}
	if (pressure_current_period(c, &x->practice, x->now, &x->period)) {
		res->status = 500;
		return -1;
	}
	return 0;
}

static void describe_period(struct form_state *s, const struct context *x)
{
	struct pressure_form_view *v = &s->v;
	v->ods = x->practice.ods;
	v->practice = x->practice.name;
	v->period_id = x->period.id;
	pressure_period_label(&x->period, v->period, sizeof v->period);
	time_format_time_on_date(x->period.deadline_at, v->deadline);
	v->after_deadline = x->now >= x->period.deadline_at;
}

void pressure_form_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct form_state *s = xcalloc(1, sizeof *s);
	struct context x;
	view_init(&s->v);
	if (open_context(req, res, c, &x))
		goto done;
	describe_period(s, &x);
	int rc = load_existing(c, x.practice.id, x.period.id, s);
	if (rc < 0 || load_sources(c, &s->v)) {
		res->status = 500;
		goto done;
	}
	s->v.amending = rc == 1;
	db_release(c);
	c = NULL;
	render(req, res, s);
done:
	db_release(c);
	free(s);
}

/* ------------------------------------------------------------ validation */

/* Parses a whole number typed by a person: "" → -1 (not given), else 0 and *out,
 * or a negative code: -2 not a number, -3 negative. Spaces and commas are allowed. */
static int parse_count(const char *s, int64_t *out)
{
	char digits[16];
	size_t n = 0;
	bool negative = false, any = false;
	*out = -1;
	if (!s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' || *p == ',' || *p == '\t')
			continue;
		if (*p == '-' && !any && !negative) {
			negative = true;
			continue;
		}
		if (!isdigit((unsigned char)*p) || n >= 9)
			return -2;
		digits[n++] = *p;
		any = true;
	}
	if (!any)
		return negative ? -2 : -1;
	digits[n] = '\0';
	if (negative)
		return -3;
	*out = strtoll(digits, NULL, 10);
	return 0;
}

/* Messages say how to fix the problem (NHS service manual). */
static const char *const count_messages[PRESSURE_N_NUMBERS][2] = {
    {"Enter GP appointments as a whole number, like 120", "GP appointments must be 0 or more"},
    {"Enter nurse appointments as a whole number, like 60", "Nurse appointments must be 0 or more"},
    {"Enter healthcare assistant appointments as a whole number, like 30",
     "Healthcare assistant appointments must be 0 or more"},
    {"Enter pharmacist appointments as a whole number, like 20",
     "Pharmacist appointments must be 0 or more"},
    {"Enter other clinical appointments as a whole number, like 10",
     "Other clinical appointments must be 0 or more"},
    {"Enter clinical staff employed as a whole number, like 25",
     "Clinical staff employed must be 0 or more"},
    {"Enter the percentage of clinical staff available as a whole number, like 85",
     "The percentage of clinical staff available must be between 0 and 100"},
    {"Enter clinical staff absent as a whole number, like 3",
     "Clinical staff absent must be 0 or more"},
    {"Enter vacancies as a whole number, like 2", "Vacancies must be 0 or more"},
    {"Enter NHS 111 bookings as a whole number, like 4", "NHS 111 bookings must be 0 or more"},
    {"Enter home visit and care home requests as a whole number, like 6",
     "Home visit and care home requests must be 0 or more"},
};

struct parsed {
	int level;
	int ratings[3];
	int64_t counts[PRESSURE_N_NUMBERS];
	int incident; /* 0 none, 1 minor, 2 critical */
	int64_t source_id;
};

static int parse_level(const char *s)
{
	return s && s[0] >= '1' && s[0] <= '4' && !s[1] ? s[0] - '0' : 0;
}

static bool checked(const struct form *f, const char *name)
{
	const char *s = form_get(f, name);
	return s && !strcmp(s, "yes");
}

static void validate(const struct form *f, const struct context *x, struct form_state *s,
                     struct parsed *p)
{
	struct pressure_form_view *v = &s->v;
	struct form_errors *e = &v->errors;
	memset(p, 0, sizeof *p);
	const char *level = form_get(f, "level");
	p->level = v->level = parse_level(level);
	if (!p->level)
		form_error_add(e, "level", "Select your practice's level of pressure");
	for (int i = 0; i < 3; i++) {
		const char *r = form_get(f, rating_names[i]);
		p->ratings[i] = v->ratings[i].value = parse_level(r);
		if (r && *r && !p->ratings[i])
			form_error_add(e, rating_names[i], "Select a rating from the list");
	}
	for (int i = 0; i < PRESSURE_N_NUMBERS; i++) {
		const char *raw = form_get(f, numbers[i].name);
		v->numbers[i].value = raw ? raw : "";
		int rc = parse_count(raw, &p->counts[i]);
		if (rc == -2)
			form_error_add(e, numbers[i].name, count_messages[i][0]);
		else if (rc == -3 || (i == N_STAFF_PCT && p->counts[i] > 100))
			form_error_add(e, numbers[i].name, count_messages[i][1]);
		if (rc < -1)
			p->counts[i] = -1;
	}
	int64_t *n = p->counts;
	if (n[N_ABSENCES] >= 0 && n[N_CLINICAL_STAFF] >= 0 && n[N_ABSENCES] > n[N_CLINICAL_STAFF])
		form_error_add(
		    e, "absences",
		    "Clinical staff absent must be no more than clinical staff employed");
	int64_t total = -1;
	for (int i = N_APPTS_GP; i <= N_APPTS_OTHER; i++)
		if (n[i] >= 0)
			total = (total < 0 ? 0 : total) + n[i];
	int64_t list = x->practice.list_size;
	if (total >= 0 && list > 0 && total * 1000 > (int64_t)PRESSURE_APPTS_MAX_PER_1000 * list)
		form_error_add(
		    e, "appts_gp",
		    "The appointments add up to more than 200 for every 1,000 patients on "
		    "one day: check the numbers");
	if (n[N_111] >= 0 && list > 0 && n[N_111] * 100 > list)
		form_error_add(e, "nhs111",
		               "NHS 111 bookings are more than 1 for every 100 patients: check the "
		               "number");
	if (n[N_HOME_VISITS] >= 0 && list > 0 && n[N_HOME_VISITS] * 20 > list)
		form_error_add(e, "home_visits",
		               "Home visit and care home requests are more than 1 for every 20 "
		               "patients: check the number");
	const char *incident = form_get(f, "incident");
	if (!incident || !*incident)
		incident = "none";
	if (!strcmp(incident, "none") || !strcmp(incident, "minor") ||
	    !strcmp(incident, "critical")) {
		v->incident = incident;
		p->incident = incident[0] == 'n' ? 0 : incident[0] == 'm' ? 1 : 2;
	} else {
		form_error_add(e, "incident", "Select whether there was an estates or IT incident");
	}
	const char *source = form_get(f, "source");
	if (source && *source) {
		int64_t id = http_parse_id(source);
		for (size_t i = 0; id > 0 && i < v->n_sources; i++)
			if (v->sources[i].id == id)
				p->source_id = id;
		if (!p->source_id)
			form_error_add(e, "source",
			               "Select the main source of pressure from the list");
		v->source_id = p->source_id;
	}
	static const char *const texts[4] = {"incident_detail", "action_plan", "support_other",
	                                     "comments"};
	const char **slots[4] = {&v->incident_detail, &v->action_plan, &v->support_other,
	                         &v->comments};
	static const char *const too_long[4] = {
	    "The incident description must be 4,000 characters or fewer",
	    "The action plan must be 4,000 characters or fewer",
	    "Other support must be 4,000 characters or fewer",
	    "Anything else must be 4,000 characters or fewer"};
	for (int i = 0; i < 4; i++) {
		const char *t = form_get(f, texts[i]);
		*slots[i] = t ? t : "";
		if (strlen(*slots[i]) > LIMIT_TEXT_BYTES)
			form_error_add(e, texts[i], too_long[i]);
	}
	v->mutual_aid = checked(f, "mutual_aid");
	v->call_redirection = checked(f, "call_redirection");
	v->review_111 = checked(f, "review_111");
	v->consent = checked(f, "consent");
}

/* ------------------------------------------------------------ saving */

/* The practice's own baseline: appointments per 1,000 × 10, averaged over its
 * last eight returns with appointments (other periods). 0 when there are none.
 * Periods newest first, each probing the practice's return (the + keeps SQLite on
 * that plan): reading all of its returns (3 years, each on its own page) and sorting
 * them was most of a submission's time and page cache at region scale. */
static int baseline(struct db_conn *c, int64_t org, int64_t period, int64_t *out)
{
	*out = 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT COALESCE(r.appts_gp, 0) + COALESCE(r.appts_nurse, 0) + "
	       "COALESCE(r.appts_hca, 0) + COALESCE(r.appts_pharmacist, 0) + "
	       "COALESCE(r.appts_other, 0), COALESCE(r.list_size, 0) FROM pressure_periods p "
	       "JOIN pressure_returns r ON r.organisation_id = $1 AND r.period_id = +p.id WHERE "
	       "+p.id <> $2 AND (r.appts_gp IS NOT NULL OR r.appts_nurse IS NOT NULL OR "
	       "r.appts_hca IS NOT NULL OR r.appts_pharmacist IS NOT NULL OR r.appts_other IS NOT "
	       "NULL) ORDER BY p.opens_at DESC LIMIT 8");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, org);
	db_bind_int(st, 2, period);
	int rc;
	int64_t sum = 0, n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t per = pressure_per_1000_x10(db_col_int(st, 0), db_col_int(st, 1));
		if (per > 0) {
			sum += per;
			n++;
		}
	}
	db_reset(st);
	if (n)
		*out = sum / n;
	return rc < 0 ? rc : 0;
}

static void bind_count(struct db_stmt *st, int idx, int64_t v)
{
	if (v >= 0)
		db_bind_int(st, idx, v);
	else
		db_bind_null(st, idx);
}

/* Upserts the return. *id gets its id, *amended whether it existed. */
static int save_return(struct db_conn *c, const struct viewer *viewer, const struct context *x,
                       const struct form_state *s, const struct parsed *p, int calculated,
                       int64_t *id, bool *amended)
{
	const struct pressure_form_view *v = &s->v;
	struct db_stmt *st =
	    db_prepare(c, "SELECT id FROM pressure_returns WHERE organisation_id = "
	                  "$1 AND period_id = $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, x->practice.id);
	db_bind_int(st, 2, x->period.id);
	int rc = db_step(st);
	*amended = rc == DB_ROW;
	db_reset(st);
	if (rc < 0)
		return rc;
	st = db_prepare(
	    c,
	    "INSERT INTO pressure_returns (period_id, organisation_id, level, calculated_level, "
	    "flow_rating, staffing_rating, comms_rating, appts_gp, appts_nurse, appts_hca, "
	    "appts_pharmacist, appts_other, clinical_staff, staff_available_pct, absences, "
	    "vacancies, nhs111_bookings, home_visits, list_size, incident, incident_detail, "
	    "source_id, action_plan, support_mutual_aid, support_call_redirection, "
	    "support_111_review, support_other, comments, consent_to_share, submitted_by, "
	    "submitted_at, updated_by, updated_at, late) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, "
	    "$26, $27, $28, $29, $30, $31, $30, $31, $32) "
	    "ON CONFLICT (organisation_id, period_id) DO UPDATE SET level = excluded.level, "
	    "calculated_level = excluded.calculated_level, flow_rating = excluded.flow_rating, "
	    "staffing_rating = excluded.staffing_rating, comms_rating = excluded.comms_rating, "
	    "appts_gp = excluded.appts_gp, appts_nurse = excluded.appts_nurse, appts_hca = "
	    "excluded.appts_hca, appts_pharmacist = excluded.appts_pharmacist, appts_other = "
	    "excluded.appts_other, clinical_staff = excluded.clinical_staff, staff_available_pct = "
	    "excluded.staff_available_pct, absences = excluded.absences, vacancies = "
	    "excluded.vacancies, nhs111_bookings = excluded.nhs111_bookings, home_visits = "
	    "excluded.home_visits, list_size = excluded.list_size, incident = excluded.incident, "
	    "incident_detail = excluded.incident_detail, source_id = excluded.source_id, "
	    "action_plan = excluded.action_plan, support_mutual_aid = excluded.support_mutual_aid, "
	    "support_call_redirection = excluded.support_call_redirection, support_111_review = "
	    "excluded.support_111_review, support_other = excluded.support_other, comments = "
	    "excluded.comments, consent_to_share = excluded.consent_to_share, updated_by = "
	    "excluded.updated_by, updated_at = excluded.updated_at, late = CASE WHEN "
	    "excluded.late = 1 THEN 1 ELSE pressure_returns.late END RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, x->period.id);
	db_bind_int(st, 2, x->practice.id);
	db_bind_int(st, 3, p->level);
	db_bind_int(st, 4, calculated);
	for (int i = 0; i < 3; i++)
		bind_count(st, 5 + i, p->ratings[i] ? p->ratings[i] : -1);
	/* Parameters $8–$18 are the numbers, in the order of numbers[]. */
	for (int i = 0; i < PRESSURE_N_NUMBERS; i++)
		bind_count(st, 8 + i, p->counts[i]);
	bind_count(st, 19, x->practice.list_size > 0 ? x->practice.list_size : -1);
	db_bind_text(st, 20, v->incident);
	db_bind_text(st, 21, v->incident_detail);
	bind_count(st, 22, p->source_id ? p->source_id : -1);
	db_bind_text(st, 23, v->action_plan);
	db_bind_int(st, 24, v->mutual_aid);
	db_bind_int(st, 25, v->call_redirection);
	db_bind_int(st, 26, v->review_111);
	db_bind_text(st, 27, v->support_other);
	db_bind_text(st, 28, v->comments);
	db_bind_int(st, 29, v->consent);
	db_bind_int(st, 30, viewer->person_id);
	db_bind_int(st, 31, x->now);
	db_bind_int(st, 32, x->now >= x->period.deadline_at);
	rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 0 : rc < 0 ? rc : DB_ERR;
}

static const char *const escalation_words[] = {"black", "red", "review"};

/* Raises one escalation unless this practice already has one of this kind for
 * the period; a new one is audited and mailed to the executive. */
static int raise_escalation(struct db_conn *c, struct http_request *req, const struct context *x,
                            int64_t return_id, int kind, int64_t respond_by)
{
	const struct app *app = req->app;
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO pressure_escalations (return_id, organisation_id, period_id, kind, "
	       "created_at, respond_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "
	       "(organisation_id, period_id, kind) DO NOTHING RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, return_id);
	db_bind_int(st, 2, x->practice.id);
	db_bind_int(st, 3, x->period.id);
	db_bind_text(st, 4, escalation_words[kind]);
	db_bind_int(st, 5, x->now);
	db_bind_int(st, 6, respond_by);
	int rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc == DB_DONE)
		return 0; /* raised before */
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	char subject_id[48], detail[LIMIT_NAME_BYTES + 64], by[TIME_DATE_TIME_BYTES];
	snprintf(subject_id, sizeof subject_id, "pressure-escalation:%lld", (long long)id);
	snprintf(detail, sizeof detail, "%s: %s", escalation_words[kind], x->practice.ods);
	if (pressure_audit(c, req, "pressure-escalation-raised", subject_id, detail))
		return DB_ERR;
	time_format_time_on_date(respond_by, by);
	char line[400], subj[LIMIT_NAME_BYTES + 64];
	if (kind == 0)
		snprintf(line, sizeof line,
		         "has declared Black (OPEL 4): it cannot deliver "
		         "comprehensive care. Contact the practice now");
	else if (kind == 1)
		snprintf(line, sizeof line, "has declared Red (OPEL 3). Contact the practice by %s",
		         by);
	else
		snprintf(line, sizeof line,
		         "has reported Red or Black for three periods in a row. Review its support "
		         "by %s",
		         by);
	snprintf(subj, sizeof subj, "%s: %s %s",
	         kind == 0   ? "Black alert"
	         : kind == 1 ? "Red return"
	                     : "Review needed",
	         x->practice.name, kind == 2 ? "(three periods at Red or Black)" : "");
	struct buf text;
	buf_init(&text, 4096);
	buf_printf(&text,
	           "%s (%s) %s.\n\nRecord who made contact and what support was offered, so the "
	           "practice can see the response:\n\n%s/pressure/escalations/%lld\n",
	           x->practice.name, x->practice.ods, line, app->config->base_url, (long long)id);
	st = db_prepare(c, "SELECT email FROM people WHERE role = 'executive' AND deactivated_at "
	                   "IS NULL ORDER BY id");
	if (!st) {
		buf_free(&text);
		return DB_ERR;
	}
	char emails[32][LIMIT_EMAIL_BYTES + 1];
	int n = 0;
	while ((rc = db_step(st)) == DB_ROW && n < 32)
		snprintf(emails[n++], sizeof emails[0], "%s", db_col_text(st, 0));
	db_reset(st);
	for (int i = 0; rc >= 0 && i < n; i++)
		if (mail_queue(c, emails[i], subj, text.data, NULL) != MAIL_OK)
			rc = DB_ERR;
	buf_free(&text);
	return rc < 0 ? rc : 0;
}

/* Whether the practice's last three returns (this one included) are all Red or Black. */
static int three_in_a_row(struct db_conn *c, int64_t org, bool *yes)
{
	*yes = false;
	struct db_stmt *st = db_prepare(
	    c, "SELECT r.level FROM pressure_periods p JOIN pressure_returns r ON "
	       "r.organisation_id = $1 AND r.period_id = +p.id ORDER BY p.opens_at DESC, p.id "
	       "DESC LIMIT 3"); /* periods newest first: see baseline() */
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, org);
	int rc, n = 0, high = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		n++;
		high += db_col_int(st, 0) >= PRESSURE_RED;
	}
	db_reset(st);
	*yes = n == 3 && high == 3;
	return rc < 0 ? rc : 0;
}

static int escalate(struct db_conn *c, struct http_request *req, const struct context *x,
                    int64_t return_id, int level)
{
	int64_t next_day = pressure_next_working_day(x->now);
	if (level == PRESSURE_BLACK && raise_escalation(c, req, x, return_id, 0, x->now))
		return DB_ERR;
	if (level == PRESSURE_RED && raise_escalation(c, req, x, return_id, 1, next_day))
		return DB_ERR;
	bool review;
	if (three_in_a_row(c, x->practice.id, &review))
		return DB_ERR;
	if (review && raise_escalation(c, req, x, return_id, 2, next_day))
		return DB_ERR;
	return 0;
}

void pressure_form_submit(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct form_state *s = xcalloc(1, sizeof *s);
	struct context x;
	struct parsed p;
	view_init(&s->v);
	if (open_context(req, res, c, &x))
		goto done;
	describe_period(s, &x);
	if (load_sources(c, &s->v)) {
		res->status = 500;
		goto done;
	}
	validate(f, &x, s, &p);
	/* A form opened for a period that has since closed: keep what was typed, say
	 * so, and offer it for the current period. */
	int64_t sent_for = http_parse_id(form_get(f, "period"));
	if (sent_for != x.period.id) {
		struct pressure_period old;
		int found = sent_for > 0 ? pressure_load_period(c, sent_for, &old) : 0;
		if (found < 0) {
			res->status = 500;
			goto done;
		}
		s->v.closed_notice = true;
		res->status = 409;
		if (!s->v.errors.n)
			form_error_add(&s->v.errors, "level",
			               "The period this form was opened for has closed. Check your "
			               "answers and send them for the current period");
		db_release(c);
		c = NULL;
		render(req, res, s);
		goto done;
	}
	if (s->v.errors.n) {
		res->status = 400;
		db_release(c);
		c = NULL;
		render(req, res, s);
		goto done;
	}
	int64_t base, id = 0;
	bool amended;
	if (baseline(c, x.practice.id, x.period.id, &base))
		goto fail;
	int64_t appts = -1;
	for (int i = N_APPTS_GP; i <= N_APPTS_OTHER; i++)
		if (p.counts[i] >= 0)
			appts = (appts < 0 ? 0 : appts) + p.counts[i];
	struct pressure_figures fig = {
	    x.practice.list_size, p.counts[N_STAFF_PCT], appts, base, p.counts[N_111], p.incident};
	int calculated = pressure_calculated_level(&fig);
	if (db_begin(c) || save_return(c, viewer, &x, s, &p, calculated, &id, &amended) ||
	    escalate(c, req, &x, id, p.level) || pressure_live_changed(c, x.period.id))
		goto fail;
	char subject[48], detail[128];
	snprintf(subject, sizeof subject, "pressure-return:%lld", (long long)id);
	snprintf(detail, sizeof detail, "%s level %d (calculated %d)%s", x.practice.ods, p.level,
	         calculated, x.now >= x.period.deadline_at ? ", late" : "");
	if (pressure_audit(c, req, amended ? "pressure-return-amended" : "pressure-return-sent",
	                   subject, detail) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	c = NULL;
	mail_wake();
	char to[96];
	snprintf(to, sizeof to, "/pressure/practices/%s?sent=%d", x.practice.ods, amended ? 2 : 1);
	http_redirect(res, to);
	goto done;
fail:
	log_error("request %s: cannot save a pressure return: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(s);
}

/* ------------------------------------------------------------ the JSON API */

int pressure_submit_fields(struct http_request *req, const char *ods, const struct form *f,
                           struct pressure_submit_result *r)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	memset(r, 0, sizeof *r);
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		r->status = 503;
		return 1;
	}
	struct form_state *s = xcalloc(1, sizeof *s);
	struct context x;
	struct parsed p;
	struct http_response refusal = {0};
	int rc = 1;
	view_init(&s->v);
	/* The API names the practice in its body, the form in its path: open_context reads
	 * the path parameter, so it is pointed at the body's for the call. */
	const char *path_param = req->params[0];
	req->params[0] = ods;
	int opened = open_context(req, &refusal, c, &x);
	req->params[0] = path_param;
	if (opened) {
		r->status = refusal.status;
		r->reason = refusal.reason;
		goto done;
	}
	describe_period(s, &x);
	if (load_sources(c, &s->v)) {
		rc = DB_ERR;
		goto done;
	}
	validate(f, &x, s, &p);
	r->errors = s->v.errors;
	r->period_id = x.period.id;
	const char *period = form_get(f, "period");
	if (period && http_parse_id(period) != x.period.id) {
		r->status = 409;
		r->reason = "That period is not open for returns: leave out period to send the "
		            "return for the current one";
		goto done;
	}
	if (s->v.errors.n) {
		r->status = 400;
		goto done;
	}
	int64_t base;
	if (baseline(c, x.practice.id, x.period.id, &base))
		goto fail;
	int64_t appts = -1;
	for (int i = N_APPTS_GP; i <= N_APPTS_OTHER; i++)
		if (p.counts[i] >= 0)
			appts = (appts < 0 ? 0 : appts) + p.counts[i];
	struct pressure_figures fig = {
	    x.practice.list_size, p.counts[N_STAFF_PCT], appts, base, p.counts[N_111], p.incident};
	r->level = p.level;
	r->calculated = pressure_calculated_level(&fig);
	r->late = x.now >= x.period.deadline_at;
	if (db_begin(c) || save_return(c, viewer, &x, s, &p, r->calculated, &r->id, &r->amended) ||
	    escalate(c, req, &x, r->id, p.level) || pressure_live_changed(c, x.period.id))
		goto fail;
	char subject[48], detail[128];
	snprintf(subject, sizeof subject, "pressure-return:%lld", (long long)r->id);
	snprintf(detail, sizeof detail, "%s level %d (calculated %d)%s (API)", x.practice.ods,
	         p.level, r->calculated, r->late ? ", late" : "");
	if (pressure_audit(c, req, r->amended ? "pressure-return-amended" : "pressure-return-sent",
	                   subject, detail) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	c = NULL;
	mail_wake();
	r->status = r->amended ? 200 : 201;
	rc = 0;
	goto done;
fail:
	log_error("request %s: cannot save a pressure return: %s", req->id, db_errmsg(c));
	rc = DB_ERR;
done:
	db_release(c);
	free(s);
	return rc;
}
