/*
 * admin_people.c — administering people: the list, one person's page, and
 * the changes made from it (see admin.h).
 *
 * Each change is one transaction: lock, read the person as they are now,
 * ask the policy, write, record before and after in the audit trail, commit.
 * A change that turns out to change nothing writes nothing and is not
 * recorded. After a change the browser is sent back to the person's page
 * (303), which says what happened.
 */
#include "app/admin/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/directory/directory.h"
#include "auth/audit.h"
#include "auth/session.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "templates.h"

/* Serialises changes to roles and activation on PostgreSQL, so that two
 * administrators demoting each other at once cannot leave none (SQLite's
 * BEGIN IMMEDIATE already serialises every writer). */
#define ADMIN_PEOPLE_LOCK "SELECT pg_advisory_xact_lock(7464)"

static const struct admin_choice role_choices[] = {
    {"member", "Member", false},
    {"executive", "Executive team", false},
    {"administrator", "Administrator", false},
    {"partner", "Partner", false},
};
#define N_ROLES (sizeof role_choices / sizeof role_choices[0])

static const struct admin_choice role_filters[] = {
    {"", "Any role", false},
    {"member", "Member", false},
    {"practice-lead", "Practice lead", false},
    {"executive", "Executive team", false},
    {"administrator", "Administrator", false},
    {"partner", "Partner", false},
};
#define N_ROLE_FILTERS (sizeof role_filters / sizeof role_filters[0])

static const struct admin_choice status_filters[] = {
    {"active", "Active", false},
    {"deactivated", "Deactivated", false},
    {"all", "Active and deactivated", false},
};
#define N_STATUSES (sizeof status_filters / sizeof status_filters[0])

/* What a change did, shown on the person's page after the redirect. */
static const struct {
	const char *key, *message;
} notices[] = {
    {"role", "The role has been changed."},
    {"membership-added", "The membership has been added."},
    {"membership-changed", "The membership has been changed."},
    {"membership-removed", "The membership has been removed."},
    {"deactivated", "The account has been deactivated, and every session of it ended."},
    {"reactivated", "The account has been reactivated. They can sign in again."},
    {"unchanged", "Nothing needed changing."},
};

/* Copies a fixed list of choices, marking the one whose value is selected. */
static size_t choose(struct admin_choice *out, const struct admin_choice *from, size_t n,
                     const char *selected, bool *found)
{
	*found = false;
	for (size_t i = 0; i < n; i++) {
		out[i] = from[i];
		out[i].selected = selected && !strcmp(from[i].value, selected);
		*found |= out[i].selected;
	}
	return n;
}

/* Loads every organisation for a select (freed with free_orgs). */
static int load_org_choices(struct db_conn *c, struct admin_org_choice **out, size_t *n,
                            long long selected)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT id, name, ods_code FROM organisations ORDER BY name, id LIMIT $1");
	*out = NULL;
	*n = 0;
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, ADMIN_MAX_ORG_CHOICES);
	size_t alloc = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			*out = xrealloc(*out, alloc * sizeof **out);
		}
		struct buf label;
		buf_init(&label, 2 * LIMIT_NAME_BYTES);
		buf_printf(&label, "%s (%s)", db_col_text(st, 1), db_col_text(st, 2));
		long long id = db_col_int(st, 0);
		(*out)[(*n)++] = (struct admin_org_choice){
		    id, buf_take(&label), xstrdup(db_col_text(st, 2)), id == selected};
		buf_free(&label);
	}
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

static void free_orgs(struct admin_org_choice *orgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)orgs[i].label);
		free((char *)orgs[i].code);
	}
	free(orgs);
}

static int load_memberships(struct db_conn *c, long long person_id, struct admin_membership **out,
                            size_t *n)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.id, o.name, o.ods_code, m.lead FROM memberships m JOIN organisations o ON "
	       "o.id = m.organisation_id WHERE m.person_id = $1 ORDER BY o.name, o.id LIMIT $2");
	*out = xcalloc(ADMIN_MAX_ORGS_SHOWN, sizeof **out);
	*n = 0;
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	db_bind_int(st, 2, ADMIN_MAX_ORGS_SHOWN);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && *n < ADMIN_MAX_ORGS_SHOWN) {
		(*out)[(*n)++] =
		    (struct admin_membership){db_col_int(st, 0), xstrdup(db_col_text(st, 1)),
		                              xstrdup(db_col_text(st, 2)), db_col_int(st, 3) != 0};
	}
	db_reset(st);
	return rc == DB_DONE || rc == DB_ROW ? DB_OK : rc;
}

static void free_memberships(struct admin_membership *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)m[i].name);
		free((char *)m[i].code);
	}
	free(m);
}

/* The list of people. $1 name or email pattern ('' any); $2 role filter ('' any,
 * 'practice-lead' for leads of any organisation); $3 organisation id (0 any);
 * $4 'active', 'deactivated' or 'all'. */
static const char people_sql[] =
    "SELECT p.id, p.name, p.email, p.role, p.deactivated_at IS NOT NULL FROM people p "
    "WHERE ($1 = '' OR lower(p.name) LIKE $1 ESCAPE '\\' OR lower(p.email) LIKE $1 "
    "ESCAPE '\\') AND ($2 = '' OR p.role = $2 OR ($2 = 'practice-lead' AND EXISTS (SELECT 1 "
    "FROM memberships l WHERE l.person_id = p.id AND l.lead = 1))) AND ($3 = 0 OR EXISTS "
    "(SELECT 1 FROM memberships m WHERE m.person_id = p.id AND m.organisation_id = $3)) "
    "AND ($4 = 'all' OR ($4 = 'active' AND p.deactivated_at IS NULL) OR ($4 = 'deactivated' "
    "AND p.deactivated_at IS NOT NULL)) ORDER BY lower(p.name), p.id LIMIT $5 OFFSET $6";

void admin_people(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct admin_person_row rows[ADMIN_PAGE_SIZE + 1];
	struct admin_choice roles[N_ROLE_FILTERS], statuses[N_STATUSES];
	struct admin_org_choice *orgs = NULL;
	struct admin_people_view v = {.roles = roles, .statuses = statuses};
	struct buf pattern, query;
	size_t n = 0;
	bool found;
	const char *q = http_query(req, "q"), *role = http_query(req, "role");
	const char *org = http_query(req, "organisation"), *status = http_query(req, "status");
	long long page = listing_page_parse(http_query(req, "page"));
	int64_t org_id = 0;
	if (page < 0) {
		res->status = 400;
		res->reason = "The page number in the web address must be a whole number from 1 to "
		              "10000. Go back to the first page of the list of people.";
		return;
	}
	buf_init(&pattern, 3 * LIMIT_EMAIL_BYTES + 8);
	buf_init(&query, 4 * LIMIT_URL_BYTES);
	buf_puts(&pattern, "");
	buf_puts(&query, "");
	v.q = listing_display(q);
	if (!listing_text_ok(q, LIMIT_EMAIL_BYTES)) {
		v.q_error = "Search text must be 254 characters or fewer, on one line";
		form_error_add(&v.errors, "q", v.q_error);
	} else if (q && *q) {
		listing_like_pattern(&pattern, q);
		listing_query_add(&query, "q", q);
	}
	v.n_roles = choose(roles, role_filters, N_ROLE_FILTERS, role ? role : "", &found);
	if (!found) {
		v.role_error = "Select a role from the list";
		form_error_add(&v.errors, "role", v.role_error);
	} else {
		listing_query_add(&query, "role", role);
	}
	if (!status || !*status)
		status = "active";
	v.n_statuses = choose(statuses, status_filters, N_STATUSES, status, &found);
	if (!found) {
		v.status_error = "Select active, deactivated, or both";
		form_error_add(&v.errors, "status", v.status_error);
	} else if (strcmp(status, "active")) {
		listing_query_add(&query, "status", status);
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		goto done;
	}
	if (org && *org) {
		org_id = http_parse_id(org);
		if (!org_id)
			org_id = -1; /* shown as not found below */
	}
	if (load_org_choices(c, &orgs, &v.n_orgs, org_id))
		goto fail;
	v.orgs = orgs;
	if (org_id) {
		found = false;
		for (size_t i = 0; i < v.n_orgs; i++)
			found |= orgs[i].selected;
		if (!found) {
			v.organisation_error = "Select an organisation from the list";
			form_error_add(&v.errors, "organisation", v.organisation_error);
		} else {
			listing_query_add(&query, "organisation", org);
		}
	}
	v.filtered = query.len > 0;
	if (!v.errors.n) {
		struct db_stmt *st = db_prepare(c, people_sql);
		if (!st)
			goto fail;
		db_bind_text(st, 1, pattern.data);
		db_bind_text(st, 2, role ? role : "");
		db_bind_int(st, 3, org_id);
		db_bind_text(st, 4, status);
		db_bind_int(st, 5, ADMIN_PAGE_SIZE + 1);
		db_bind_int(st, 6, (page - 1) * ADMIN_PAGE_SIZE);
		int rc;
		while ((rc = db_step(st)) == DB_ROW && n < ADMIN_PAGE_SIZE + 1) {
			rows[n++] = (struct admin_person_row){
			    .id = db_col_int(st, 0),
			    .name = xstrdup(db_col_text(st, 1)),
			    .email = xstrdup(db_col_text(st, 2)),
			    .role_label = directory_role_label(db_col_text(st, 3)),
			    .deactivated = db_col_int(st, 4) != 0,
			};
		}
		db_reset(st);
		if (rc != DB_DONE && rc != DB_ROW)
			goto fail;
		for (size_t i = 0; i < n && i < ADMIN_PAGE_SIZE; i++)
			if (load_memberships(c, rows[i].id, &rows[i].memberships,
			                     &rows[i].n_memberships))
				goto fail;
	}
	db_release(c);
	bool has_next = n > ADMIN_PAGE_SIZE;
	v.people = rows;
	v.n_people = has_next ? ADMIN_PAGE_SIZE : n;
	listing_pager_init(&v.pager, "/admin/people", query.data, page, has_next);
	if (v.errors.n)
		res->status = 400;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_admin_people(&main, &v);
	page_render(req, res, v.errors.n ? "Error: People" : "People", main.data);
	buf_free(&main);
	listing_pager_free(&v.pager);
	goto done;
fail:
	log_error("request %s: cannot list people: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
done:
	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].name);
		free((char *)rows[i].email);
		free_memberships(rows[i].memberships, rows[i].n_memberships);
	}
	free_orgs(orgs, v.n_orgs);
	buf_free(&pattern);
	buf_free(&query);
}

/* A person as a change finds them, read inside its transaction. */
struct target {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1];
	char email[LIMIT_EMAIL_BYTES + 1];
	char role[32];
	bool deactivated;
};

/* 1 found, 0 not, < 0 error. */
static int load_target(struct db_conn *c, int64_t id, struct target *t)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT name, email, role, deactivated_at IS NOT NULL FROM people WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		t->id = id;
		snprintf(t->name, sizeof t->name, "%s", db_col_text(st, 0));
		snprintf(t->email, sizeof t->email, "%s", db_col_text(st, 1));
		snprintf(t->role, sizeof t->role, "%s", db_col_text(st, 2));
		t->deactivated = db_col_int(st, 3) != 0;
	}
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static enum role role_of(const char *name)
{
	int r = policy_role_from_name(name);
	return r < 0 ? ROLE_PARTNER : (enum role)r;
}

/* Active administrators other than person_id; < 0 on error. */
static long long other_admins(struct db_conn *c, int64_t person_id)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT count(*) FROM people WHERE role = 'administrator' AND "
	                  "deactivated_at IS NULL AND id <> $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, person_id);
	int rc = db_step(st);
	long long n = rc == DB_ROW ? db_col_int(st, 0) : rc;
	db_reset(st);
	return rc == DB_ROW ? n : rc < 0 ? rc : DB_ERR;
}

/* Starts a change: the transaction, and on PostgreSQL the lock (see ADMIN_PEOPLE_LOCK). */
static int begin_change(struct db_conn *c)
{
	int rc = db_begin(c);
	if (!rc && db_conn_kind(c) == DB_POSTGRES)
		rc = db_exec(c, ADMIN_PEOPLE_LOCK);
	return rc;
}

static int record(struct db_conn *c, struct http_request *req, const char *action,
                  const struct target *t, const char *detail)
{
	const struct viewer *viewer = access_viewer(req);
	char subject[32];
	snprintf(subject, sizeof subject, "person:%lld", (long long)t->id);
	struct audit_entry e = {viewer->person_id, viewer->email, action,
	                        subject,           detail,        req->address};
	return audit_record(c, &e);
}

static void redirect_to_person(struct http_response *res, int64_t id, const char *done)
{
	char to[96];
	snprintf(to, sizeof to, "/admin/people/%lld?done=%s", (long long)id, done ? done : "");
	http_redirect(res, to);
}

/*
 * Shows a person's page. v may carry errors from a refused change (then
 * status is the response's status, and role_value / org_value / lead what
 * was chosen); otherwise it is empty.
 */
static void show_person(struct http_request *req, struct http_response *res, int64_t id,
                        struct admin_person_view *v, const char *role_value, long long org_value)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct admin_choice roles[N_ROLES];
	struct admin_org_choice *orgs = NULL;
	struct admin_membership *memberships = NULL;
	char *name = NULL, *email = NULL, *role = NULL, *job = NULL, title[LIMIT_NAME_BYTES + 16];
	size_t n_memberships = 0, n_orgs = 0;
	bool found;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct db_stmt *st =
	    db_prepare(c, "SELECT name, email, role, job_title, deactivated_at, created_at, "
	                  "totp_secret IS NOT NULL FROM people WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		name = xstrdup(db_col_text(st, 0));
		email = xstrdup(db_col_text(st, 1));
		role = xstrdup(db_col_text(st, 2));
		job = xstrdup(db_col_text(st, 3));
		v->deactivated = !db_col_is_null(st, 4);
		if (v->deactivated)
			time_format_date(db_col_int(st, 4), v->deactivated_on);
		time_format_date(db_col_int(st, 5), v->created_on);
		v->mfa = db_col_int(st, 6) != 0;
	}
	db_reset(st);
	if (rc == DB_DONE) {
		db_release(c);
		res->status = 404;
		return;
	}
	if (rc != DB_ROW)
		goto fail;
	if (load_memberships(c, id, &memberships, &n_memberships) ||
	    load_org_choices(c, &orgs, &n_orgs, org_value))
		goto fail;
	db_release(c);
	c = NULL;
	v->csrf = access_csrf(req, res);
	v->id = id;
	v->name = name;
	v->email = email;
	v->role = role;
	v->role_label = directory_role_label(role);
	v->job_title = job;
	v->self = id == viewer->person_id;
	v->memberships = memberships;
	v->n_memberships = n_memberships;
	v->roles = roles;
	v->n_roles = choose(roles, role_choices, N_ROLES, role_value ? role_value : role, &found);
	v->orgs = orgs;
	v->n_orgs = n_orgs;
	/* The MFA reset form belongs to the two-step sign-in pages; offer it once they exist. */
	for (int i = 0; i < app_n_routes; i++)
		if (!strcmp(app_routes[i].pattern, "/admin/people/{id}/mfa-reset"))
			v->mfa_reset = v->mfa && policy_may_reset_mfa(viewer, id);
	const char *done = http_query(req, "done");
	for (size_t i = 0; done && !v->errors.n && i < sizeof notices / sizeof notices[0]; i++)
		if (!strcmp(done, notices[i].key))
			v->notice = notices[i].message;
	snprintf(title, sizeof title, "%s%s", v->errors.n ? "Error: " : "", name);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_admin_person(&main, v);
	page_render(req, res, title, main.data);
	buf_free(&main);
	goto done;
fail:
	log_error("request %s: cannot show a person: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
done:
	free(name);
	free(email);
	free(role);
	free(job);
	free_memberships(memberships, n_memberships);
	free_orgs(orgs, n_orgs);
}

void admin_person(struct http_request *req, struct http_response *res)
{
	int64_t id = http_parse_id(req->params[0]);
	struct admin_person_view v = {0};
	if (!id) {
		res->status = 404;
		return;
	}
	show_person(req, res, id, &v, NULL, 0);
}

/* The refusal of a change, shown on the person's page above the form it concerns. */
static void refuse(struct http_request *req, struct http_response *res, int64_t id, unsigned status,
                   const char *field, const char *message, const char *role_value,
                   long long org_value, bool lead)
{
	struct admin_person_view v = {.lead_checked = lead};
	form_error_add(&v.errors, field, message);
	if (!strcmp(field, "role"))
		v.role_error = message;
	else if (!strcmp(field, "organisation"))
		v.organisation_error = message;
	else
		v.status_error = message;
	res->status = status;
	show_person(req, res, id, &v, role_value, org_value);
}

/* Starts a POST on /admin/people/{id}/…: the id, a connection in a transaction,
 * and the person as they are. Returns 1 ready, 0 answered (404, 503, 500). */
static int start_change(struct http_request *req, struct http_response *res, struct db_conn **cp,
                        struct target *t)
{
	struct app *app = req->app;
	int64_t id = http_parse_id(req->params[0]);
	if (!id || !policy_may_manage_people(access_viewer(req))) {
		res->status = id ? 403 : 404;
		return 0;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return 0;
	}
	int rc = begin_change(c);
	if (!rc)
		rc = load_target(c, id, t);
	if (rc == 1) {
		*cp = c;
		return 1;
	}
	if (rc == 0) {
		res->status = 404;
	} else {
		log_error("request %s: cannot change a person: %s", req->id, db_errmsg(c));
		res->status = 500;
	}
	db_release(c);
	return 0;
}

/* Commits a change and redirects; any failure is a 500 with nothing written. */
static void finish_change(struct http_request *req, struct http_response *res, struct db_conn *c,
                          int rc, int64_t id, const char *done, const char *to)
{
	if (!rc)
		rc = db_commit(c);
	if (rc) {
		log_error("request %s: cannot change a person: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	if (to)
		http_redirect(res, to);
	else
		redirect_to_person(res, id, done);
}

static int run_update(struct db_conn *c, const char *sql, int64_t id, const char *text,
                      int64_t number, bool number_null)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	if (text)
		db_bind_text(st, 2, text);
	else if (number_null)
		db_bind_null(st, 2);
	else
		db_bind_int(st, 2, number);
	db_bind_int(st, 3, (int64_t)time(NULL));
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

void admin_person_role(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	const char *to = form_get(access_form(req), "role");
	struct db_conn *c;
	struct target t;
	char detail[LIMIT_EMAIL_BYTES + 96];
	if (!start_change(req, res, &c, &t))
		return;
	int to_role = policy_role_from_name(to);
	if (to_role < 0) {
		db_release(c);
		refuse(req, res, t.id, 400, "role", "Select a role", NULL, 0, false);
		return;
	}
	if (!strcmp(to, t.role)) {
		finish_change(req, res, c, DB_OK, t.id, "unchanged", NULL);
		return;
	}
	long long others = other_admins(c, t.id);
	if (others < 0) {
		finish_change(req, res, c, (int)others, t.id, NULL, NULL);
		return;
	}
	if (!policy_may_change_role(viewer, t.id, role_of(t.role), (enum role)to_role, others)) {
		db_release(c);
		refuse(req, res, t.id, 409, "role",
		       "This is the only active administrator. Make someone else an administrator "
		       "first, so that someone can still run Shoal",
		       to, 0, false);
		return;
	}
	snprintf(detail, sizeof detail, "%s: role %s -> %s", t.email, t.role, to);
	int rc = run_update(c, "UPDATE people SET role = $2, updated_at = $3 WHERE id = $1", t.id,
	                    to, 0, false);
	if (!rc)
		rc = record(c, req, "role-changed", &t, detail);
	/* Someone who has just given up administration can no longer see this page. */
	bool left = t.id == viewer->person_id && to_role != ROLE_ADMINISTRATOR;
	finish_change(req, res, c, rc, t.id, "role", left ? "/" : NULL);
}

/* Parses the organisation field of a membership form: its id, or 0. */
static int64_t form_organisation(const struct form *f)
{
	return http_parse_id(form_get(f, "organisation"));
}

void admin_person_membership(struct http_request *req, struct http_response *res)
{
	const struct form *f = access_form(req);
	const char *lead_raw = form_get(f, "lead");
	bool lead = lead_raw && !strcmp(lead_raw, "yes");
	int64_t org = form_organisation(f);
	struct db_conn *c;
	struct target t;
	struct buf detail;
	if (!start_change(req, res, &c, &t))
		return;
	char org_name[LIMIT_NAME_BYTES + 1] = "", code[64] = "";
	int rc = DB_OK, exists = 0, was_lead = 0;
	struct db_stmt *st = NULL;
	if (org) {
		st = db_prepare(c,
		                "SELECT o.name, o.ods_code, m.lead IS NOT NULL, "
		                "coalesce(m.lead, 0) FROM organisations o LEFT JOIN memberships m "
		                "ON m.organisation_id = o.id AND m.person_id = $2 WHERE o.id = $1");
		if (!st) {
			finish_change(req, res, c, DB_ERR, t.id, NULL, NULL);
			return;
		}
		db_bind_int(st, 1, org);
		db_bind_int(st, 2, t.id);
		rc = db_step(st);
		if (rc == DB_ROW) {
			snprintf(org_name, sizeof org_name, "%s", db_col_text(st, 0));
			snprintf(code, sizeof code, "%s", db_col_text(st, 1));
			exists = db_col_int(st, 2) != 0;
			was_lead = db_col_int(st, 3) != 0;
		}
		db_reset(st);
		if (rc < 0) {
			finish_change(req, res, c, rc, t.id, NULL, NULL);
			return;
		}
	}
	if (!org || rc != DB_ROW) {
		db_release(c);
		refuse(req, res, t.id, 400, "organisation", "Select an organisation", NULL, 0,
		       lead);
		return;
	}
	if (exists && was_lead == lead) {
		finish_change(req, res, c, DB_OK, t.id, "unchanged", NULL);
		return;
	}
	st = db_prepare(c, "INSERT INTO memberships (person_id, organisation_id, lead, created_at) "
	                   "VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, organisation_id) "
	                   "DO UPDATE SET lead = excluded.lead");
	if (!st) {
		finish_change(req, res, c, DB_ERR, t.id, NULL, NULL);
		return;
	}
	db_bind_int(st, 1, t.id);
	db_bind_int(st, 2, org);
	db_bind_int(st, 3, lead);
	db_bind_int(st, 4, (int64_t)time(NULL));
	rc = db_step(st);
	db_reset(st);
	rc = rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
	buf_init(&detail, 1024);
	if (exists)
		buf_printf(&detail, "%s: %s (%s): lead %s -> %s", t.email, org_name, code,
		           was_lead ? "yes" : "no", lead ? "yes" : "no");
	else
		buf_printf(&detail, "%s: %s (%s): added, lead %s", t.email, org_name, code,
		           lead ? "yes" : "no");
	if (!rc)
		rc = record(c, req, exists ? "membership-changed" : "membership-added", &t,
		            detail.data);
	buf_free(&detail);
	finish_change(req, res, c, rc, t.id, exists ? "membership-changed" : "membership-added",
	              NULL);
}

void admin_person_membership_remove(struct http_request *req, struct http_response *res)
{
	int64_t org = http_parse_id(req->params[1]);
	struct db_conn *c;
	struct target t;
	struct buf detail;
	if (!org) {
		res->status = 404;
		return;
	}
	if (!start_change(req, res, &c, &t))
		return;
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.name, o.ods_code, m.lead FROM memberships m JOIN organisations o ON "
	       "o.id = m.organisation_id WHERE m.person_id = $1 AND m.organisation_id = $2");
	if (!st) {
		finish_change(req, res, c, DB_ERR, t.id, NULL, NULL);
		return;
	}
	db_bind_int(st, 1, t.id);
	db_bind_int(st, 2, org);
	int rc = db_step(st);
	buf_init(&detail, 1024);
	if (rc == DB_ROW)
		buf_printf(&detail, "%s: %s (%s): removed (was lead: %s)", t.email,
		           db_col_text(st, 0), db_col_text(st, 1),
		           db_col_int(st, 2) ? "yes" : "no");
	db_reset(st);
	if (rc == DB_DONE) { /* already gone (a second click): nothing to do */
		buf_free(&detail);
		finish_change(req, res, c, DB_OK, t.id, "unchanged", NULL);
		return;
	}
	if (rc == DB_ROW) {
		st = db_prepare(c, "DELETE FROM memberships WHERE person_id = $1 AND "
		                   "organisation_id = $2");
		rc = DB_ERR;
		if (st) {
			db_bind_int(st, 1, t.id);
			db_bind_int(st, 2, org);
			rc = db_step(st) == DB_DONE ? DB_OK : DB_ERR;
			db_reset(st);
		}
		if (!rc)
			rc = record(c, req, "membership-removed", &t, detail.data);
	}
	buf_free(&detail);
	finish_change(req, res, c, rc, t.id, "membership-removed", NULL);
}

void admin_person_deactivate(struct http_request *req, struct http_response *res)
{
	const struct viewer *viewer = access_viewer(req);
	struct db_conn *c;
	struct target t;
	char detail[LIMIT_EMAIL_BYTES + 64];
	if (!start_change(req, res, &c, &t))
		return;
	if (t.deactivated) {
		finish_change(req, res, c, DB_OK, t.id, "unchanged", NULL);
		return;
	}
	long long others = other_admins(c, t.id);
	if (others < 0) {
		finish_change(req, res, c, (int)others, t.id, NULL, NULL);
		return;
	}
	if (!policy_may_deactivate(viewer, t.id, role_of(t.role), others)) {
		db_release(c);
		bool self = t.id == viewer->person_id;
		refuse(req, res, t.id, self ? 403 : 409, "deactivate",
		       self ? "You cannot deactivate your own account. Ask another administrator "
		              "to do it"
		            : "This is the only active administrator. Make someone else an "
		              "administrator first, so that someone can still run Shoal",
		       NULL, 0, false);
		return;
	}
	snprintf(detail, sizeof detail,
	         "%s: deactivated; every session ended, every API token revoked", t.email);
	int64_t now = (int64_t)time(NULL);
	int rc =
	    run_update(c, "UPDATE people SET deactivated_at = $2, updated_at = $3 WHERE id = $1",
	               t.id, NULL, now, false);
	if (!rc)
		rc = session_end_all(c, t.id);
	/* Tokens are revoked, not just refused while deactivated: reactivating
	 * someone must not quietly bring back a token a script still holds. */
	struct db_stmt *st = rc ? NULL
	                        : db_prepare(c, "UPDATE api_tokens SET revoked_at = $2 "
	                                        "WHERE person_id = $1 AND revoked_at IS NULL");
	if (!rc && !st)
		rc = DB_ERR;
	if (st) {
		db_bind_int(st, 1, t.id);
		db_bind_int(st, 2, now);
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERR;
		db_reset(st);
	}
	if (!rc)
		rc = record(c, req, "person-deactivated", &t, detail);
	finish_change(req, res, c, rc, t.id, "deactivated", NULL);
}

void admin_person_reactivate(struct http_request *req, struct http_response *res)
{
	struct db_conn *c;
	struct target t;
	char detail[LIMIT_EMAIL_BYTES + 64];
	if (!start_change(req, res, &c, &t))
		return;
	if (!t.deactivated) {
		finish_change(req, res, c, DB_OK, t.id, "unchanged", NULL);
		return;
	}
	snprintf(detail, sizeof detail, "%s: reactivated", t.email);
	int rc =
	    run_update(c, "UPDATE people SET deactivated_at = $2, updated_at = $3 WHERE id = $1",
	               t.id, NULL, 0, true);
	if (!rc)
		rc = record(c, req, "person-reactivated", &t, detail);
	finish_change(req, res, c, rc, t.id, "reactivated", NULL);
}
