/*
 * audit_verify.c — walks the audit trail's hash chain (see audit.h).
 *
 * The trail can hold millions of entries, and libpq fetches a whole result
 * into memory, so the walk reads it in pages of VERIFY_PAGE rows in id order
 * (keyset paging: "id > last seen"), keeping only the previous entry's hash
 * between rows. Entries appended while it runs are checked too.
 *
 * What the chain proves: an entry whose fields were edited no longer matches
 * its own hash, and an entry deleted from the middle (or the start) leaves the
 * next entry's prev_hash pointing at nothing. What it cannot prove on its own:
 * that the newest entries were not cut off the end, or that someone with
 * write access did not rewrite every hash after an edit; keep copies of the
 * newest hash (the CSV export carries it) elsewhere to catch those.
 */
#include "auth/audit.h"

#include <stdio.h>
#include <string.h>

#define VERIFY_PAGE 1000

/* The prev_hash of the first entry (audit_record starts the chain with it). */
static const char genesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

int audit_verify(struct db *db, int64_t *first_bad_id, int64_t *checked, char *err, size_t errlen)
{
	char prev[65], hash[65];
	int64_t last_id = 0;
	int rc = DB_OK, broken = 0;
	*first_bad_id = 0;
	*checked = 0;
	if (errlen)
		err[0] = '\0';
	struct db_conn *c = db_acquire(db);
	if (!c) {
		snprintf(err, errlen, "the database cannot be reached");
		return DB_ERR_CONN;
	}
	snprintf(prev, sizeof prev, "%s", genesis);
	/* When the retention job deleted the oldest entries, it recorded where the
	 * chain now starts ("ID PREV_HASH"): the first entry must be that one and
	 * carry that prev_hash (src/app/privacy/retention.c). */
	int64_t start_id = 0;
	struct db_stmt *start =
	    db_prepare(c, "SELECT value FROM settings WHERE key = 'audit_chain_start'");
	if (!start) {
		rc = DB_ERR;
		goto fail;
	}
	if ((rc = db_step(start)) == DB_ROW) {
		const char *value = db_col_text(start, 0);
		long long id = 0;
		char first_prev[65] = "";
		if (sscanf(value, "%lld %64s", &id, first_prev) == 2 && strlen(first_prev) == 64) {
			start_id = id;
			snprintf(prev, sizeof prev, "%s", first_prev);
		}
	}
	db_reset(start);
	if (rc < 0)
		goto fail;
	for (;;) {
		struct db_stmt *st = db_prepare(
		    c,
		    "SELECT id, at, actor_id, actor, action, subject, detail, address, prev_hash, "
		    "hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2");
		if (!st) {
			rc = DB_ERR;
			goto fail;
		}
		db_bind_int(st, 1, last_id);
		db_bind_int(st, 2, VERIFY_PAGE);
		int rows = 0;
		while ((rc = db_step(st)) == DB_ROW) {
			int64_t id = db_col_int(st, 0);
			const char *stored_prev = db_col_text(st, 8), *stored = db_col_text(st, 9);
			rows++;
			if (start_id && !last_id && id != start_id) {
				snprintf(err, errlen,
				         "the trail should start at entry %lld, after the entries "
				         "retention deleted (an entry was deleted or added)",
				         (long long)start_id);
				*first_bad_id = id;
				broken = 1;
				break;
			}
			last_id = id;
			if (!stored_prev || strcmp(stored_prev, prev)) {
				snprintf(
				    err, errlen,
				    "it does not follow the entry before it (an entry was deleted "
				    "or changed)");
				broken = 1;
			} else {
				audit_hash(prev, db_col_int(st, 1), db_col_int(st, 2),
				           db_col_text(st, 3), db_col_text(st, 4),
				           db_col_text(st, 5), db_col_text(st, 6),
				           db_col_text(st, 7), hash);
				if (!stored || strcmp(stored, hash)) {
					snprintf(
					    err, errlen,
					    "its contents do not match its hash (it was changed)");
					broken = 1;
				}
			}
			if (broken) {
				*first_bad_id = id;
				break;
			}
			snprintf(prev, sizeof prev, "%s", stored);
			(*checked)++;
		}
		db_reset(st);
		if (broken)
			break;
		if (rc != DB_DONE)
			goto fail;
		if (rows < VERIFY_PAGE)
			break;
	}
	db_release(c);
	return broken;
fail:
	snprintf(err, errlen, "cannot read the audit trail: %s", db_errmsg(c));
	db_release(c);
	return rc < 0 ? rc : DB_ERR;
}
