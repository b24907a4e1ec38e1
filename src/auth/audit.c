/*
 * audit.c — appends to the hash-chained audit trail (see audit.h).
 */
#include "auth/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Each field is written with its length first, so no two different entries
 * hash the same by moving text from one field to the next. */
static void add_field(crypto_hash_sha256_state *st, const char *s)
{
	char len[24];
	size_t n = s ? strlen(s) : 0;
	int m = snprintf(len, sizeof len, "%zu:", n);
	crypto_hash_sha256_update(st, (const unsigned char *)len, (unsigned long long)m);
	if (n)
		crypto_hash_sha256_update(st, (const unsigned char *)s, n);
}

void audit_hash(const char *prev_hash, int64_t at, int64_t actor_id, const char *actor,
                const char *action, const char *subject, const char *detail, const char *address,
                char out[65])
{
	crypto_hash_sha256_state st;
	unsigned char hash[crypto_hash_sha256_BYTES];
	char numbers[48];
	snprintf(numbers, sizeof numbers, "%lld,%lld", (long long)at, (long long)actor_id);
	crypto_hash_sha256_init(&st);
	add_field(&st, prev_hash);
	add_field(&st, numbers);
	add_field(&st, actor);
	add_field(&st, action);
	add_field(&st, subject);
	add_field(&st, detail);
	add_field(&st, address);
	crypto_hash_sha256_final(&st, hash);
	sodium_bin2hex(out, 65, hash, sizeof hash);
}

int audit_record(struct db_conn *c, const struct audit_entry *e)
{
	int own = !db_in_transaction(c);
	int rc = own ? db_begin(c) : DB_OK;
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000";
	char hash[65];
	if (rc)
		return rc;
	if (db_conn_kind(c) == DB_POSTGRES) {
		/* One writer at a time extends the chain (SQLite's BEGIN IMMEDIATE already is). */
		rc = db_exec(c, "SELECT pg_advisory_xact_lock(7463)");
		if (rc)
			goto fail;
	}
	struct db_stmt *st = db_prepare(c, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
	if (!st) {
		rc = DB_ERR;
		goto fail;
	}
	rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(prev, sizeof prev, "%s", db_col_text(st, 0));
	db_reset(st);
	if (rc < 0)
		goto fail;
	int64_t now = (int64_t)time(NULL);
	const char *actor = e->actor ? e->actor : "system";
	audit_hash(prev, now, e->actor_id, actor, e->action, e->subject, e->detail, e->address,
	           hash);
	st = db_prepare(c, "INSERT INTO audit_log (at, actor_id, actor, action, subject, detail, "
	                   "address, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
	if (!st) {
		rc = DB_ERR;
		goto fail;
	}
	db_bind_int(st, 1, now);
	if (e->actor_id)
		db_bind_int(st, 2, e->actor_id);
	else
		db_bind_null(st, 2);
	db_bind_text(st, 3, actor);
	db_bind_text(st, 4, e->action);
	db_bind_text(st, 5, e->subject ? e->subject : "");
	db_bind_text(st, 6, e->detail ? e->detail : "");
	db_bind_text(st, 7, e->address ? e->address : "");
	db_bind_text(st, 8, prev);
	db_bind_text(st, 9, hash);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	return own ? db_commit(c) : DB_OK;
fail:
	if (own)
		db_rollback(c);
	return rc < 0 ? rc : DB_ERR;
}
