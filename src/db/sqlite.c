/*
 * sqlite.c — the SQLite backend of db.h: the embedded default.
 *
 * Each connection runs in WAL mode (readers never block the writer), with
 * foreign keys on, synchronous=FULL (a commit acknowledged to a user survives
 * a power cut, not only a crash) and a busy timeout so that concurrent writers
 * queue instead of failing. Prepared statements are cached per connection in a
 * small hash table keyed by the SQL text and reused.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "db/backend.h"

#define STMT_BUCKETS 128

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *st;
	char *sql;
	struct sqlite_stmt *next; /* bucket chain */
};

struct sqlite_conn {
	struct db_conn base;
	sqlite3 *db;
	struct sqlite_stmt *buckets[STMT_BUCKETS];
	char err[256];
};

static void set_err(struct sqlite_conn *c, const char *what)
{
	snprintf(c->err, sizeof c->err, "%s: %s", what, sqlite3_errmsg(c->db));
}

static int sqlite_connect(const char *path, struct db_conn **out, char *err, size_t errlen)
{
	struct sqlite_conn *c = xcalloc(1, sizeof *c);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_db_readonly(c->db, "main") == 1) {
		snprintf(err, errlen, "cannot open SQLite database %s: the file is read-only",
		         path);
		goto fail_quiet;
	}
	sqlite3_busy_timeout(c->db, 10000);
	if (sqlite3_exec(
	        c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	        NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	*out = &c->base;
	return DB_OK;
fail:
	snprintf(
	    err, errlen,
	    "cannot open SQLite database %s: %s (does its directory exist, and is it writable?)",
	    path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
fail_quiet:
	sqlite3_close(c->db);
	free(c);
	return DB_ERR_CONN;
}

static void sqlite_disconnect(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	for (int i = 0; i < STMT_BUCKETS; i++) {
		for (struct sqlite_stmt *s = c->buckets[i], *next; s; s = next) {
			next = s->next;
			sqlite3_finalize(s->st);
			free(s->sql);
			free(s);
		}
	}
	sqlite3_close(c->db);
	free(c);
}

static bool sqlite_alive(struct db_conn *base)
{
	(void)base;
	return true;
}

static unsigned hash_sql(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % STMT_BUCKETS;
}

static struct db_stmt *sqlite_prepare(struct db_conn *base, const char *sql)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	unsigned h = hash_sql(sql);
	for (struct sqlite_stmt *s = c->buckets[h]; s; s = s->next)
		if (!strcmp(s->sql, sql))
			return &s->base;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		set_err(c, "cannot prepare statement");
		return NULL;
	}
	struct sqlite_stmt *s = xcalloc(1, sizeof *s);
	s->base.conn = base;
	s->st = st;
	s->sql = xstrdup(sql);
	s->next = c->buckets[h];
	c->buckets[h] = s;
	return &s->base;
}

/* Parameters are written $1, $2 … so that PostgreSQL reads the same SQL;
 * SQLite numbers named parameters by first appearance, so look each one up. */
static int param_index(struct sqlite_stmt *s, int idx)
{
	char name[16];
	snprintf(name, sizeof name, "$%d", idx);
	int i = sqlite3_bind_parameter_index(s->st, name);
	return i ? i : -1;
}

static int bind_result(struct sqlite_stmt *s, int rc)
{
	if (rc == SQLITE_OK)
		return DB_OK;
	set_err((struct sqlite_conn *)s->base.conn, "cannot bind parameter");
	return DB_ERR;
}

static int sqlite_bind_int(struct db_stmt *base, int idx, int64_t v)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	int i = param_index(s, idx);
	return i < 0 ? DB_ERR : bind_result(s, sqlite3_bind_int64(s->st, i, v));
}

static int sqlite_bind_text(struct db_stmt *base, int idx, const char *v)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	int i = param_index(s, idx);
	return i < 0 ? DB_ERR
	             : bind_result(s, sqlite3_bind_text(s->st, i, v, -1, SQLITE_TRANSIENT));
}

static int sqlite_bind_null(struct db_stmt *base, int idx)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	int i = param_index(s, idx);
	return i < 0 ? DB_ERR : bind_result(s, sqlite3_bind_null(s->st, i));
}

static int sqlite_step(struct db_stmt *base)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	set_err((struct sqlite_conn *)base->conn, "statement failed");
	return (rc & 0xff) == SQLITE_CONSTRAINT ? DB_ERR_CONSTRAINT : DB_ERR;
}

static int64_t sqlite_col_int(struct db_stmt *base, int col)
{
	return sqlite3_column_int64(((struct sqlite_stmt *)base)->st, col);
}

static const char *sqlite_col_text(struct db_stmt *base, int col)
{
	return (const char *)sqlite3_column_text(((struct sqlite_stmt *)base)->st, col);
}

static bool sqlite_col_is_null(struct db_stmt *base, int col)
{
	return sqlite3_column_type(((struct sqlite_stmt *)base)->st, col) == SQLITE_NULL;
}

static void sqlite_reset(struct db_stmt *base)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
}

static int sqlite_exec(struct db_conn *base, const char *sql)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return DB_OK;
	set_err(c, "statement failed");
	return (rc & 0xff) == SQLITE_CONSTRAINT ? DB_ERR_CONSTRAINT : DB_ERR;
}

static const char *sqlite_errmsg(struct db_conn *base)
{
	return ((struct sqlite_conn *)base)->err;
}

const struct db_backend db_sqlite_backend = {
    .kind = DB_SQLITE,
    .connect = sqlite_connect,
    .disconnect = sqlite_disconnect,
    .alive = sqlite_alive,
    .prepare = sqlite_prepare,
    .bind_int = sqlite_bind_int,
    .bind_text = sqlite_bind_text,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .col_int = sqlite_col_int,
    .col_text = sqlite_col_text,
    .col_is_null = sqlite_col_is_null,
    .reset = sqlite_reset,
    .exec = sqlite_exec,
    .errmsg = sqlite_errmsg,
};
