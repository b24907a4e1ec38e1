/*
 * db.c — the connection pool and the engine-neutral half of db.h.
 *
 * The pool is fixed-size and lazily filled: a connection is opened the first
 * time every open one is busy, up to pool_size, and then kept. A borrower that
 * finds all of them busy waits on a condition variable. Each connection is used
 * by one thread at a time, so the backends need no locking of their own.
 */
#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "db/backend.h"

struct db {
	const struct db_backend *be;
	char *target;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned size;   /* most connections */
	unsigned opened; /* connections that exist (free or borrowed) */
	unsigned in_use;
	struct db_conn **idle; /* a stack of free connections */
	unsigned n_idle;
	uint64_t acquired, waited;
};

int db_open(const char *url, unsigned pool_size, struct db **out, char *err, size_t errlen)
{
	const struct db_backend *be;
	const char *target;
	if (!strncmp(url, "sqlite:", 7)) {
		be = &db_sqlite_backend;
		target = url + 7;
	} else if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
		be = &db_postgres_backend;
		target = url;
	} else {
		snprintf(err, errlen,
		         "bad database URL \"%.80s\": expected sqlite:PATH or postgresql://…", url);
		return DB_ERR;
	}
	struct db_conn *first;
	int rc = be->connect(target, &first, err, errlen);
	if (rc)
		return rc;
	struct db *db = xcalloc(1, sizeof *db);
	db->be = be;
	db->target = xstrdup(target);
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->freed, NULL);
	db->size = pool_size ? pool_size : 1;
	db->idle = xcalloc(db->size, sizeof *db->idle);
	first->be = be;
	first->pool = db;
	db->idle[db->n_idle++] = first;
	db->opened = 1;
	*out = db;
	return DB_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	/* Every connection must have been given back by now. */
	for (unsigned i = 0; i < db->n_idle; i++)
		db->be->disconnect(db->idle[i]);
	pthread_mutex_destroy(&db->lock);
	pthread_cond_destroy(&db->freed);
	free(db->idle);
	free(db->target);
	free(db);
}

enum db_kind db_kind(const struct db *db)
{
	return db->be->kind;
}

enum db_kind db_conn_kind(const struct db_conn *c)
{
	return c->be->kind;
}

struct db_conn *db_acquire(struct db *db)
{
	struct db_conn *c = NULL;
	pthread_mutex_lock(&db->lock);
	db->acquired++;
	if (!db->n_idle && db->opened == db->size) {
		db->waited++;
		while (!db->n_idle)
			pthread_cond_wait(&db->freed, &db->lock);
	}
	if (db->n_idle) {
		c = db->idle[--db->n_idle];
	} else {
		db->opened++; /* reserve the slot, then connect without holding the lock */
		pthread_mutex_unlock(&db->lock);
		char err[256];
		if (db->be->connect(db->target, &c, err, sizeof err)) {
			pthread_mutex_lock(&db->lock);
			db->opened--;
			pthread_cond_signal(&db->freed);
			pthread_mutex_unlock(&db->lock);
			return NULL;
		}
		c->be = db->be;
		c->pool = db;
		pthread_mutex_lock(&db->lock);
	}
	db->in_use++;
	pthread_mutex_unlock(&db->lock);
	if (!c->be->alive(c)) {
		db_release(c);
		return NULL;
	}
	return c;
}

void db_release(struct db_conn *c)
{
	if (!c)
		return;
	if (c->in_transaction)
		db_rollback(c);
	if (c->be->release)
		c->be->release(c);
	struct db *db = c->pool;
	pthread_mutex_lock(&db->lock);
	db->idle[db->n_idle++] = c;
	db->in_use--;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->lock);
}

void db_pool_stats(struct db *db, struct db_pool_stats *out)
{
	pthread_mutex_lock(&db->lock);
	out->size = db->size;
	out->in_use = db->in_use;
	out->acquired = db->acquired;
	out->waited = db->waited;
	pthread_mutex_unlock(&db->lock);
}

struct db_stmt *db_prepare(struct db_conn *c, const char *sql)
{
	return c->be->prepare(c, sql);
}

int db_bind_int(struct db_stmt *st, int idx, int64_t v)
{
	return st->conn->be->bind_int(st, idx, v);
}

int db_bind_text(struct db_stmt *st, int idx, const char *s)
{
	return s ? st->conn->be->bind_text(st, idx, s) : st->conn->be->bind_null(st, idx);
}

int db_bind_null(struct db_stmt *st, int idx)
{
	return st->conn->be->bind_null(st, idx);
}

int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n)
{
	return st->conn->be->bind_blob(st, idx, p ? p : "", n);
}

const void *db_col_blob(struct db_stmt *st, int col, size_t *n)
{
	*n = 0;
	return st->conn->be->col_blob(st, col, n);
}

int db_step(struct db_stmt *st)
{
	return st->conn->be->step(st);
}

int64_t db_col_int(struct db_stmt *st, int col)
{
	return st->conn->be->col_int(st, col);
}

const char *db_col_text(struct db_stmt *st, int col)
{
	return st->conn->be->col_text(st, col);
}

bool db_col_is_null(struct db_stmt *st, int col)
{
	return st->conn->be->col_is_null(st, col);
}

void db_reset(struct db_stmt *st)
{
	st->conn->be->reset(st);
}

int db_exec(struct db_conn *c, const char *sql)
{
	return c->be->exec(c, sql);
}

int db_begin(struct db_conn *c)
{
	int rc = c->be->begin ? c->be->begin(c) : c->be->exec(c, "BEGIN");
	if (rc == DB_OK)
		c->in_transaction = 1;
	return rc;
}

int db_commit(struct db_conn *c)
{
	int rc = c->be->commit ? c->be->commit(c) : c->be->exec(c, "COMMIT");
	if (rc == DB_OK)
		c->in_transaction = 0;
	else
		db_rollback(c);
	return rc;
}

void db_rollback(struct db_conn *c)
{
	if (c->be->rollback) {
		c->be->rollback(c);
	} else {
		int ignored = c->be->exec(c, "ROLLBACK");
		(void)ignored;
	}
	c->in_transaction = 0;
}

bool db_in_transaction(const struct db_conn *c)
{
	return c->in_transaction;
}

const char *db_errmsg(struct db_conn *c)
{
	return c->be->errmsg(c);
}

bool db_ping(struct db *db)
{
	struct db_conn *c = db_acquire(db);
	if (!c)
		return false;
	bool ok = false;
	struct db_stmt *st = db_prepare(c, "SELECT 1");
	if (st) {
		ok = db_step(st) == DB_ROW && db_col_int(st, 0) == 1;
		db_reset(st);
	}
	db_release(c);
	return ok;
}
