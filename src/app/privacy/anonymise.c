/*
 * anonymise.c — removes a deactivated person's personal details while their
 * records stay attributable (see privacy.h).
 *
 * The person's row stays, with the same id, so their memberships, returns,
 * tokens and audit entries still point at someone: "Former member ID". Their
 * email is replaced by an address that cannot receive mail, which frees the
 * real one for a new account; profile text, password and two-step secrets
 * go, and so do sessions, recovery codes, reset links, invitations and join
 * requests under their address, and mail to it. Audit entries already written
 * keep the email they were written with (editing them would break the chain);
 * they go when the retention period ends.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/privacy/privacy.h"
#include "auth/audit.h"
#include "core/log.h"

/* Runs sql with $1 = id and $2 = text (when text is not NULL). */
static int run(struct db_conn *c, const char *sql, int64_t id, const char *text)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	if (text)
		db_bind_text(st, 2, text);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? DB_OK : rc < 0 ? rc : DB_ERR;
}

void privacy_anonymise(struct http_request *req, struct http_response *res)
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
	int rc = db_begin(c);
	char email[LIMIT_EMAIL_BYTES + 1] = "";
	bool found = false, deactivated = false, anonymised = false;
	struct db_stmt *st =
	    rc ? NULL
	       : db_prepare(c,
	                    "SELECT email, deactivated_at IS NOT NULL, anonymised_at IS NOT NULL "
	                    "FROM people WHERE id = $1");
	if (!rc && !st)
		rc = DB_ERR;
	if (st) {
		db_bind_int(st, 1, id);
		int step = db_step(st);
		if (step == DB_ROW) {
			found = true;
			snprintf(email, sizeof email, "%s", db_col_text(st, 0));
			deactivated = db_col_int(st, 1) != 0;
			anonymised = db_col_int(st, 2) != 0;
		} else if (step < 0) {
			rc = step;
		}
		db_reset(st);
	}
	if (!rc && (!found || !policy_may_anonymise(viewer, id, deactivated) || anonymised)) {
		db_rollback(c);
		db_release(c);
		res->status = !found ? 404 : anonymised ? 409 : 403;
		if (found && !deactivated)
			res->reason =
			    "Deactivate the account before removing its personal details.";
		else if (anonymised)
			res->reason = "This person's personal details have already been removed.";
		return;
	}
	char name[64], address[96], subject[32];
	snprintf(name, sizeof name, "Former member %lld", (long long)id);
	snprintf(address, sizeof address, "former-member-%lld@removed.invalid", (long long)id);
	snprintf(subject, sizeof subject, "person:%lld", (long long)id);
	static const char *const by_email[] = {
	    "DELETE FROM outbox WHERE lower(to_address) = $2 AND $1 > 0",
	    "UPDATE invitations SET email = 'removed@removed.invalid', name = 'Former member' "
	    "WHERE lower(email) = $2 AND $1 > 0",
	    "UPDATE join_requests SET email = 'removed@removed.invalid', name = 'Former member', "
	    "message = '' WHERE lower(email) = $2 AND $1 > 0",
	};
	static const char *const by_id[] = {
	    "DELETE FROM sessions WHERE person_id = $1",
	    "DELETE FROM recovery_codes WHERE person_id = $1",
	    "DELETE FROM password_resets WHERE person_id = $1",
	};
	for (size_t i = 0; !rc && i < sizeof by_email / sizeof by_email[0]; i++)
		rc = run(c, by_email[i], id, email);
	for (size_t i = 0; !rc && i < sizeof by_id / sizeof by_id[0]; i++)
		rc = run(c, by_id[i], id, NULL);
	if (!rc) {
		st = db_prepare(
		    c, "UPDATE people SET name = $2, email = $3, job_title = '', "
		       "can_help_with = '', visible_to_partners = 0, password_hash = NULL, "
		       "totp_secret = NULL, totp_pending_secret = NULL, anonymised_at = $4, "
		       "updated_at = $4 WHERE id = $1");
		if (!st) {
			rc = DB_ERR;
		} else {
			db_bind_int(st, 1, id);
			db_bind_text(st, 2, name);
			db_bind_text(st, 3, address);
			db_bind_int(st, 4, (int64_t)time(NULL));
			int step = db_step(st);
			db_reset(st);
			rc = step == DB_DONE ? DB_OK : step < 0 ? step : DB_ERR;
		}
	}
	if (!rc) {
		/* The detail names nobody: the subject id is what stays attributable. */
		struct audit_entry e = {viewer->person_id,
		                        viewer->email,
		                        "person-anonymised",
		                        subject,
		                        "personal details removed; shown as Former member",
		                        req->address};
		rc = audit_record(c, &e);
	}
	if (!rc)
		rc = db_commit(c);
	if (rc) {
		log_error("request %s: cannot anonymise person %lld: %s", req->id, (long long)id,
		          db_errmsg(c));
		if (db_in_transaction(c))
			db_rollback(c);
		res->status = rc == DB_ERR_CONN ? 503 : 500;
		db_release(c);
		return;
	}
	db_release(c);
	char location[64];
	snprintf(location, sizeof location, "/admin/people/%lld", (long long)id);
	http_redirect(res, location);
}
