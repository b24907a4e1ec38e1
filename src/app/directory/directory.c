/*
 * directory.c — the directory and one's own profile (see directory.h).
 */
#include "app/directory/directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "auth/audit.h"
#include "core/format.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"

/* $1: 1 for a partner's view (the executive and people visible to partners
 * only); $2: a LIKE pattern, or '' for everyone. */
static const char list_sql[] =
    "SELECT p.id, p.name, p.job_title, p.role, p.can_help_with, p.visible_to_partners "
    "FROM people p WHERE p.deactivated_at IS NULL "
    "AND ($1 = 0 OR p.role = 'executive' OR p.visible_to_partners = 1) "
    "AND ($2 = '' OR lower(p.name) LIKE $2 ESCAPE '\\' OR lower(p.job_title) LIKE $2 "
    "ESCAPE '\\' OR lower(p.can_help_with) LIKE $2 ESCAPE '\\' OR EXISTS (SELECT 1 FROM "
    "memberships m JOIN organisations o ON o.id = m.organisation_id WHERE m.person_id = p.id "
    "AND (lower(o.name) LIKE $2 ESCAPE '\\' OR lower(o.ods_code) LIKE $2 ESCAPE '\\'))) "
    "ORDER BY lower(p.name), p.id LIMIT $3 OFFSET $4";

const char *directory_role_label(const char *role)
{
	if (!role)
		return "Member";
	if (!strcmp(role, "executive"))
		return "Executive team";
	if (!strcmp(role, "administrator"))
		return "Administrator";
	if (!strcmp(role, "partner"))
		return "Partner";
	return "Member";
}

/* Loads the organisations a person belongs to, practices they lead marked. */
static int load_orgs(struct db_conn *c, struct directory_person *p)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT o.name, m.lead FROM memberships m JOIN organisations o ON "
	                  "o.id = m.organisation_id WHERE m.person_id = $1 ORDER BY o.name");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, p->id);
	int rc;
	p->orgs = xcalloc(DIRECTORY_MAX_ORGS, sizeof *p->orgs);
	p->n_orgs = 0;
	while ((rc = db_step(st)) == DB_ROW && p->n_orgs < DIRECTORY_MAX_ORGS) {
		p->orgs[p->n_orgs].name = xstrdup(db_col_text(st, 0));
		p->orgs[p->n_orgs].lead = db_col_int(st, 1) != 0;
		p->n_orgs++;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}

static void free_person(struct directory_person *p)
{
	for (size_t i = 0; i < p->n_orgs; i++)
		free((char *)p->orgs[i].name);
	free(p->orgs);
	free((char *)p->name);
	free((char *)p->job_title);
	free((char *)p->can_help_with);
	*p = (struct directory_person){0};
}

/* The start of "can help with" on one line, cut at a character boundary, with "…". */
static char *summary(const char *s)
{
	size_t n = strlen(s);
	bool cut = n > DIRECTORY_SUMMARY_BYTES;
	if (cut) {
		n = DIRECTORY_SUMMARY_BYTES;
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	char *out = xmalloc(n + 4);
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i];
	if (cut)
		memcpy(out + n, "\xE2\x80\xA6", 3); /* … */
	out[n + (cut ? 3 : 0)] = '\0';
	return out;
}

static void render(struct http_request *req, struct http_response *res, const char *title,
                   void (*tpl)(struct buf *, const void *), const void *v)
{
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl(&main, v);
	page_render(req, res, title, main.data);
	buf_free(&main);
}

static void tpl_people_any(struct buf *out, const void *v)
{
	tpl_people(out, v);
}

static void tpl_people_person_any(struct buf *out, const void *v)
{
	tpl_people_person(out, v);
}

static void tpl_people_profile_any(struct buf *out, const void *v)
{
	tpl_people_profile(out, v);
}

void directory_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct directory_person people[DIRECTORY_PAGE_SIZE + 1];
	struct directory_view v = {.partner_view = policy_directory_partner_view(viewer)};
	struct buf pattern, query;
	size_t n = 0;
	const char *q = http_query(req, "q");
	long long page = listing_page_parse(http_query(req, "page"));
	if (page < 0) {
		res->status = 400;
		res->reason = "The page number in the web address must be a whole number from 1 to "
		              "10000. Go back to the first page of the directory.";
		return;
	}
	v.q = listing_display(q);
	buf_init(&pattern, 3 * LIMIT_NAME_BYTES + 8);
	buf_init(&query, 4 * LIMIT_NAME_BYTES + 16);
	buf_puts(&pattern, "");
	buf_puts(&query, "");
	if (!listing_text_ok(q, LIMIT_NAME_BYTES)) {
		v.q_error = "Search text must be 200 characters or fewer, on one line";
		form_error_add(&v.errors, "q", v.q_error);
	} else if (q && *q) {
		listing_like_pattern(&pattern, q);
		listing_query_add(&query, "q", q);
	}
	struct db_conn *c = NULL;
	if (!v.errors.n) {
		c = db_acquire(app->db);
		if (!c) {
			res->status = 503;
			goto done;
		}
		struct db_stmt *st = db_prepare(c, list_sql);
		if (!st)
			goto fail;
		db_bind_int(st, 1, v.partner_view);
		db_bind_text(st, 2, pattern.data);
		db_bind_int(st, 3, DIRECTORY_PAGE_SIZE + 1);
		db_bind_int(st, 4, (page - 1) * DIRECTORY_PAGE_SIZE);
		int rc;
		while ((rc = db_step(st)) == DB_ROW && n < DIRECTORY_PAGE_SIZE + 1) {
			int role = policy_role_from_name(db_col_text(st, 3));
			/* The SQL already filtered; the policy has the last word on every row. */
			if (!policy_may_see_person(viewer, role < 0 ? ROLE_MEMBER : (enum role)role,
			                           db_col_int(st, 5) != 0))
				continue;
			people[n] = (struct directory_person){
			    .id = db_col_int(st, 0),
			    .name = xstrdup(db_col_text(st, 1)),
			    .job_title = xstrdup(db_col_text(st, 2)),
			    .role_label = directory_role_label(db_col_text(st, 3)),
			    .can_help_with = summary(db_col_text(st, 4)),
			};
			n++;
		}
		db_reset(st);
		if (rc != DB_DONE && rc != DB_ROW)
			goto fail;
		for (size_t i = 0; i < n && i < DIRECTORY_PAGE_SIZE; i++)
			if (load_orgs(c, &people[i]))
				goto fail;
		db_release(c);
	}
	bool has_next = n > DIRECTORY_PAGE_SIZE;
	v.people = people;
	v.n_people = has_next ? DIRECTORY_PAGE_SIZE : n;
	listing_pager_init(&v.pager, "/people", query.data, page, has_next);
	if (v.errors.n)
		res->status = 400;
	render(req, res, v.errors.n ? "Error: People" : "People", tpl_people_any, &v);
	listing_pager_free(&v.pager);
	goto done;
fail:
	log_error("request %s: cannot list people: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
done:
	for (size_t i = 0; i < n; i++)
		free_person(&people[i]);
	buf_free(&pattern);
	buf_free(&query);
}

/* Splits text into its non-empty lines (at most DIRECTORY_MAX_LINES; the last takes the rest). */
static size_t split_lines(char *text, const char **lines)
{
	size_t n = 0;
	char *p = text;
	while (*p && n < DIRECTORY_MAX_LINES) {
		char *end = n + 1 == DIRECTORY_MAX_LINES ? p + strlen(p) : p + strcspn(p, "\n");
		char *next = *end ? end + 1 : end;
		*end = '\0';
		for (char *s = p; *s; s++)
			if (*s == '\r' || *s == '\n')
				*s = ' ';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			lines[n++] = p;
		p = next;
	}
	return n;
}

void directory_person_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t id = http_parse_id(req->params[0]);
	struct directory_person p = {0};
	const char *lines[DIRECTORY_MAX_LINES];
	char *help = NULL, title[LIMIT_NAME_BYTES + 16];
	if (!id) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct db_stmt *st =
	    db_prepare(c, "SELECT name, job_title, role, can_help_with, visible_to_partners FROM "
	                  "people WHERE id = $1 AND deactivated_at IS NULL");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	bool visible = false;
	int role = -1;
	if (rc == DB_ROW) {
		role = policy_role_from_name(db_col_text(st, 2));
		visible = db_col_int(st, 4) != 0;
		p = (struct directory_person){
		    .id = id,
		    .name = xstrdup(db_col_text(st, 0)),
		    .job_title = xstrdup(db_col_text(st, 1)),
		    .role_label = directory_role_label(db_col_text(st, 2)),
		};
		help = xstrdup(db_col_text(st, 3));
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		goto fail;
	/* Someone the viewer may not see is answered exactly as someone who does not exist.
	 * One's own profile is always there (a partner not visible to partners included). */
	if (rc == DB_DONE ||
	    (id != viewer->person_id &&
	     !policy_may_see_person(viewer, role < 0 ? ROLE_MEMBER : (enum role)role, visible))) {
		db_release(c);
		free_person(&p);
		free(help);
		res->status = 404;
		return;
	}
	if (load_orgs(c, &p))
		goto fail;
	db_release(c);
	struct directory_profile_view v = {
	    .person = &p,
	    .help_lines = lines,
	    .n_help_lines = split_lines(help, lines),
	    .own = id == viewer->person_id,
	    .manage = policy_may_manage_people(viewer),
	    .visible_to_partners = visible,
	};
	snprintf(title, sizeof title, "%s", p.name);
	render(req, res, title, tpl_people_person_any, &v);
	free_person(&p);
	free(help);
	return;
fail:
	log_error("request %s: cannot show a person: %s", req->id, db_errmsg(c));
	db_release(c);
	free_person(&p);
	free(help);
	res->status = 500;
}

static void render_edit(struct http_request *req, struct http_response *res,
                        struct directory_edit_view *v)
{
	v->csrf = access_csrf(req, res);
	v->id = access_viewer(req)->person_id;
	format_thousands(v->text_limit, LIMIT_TEXT_BYTES);
	render(req, res, v->errors.n ? "Error: Your profile" : "Your profile",
	       tpl_people_profile_any, v);
}

/* Reads the profile person id keeps about themselves: *job and *help are copies
 * the caller frees. Returns DB_ROW when it is read, else DB_DONE or < 0. */
static int profile_load(struct db_conn *c, int64_t id, char **job, char **help, bool *visible)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT job_title, can_help_with, visible_to_partners FROM people WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*job = xstrdup(db_col_text(st, 0));
		*help = xstrdup(db_col_text(st, 1));
		*visible = db_col_int(st, 2) != 0;
	}
	db_reset(st);
	return rc;
}

void directory_profile_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct directory_edit_view v = {.saved = http_query(req, "saved") != NULL};
	char *job = NULL, *help = NULL;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (profile_load(c, viewer->person_id, &job, &help, &v.visible_to_partners) != DB_ROW) {
		log_error("request %s: cannot read a profile: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	v.job_title = job;
	v.can_help_with = help;
	render_edit(req, res, &v);
	free(job);
	free(help);
}

/* Trims spaces (and tabs, line breaks) from both ends, in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Line breaks become \n; other control characters (which no keyboard types) become spaces. */
static void normalise_text(char *s)
{
	char *out = s;
	for (char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\r') {
			*out++ = '\n';
			if (p[1] == '\n')
				p++;
		} else if ((ch < 0x20 && ch != '\n') || ch == 0x7f) {
			*out++ = ' ';
		} else {
			*out++ = *p;
		}
	}
	*out = '\0';
}

void directory_profile_save(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	const char *raw_job = form_get(f, "job-title"), *raw_help = form_get(f, "can-help-with");
	const char *visible_raw = form_get(f, "visible-to-partners");
	char *job_copy = xstrdup(raw_job ? raw_job : ""),
	     *help_copy = xstrdup(raw_help ? raw_help : "");
	char *job = trim(job_copy), *help = trim(help_copy);
	char *old_job = NULL, *old_help = NULL;
	bool visible = visible_raw && !strcmp(visible_raw, "yes"), old_visible = false;
	struct directory_edit_view v = {
	    .job_title = job, .can_help_with = help, .visible_to_partners = visible};
	struct buf detail;
	buf_init(&detail, 2048);
	normalise_text(help);
	if (strlen(job) > LIMIT_NAME_BYTES) {
		v.job_title_error = "Job title must be 200 characters or fewer";
	} else {
		for (char *p = job; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				v.job_title_error = "Job title must be on one line";
	}
	if (v.job_title_error)
		form_error_add(&v.errors, "job-title", v.job_title_error);
	if (strlen(help) > LIMIT_TEXT_BYTES) {
		v.can_help_with_error = "What you can help with must be 4,000 characters or fewer";
		form_error_add(&v.errors, "can-help-with", v.can_help_with_error);
	}
	if (v.errors.n) {
		res->status = 400;
		render_edit(req, res, &v);
		goto done;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		goto done;
	}
	if (db_begin(c))
		goto fail;
	if (profile_load(c, viewer->person_id, &old_job, &old_help, &old_visible) != DB_ROW)
		goto fail;
	bool job_changed = strcmp(old_job, job) != 0, help_changed = strcmp(old_help, help) != 0;
	if (job_changed || help_changed || old_visible != visible) {
		struct db_stmt *st =
		    db_prepare(c, "UPDATE people SET job_title = $1, can_help_with = $2, "
		                  "visible_to_partners = $3, updated_at = $4 WHERE id = $5");
		if (!st)
			goto fail;
		db_bind_text(st, 1, job);
		db_bind_text(st, 2, help);
		db_bind_int(st, 3, visible);
		db_bind_int(st, 4, (int64_t)time(NULL));
		db_bind_int(st, 5, viewer->person_id);
		int rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			goto fail;
		/* Before and after, except the long text, which only says that it changed. */
		if (job_changed)
			buf_printf(&detail, "job title: \"%s\" -> \"%s\"; ", old_job, job);
		if (help_changed)
			buf_printf(&detail,
			           "what they can help with: changed (%zu -> %zu characters); ",
			           strlen(old_help), strlen(help));
		if (old_visible != visible)
			buf_printf(&detail, "visible to partners: %s -> %s; ",
			           old_visible ? "yes" : "no", visible ? "yes" : "no");
		if (detail.len >= 2)
			detail.data[detail.len -= 2] = '\0';
		char subject[32];
		snprintf(subject, sizeof subject, "person:%lld", (long long)viewer->person_id);
		struct audit_entry e = {viewer->person_id, viewer->email, "profile-updated",
		                        subject,           detail.data,   req->address};
		if (audit_record(c, &e))
			goto fail;
	}
	if (db_commit(c))
		goto fail;
	db_release(c);
	http_redirect(res, "/account/profile?saved=1");
	goto done;
fail:
	log_error("request %s: cannot save a profile: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
done:
	free(job_copy);
	free(help_copy);
	free(old_job);
	free(old_help);
	buf_free(&detail);
}
