/*
 * organisations_admin.c — the organisations in the administration pages (see
 * organisations_admin.h).
 *
 * Reading is plain SQL here; every change goes through organisations_save or
 * organisations_import (organisations.c), which check it by the import's rules,
 * write it and record it in the audit trail in one transaction. After a change
 * the browser is sent to the organisation's page (303), which says what
 * happened; a form with mistakes comes back with status 400, the NHS "There is
 * a problem" summary, a message by each field, and what was typed.
 */
#include "app/organisations/organisations_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/access.h"
#include "app/app.h"
#include "core/format.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "templates.h"

/* How each kind is offered in a select, and the heading of its group in the list (in the order
 * of organisations_kinds). */
static const char *const kind_labels[ORGANISATIONS_N_KINDS] = {"Practice",
                                                               "PCN (primary care network)",
                                                               "Locality",
                                                               "Federation",
                                                               "LMC (local medical committee)",
                                                               "ICB (integrated care board)",
                                                               "Trust",
                                                               "Council",
                                                               "Public health",
                                                               "Other"};
static const char *const kind_headings[ORGANISATIONS_N_KINDS] = {
    "Practices", "PCNs",   "Localities", "Federations",   "LMCs",
    "ICBs",      "Trusts", "Councils",   "Public health", "Other organisations"};

/* Kinds as the list sorts them; also in organisations_kinds order. */
#define KIND_ORDER_SQL                                                                             \
	"CASE o.kind WHEN 'practice' THEN 0 WHEN 'pcn' THEN 1 WHEN 'locality' THEN 2 "             \
	"WHEN 'federation' THEN 3 WHEN 'lmc' THEN 4 WHEN 'icb' THEN 5 WHEN 'trust' THEN 6 "        \
	"WHEN 'council' THEN 7 WHEN 'public-health' THEN 8 ELSE 9 END"

/* The list. $1 kind ('' any); $2 LIKE pattern on name, code or parent's name ('' any). Practices
 * are sorted within their PCN, and those in no PCN come after the rest. */
static const char list_sql[] =
    "SELECT o.ods_code, o.name, o.kind, o.list_size, p.ods_code, p.name, "
    "(SELECT count(*) FROM memberships m JOIN people pe ON pe.id = m.person_id "
    "WHERE m.organisation_id = o.id AND pe.deactivated_at IS NULL) "
    "FROM organisations o LEFT JOIN organisations p ON p.id = o.parent_id "
    "WHERE ($1 = '' OR o.kind = $1) AND ($2 = '' OR lower(o.name) LIKE $2 ESCAPE '\\' "
    "OR lower(o.ods_code) LIKE $2 ESCAPE '\\' OR lower(p.name) LIKE $2 ESCAPE '\\') "
    "ORDER BY " KIND_ORDER_SQL ", CASE WHEN o.kind = 'practice' AND p.id IS NULL THEN 1 "
    "ELSE 0 END, CASE WHEN o.kind = 'practice' THEN lower(p.name) ELSE '' END, "
    "lower(o.name), o.ods_code LIMIT $3 OFFSET $4";

/* Copies of database text that a view points at, freed together. */
struct strings {
	char **items;
	size_t n, alloc;
};

static const char *keep(struct strings *s, const char *text)
{
	if (!text)
		return NULL;
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->items = xrealloc(s->items, s->alloc * sizeof *s->items);
	}
	return s->items[s->n++] = xstrdup(text);
}

static void strings_free(struct strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	*s = (struct strings){0};
}

static const char *kind_label(const char *kind)
{
	int k = organisations_kind_index(kind);
	return k < 0 ? kind : kind_labels[k];
}

/* The kind choices, with selected marked; returns whether it was one of them. */
static bool kind_choices(struct organisations_kind_choice out[ORGANISATIONS_N_KINDS],
                         const char *selected)
{
	bool found = false;
	for (int k = 0; k < ORGANISATIONS_N_KINDS; k++) {
		out[k] = (struct organisations_kind_choice){organisations_kinds[k], kind_labels[k],
		                                            false};
		out[k].selected = selected && !strcmp(selected, organisations_kinds[k]);
		found |= out[k].selected;
	}
	return found;
}

static void render(struct http_request *req, struct http_response *res, const char *title,
                   bool errors, void (*tpl)(struct buf *, const void *), const void *view)
{
	struct buf main, full_title;
	buf_init(&main, LIMIT_PAGE_BYTES);
	buf_init(&full_title, 2 * LIMIT_NAME_BYTES);
	tpl(&main, view);
	buf_printf(&full_title, "%s%s", errors ? "Error: " : "", title);
	page_render(req, res, full_title.data, main.data);
	buf_free(&full_title);
	buf_free(&main);
}

/* The templates, through one signature for render(). */
static void tpl_list(struct buf *out, const void *v)
{
	tpl_organisations(out, v);
}
static void tpl_new(struct buf *out, const void *v)
{
	tpl_organisations_new(out, v);
}
static void tpl_edit(struct buf *out, const void *v)
{
	tpl_organisations_edit(out, v);
}
static void tpl_import(struct buf *out, const void *v)
{
	tpl_organisations_import(out, v);
}

static const struct organisations_actor *actor_of(const struct http_request *req,
                                                  struct organisations_actor *out)
{
	const struct viewer *viewer = access_viewer(req);
	*out = (struct organisations_actor){viewer->person_id, viewer->email, req->address};
	return out;
}

/* ---- the list ---- */

void organisations_list(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const char *q = http_query(req, "q"), *kind = http_query(req, "kind");
	long long page = listing_page_parse(http_query(req, "page"));
	struct organisations_kind_choice kinds[ORGANISATIONS_N_KINDS];
	struct organisations_list_view v = {
	    .q = q ? q : "", .kinds = kinds, .n_kinds = ORGANISATIONS_N_KINDS};
	struct strings strings = {0};
	struct organisations_row *rows = NULL;
	struct organisations_group *groups = NULL;
	struct buf pattern, query;
	buf_init(&pattern, 4 * LIMIT_NAME_BYTES + 8);
	buf_init(&query, 2 * LIMIT_URL_BYTES);
	if (page < 0) {
		res->status = 400;
		res->reason = "The page number in the web address must be a whole number from 1 to "
		              "10000. Go back to the first page of the list of organisations.";
		goto done;
	}
	if (!kind_choices(kinds, kind) && kind && *kind) {
		v.kind_error = "Select a kind of organisation from the list";
		form_error_add(&v.errors, "kind", v.kind_error);
	}
	if (!listing_text_ok(q, LIMIT_NAME_BYTES)) {
		v.q = "";
		v.q_error = "Search text must be 200 characters or fewer, on one line";
		form_error_add(&v.errors, "q", v.q_error);
	}
	v.filtered = (q && *q) || (kind && *kind);
	if (v.errors.n) {
		res->status = 400;
		render(req, res, "Organisations", true, tpl_list, &v);
		goto done;
	}
	if (*v.q)
		listing_like_pattern(&pattern, v.q);
	struct db_conn *c = db_acquire(app->db);
	struct db_stmt *st = c ? db_prepare(c, list_sql) : NULL;
	if (!st) {
		if (c)
			log_error("request %s: cannot list organisations: %s", req->id,
			          db_errmsg(c));
		db_release(c);
		res->status = c ? 500 : 503;
		goto done;
	}
	db_bind_text(st, 1, kind ? kind : "");
	db_bind_text(st, 2, pattern.len ? pattern.data : "");
	db_bind_int(st, 3, ORGANISATIONS_PAGE_SIZE + 1);
	db_bind_int(st, 4, (page - 1) * ORGANISATIONS_PAGE_SIZE);
	rows = xcalloc(ORGANISATIONS_PAGE_SIZE, sizeof *rows);
	groups = xcalloc(ORGANISATIONS_N_KINDS, sizeof *groups);
	int rc, last_kind = -2;
	size_t n = 0;
	bool more = false;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == ORGANISATIONS_PAGE_SIZE) {
			more = true;
			break;
		}
		struct organisations_row *r = &rows[n++];
		char size[32];
		r->code = keep(&strings, db_col_text(st, 0));
		r->name = keep(&strings, db_col_text(st, 1));
		int k = organisations_kind_index(db_col_text(st, 2));
		if (!db_col_is_null(st, 3))
			r->list_size = keep(&strings, format_thousands(size, db_col_int(st, 3)));
		r->parent_code = keep(&strings, db_col_text(st, 4));
		r->parent_name = keep(&strings, db_col_text(st, 5));
		r->people = db_col_int(st, 6);
		/* Rows come sorted by kind: a new kind starts a new group. */
		if (k != last_kind && v.n_groups < ORGANISATIONS_N_KINDS) {
			groups[v.n_groups++] = (struct organisations_group){
			    k < 0 ? "Other organisations" : kind_headings[k], k == 0, r, 0};
			last_kind = k;
		}
		groups[v.n_groups - 1].n_rows++;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		log_error("request %s: cannot list organisations: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		goto done;
	}
	db_release(c);
	v.groups = groups;
	listing_query_add(&query, "q", v.q);
	listing_query_add(&query, "kind", kind);
	listing_pager_init(&v.pager, "/admin/organisations", query.data ? query.data : "", page,
	                   more);
	render(req, res, "Organisations", false, tpl_list, &v);
	listing_pager_free(&v.pager);
done:
	free(rows);
	free(groups);
	strings_free(&strings);
	buf_free(&pattern);
	buf_free(&query);
}

/* ---- the form, shared by adding and changing ---- */

/* Fills a form view from what was posted (or, with no post, leaves the values empty). */
static void form_from_post(struct organisations_form *f, const struct form *post,
                           struct organisations_kind_choice kinds[ORGANISATIONS_N_KINDS])
{
	const char *kind = form_get(post, "kind");
	f->name = form_get(post, "name");
	f->parent = form_get(post, "parent");
	f->list_size = form_get(post, "list_size");
	f->kinds = kinds;
	f->n_kinds = ORGANISATIONS_N_KINDS;
	f->kind_chosen = kind_choices(kinds, kind);
}

/* Puts the checker's messages by their fields, in the order of the form. */
static void form_errors_from(struct organisations_form *f, const struct organisations_errors *e)
{
	static const char *const ids[ORGANISATIONS_N_FIELDS] = {"ods_code", "name", "kind",
	                                                        "parent", "list_size"};
	const char **slots[ORGANISATIONS_N_FIELDS] = {
	    &f->code_error, &f->name_error, &f->kind_error, &f->parent_error, &f->list_size_error};
	for (int i = 0; i < ORGANISATIONS_N_FIELDS; i++)
		if (e->message[i][0]) {
			*slots[i] = e->message[i];
			form_error_add(&f->errors, ids[i], e->message[i]);
		}
}

/* Whether every field of the form is within ORGANISATIONS_FIELD_MAX_BYTES; if not, answers
 * 413. A longer value could only be pasted by mistake, and showing it again would make the
 * page grow with it. */
static bool form_within_limits(const struct form *post, struct http_response *res)
{
	static const char *const names[] = {"ods_code", "name", "kind", "parent", "list_size"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *s = form_get(post, names[i]);
		if (s && strlen(s) > ORGANISATIONS_FIELD_MAX_BYTES) {
			res->status = 413;
			res->reason = "One of the fields is longer than 4,096 characters, far more "
			              "than any organisation needs. Go back and check what you "
			              "entered.";
			return false;
		}
	}
	return true;
}

/* ---- adding ---- */

void organisations_new_page(struct http_request *req, struct http_response *res)
{
	struct organisations_kind_choice kinds[ORGANISATIONS_N_KINDS];
	struct organisations_form v = {.csrf = access_csrf(req, res), .adding = true};
	form_from_post(&v, access_form(req), kinds);
	render(req, res, "Add an organisation", false, tpl_new, &v);
}

void organisations_add(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *post = access_form(req);
	if (!policy_may_manage_organisations(access_viewer(req))) {
		res->status = 403;
		return;
	}
	if (!form_within_limits(post, res))
		return;
	struct organisations_kind_choice kinds[ORGANISATIONS_N_KINDS];
	struct organisations_form v = {.csrf = access_csrf(req, res), .adding = true};
	form_from_post(&v, post, kinds);
	v.code = form_get(post, "ods_code");
	struct organisations_input in = {v.code, v.name, form_get(post, "kind"), v.parent,
	                                 v.list_size};
	struct organisations_errors errors;
	struct organisations_actor actor;
	bool changed;
	int64_t id;
	int rc =
	    organisations_save(app->db, &in, true, actor_of(req, &actor), &errors, &changed, &id);
	if (rc == ORGANISATIONS_INVALID) {
		form_errors_from(&v, &errors);
		res->status = 400;
		render(req, res, "Add an organisation", true, tpl_new, &v);
		return;
	}
	if (rc != ORGANISATIONS_SAVED) {
		res->status = 500;
		return;
	}
	/* Codes are stored in capitals: link to the stored one. */
	struct buf to;
	buf_init(&to, 128);
	buf_puts(&to, "/admin/organisations/");
	for (const char *p = v.code; *p; p++)
		if (*p != ' ' && *p != '\t')
			buf_putc(&to, *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p);
	buf_puts(&to, "?added=1");
	http_redirect(res, to.data);
	buf_free(&to);
}

/* ---- one organisation ---- */

/* Loads the organisation with code into v (its saved state), its people and the organisations
 * under it. Returns 1 when found, 0 when not, or < 0 on a database error. */
static int load_page(struct db_conn *c, const char *code, struct organisations_page_view *v,
                     struct strings *s, struct organisations_person **people,
                     struct organisations_child **children)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.id, o.ods_code, o.name, o.kind, o.list_size, p.ods_code, p.name, "
	       "o.created_at, o.updated_at FROM organisations o "
	       "LEFT JOIN organisations p ON p.id = o.parent_id WHERE o.ods_code = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, code);
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_reset(st);
		return rc == DB_DONE ? 0 : DB_ERR;
	}
	char size[32];
	int64_t id = db_col_int(st, 0);
	v->code = keep(s, db_col_text(st, 1));
	v->name = keep(s, db_col_text(st, 2));
	v->kind = keep(s, db_col_text(st, 3));
	if (!db_col_is_null(st, 4))
		v->list_size = keep(s, format_thousands(size, db_col_int(st, 4)));
	v->parent_code = keep(s, db_col_text(st, 5));
	v->parent_name = keep(s, db_col_text(st, 6));
	time_format_date(db_col_int(st, 7), v->created_on);
	time_format_date(db_col_int(st, 8), v->updated_on);
	db_reset(st);

	st =
	    db_prepare(c, "SELECT pe.id, pe.name, pe.email, pe.role, m.lead, "
	                  "pe.deactivated_at IS NOT NULL FROM memberships m "
	                  "JOIN people pe ON pe.id = m.person_id WHERE m.organisation_id = $1 "
	                  "ORDER BY pe.deactivated_at IS NOT NULL, lower(pe.name), pe.id LIMIT $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, ORGANISATIONS_MAX_PEOPLE + 1);
	*people = xcalloc(ORGANISATIONS_MAX_PEOPLE, sizeof **people);
	while ((rc = db_step(st)) == DB_ROW) {
		if (v->n_people == ORGANISATIONS_MAX_PEOPLE) {
			v->more_people = true;
			break;
		}
		struct organisations_person *p = &(*people)[v->n_people++];
		p->id = db_col_int(st, 0);
		p->name = keep(s, db_col_text(st, 1));
		p->email = keep(s, db_col_text(st, 2));
		const char *role = db_col_text(st, 3);
		p->lead = db_col_int(st, 4) != 0;
		p->deactivated = db_col_int(st, 5) != 0;
		/* Leading is a flag on the membership, on top of any role. */
		p->role = !strcmp(role, "executive")
		              ? (p->lead ? "Executive team, and leads it" : "Executive team")
		          : !strcmp(role, "administrator")
		              ? (p->lead ? "Administrator, and leads it" : "Administrator")
		          : !strcmp(role, "partner") ? "Partner"
		          : p->lead                  ? "Practice lead"
		                                     : "Member";
	}
	db_reset(st);
	v->people = *people;
	if (rc != DB_ROW && rc != DB_DONE)
		return DB_ERR;

	st = db_prepare(c, "SELECT o.ods_code, o.name, o.kind FROM organisations o "
	                   "WHERE o.parent_id = $1 ORDER BY " KIND_ORDER_SQL ", lower(o.name), "
	                   "o.ods_code LIMIT $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, ORGANISATIONS_MAX_CHILDREN + 1);
	*children = xcalloc(ORGANISATIONS_MAX_CHILDREN, sizeof **children);
	while ((rc = db_step(st)) == DB_ROW) {
		if (v->n_children == ORGANISATIONS_MAX_CHILDREN) {
			v->more_children = true;
			break;
		}
		struct organisations_child *ch = &(*children)[v->n_children++];
		ch->code = keep(s, db_col_text(st, 0));
		ch->name = keep(s, db_col_text(st, 1));
		ch->kind = kind_label(db_col_text(st, 2));
	}
	db_reset(st);
	v->children = *children;
	return rc == DB_ROW || rc == DB_DONE ? 1 : DB_ERR;
}

/* The code in the address, in capitals as stored; NULL when it cannot be a code (404). */
static char *code_from_path(const struct http_request *req)
{
	const char *p = req->params[0];
	if (!p || !organisations_code_valid(p))
		return NULL;
	char *code = xstrdup(p);
	for (char *s = code; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
	return code;
}

/*
 * Shows an organisation's page. post: the form as sent, with errors (status 400),
 * or NULL to fill the form from what is saved.
 */
static void show_page(struct http_request *req, struct http_response *res, const char *code,
                      const struct form *post, const struct organisations_errors *errors)
{
	struct app *app = req->app;
	struct organisations_kind_choice kinds[ORGANISATIONS_N_KINDS];
	struct organisations_page_view v = {.form = {.csrf = access_csrf(req, res)}};
	struct organisations_person *people = NULL;
	struct organisations_child *children = NULL;
	struct strings s = {0};
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int found = load_page(c, code, &v, &s, &people, &children);
	if (found < 0)
		log_error("request %s: cannot load organisation %s: %s", req->id, code,
		          db_errmsg(c));
	db_release(c);
	if (found <= 0) {
		res->status = found < 0 ? 500 : 404;
		goto done;
	}
	struct organisations_form *f = &v.form;
	if (post) {
		form_from_post(f, post, kinds);
		form_errors_from(f, errors);
	} else {
		/* The list size is shown with its thousands separator elsewhere, but typed without
		 * one (the rule the import applies). */
		char size[32] = "";
		if (v.list_size) {
			size_t o = 0;
			for (const char *p = v.list_size; *p && o < sizeof size - 1; p++)
				if (*p != ',')
					size[o++] = *p;
			size[o] = '\0';
		}
		f->name = v.name;
		f->parent = v.parent_code ? v.parent_code : "";
		f->list_size = keep(&s, size);
		f->kinds = kinds;
		f->n_kinds = ORGANISATIONS_N_KINDS;
		f->kind_chosen = kind_choices(kinds, v.kind);
		if (http_query(req, "added"))
			v.notice = "The organisation has been added.";
		else if (http_query(req, "saved"))
			v.notice = "Your changes have been saved.";
		else if (http_query(req, "unchanged"))
			v.notice = "Nothing needed changing.";
	}
	f->code = v.code;
	v.kind = kind_label(v.kind);
	if (post)
		res->status = 400;
	render(req, res, v.name, post != NULL, tpl_edit, &v);
done:
	free(people);
	free(children);
	strings_free(&s);
}

void organisations_page(struct http_request *req, struct http_response *res)
{
	char *code = code_from_path(req);
	if (!code) {
		res->status = 404;
		return;
	}
	show_page(req, res, code, NULL, NULL);
	free(code);
}

void organisations_edit(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *post = access_form(req);
	if (!policy_may_manage_organisations(access_viewer(req))) {
		res->status = 403;
		return;
	}
	char *code = code_from_path(req);
	if (!code) {
		res->status = 404;
		return;
	}
	if (!form_within_limits(post, res))
		goto done;
	struct organisations_input in = {code, form_get(post, "name"), form_get(post, "kind"),
	                                 form_get(post, "parent"), form_get(post, "list_size")};
	struct organisations_errors errors;
	struct organisations_actor actor;
	bool changed;
	int64_t id;
	int rc =
	    organisations_save(app->db, &in, false, actor_of(req, &actor), &errors, &changed, &id);
	if (rc == ORGANISATIONS_INVALID) {
		show_page(req, res, code, post, &errors);
	} else if (rc == ORGANISATIONS_NOT_FOUND) {
		res->status = 404;
	} else if (rc != ORGANISATIONS_SAVED) {
		res->status = 500;
	} else {
		struct buf to;
		buf_init(&to, 128);
		buf_printf(&to, "/admin/organisations/%s?%s", code,
		           changed ? "saved=1" : "unchanged=1");
		http_redirect(res, to.data);
		buf_free(&to);
	}
done:
	free(code);
}

/* ---- importing a pasted file ---- */

void organisations_import_page(struct http_request *req, struct http_response *res)
{
	struct organisations_import_view v = {.csrf = access_csrf(req, res), .csv = ""};
	render(req, res, "Import organisations", false, tpl_import, &v);
}

/* Whether s, escaped for HTML, fits comfortably in a page (every quote or bracket becomes up to
 * six bytes), so that it can be shown again in the text box. */
static bool fits_in_page(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += strchr("&<>\"'", *s) ? 6 : 1;
	return n <= LIMIT_PAGE_BYTES / 2;
}

void organisations_import_submit(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_organisations(access_viewer(req))) {
		res->status = 403;
		return;
	}
	const char *csv = form_get(access_form(req), "csv");
	struct organisations_import_view v = {.csrf = access_csrf(req, res), .csv = csv ? csv : ""};
	struct import_report *report = xmalloc(sizeof *report);
	struct organisations_changes changes = {0};
	struct organisations_actor actor;
	char summary[160];
	if (!*v.csv) {
		v.csv_error = "Paste the contents of a CSV file of organisations";
		form_error_add(&v.errors, "csv", v.csv_error);
		res->status = 400;
		render(req, res, "Import organisations", true, tpl_import, &v);
		goto done;
	}
	int rc = organisations_import(app->db, v.csv, strlen(v.csv), actor_of(req, &actor), report,
	                              &changes);
	if (rc == IMPORT_OK) {
		v.imported = true;
		v.csv = "";
		v.added = report->added;
		v.updated = report->updated;
		v.unchanged = report->unchanged;
		v.changes = changes.items;
		v.n_changes =
		    changes.n < ORGANISATIONS_MAX_CHANGES ? changes.n : ORGANISATIONS_MAX_CHANGES;
		v.more_changes = changes.n - v.n_changes;
		render(req, res, "Organisations imported", false, tpl_import, &v);
		goto done;
	}
	if (rc == IMPORT_DB_ERROR)
		log_error("request %s: organisations import failed: %s", req->id,
		          report->n_kept ? report->problems[0].message : "");
	/* Every problem, with its line, as the command line prints them; nothing was written. */
	snprintf(summary, sizeof summary,
	         rc == IMPORT_INVALID
	             ? "The file has %zu problem%s, listed below. Nothing was imported: correct "
	               "them and paste the file again"
	             : "The database refused the import (%zu problem%s). Nothing was imported: "
	               "try again later",
	         report->n_problems, report->n_problems == 1 ? "" : "s");
	v.csv_error = summary;
	form_error_add(&v.errors, "csv", v.csv_error);
	v.problems = report->problems;
	v.n_problems = report->n_kept;
	v.more_problems = report->n_problems - report->n_kept;
	if (!fits_in_page(v.csv)) {
		v.csv = "";
		v.csv_too_large = true;
	}
	res->status = rc == IMPORT_INVALID ? 400 : 500;
	render(req, res, "Import organisations", true, tpl_import, &v);
done:
	organisations_changes_free(&changes);
	free(report);
}
