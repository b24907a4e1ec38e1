/*
 * backend.h — what an engine (sqlite.c, postgres.c) provides to db.c.
 *
 * db.c owns the pool and the public functions; each backend implements this
 * table. A backend's connection struct begins with struct db_conn, and its
 * statement struct with struct db_stmt, so db.c can pass them back untouched.
 * Not for use outside src/db/.
 */
#ifndef SHOAL_DB_BACKEND_H
#define SHOAL_DB_BACKEND_H

#include "db/db.h"

struct db_backend {
	enum db_kind kind;
	/* Opens one connection. target is the url without "sqlite:" for SQLite,
	 * the whole url for PostgreSQL. On failure writes one line to err. */
	int (*connect)(const char *target, struct db_conn **out, char *err, size_t errlen);
	void (*disconnect)(struct db_conn *c);
	/* Whether the connection is still usable; may try to reconnect once. */
	bool (*alive)(struct db_conn *c);
	/* Called as the connection goes back to the pool (NULL: nothing to do). */
	void (*release)(struct db_conn *c);
	struct db_stmt *(*prepare)(struct db_conn *c, const char *sql);
	int (*bind_int)(struct db_stmt *st, int idx, int64_t v);
	int (*bind_text)(struct db_stmt *st, int idx, const char *s);
	int (*bind_null)(struct db_stmt *st, int idx);
	int (*step)(struct db_stmt *st);
	int64_t (*col_int)(struct db_stmt *st, int col);
	const char *(*col_text)(struct db_stmt *st, int col);
	bool (*col_is_null)(struct db_stmt *st, int col);
	void (*reset)(struct db_stmt *st);
	int (*exec)(struct db_conn *c, const char *sql);
	const char *(*errmsg)(struct db_conn *c);
	int (*bind_blob)(struct db_stmt *st, int idx, const void *p, size_t n);
	const void *(*col_blob)(struct db_stmt *st, int col, size_t *n);
	/* Transactions, when the engine does more than BEGIN, COMMIT and ROLLBACK
	 * (SQLite's batches of transactions on one writer, sqlite.c); NULL otherwise. */
	int (*begin)(struct db_conn *c);
	int (*commit)(struct db_conn *c);
	void (*rollback)(struct db_conn *c);
};

struct db_conn {
	const struct db_backend *be;
	struct db *pool;
	int in_transaction; /* set by db_begin, cleared by commit/rollback */
};

struct db_stmt {
	struct db_conn *conn;
};

extern const struct db_backend db_sqlite_backend;
extern const struct db_backend db_postgres_backend;

#endif
