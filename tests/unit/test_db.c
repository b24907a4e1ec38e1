/*
 * test_db.c — the storage interface and migrations, on whichever engine
 * SHOAL_TEST_DB names (a fresh, empty database; the test runner runs this once
 * on SQLite and once on a throwaway PostgreSQL). Without it, a temporary SQLite file.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/migrate.h"

static char url[1024];
static struct db *db;

static int setup(void **state)
{
	(void)state;
	const char *env = getenv("SHOAL_TEST_DB");
	if (env && *env) {
		snprintf(url, sizeof url, "%s", env);
	} else {
		char dir[] = "/tmp/shoal-test-db-XXXXXX";
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
	}
	char err[512];
	if (db_open(url, 4, &db, err, sizeof err)) {
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

static void test_migrations_current_and_repeatable(void **state)
{
	(void)state;
	char err[512];
	int version, applied = -1;
	assert_int_equal(migrate_version(db, &version, err, sizeof err), 0);
	assert_int_equal(version, migrate_latest());
	assert_int_equal(migrate_apply(db, &applied, err, sizeof err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(migrate_check(db, err, sizeof err), 0);
}

static int64_t insert_org(struct db_conn *c, const char *code, const char *name, int *rc)
{
	struct db_stmt *st = db_prepare(
	    c,
	    "INSERT INTO organisations (ods_code, name, kind, list_size, created_at, updated_at) "
	    "VALUES ($1, $2, 'practice', $3, 0, 0) RETURNING id");
	assert_non_null(st);
	db_bind_text(st, 1, code);
	db_bind_text(st, 2, name);
	db_bind_int(st, 3, 1000);
	*rc = db_step(st);
	int64_t id = *rc == DB_ROW ? db_col_int(st, 0) : 0;
	if (*rc == DB_ROW)
		*rc = db_step(st);
	db_reset(st);
	return id;
}

static void test_insert_select_constraint(void **state)
{
	(void)state;
	struct db_conn *c = db_acquire(db);
	assert_non_null(c);
	int rc;
	int64_t id = insert_org(c, "T00001", "Test Surgery ' \"quoted\"", &rc);
	assert_int_equal(rc, DB_DONE);
	assert_true(id > 0);
	insert_org(c, "T00001", "Duplicate", &rc);
	assert_int_equal(rc, DB_ERR_CONSTRAINT);
	assert_non_null(db_errmsg(c));

	struct db_stmt *st =
	    db_prepare(c, "SELECT name, list_size, parent_id FROM organisations WHERE id = $1");
	db_bind_int(st, 1, id);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "Test Surgery ' \"quoted\"");
	assert_int_equal(db_col_int(st, 1), 1000);
	assert_true(db_col_is_null(st, 2));
	assert_null(db_col_text(st, 2));
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);

	/* The same text returns the cached statement, reusable many times. */
	for (int i = 0; i < 500; i++) {
		struct db_stmt *again = db_prepare(
		    c, "SELECT name, list_size, parent_id FROM organisations WHERE id = $1");
		assert_ptr_equal(again, st);
		db_bind_int(again, 1, id);
		assert_int_equal(db_step(again), DB_ROW);
		db_reset(again);
	}
	/* A syntax error is an error, not a crash, and the connection stays usable. */
	assert_null(db_prepare(c, "SELEKT nonsense"));
	assert_non_null(db_errmsg(c));
	assert_non_null(db_prepare(c, "SELECT 1"));
	db_release(c);
}

static void test_transaction_rolls_back(void **state)
{
	(void)state;
	struct db_conn *c = db_acquire(db);
	assert_int_equal(db_begin(c), DB_OK);
	int rc;
	insert_org(c, "T00002", "Rolled back", &rc);
	assert_int_equal(rc, DB_DONE);
	db_rollback(c);
	struct db_stmt *st =
	    db_prepare(c, "SELECT count(*) FROM organisations WHERE ods_code = $1");
	db_bind_text(st, 1, "T00002");
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int(st, 0), 0);
	db_reset(st);
	/* Released inside a transaction: the pool rolls it back. */
	assert_int_equal(db_begin(c), DB_OK);
	insert_org(c, "T00003", "Abandoned", &rc);
	db_release(c);
	c = db_acquire(db);
	st = db_prepare(c, "SELECT count(*) FROM organisations WHERE ods_code = $1");
	db_bind_text(st, 1, "T00003");
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int(st, 0), 0);
	db_reset(st);
	db_release(c);
}

#define WRITERS 6
#define WRITES  40

static void *writer(void *arg)
{
	int n = (int)(intptr_t)arg, ok = 0;
	for (int i = 0; i < WRITES; i++) {
		struct db_conn *c = db_acquire(db);
		if (!c)
			continue;
		char code[32];
		snprintf(code, sizeof code, "W%02d%03d", n, i);
		int rc;
		insert_org(c, code, "Concurrent", &rc);
		ok += rc == DB_DONE;
		db_release(c);
	}
	return (void *)(intptr_t)ok;
}

/* Runs fn in WRITERS threads at once (each given its number); the sum of their results. */
static int run_writers(void *(*fn)(void *))
{
	pthread_t t[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i);
	int ok = 0;
	for (int i = 0; i < WRITERS; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok += (int)(intptr_t)r;
	}
	return ok;
}

static void test_pool_concurrent_writers(void **state)
{
	(void)state;
	assert_int_equal(run_writers(writer), WRITERS * WRITES);
	struct db_pool_stats s;
	db_pool_stats(db, &s);
	assert_int_equal(s.size, 4);
	assert_int_equal(s.in_use, 0);
	assert_true(s.waited > 0); /* 6 writers, 4 connections */
	assert_true(db_ping(db));
}

/* Transactions from many threads at once (on SQLite, batched on one writer
 * connection): each one that commits is there, and visible, as soon as
 * db_commit returns; each that fails or rolls back leaves nothing, and takes
 * nothing of the others' with it. */
static void *transactor(void *arg)
{
	int n = (int)(intptr_t)arg, ok = 0;
	for (int i = 0; i < WRITES; i++) {
		struct db_conn *c = db_acquire(db);
		if (!c)
			continue;
		char code[32];
		snprintf(code, sizeof code, "X%02d%03d", n, i);
		int rc;
		if (db_begin(c) == DB_OK) {
			insert_org(c, code, "In a transaction", &rc);
			bool good = rc == DB_DONE;
			if (i % 3 == 1) { /* the same code again: a constraint fails */
				insert_org(c, code, "Twice", &rc);
				good = good && rc == DB_ERR_CONSTRAINT;
				db_rollback(c);
			} else if (i % 3 == 2) {
				db_rollback(c);
			} else if (good && db_commit(c) == DB_OK) {
				struct db_stmt *st = db_prepare(
				    c, "SELECT count(*) FROM organisations WHERE ods_code = $1");
				db_bind_text(st, 1, code);
				ok += db_step(st) == DB_ROW && db_col_int(st, 0) == 1;
				db_reset(st);
			}
			if (!good)
				ok -= 1000;
		}
		db_release(c);
	}
	return (void *)(intptr_t)ok;
}

static void test_concurrent_transactions(void **state)
{
	(void)state;
	int committed = WRITERS * ((WRITES + 2) / 3);
	assert_int_equal(run_writers(transactor), committed);
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st =
	    db_prepare(c, "SELECT count(*) FROM organisations WHERE ods_code LIKE 'X%'");
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int(st, 0), committed);
	db_reset(st);
	db_release(c);
}

/* One column of organisation id, read on c. */
static int64_t list_size_of(struct db_conn *c, int64_t id)
{
	struct db_stmt *st = db_prepare(c, "SELECT list_size FROM organisations WHERE id = $1");
	assert_non_null(st);
	db_bind_int(st, 1, id);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t v = db_col_int(st, 0);
	db_reset(st);
	return v;
}

static void set_list_size(struct db_conn *c, int64_t id, int64_t v)
{
	struct db_stmt *st = db_prepare(c, "UPDATE organisations SET list_size = $2 WHERE id = $1");
	assert_non_null(st);
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, v);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
}

/* Borrows two connections, a and b, and adds an organisation (list size 1000) on b. */
static int64_t two_and_an_org(struct db_conn **a, struct db_conn **b, const char *code)
{
	*a = db_acquire(db);
	*b = db_acquire(db);
	assert_non_null(*a);
	assert_non_null(*b);
	int rc;
	int64_t id = insert_org(*b, code, "Snapshot Surgery", &rc);
	assert_int_equal(rc, DB_DONE);
	return id;
}

/* A connection that has read, while another commits, can still write outside a
 * transaction (on SQLite its reads share a snapshot, which must end before it writes),
 * and then reads its own write and the other's; a transaction sees the latest data,
 * and so do reads after it. */
static void test_reads_then_writes_after_another_commits(void **state)
{
	(void)state;
	struct db_conn *a, *b;
	int64_t id = two_and_an_org(&a, &b, "T00300");
	assert_int_equal(list_size_of(a, id), 1000);

	assert_int_equal(db_begin(b), 0);
	struct db_stmt *st =
	    db_prepare(b, "UPDATE organisations SET name = 'Renamed' WHERE id = $1");
	db_bind_int(st, 1, id);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
	assert_int_equal(db_commit(b), 0);

	set_list_size(a, id, 2000); /* SQLITE_BUSY_SNAPSHOT if a kept reading its old snapshot */
	assert_int_equal(list_size_of(a, id), 2000);
	st = db_prepare(a, "SELECT name FROM organisations WHERE id = $1");
	db_bind_int(st, 1, id);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "Renamed");
	db_reset(st);

	set_list_size(b, id, 3000);
	assert_int_equal(db_begin(a), 0);
	assert_int_equal(list_size_of(a, id), 3000);
	set_list_size(a, id, 4000);
	assert_int_equal(db_commit(a), 0);
	assert_int_equal(list_size_of(a, id), 4000);
	assert_int_equal(list_size_of(b, id), 4000);

	/* Back in the pool and out again, a connection sees what was written meanwhile. */
	db_release(a);
	set_list_size(b, id, 5000);
	a = db_acquire(db);
	assert_int_equal(list_size_of(a, id), 5000);
	db_release(a);
	db_release(b);
}

/* A read on a connection between a write's first step and its reset (an INSERT …
 * RETURNING read row by row): the write still commits when reset, and others see it
 * and can write at once. */
static void test_read_while_a_write_returns_rows(void **state)
{
	(void)state;
	struct db_conn *a, *b;
	int64_t first = two_and_an_org(&a, &b, "T00310");
	struct db_stmt *st = db_prepare(
	    a,
	    "INSERT INTO organisations (ods_code, name, kind, list_size, created_at, updated_at) "
	    "VALUES ('T00311', 'During', 'practice', 1000, 0, 0) RETURNING id");
	assert_non_null(st);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t id = db_col_int(st, 0);
	assert_int_equal(list_size_of(a, first), 1000);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
	assert_int_equal(list_size_of(b, id), 1000);
	set_list_size(b, id, 7);
	assert_int_equal(list_size_of(a, id), 7);
	db_release(a);
	db_release(b);
}

static void test_newer_database_refused(void **state)
{
	(void)state;
	struct db_conn *c = db_acquire(db);
	struct db_stmt *st = db_prepare(
	    c,
	    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)");
	db_bind_int(st, 1, migrate_latest() + 1);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
	char err[512];
	assert_int_not_equal(migrate_check(db, err, sizeof err), 0);
	assert_non_null(strstr(err, "newer than this shoal"));
	int applied;
	assert_int_not_equal(migrate_apply(db, &applied, err, sizeof err), 0);
	st = db_prepare(c, "DELETE FROM schema_migrations WHERE version = $1");
	db_bind_int(st, 1, migrate_latest() + 1);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
	db_release(c);
	assert_int_equal(migrate_check(db, err, sizeof err), 0);
}

static void test_open_errors_are_one_line(void **state)
{
	(void)state;
	struct db *bad;
	char err[512];
	assert_int_equal(db_open("sqlite:/nonexistent-dir/x.db", 1, &bad, err, sizeof err),
	                 DB_ERR_CONN);
	assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(
	    db_open("postgresql:///nodb?host=/nonexistent-socket-dir", 1, &bad, err, sizeof err),
	    DB_ERR_CONN);
	assert_non_null(strstr(err, "PostgreSQL"));
	assert_null(strchr(err, '\n'));
	assert_int_not_equal(db_open("mysql://x", 1, &bad, err, sizeof err), 0);
	assert_non_null(strstr(err, "sqlite:PATH"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migrations_current_and_repeatable),
	    cmocka_unit_test(test_insert_select_constraint),
	    cmocka_unit_test(test_transaction_rolls_back),
	    cmocka_unit_test(test_pool_concurrent_writers),
	    cmocka_unit_test(test_concurrent_transactions),
	    cmocka_unit_test(test_reads_then_writes_after_another_commits),
	    cmocka_unit_test(test_read_while_a_write_returns_rows),
	    cmocka_unit_test(test_newer_database_refused),
	    cmocka_unit_test(test_open_errors_are_one_line),
	};
	return cmocka_run_group_tests_name("db", tests, setup, teardown);
}
