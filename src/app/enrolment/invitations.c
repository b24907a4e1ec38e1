/*
 * invitations.c — sending, listing, cancelling and accepting invitations
 * (see invitations.h).
 *
 * Who may invite whom to what is policy_may_invite's decision alone; this file
 * only works out the facts it needs (does the viewer lead that organisation?).
 * The roles and organisations offered on the form are the ones the policy
 * allows, and a request for anything else is answered 403, not a form error,
 * because only a forged form can send it.
 */
#include "app/enrolment/invitations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/enrolment/enrolment.h"
#include "app/people/people.h"
#include "auth/crypto.h"
#include "auth/password.h"
#include "auth/policy.h"
#include "auth/session.h"
#include "core/log.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "mail/mail.h"
#include "templates.h"

/* The roles an invitation can give, as stored, with how they read. */
static const struct {
	const char *name, *label, *phrase, *hint;
} roles[] = {
    {"member", "Member", "a member",
     "Staff of a member practice. They can read and write in member spaces."},
    {"practice-lead", "Practice lead", "a practice lead",
     "Runs their practice in Shoal: approves its staff, reports its pressures and casts its "
     "vote."},
    {"executive", "Executive", "a member of the executive",
     "The collective's executive team. They must set up two-step sign-in."},
    {"administrator", "Administrator", "an administrator",
     "Runs this installation: people, organisations and settings. They must set up two-step "
     "sign-in."},
    {"partner", "Partner", "a partner",
     "Staff of a system partner such as the ICB, a trust or the council. They only see what "
     "is shared with partners."},
};
#define N_ROLES (sizeof roles / sizeof roles[0])

/* Organisation kinds of system partners (as organisations.kind). */
static bool partner_kind(const char *kind)
{
	static const char *const kinds[] = {"icb", "trust", "council", "public-health", "other"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static int role_index(const char *name)
{
	for (size_t i = 0; name && i < N_ROLES; i++)
		if (!strcmp(name, roles[i].name))
			return (int)i;
	return -1;
}

const char *invitations_role_phrase(const char *role)
{
	int i = role_index(role);
	return i < 0 ? "a member" : roles[i].phrase;
}

static const char *role_label(const char *role)
{
	int i = role_index(role);
	return i < 0 ? role : roles[i].label;
}

static char *dup_col(struct db_stmt *st, int col)
{
	const char *s = db_col_text(st, col);
	return xstrdup(s ? s : "");
}

/* ------------------------------------------------------------ creating */

/* 1 when email already has an account (active or not), 0 when not, < 0 error. */
static int account_exists(struct db_conn *c, const char *email)
{
	struct db_stmt *st = db_prepare(c, "SELECT 1 FROM people WHERE email = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

static int pending_exists(struct db_conn *c, const char *email, int64_t now)
{
	struct db_stmt *st =
	    db_prepare(c, "SELECT 1 FROM invitations WHERE email = $1 AND accepted_at IS NULL AND "
	                  "revoked_at IS NULL AND expires_at > $2");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	db_bind_int(st, 2, now);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

/* The name of an organisation into out ("" when there is none). */
static int organisation_name(struct db_conn *c, int64_t id, char out[LIMIT_NAME_BYTES + 1])
{
	out[0] = '\0';
	if (!id)
		return 0;
	struct db_stmt *st = db_prepare(c, "SELECT name FROM organisations WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(out, LIMIT_NAME_BYTES + 1, "%s", db_col_text(st, 0));
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int invitations_create(struct db_conn *c, struct http_request *req,
                       const struct invitation_new *inv, int64_t *id)
{
	const struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t now = (int64_t)time(NULL), expires = now + ENROLMENT_INVITATION_SECONDS;
	char token[AUTH_TOKEN_CHARS + 1], hash[AUTH_HASH_CHARS + 1], link[ENROLMENT_LINK_BYTES];
	char org[LIMIT_NAME_BYTES + 1], until[48], subject[LIMIT_NAME_BYTES + 64];
	struct buf text, detail;
	buf_init(&text, MAIL_BODY_MAX_BYTES);
	buf_init(&detail, 1024);
	int rc = account_exists(c, inv->email);
	if (rc > 0) {
		rc = INVITATION_ACCOUNT_EXISTS;
		goto done;
	}
	if (rc == 0 && (rc = pending_exists(c, inv->email, now)) > 0) {
		rc = INVITATION_PENDING;
		goto done;
	}
	if (rc < 0 || organisation_name(c, inv->organisation_id, org))
		goto fail;
	auth_random_token(token);
	auth_hash_token(token, hash);
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO invitations (email, name, role, organisation_id, invited_by, "
	       "token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	       "$8) RETURNING id");
	if (!st)
		goto fail;
	db_bind_text(st, 1, inv->email);
	db_bind_text(st, 2, inv->name);
	db_bind_text(st, 3, inv->role);
	if (inv->organisation_id)
		db_bind_int(st, 4, inv->organisation_id);
	else
		db_bind_null(st, 4);
	db_bind_int(st, 5, viewer->person_id);
	db_bind_text(st, 6, hash);
	db_bind_int(st, 7, now);
	db_bind_int(st, 8, expires);
	rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW || enrolment_link(req, "/invitations/accept/", token, link))
		goto fail;
	time_format_time_on_date(expires, until);
	snprintf(subject, sizeof subject, "Your invitation to %s", app->collective_name);
	buf_printf(&text,
	           "Dear %s,\n\n%s has invited you to join %s on Shoal, as %s%s%s.\n\n"
	           "Shoal is the collective's private network for discussion, pressure reporting "
	           "and shared decisions. Access is by invitation only.\n\n"
	           "To accept, open this link and choose a password:\n\n%s\n\n"
	           "The link works once, until %s. If it has expired, ask %s for a new "
	           "invitation.\n\n"
	           "If you were not expecting this email, you can ignore it: no account is made "
	           "unless you accept.\n",
	           inv->name, viewer->name, app->collective_name,
	           invitations_role_phrase(inv->role), org[0] ? " at " : "", org, link, until,
	           viewer->name);
	if (text.overflow || mail_queue(c, inv->email, subject, text.data, NULL) != MAIL_OK)
		goto fail;
	buf_printf(&detail, "to %s as %s%s%s", inv->email, inv->role, org[0] ? " at " : "", org);
	if (enrolment_audit(c, req, viewer->person_id, viewer->email, "invitation-sent",
	                    "invitation", *id, detail.data))
		goto fail;
	rc = INVITATION_OK;
	goto done;
fail:
	log_error("request %s: cannot create an invitation: %s", req->id, db_errmsg(c));
	rc = INVITATION_ERR;
done:
	buf_free(&text);
	buf_free(&detail);
	return rc;
}

/* ------------------------------------------------------------ the list */

static void list_free(struct invite_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].email);
		free((char *)rows[i].name);
		free((char *)rows[i].role);
		free((char *)rows[i].organisation);
		free((char *)rows[i].invited_by);
	}
	free(rows);
}

void invitations_list(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct invite_list_view v = {.csrf = access_csrf(req, res),
	                             .all = policy_may_see_all_invitations(viewer)};
	if (http_query(req, "sent"))
		v.notice = "Invitation sent. The link in it works for 14 days.";
	else if (http_query(req, "cancelled"))
		v.notice = strcmp(http_query(req, "cancelled"), "1")
		               ? "That invitation had already been accepted or cancelled, so "
		                 "nothing changed."
		               : "Invitation cancelled. The link in it no longer works.";
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	struct invite_row *rows = xcalloc(ENROLMENT_LIST_ROWS, sizeof *rows);
	size_t n = 0;
	int64_t now = (int64_t)time(NULL);
	/* One more row than shown, to know whether there are more. */
	struct db_stmt *st = db_prepare(
	    c, "SELECT i.id, i.email, i.name, i.role, o.name, p.name, i.created_at, i.expires_at, "
	       "i.accepted_at IS NOT NULL, i.revoked_at IS NOT NULL, "
	       "(SELECT count(*) FROM memberships m WHERE m.person_id = $2 AND "
	       "m.organisation_id = i.organisation_id AND m.lead = 1) "
	       "FROM invitations i JOIN people p ON p.id = i.invited_by "
	       "LEFT JOIN organisations o ON o.id = i.organisation_id "
	       "WHERE $1 = 1 OR i.organisation_id IN (SELECT organisation_id FROM memberships "
	       "WHERE person_id = $2 AND lead = 1) "
	       "ORDER BY i.created_at DESC, i.id DESC LIMIT $3");
	int rc = st ? DB_DONE : DB_ERR;
	if (st) {
		db_bind_int(st, 1, v.all);
		db_bind_int(st, 2, viewer->person_id);
		db_bind_int(st, 3, ENROLMENT_LIST_ROWS + 1);
		while ((rc = db_step(st)) == DB_ROW) {
			if (n == ENROLMENT_LIST_ROWS) {
				v.truncated = 1;
				continue;
			}
			struct invite_row *r = &rows[n++];
			r->id = db_col_int(st, 0);
			r->email = dup_col(st, 1);
			r->name = dup_col(st, 2);
			r->role = dup_col(st, 3);
			r->organisation = dup_col(st, 4);
			r->invited_by = dup_col(st, 5);
			time_format_date(db_col_int(st, 6), r->sent);
			int64_t expires = db_col_int(st, 7);
			time_format_date(expires, r->expires);
			bool accepted = db_col_int(st, 8), revoked = db_col_int(st, 9);
			bool lead = db_col_int(st, 10) > 0;
			if (accepted)
				r->status = "Accepted", r->tag_class = "nhsuk-tag--green";
			else if (revoked)
				r->status = "Cancelled", r->tag_class = "nhsuk-tag--grey";
			else if (expires <= now)
				r->status = "Expired", r->tag_class = "nhsuk-tag--orange";
			else
				r->status = "Pending", r->tag_class = "nhsuk-tag--blue";
			r->may_cancel = !accepted && !revoked && expires > now &&
			                policy_may_revoke_invitation(viewer, r->role, lead);
		}
		db_reset(st);
	}
	if (rc != DB_DONE)
		log_error("request %s: cannot list invitations: %s", req->id, db_errmsg(c));
	db_release(c);
	if (rc != DB_DONE) {
		list_free(rows, n);
		res->status = 500;
		return;
	}
	/* The template shows labels; the rows keep the stored role for the policy above. */
	for (size_t i = 0; i < n; i++) {
		char *label = xstrdup(role_label(rows[i].role));
		free((char *)rows[i].role);
		rows[i].role = label;
	}
	v.rows = rows;
	v.n_rows = n;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_invite_list(&main, &v);
	page_render(req, res, "Invitations", main.data);
	buf_free(&main);
	list_free(rows, n);
}

/* ------------------------------------------------------------ the form */

struct org_choices {
	struct invite_option *items;
	size_t n;
};

static void org_choices_free(struct org_choices *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free((char *)o->items[i].value);
		free((char *)o->items[i].label);
	}
	free(o->items);
	o->items = NULL;
	o->n = 0;
}

/* The organisations the viewer may invite people to: every one for those the
 * policy lets invite beyond their own practices, else the ones they lead. */
static int org_choices_load(struct db_conn *c, const struct viewer *viewer, int64_t selected,
                            struct org_choices *o)
{
	bool all = policy_may_invite(viewer, "member", false);
	o->items = xcalloc(ENROLMENT_MAX_ORGANISATIONS, sizeof *o->items);
	o->n = 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT o.id, o.name, o.ods_code FROM organisations o WHERE $1 = 1 OR o.id IN "
	       "(SELECT organisation_id FROM memberships WHERE person_id = $2 AND lead = 1) "
	       "ORDER BY o.name, o.id LIMIT $3");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, all);
	db_bind_int(st, 2, viewer->person_id);
	db_bind_int(st, 3, ENROLMENT_MAX_ORGANISATIONS);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		struct invite_option *item = &o->items[o->n++];
		char label[LIMIT_NAME_BYTES + 64];
		snprintf(label, sizeof label, "%s (%s)", db_col_text(st, 1), db_col_text(st, 2));
		item->value = dup_col(st, 0);
		item->label = xstrdup(label);
		item->selected = db_col_int(st, 0) == selected;
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

static void render_new(struct http_request *req, struct http_response *res,
                       struct invite_new_view *v, const char *role, int64_t organisation_id)
{
	const struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	struct invite_option options[N_ROLES];
	size_t n = 0;
	for (size_t i = 0; i < N_ROLES; i++)
		if (policy_may_invite(viewer, roles[i].name, true))
			options[n++] =
			    (struct invite_option){roles[i].name, roles[i].label, roles[i].hint,
			                           role && !strcmp(role, roles[i].name)};
	struct org_choices orgs = {0};
	struct db_conn *c = db_acquire(app->db);
	int rc = c ? org_choices_load(c, viewer, organisation_id, &orgs) : DB_ERR_CONN;
	db_release(c);
	if (rc) {
		org_choices_free(&orgs);
		res->status = c ? 500 : 503;
		return;
	}
	v->csrf = access_csrf(req, res);
	v->roles = options;
	v->n_roles = n;
	v->own_practices = !policy_may_invite(viewer, "member", false);
	v->organisations = orgs.items;
	v->n_organisations = orgs.n;
	for (size_t i = 0; i < orgs.n; i++)
		v->organisation_chosen |= orgs.items[i].selected;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_invite_new(&main, v);
	page_render(req, res, v->errors.n ? "Error: Invite someone" : "Invite someone", main.data);
	buf_free(&main);
	org_choices_free(&orgs);
}

void invitations_new_page(struct http_request *req, struct http_response *res)
{
	struct invite_new_view v = {.email = "", .name = ""};
	render_new(req, res, &v, NULL, 0);
}

/* Whether an organisation of this kind suits the role; else the message to fix it. */
static const char *organisation_problem(const char *role, const char *kind)
{
	if (!strcmp(role, "practice-lead") && strcmp(kind, "practice"))
		return "A practice lead leads a practice: select a practice";
	if (!strcmp(role, "partner") && !partner_kind(kind))
		return "Select the partner organisation they work for, such as the ICB, a trust or "
		       "the council";
	if (strcmp(role, "partner") && partner_kind(kind))
		return "That is a partner organisation: select an organisation of the collective, "
		       "or choose the Partner role";
	return NULL;
}

/* Looks up an organisation's kind; 1 found, 0 not, < 0 error. */
static int organisation_kind(struct db_conn *c, int64_t id, char kind[32])
{
	struct db_stmt *st = db_prepare(c, "SELECT kind FROM organisations WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(kind, 32, "%s", db_col_text(st, 0));
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc;
}

void invitations_send(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	const struct form *f = access_form(req);
	const char *raw_email = form_get(f, "email"), *name = form_get(f, "name");
	const char *role = form_get(f, "role"), *raw_org = form_get(f, "organisation");
	struct invite_new_view v = {.email = raw_email ? raw_email : "", .name = name ? name : ""};
	char email[LIMIT_EMAIL_BYTES + 1];
	int64_t org = http_parse_id(raw_org);
	int ri = role_index(role);
	bool org_needed = ri >= 0 && strcmp(role, "executive") && strcmp(role, "administrator");

	if (!raw_email || !*raw_email)
		v.email_error = "Enter their email address";
	else if (people_normalise_email(raw_email, email) || !mail_address_valid(email))
		v.email_error = "Enter an email address in the correct format, like name@nhs.net";
	v.name_error = enrolment_name_problem(name, "Enter their full name");
	if (ri < 0)
		v.role_error = "Select the role they will have";
	if (raw_org && *raw_org && !org)
		v.organisation_error = "Select an organisation from the list";
	else if (!org && org_needed)
		v.organisation_error = ri >= 0 && !strcmp(role, "partner")
		                           ? "Select the partner organisation they work for"
		                           : "Select the organisation they work at";

	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int64_t id = 0;
	int lead = 0, found = 0;
	if (org && !v.organisation_error) {
		char kind[32];
		found = organisation_kind(c, org, kind);
		if (found < 0)
			goto fail;
		if (!found)
			v.organisation_error = "Select an organisation from the list";
		else if (ri >= 0)
			v.organisation_error = organisation_problem(role, kind);
		if (found && (lead = enrolment_leads(c, viewer->person_id, org)) < 0)
			goto fail;
	}
	/* Only a forged form asks for a role or organisation the page did not offer. */
	if (ri >= 0 && ((org && found) || (!org && !org_needed)) &&
	    !policy_may_invite(viewer, role, lead)) {
		db_release(c);
		res->status = 403;
		res->reason =
		    viewer->role == ROLE_MEMBER
		        ? "You can only invite staff to the practices you lead."
		        : "Your role does not allow you to invite someone with that role.";
		return;
	}
	/* In the order of the form. */
	if (v.name_error)
		form_error_add(&v.errors, "name", v.name_error);
	if (v.email_error)
		form_error_add(&v.errors, "email", v.email_error);
	if (v.role_error)
		form_error_add(&v.errors, "role", v.role_error);
	if (v.organisation_error)
		form_error_add(&v.errors, "organisation", v.organisation_error);
	if (!v.errors.n) {
		char trimmed[LIMIT_NAME_BYTES + 1];
		enrolment_trim(name, trimmed, sizeof trimmed);
		struct invitation_new inv = {email, trimmed, role, org};
		if (db_begin(c))
			goto fail;
		int rc = invitations_create(c, req, &inv, &id);
		if (rc == INVITATION_ACCOUNT_EXISTS)
			v.email_error = "There is already an account for this email address";
		else if (rc == INVITATION_PENDING)
			v.email_error =
			    "This person already has an invitation waiting. To send a new "
			    "one, cancel that invitation on the invitations page first";
		else if (rc != INVITATION_OK || db_commit(c))
			goto fail;
		if (v.email_error) {
			db_rollback(c);
			form_error_add(&v.errors, "email", v.email_error);
		}
	}
	db_release(c);
	if (v.errors.n) {
		res->status = 400;
		render_new(req, res, &v, role, org);
		return;
	}
	mail_wake();
	http_redirect(res, "/invitations?sent=1");
	return;
fail:
	log_error("request %s: cannot send an invitation: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

void invitations_revoke(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t id = http_parse_id(req->params[0]);
	if (!id) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char role[32] = "", email[LIMIT_EMAIL_BYTES + 1] = "";
	int64_t org = 0;
	struct db_stmt *st =
	    db_prepare(c, "SELECT role, organisation_id, email FROM invitations WHERE id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(role, sizeof role, "%s", db_col_text(st, 0));
		org = db_col_int(st, 1);
		snprintf(email, sizeof email, "%s", db_col_text(st, 2));
	}
	db_reset(st);
	if (rc == DB_DONE) {
		db_release(c);
		res->status = 404;
		return;
	}
	int lead = rc == DB_ROW && org ? enrolment_leads(c, viewer->person_id, org) : 0;
	if (rc != DB_ROW || lead < 0)
		goto fail;
	if (!policy_may_revoke_invitation(viewer, role, lead)) {
		db_release(c);
		res->status = 403;
		res->reason = "You can only cancel invitations to the practices you lead.";
		return;
	}
	if (db_begin(c))
		goto fail;
	st = db_prepare(c, "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND "
	                   "accepted_at IS NULL AND revoked_at IS NULL RETURNING id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, (int64_t)time(NULL));
	db_bind_int(st, 2, id);
	rc = db_step(st);
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (rc == DB_DONE) { /* accepted or cancelled meanwhile */
		db_rollback(c);
		db_release(c);
		http_redirect(res, "/invitations?cancelled=0");
		return;
	}
	char detail[LIMIT_EMAIL_BYTES + 16];
	snprintf(detail, sizeof detail, "to %s", email);
	if (enrolment_audit(c, req, viewer->person_id, viewer->email, "invitation-revoked",
	                    "invitation", id, detail) ||
	    db_commit(c))
		goto fail;
	db_release(c);
	http_redirect(res, "/invitations?cancelled=1");
	return;
fail:
	log_error("request %s: cannot cancel an invitation: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}

/* ------------------------------------------------------------ accepting */

enum invitation_state {
	INVITATION_UNKNOWN,
	INVITATION_OPEN,
	INVITATION_USED,
	INVITATION_CANCELLED,
	INVITATION_EXPIRED
};

struct invitation_info {
	int64_t id, expires_at;
	enum invitation_state state;
	char email[LIMIT_EMAIL_BYTES + 1];
	char name[LIMIT_NAME_BYTES + 1];
	char role[32];
	char organisation[LIMIT_NAME_BYTES + 1];
	char inviter[LIMIT_NAME_BYTES + 1];
};

/* Finds the invitation behind a token. Returns 0 (state says what was found) or < 0. */
static int invitation_load(struct db_conn *c, const char *token, struct invitation_info *inv)
{
	char hash[AUTH_HASH_CHARS + 1];
	memset(inv, 0, sizeof *inv);
	if (!enrolment_token_plausible(token))
		return 0;
	auth_hash_token(token, hash);
	struct db_stmt *st = db_prepare(
	    c, "SELECT i.id, i.email, i.name, i.role, o.name, p.name, i.expires_at, "
	       "i.accepted_at IS NOT NULL, i.revoked_at IS NOT NULL FROM invitations i "
	       "JOIN people p ON p.id = i.invited_by "
	       "LEFT JOIN organisations o ON o.id = i.organisation_id WHERE i.token_hash = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, hash);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *org = db_col_text(st, 4);
		inv->id = db_col_int(st, 0);
		snprintf(inv->email, sizeof inv->email, "%s", db_col_text(st, 1));
		snprintf(inv->name, sizeof inv->name, "%s", db_col_text(st, 2));
		snprintf(inv->role, sizeof inv->role, "%s", db_col_text(st, 3));
		snprintf(inv->organisation, sizeof inv->organisation, "%s", org ? org : "");
		snprintf(inv->inviter, sizeof inv->inviter, "%s", db_col_text(st, 5));
		inv->expires_at = db_col_int(st, 6);
		inv->state = db_col_int(st, 7)                        ? INVITATION_USED
		             : db_col_int(st, 8)                      ? INVITATION_CANCELLED
		             : inv->expires_at <= (int64_t)time(NULL) ? INVITATION_EXPIRED
		                                                      : INVITATION_OPEN;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

/* The page for a link that does not (or no longer) work: what to do, and nothing about
 * the invitation itself. */
static void invitation_gone(struct http_request *req, struct http_response *res,
                            enum invitation_state state)
{
	struct enrolment_message m = {0};
	switch (state) {
	case INVITATION_USED:
		m.heading = "This invitation has already been used";
		m.paragraphs[m.n_paragraphs++] = "Each invitation link works only once.";
		m.paragraphs[m.n_paragraphs++] =
		    "If you accepted it, sign in with your email address and the password you "
		    "chose. "
		    "If you have forgotten your password, you can reset it from the sign-in page.";
		m.link_href = "/sign-in";
		m.link_text = "Sign in";
		break;
	case INVITATION_CANCELLED:
		m.heading = "This invitation has been cancelled";
		m.paragraphs[m.n_paragraphs++] =
		    "Ask the person who invited you, or your practice lead, to send you a new "
		    "invitation.";
		break;
	case INVITATION_EXPIRED:
		m.heading = "This invitation has expired";
		m.paragraphs[m.n_paragraphs++] = "Invitation links work for 14 days.";
		m.paragraphs[m.n_paragraphs++] =
		    "Ask the person who invited you, or your practice lead, to send you a new "
		    "invitation.";
		break;
	case INVITATION_UNKNOWN:
	case INVITATION_OPEN:
		m.heading = "This invitation link does not work";
		m.paragraphs[m.n_paragraphs++] =
		    "Check that you copied the whole link from the email.";
		m.paragraphs[m.n_paragraphs++] =
		    "If it still does not work, ask the person who invited you to send you a new "
		    "invitation.";
		break;
	}
	enrolment_render_message(req, res, state == INVITATION_UNKNOWN ? 404 : 410, &m);
}

static void render_accept(struct http_request *req, struct http_response *res,
                          struct invite_accept_view *v, const struct invitation_info *inv)
{
	const struct app *app = req->app;
	char expires[48];
	time_format_time_on_date(inv->expires_at, expires);
	v->csrf = access_csrf(req, res);
	v->token = req->params[0];
	v->collective = app->collective_name;
	v->inviter = inv->inviter;
	v->role = invitations_role_phrase(inv->role);
	v->organisation = inv->organisation[0] ? inv->organisation : NULL;
	v->email = inv->email;
	v->expires = expires;
	struct buf main;
	buf_init(&main, LIMIT_PAGE_BYTES);
	tpl_invite_accept(&main, v);
	page_render(req, res,
	            v->errors.n ? "Error: Accept your invitation" : "Accept your invitation",
	            main.data);
	buf_free(&main);
}

void invitations_accept_page(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	struct invitation_info inv;
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	int rc = invitation_load(c, req->params[0], &inv);
	db_release(c);
	if (rc < 0) {
		res->status = 500;
		return;
	}
	if (inv.state != INVITATION_OPEN) {
		invitation_gone(req, res, inv.state);
		return;
	}
	struct invite_accept_view v = {.name = inv.name};
	render_accept(req, res, &v, &inv);
}

void invitations_accept(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct form *f = access_form(req);
	const char *name = form_get(f, "name"), *password = form_get(f, "password");
	const char *confirm = form_get(f, "confirm-password");
	struct invitation_info inv;
	struct invite_accept_view v = {.name = name ? name : ""};
	char hash[PASSWORD_HASH_BYTES], token[AUTH_TOKEN_CHARS + 1];
	char token_hash[AUTH_HASH_CHARS + 1];
	int64_t person_id = 0, session_id = 0, now = (int64_t)time(NULL);

	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	if (invitation_load(c, req->params[0], &inv) < 0)
		goto fail;
	if (inv.state != INVITATION_OPEN) {
		db_release(c);
		invitation_gone(req, res, inv.state);
		return;
	}
	v.name_error = enrolment_name_problem(name, "Enter your full name");
	if (v.name_error)
		form_error_add(&v.errors, "name", v.name_error);
	enrolment_check_password(password, confirm, &v.pw, &v.errors);
	if (v.errors.n) {
		db_release(c);
		res->status = 400;
		render_accept(req, res, &v, &inv);
		return;
	}
	/* Hashing is slow by design: do it before taking the write lock. */
	if (password_hash(password, hash))
		goto fail;
	auth_hash_token(req->params[0], token_hash);
	if (db_begin(c))
		goto fail;
	/* Single use, also under concurrent use: only an open invitation matches. */
	struct db_stmt *st =
	    db_prepare(c, "UPDATE invitations SET accepted_at = $1 WHERE token_hash = $2 AND "
	                  "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1 "
	                  "RETURNING id, email, role, organisation_id");
	if (!st)
		goto fail;
	db_bind_int(st, 1, now);
	db_bind_text(st, 2, token_hash);
	int rc = db_step(st);
	char email[LIMIT_EMAIL_BYTES + 1] = "", role[32] = "";
	int64_t org = 0, id = 0;
	if (rc == DB_ROW) {
		id = db_col_int(st, 0);
		snprintf(email, sizeof email, "%s", db_col_text(st, 1));
		snprintf(role, sizeof role, "%s", db_col_text(st, 2));
		org = db_col_int(st, 3);
		rc = db_step(st);
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	if (!id) { /* used, cancelled or expired since the check above */
		db_rollback(c);
		if (invitation_load(c, req->params[0], &inv) < 0)
			goto fail;
		db_release(c);
		invitation_gone(req, res,
		                inv.state == INVITATION_OPEN ? INVITATION_USED : inv.state);
		return;
	}
	char trimmed[LIMIT_NAME_BYTES + 1];
	enrolment_trim(name, trimmed, sizeof trimmed);
	struct person_new p = {email, trimmed, role, hash, org};
	rc = people_create(c, &p, &person_id);
	if (rc == DB_ERR_CONSTRAINT) {
		db_rollback(c);
		db_release(c);
		struct enrolment_message m = {
		    .heading = "There is already an account for this email address",
		    .paragraphs =
		        {"Sign in with your email address and password. If you have "
		         "forgotten your password, you can reset it from the sign-in page."},
		    .n_paragraphs = 1,
		    .link_href = "/sign-in",
		    .link_text = "Sign in",
		};
		enrolment_render_message(req, res, 409, &m);
		return;
	}
	char detail[64];
	snprintf(detail, sizeof detail, "person:%lld, role %s", (long long)person_id, role);
	if (rc || session_create(c, person_id, false, http_header(req, "User-Agent"), req->address,
	                         token, &session_id))
		goto fail;
	if (enrolment_audit(c, req, person_id, email, "invitation-accepted", "invitation", id,
	                    detail) ||
	    db_commit(c))
		goto fail;
	/* Executives and administrators set up two-step sign-in before anything else. */
	struct viewer nv = {0};
	int found = session_load_person(c, person_id, &nv);
	db_release(c);
	nv.via = VIA_SESSION;
	access_set_session_cookie(res, token);
	http_redirect(res, found == 1 && policy_requires_mfa(&nv) ? "/account/mfa" : "/");
	return;
fail:
	log_error("request %s: cannot accept an invitation: %s", req->id, db_errmsg(c));
	db_release(c);
	res->status = 500;
}
