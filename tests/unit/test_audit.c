/*
 * test_audit.c — the audit trail's hash chain and its verifier, on whichever
 * engine SHOAL_TEST_DB names (a fresh, empty database; without it a temporary
 * SQLite file). The Europe/London day arithmetic behind the audit filters is
 * tested with the rest of src/core/time.c in test_time.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/audit.h"
#include "auth/crypto.h"
#include "db/db.h"
#include "db/migrate.h"

static struct db *db;

static int setup(void **state)
{
	(void)state;
	char url[1024], err[512];
	const char *env = getenv("SHOAL_TEST_DB");
	if (env && *env) {
		snprintf(url, sizeof url, "%s", env);
	} else {
		char dir[] = "/tmp/shoal-test-audit-XXXXXX";
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
	}
	if (auth_crypto_init() || db_open(url, 2, &db, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	int applied;
	if (migrate_apply(db, &applied, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close(db);
	return 0;
}

/* Runs one statement with up to one integer parameter. */
static void exec1(const char *sql, int64_t a, int nparams)
{
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	struct db_stmt *st = db_prepare(c, sql);
	assert_non_null(st);
	if (nparams)
		db_bind_int(st, 1, a);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
	db_release(c);
}

/* Appends n entries in one transaction (the verifier must not care how they were written). */
static void append(int n, const char *action)
{
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	assert_int_equal(db_begin(c), DB_OK);
	for (int i = 0; i < n; i++) {
		char detail[32];
		snprintf(detail, sizeof detail, "entry %d", i);
		struct audit_entry e = {0,      i % 2 ? "someone@example.org" : NULL,
		                        action, i % 3 ? "person:1" : NULL,
		                        detail, "127.0.0.1"};
		assert_int_equal(audit_record(c, &e), DB_OK);
	}
	assert_int_equal(db_commit(c), DB_OK);
	db_release(c);
}

/* The ids of the trail in order (at most max). */
static int ids(int64_t *out, int max)
{
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st = db_prepare(c, "SELECT id FROM audit_log ORDER BY id");
	int n = 0;
	while (db_step(st) == DB_ROW && n < max)
		out[n++] = db_col_int(st, 0);
	db_reset(st);
	db_release(c);
	return n;
}

static void test_verify_chain(void **state)
{
	(void)state;
	int64_t bad = -1, checked = -1;
	char err[256];
	exec1("DELETE FROM audit_log", 0, 0);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 0);
	assert_int_equal(checked, 0);
	assert_int_equal(bad, 0);

	/* More than one page of the walk (it reads 1000 at a time). */
	append(2345, "test-entry");
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 0);
	assert_int_equal(checked, 2345);

	static int64_t all[3000];
	int n = ids(all, 3000);
	assert_int_equal(n, 2345);

	/* An edited entry past the first page is found, and only the good ones before it counted.
	 */
	exec1("UPDATE audit_log SET detail = 'edited' WHERE id = $1", all[1500], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 1);
	assert_int_equal(bad, all[1500]);
	assert_int_equal(checked, 1500);
	assert_non_null(strstr(err, "do not match its hash"));
	exec1("UPDATE audit_log SET detail = 'entry 1500' WHERE id = $1", all[1500], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 0);

	/* So is a changed time, and a changed actor. */
	exec1("UPDATE audit_log SET at = at + 1 WHERE id = $1", all[7], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 1);
	assert_int_equal(bad, all[7]);
	exec1("UPDATE audit_log SET at = at - 1 WHERE id = $1", all[7], 1);
	exec1("UPDATE audit_log SET actor = 'someone-else@example.org' WHERE id = $1", all[9], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 1);
	assert_int_equal(bad, all[9]);
	exec1("UPDATE audit_log SET actor = 'someone@example.org' WHERE id = $1", all[9], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 0);

	/* A deleted entry: the next one no longer follows its predecessor. */
	exec1("DELETE FROM audit_log WHERE id = $1", all[999], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 1);
	assert_int_equal(bad, all[1000]);
	assert_int_equal(checked, 999);
	assert_non_null(strstr(err, "does not follow"));

	/* So is deleting the very first entry. */
	exec1("DELETE FROM audit_log WHERE id < $1", all[999], 1);
	assert_int_equal(audit_verify(db, &bad, &checked, err, sizeof err), 1);
	assert_int_equal(bad, all[1000]);
	assert_int_equal(checked, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify_chain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
