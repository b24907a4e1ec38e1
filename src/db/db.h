/*
 * db.h — the one storage interface every feature uses.
 *
 * Two backends sit behind it: SQLite (the embedded default, sqlite.c) and
 * PostgreSQL (for many nodes, postgres.c). Features write one SQL text that
 * both engines accept, with numbered parameters $1, $2, … bound by position.
 * Statements are prepared once per connection and reused (the cache is keyed
 * by the SQL text), so a feature simply calls db_prepare each time.
 *
 * Ownership: struct db owns a fixed pool of connections; a thread borrows one
 * with db_acquire and gives it back with db_release. A struct db_stmt belongs
 * to its connection; text returned by db_col_text is valid until the next
 * db_step or db_reset on that statement.
 *
 * Reads: on SQLite, a borrowed connection's reads between its writes see one snapshot
 * (it ends at a write, db_begin and db_release), so hold a connection only while the
 * request needs it; a write, or a transaction, always sees and changes the latest data.
 *
 * Typical use:
 *     struct db_conn *c = db_acquire(db);
 *     struct db_stmt *st = db_prepare(c, "SELECT name FROM organisations WHERE id = $1");
 *     db_bind_int(st, 1, id);
 *     while (db_step(st) == DB_ROW) puts(db_col_text(st, 0));
 *     db_reset(st);
 *     db_release(c);
 */
#ifndef SHOAL_DB_DB_H
#define SHOAL_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_rc {
	DB_OK = 0,
	DB_ROW = 1,             /* db_step: a row is ready */
	DB_DONE = 2,            /* db_step: no more rows */
	DB_ERR = -1,            /* any other failure; db_errmsg says what */
	DB_ERR_CONSTRAINT = -2, /* a UNIQUE, FOREIGN KEY, CHECK or NOT NULL constraint failed */
	DB_ERR_CONN = -3,       /* the database cannot be reached */
	DB_ERR_TIMEOUT = -4,    /* the statement ran past its time limit (PostgreSQL) */
};

enum db_kind { DB_SQLITE, DB_POSTGRES };

struct db;
struct db_conn;
struct db_stmt;

/**
 * Opens a database named by url: "sqlite:PATH" or "postgresql://…" (also
 * "postgres://…"). Connects one connection at once so that a bad path or an
 * unreachable server is reported here, in err, as one line. pool_size is the
 * most connections held open. Returns 0 or a negative enum db_rc.
 */
int db_open(const char *url, unsigned pool_size, struct db **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/** Closes every connection and frees the pool. */
void db_close(struct db *db);
/** Which engine this is, for the few places SQL must differ (see migrations). */
enum db_kind db_kind(const struct db *db);

/**
 * Borrows a connection, waiting while all are in use. Returns NULL only when
 * the database cannot be reached (a connection was lost and reconnecting failed).
 */
struct db_conn *db_acquire(struct db *db) __attribute__((warn_unused_result));
/** Gives a connection back; an open transaction is rolled back first. */
void db_release(struct db_conn *c);

/** Pool figures for /metrics. */
struct db_pool_stats {
	unsigned size;     /* connections the pool may hold */
	unsigned in_use;   /* borrowed right now */
	uint64_t acquired; /* total borrows */
	uint64_t waited;   /* borrows that had to wait for a free connection */
};
void db_pool_stats(struct db *db, struct db_pool_stats *out);

/** Prepares (or finds in the connection's cache) a statement. NULL on error. */
struct db_stmt *db_prepare(struct db_conn *c, const char *sql);
/** Binds parameter $idx (1-based). */
int db_bind_int(struct db_stmt *st, int idx, int64_t v);
/** Binds text; NULL binds SQL NULL. The text is copied. */
int db_bind_text(struct db_stmt *st, int idx, const char *s);
/** Binds SQL NULL. */
int db_bind_null(struct db_stmt *st, int idx);
/** Binds n bytes as a BLOB (bytea on PostgreSQL). Not copied, so that a large
 * file is held once: p must stay valid until db_reset. */
int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n);
/** Runs the statement, or moves to its next row: DB_ROW, DB_DONE, or < 0. */
int db_step(struct db_stmt *st) __attribute__((warn_unused_result));
/** Column col (0-based) of the current row as an integer (0 for NULL). */
int64_t db_col_int(struct db_stmt *st, int col);
/** Column col as text; NULL for SQL NULL. */
const char *db_col_text(struct db_stmt *st, int col);
/** Column col as bytes (a BLOB or bytea), their count in *n; NULL for SQL NULL.
 * Valid until the next db_step or db_reset on that statement. */
const void *db_col_blob(struct db_stmt *st, int col, size_t *n);
/** Whether column col is SQL NULL. */
bool db_col_is_null(struct db_stmt *st, int col);
/** Ends this use of the statement: drops the result and the bindings. */
void db_reset(struct db_stmt *st);

/** Runs a script of one or more statements without parameters (migrations, BEGIN…). */
int db_exec(struct db_conn *c, const char *sql) __attribute__((warn_unused_result));
/** Transactions. db_begin takes the write lock at once on SQLite (BEGIN IMMEDIATE). */
int db_begin(struct db_conn *c) __attribute__((warn_unused_result));
int db_commit(struct db_conn *c) __attribute__((warn_unused_result));
void db_rollback(struct db_conn *c);
/** Whether a transaction is open on this connection (db_begin without commit or rollback). */
bool db_in_transaction(const struct db_conn *c);
/** The last error on this connection, one line. */
const char *db_errmsg(struct db_conn *c);
/** The engine behind a connection. */
enum db_kind db_conn_kind(const struct db_conn *c);

/** Whether the database answers a trivial query (for /healthz). */
bool db_ping(struct db *db);

#endif
