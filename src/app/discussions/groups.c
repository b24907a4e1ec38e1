/*
 * groups.c — discussion groups (practice managers, a PCN, a network) and their
 * members, managed by administrators at /admin/groups. A space whose
 * visibility is "group" is seen by that group's members (see discussions.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/discussions/discussions.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "templates.h"

static void render(struct http_request *req, struct http_response *res, const char *title,
                   struct buf *main)
{
	page_render(req, res, title, main->data);
	buf_free(main);
}

static void show_groups(struct http_request *req, struct http_response *res, struct db_conn *c,
                        struct disc_groups_view *v)
{
	struct db_stmt *st = db_prepare(
	    c, "SELECT g.id, g.name, (SELECT count(*) FROM discussion_group_members m WHERE "
	       "m.group_id = g.id), (SELECT count(*) FROM spaces s WHERE s.group_id = g.id) FROM "
	       "discussion_groups g ORDER BY g.name LIMIT 100");
	int rc = DB_ERR;
	if (st) {
		while ((rc = db_step(st)) == DB_ROW && v->n < DISCUSSIONS_MAX_GROUPS) {
			struct disc_group_row *g = &v->rows[v->n++];
			g->id = db_col_int(st, 0);
			snprintf(g->name, sizeof g->name, "%s", db_col_text(st, 1));
			g->members = db_col_int(st, 2);
			g->spaces = db_col_int(st, 3);
		}
		db_reset(st);
	}
	if (rc < 0) {
		log_error("request %s: cannot list groups: %s", req->id, db_errmsg(c));
		db_release(c);
		res->status = 500;
		return;
	}
	db_release(c);
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_groups(&main, v);
	render(req, res, v->errors.n ? "Error: Discussion groups" : "Discussion groups", &main);
}

void discussions_groups_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_groups(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_groups_view *v = xcalloc(1, sizeof *v);
	v->name = "";
	const char *notice = http_query(req, "notice");
	if (notice && !strcmp(notice, "created"))
		v->notice = "The group has been created";
	show_groups(req, res, c, v);
	free(v);
}

void discussions_group_create(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_groups(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_groups_view *v = xcalloc(1, sizeof *v);
	const char *name = form_get(access_form(req), "name");
	v->name = name ? name : "";
	if (disc_blank(v->name))
		form_error_add(&v->errors, "name", "Enter a name for the group");
	else if (strlen(v->name) > LIMIT_NAME_BYTES || strpbrk(v->name, "\r\n"))
		form_error_add(&v->errors, "name",
		               "The name must be 200 characters or fewer, on one line");
	int rc = DB_OK;
	int64_t id = 0;
	if (!v->errors.n) {
		rc = db_begin(c);
		struct db_stmt *st =
		    rc ? NULL
		       : db_prepare(c, "INSERT INTO discussion_groups (name, created_at) "
		                       "VALUES ($1, $2) RETURNING id");
		rc = st ? DB_OK : DB_ERR;
		if (st) {
			db_bind_text(st, 1, v->name);
			db_bind_int(st, 2, (int64_t)time(NULL));
			rc = db_step(st);
			if (rc == DB_ROW)
				id = db_col_int(st, 0);
			db_reset(st);
		}
		if (rc == DB_ERR_CONSTRAINT) {
			db_rollback(c);
			form_error_add(&v->errors, "name",
			               "There is already a group with that name");
		} else {
			char subject[48];
			snprintf(subject, sizeof subject, "group:%lld", (long long)id);
			if (rc != DB_ROW ||
			    disc_audit(c, req, "discussion-group-created", subject, v->name) ||
			    db_commit(c)) {
				log_error("request %s: cannot create a group: %s", req->id,
				          db_errmsg(c));
				res->status = 500;
				db_release(c);
				free(v);
				return;
			}
		}
	}
	if (v->errors.n) {
		res->status = 400;
		show_groups(req, res, c, v);
	} else {
		db_release(c);
		char location[64];
		snprintf(location, sizeof location, "/admin/groups/%lld?notice=created",
		         (long long)id);
		http_redirect(res, location);
	}
	free(v);
}

/* Loads group req->params[0] and its members into v: 1, 0 none, < 0 error. */
static int load_group(struct db_conn *c, struct http_request *req, struct disc_group_view *v)
{
	v->id = http_parse_id(req->params[0]);
	if (!v->id)
		return 0;
	struct db_stmt *st = db_prepare(c, "SELECT name FROM discussion_groups WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, v->id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(v->name, sizeof v->name, "%s", db_col_text(st, 0));
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? 0 : rc;
	st = db_prepare(c, "SELECT p.id, p.name, p.email FROM discussion_group_members m JOIN "
	                   "people p ON p.id = m.person_id WHERE m.group_id = $1 ORDER BY p.name "
	                   "LIMIT 500");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, v->id);
	if (!v->rows)
		v->rows = xcalloc(DISCUSSIONS_MAX_MEMBERS, sizeof *v->rows);
	v->n = 0;
	while ((rc = db_step(st)) == DB_ROW && v->n < DISCUSSIONS_MAX_MEMBERS) {
		struct disc_member_row *m = &v->rows[v->n++];
		m->id = db_col_int(st, 0);
		snprintf(m->name, sizeof m->name, "%s", db_col_text(st, 1));
		snprintf(m->email, sizeof m->email, "%s", db_col_text(st, 2));
	}
	db_reset(st);
	return rc < 0 ? rc : 1;
}

static void group_page(struct http_request *req, struct http_response *res,
                       struct disc_group_view *v)
{
	struct app *app = req->app;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int rc = load_group(c, req, v);
	db_release(c);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		return;
	}
	v->csrf = access_csrf(req, res);
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_discussions_group(&main, v);
	char title[LIMIT_NAME_BYTES + 16];
	snprintf(title, sizeof title, "%s%s", v->errors.n ? "Error: " : "", v->name);
	render(req, res, title, &main);
}

void discussions_group_page(struct http_request *req, struct http_response *res)
{
	if (!policy_may_manage_groups(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct disc_group_view *v = xcalloc(1, sizeof *v);
	v->email = "";
	const char *notice = http_query(req, "notice");
	if (notice && !strcmp(notice, "created"))
		v->notice = "The group has been created. Add its members below.";
	else if (notice && !strcmp(notice, "added"))
		v->notice = "The person has been added to the group";
	else if (notice && !strcmp(notice, "removed"))
		v->notice = "The person has been removed from the group";
	group_page(req, res, v);
	free(v->rows);
	free(v);
}

/* Adds (add) or removes person to or from group; audited. 0 or < 0. */
static int change_member(struct db_conn *c, struct http_request *req, int64_t group, int64_t person,
                         bool add)
{
	if (db_begin(c))
		return DB_ERR;
	struct db_stmt *st = db_prepare(
	    c,
	    add ? "INSERT INTO discussion_group_members (group_id, person_id, created_at) VALUES "
	          "($1, $2, $3) ON CONFLICT (group_id, person_id) DO NOTHING"
	        : "DELETE FROM discussion_group_members WHERE group_id = $1 AND person_id = $2");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, group);
	db_bind_int(st, 2, person);
	if (add)
		db_bind_int(st, 3, (int64_t)time(NULL));
	int rc = db_step(st);
	db_reset(st);
	char subject[48], detail[48];
	snprintf(subject, sizeof subject, "group:%lld", (long long)group);
	snprintf(detail, sizeof detail, "person:%lld", (long long)person);
	if (rc != DB_DONE ||
	    disc_audit(c, req,
	               add ? "discussion-group-member-added" : "discussion-group-member-removed",
	               subject, detail) ||
	    db_commit(c))
		return DB_ERR;
	return 0;
}

void discussions_group_add(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_groups(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_group_view *v = xcalloc(1, sizeof *v);
	int rc = load_group(c, req, v);
	if (rc <= 0) {
		res->status = rc < 0 ? 500 : 404;
		goto done;
	}
	const char *email = form_get(access_form(req), "email");
	v->email = email ? email : "";
	char lower[LIMIT_EMAIL_BYTES + 1] = "";
	int64_t person = 0;
	if (!*v->email) {
		form_error_add(&v->errors, "email", "Enter the email address of the person to add");
	} else if (strlen(v->email) > LIMIT_EMAIL_BYTES) {
		form_error_add(&v->errors, "email",
		               "An email address must be 254 characters or fewer");
	} else {
		for (size_t i = 0; v->email[i] && i < LIMIT_EMAIL_BYTES; i++)
			lower[i] = (char)tolower((unsigned char)v->email[i]);
		struct db_stmt *st = db_prepare(c, "SELECT id FROM people WHERE email = $1 AND "
		                                   "deactivated_at IS NULL");
		if (!st)
			goto fail;
		db_bind_text(st, 1, lower);
		rc = db_step(st);
		if (rc == DB_ROW)
			person = db_col_int(st, 0);
		db_reset(st);
		if (rc < 0)
			goto fail;
		if (!person)
			form_error_add(&v->errors, "email",
			               "Nobody with an active account has that email address");
	}
	if (v->errors.n) {
		db_release(c);
		c = NULL;
		res->status = 400;
		group_page(req, res, v);
		goto done;
	}
	if (change_member(c, req, v->id, person, true))
		goto fail;
	char location[64];
	snprintf(location, sizeof location, "/admin/groups/%lld?notice=added", (long long)v->id);
	http_redirect(res, location);
	goto done;
fail:
	log_error("request %s: cannot add to a group: %s", req->id, db_errmsg(c));
	res->status = 500;
done:
	db_release(c);
	free(v->rows);
	free(v);
}

void discussions_group_remove(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	if (!policy_may_manage_groups(access_viewer(req))) {
		res->status = 403;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct disc_group_view *v = xcalloc(1, sizeof *v);
	int rc = load_group(c, req, v);
	int64_t person = http_parse_id(req->params[1]);
	if (rc <= 0 || !person) {
		res->status = rc < 0 ? 500 : 404;
	} else if (change_member(c, req, v->id, person, false)) {
		log_error("request %s: cannot remove from a group: %s", req->id, db_errmsg(c));
		res->status = 500;
	} else {
		char location[64];
		snprintf(location, sizeof location, "/admin/groups/%lld?notice=removed",
		         (long long)v->id);
		http_redirect(res, location);
	}
	db_release(c);
	free(v->rows);
	free(v);
}
