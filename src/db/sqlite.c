/*
 * sqlite.c — the SQLite backend of db.h: the embedded default.
 *
 * Each connection runs in WAL mode (readers never block the writer), with
 * foreign keys on and a busy timeout so that concurrent writers queue instead of
 * failing. Prepared statements are cached per connection in a small hash table
 * keyed by the SQL text and reused.
 *
 * Durability, with group commit: a write acknowledged to a user must survive a
 * power cut, not only a crash. synchronous=FULL does that by flushing the WAL to
 * disk inside every COMMIT, one flush per write, each taking the write lock with
 * it: about 200 writes a second on a disk that flushes in 5 ms. Instead the
 * connections run synchronous=NORMAL (COMMIT writes its frames to the WAL without
 * flushing), and a commit that changed anything returns only after a flush of the
 * WAL that began after it (durable() below). One flush covers every commit made
 * before it started, so concurrent writers share flushes, and the write lock is
 * never held during one. SQLite replays the WAL's committed frames after a crash,
 * so what was flushed is there.
 *
 * Group commit of write transactions: every db_begin of this process runs on one
 * writer connection per database file, one transaction at a time, each inside a
 * SAVEPOINT of a shared outer transaction (a batch). A transaction that ends while
 * others wait for their turn leaves the batch open for them; the last one commits
 * it for all, flushes, and only then wakes them: each db_commit returns once its
 * batch is committed and flushed. So N concurrent writes cost one COMMIT (each page written to the
 * WAL once) and, because only the writer writes, its page cache stays warm: a connection's cache is
 * emptied whenever another connection has written, and that re-reading was most of a reply's time
 * with every worker writing on its own connection. Reads outside a transaction stay on the worker's
 * own connection.
 *
 * Reads share a snapshot: the first query on a pooled connection with no transaction open
 * opens a read transaction (BEGIN, snapshot_for), and it lasts until the connection runs
 * anything else, begins a transaction, or goes back to the pool (snapshot_end). Each
 * statement in autocommit mode took and released WAL read locks of its own (fcntl calls
 * and a mutex shared by every connection), about 7 times a thread page; in one
 * transaction the page went from 0.39x to 0.42x nginx's rate under load, and it is one
 * consistent picture of the database. Ending the snapshot before any write keeps a write
 * from failing on a stale snapshot (SQLITE_BUSY_SNAPSHOT) and lets a request read its own
 * writes.
 */
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "db/backend.h"

#define STMT_BUCKETS 128
#define MAX_PARAMS   64 /* $1 … $64 */

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *st;
	char *sql;
	unsigned char param[MAX_PARAMS + 1]; /* SQLite's index of $n, 0 when absent */
	struct sqlite_stmt *next;            /* bucket chain */
};

/* The WAL flushes of one database file, shared by all its connections. */
struct wal_sync {
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t flushed;
	uint64_t requested; /* commits that asked for a flush */
	uint64_t done;      /* commits covered by a finished flush */
	bool flushing;
	/* Writers waiting for the write lock (busy() below) sleep on this, and a
	 * connection that may have released the lock wakes them. */
	pthread_cond_t released;
	struct writer *writer; /* made by the first db_begin */
	unsigned conns;        /* open connections of this file, the writer's apart */
	struct wal_sync *next;
};

/* A transaction that has ended and waits for its batch's COMMIT. */
struct batch_member {
	int rc;
	bool done;
	char err[256];
	struct batch_member *next;
};

/* The writer connection of one database file, and its batch (see the top). */
struct writer {
	pthread_mutex_t turn; /* held by the transaction running on conn */
	struct sqlite_conn *conn;
	bool open; /* conn's outer transaction is open (only the turn's holder reads it) */
	/* Under wal_sync.lock: */
	unsigned waiting;              /* threads in db_begin waiting for the turn */
	unsigned members;              /* ended transactions in the open batch */
	struct batch_member *finished; /* those of them waiting for its COMMIT */
	pthread_cond_t committed;
};

/* Most transactions in one batch: it then commits, and other writers (another
 * process, a write outside a transaction) get their chance at the lock. */
#define BATCH_MAX 64

struct sqlite_conn {
	struct db_conn base;
	sqlite3 *db;
	struct wal_sync *sync;
	/* While this connection's transaction runs: the writer, where its statements go. */
	struct sqlite_conn *redirect;
	bool is_writer;
	sqlite3_int64 changes;        /* sqlite3_total_changes64 when last made durable */
	sqlite3_stmt *begin, *commit; /* a pooled connection's snapshot (see the top) */
	bool snapshot;                /* the snapshot's read transaction is open */
	struct sqlite_stmt *buckets[STMT_BUCKETS];
	/* The statement last found for an SQL text at this address (a string literal,
	 * nearly always): checked with strcmp, so a reused buffer is never mistaken. */
	struct sqlite_stmt *by_address[STMT_BUCKETS];
	char err[256];
};

/* One wal_sync per database path for the life of the process (a handful at most). */
static struct wal_sync *wal_syncs;
static pthread_mutex_t wal_syncs_lock = PTHREAD_MUTEX_INITIALIZER;

static struct wal_sync *wal_sync_for(const char *path)
{
	pthread_mutex_lock(&wal_syncs_lock);
	struct wal_sync *w = wal_syncs;
	while (w && strcmp(w->path, path))
		w = w->next;
	if (!w) {
		w = xcalloc(1, sizeof *w);
		w->path = xstrdup(path);
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->flushed, NULL);
		pthread_cond_init(&w->released, NULL);
		w->next = wal_syncs;
		wal_syncs = w;
	}
	pthread_mutex_unlock(&wal_syncs_lock);
	return w;
}

/* Flushes the WAL file to disk through this connection's own handle on it. */
static int flush_wal(struct sqlite_conn *c)
{
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) == SQLITE_OK &&
	    f && f->pMethods)
		return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) == SQLITE_OK ? 0 : -1;
	/* No WAL handle open on this connection: flush the file by name. */
	char wal[4096];
	snprintf(wal, sizeof wal, "%s-wal", c->sync->path);
	int fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * The busy handler: SQLite calls it when the write lock (or, rarely, a
 * checkpoint) is held by another connection. SQLite's own busy_timeout sleeps
 * 1, 2, 5, 10 … 100 ms between tries, so under concurrent writes a request
 * could sleep for many milliseconds after the lock was already free (posts
 * under load kept the server 0.4 of a core busy at 127 a second). Instead a
 * waiter sleeps until a connection of this
 * process ends a write (released()), or at most 2 ms for a writer in another
 * process (the command line), and gives up after 10 s like busy_timeout did.
 */
#define BUSY_WAIT_NS 2000000L
#define BUSY_GIVE_UP 5000 /* tries of at most 2 ms: 10 s */

static int busy(void *arg, int tries)
{
	struct wal_sync *w = arg;
	if (tries >= BUSY_GIVE_UP)
		return 0;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += BUSY_WAIT_NS;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	pthread_cond_timedwait(&w->released, &w->lock, &until);
	pthread_mutex_unlock(&w->lock);
	return 1;
}

/* This connection may just have let go of the write lock: wake the waiters. */
static void released(struct sqlite_conn *c)
{
	pthread_mutex_lock(&c->sync->lock);
	pthread_cond_broadcast(&c->sync->released);
	pthread_mutex_unlock(&c->sync->lock);
}

/*
 * Returns once a WAL flush that began after this call has finished (group
 * commit): the first caller to arrive flushes, for itself and everyone who
 * committed before the flush began; the others wait for that flush or the next.
 * c is only the handle to flush through.
 */
static int flush_after_commit(struct sqlite_conn *c)
{
	struct wal_sync *w = c->sync;
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	uint64_t mine = ++w->requested;
	while (w->done < mine && !rc) {
		if (w->flushing) {
			pthread_cond_wait(&w->flushed, &w->lock);
			continue;
		}
		w->flushing = true;
		uint64_t upto = w->requested;
		pthread_mutex_unlock(&w->lock);
		rc = flush_wal(c);
		pthread_mutex_lock(&w->lock);
		w->flushing = false;
		if (!rc && upto > w->done)
			w->done = upto;
		pthread_cond_broadcast(&w->flushed);
	}
	pthread_mutex_unlock(&w->lock);
	if (rc) {
		snprintf(c->err, sizeof c->err, "cannot flush the write-ahead log to disk");
		return DB_ERR;
	}
	return DB_OK;
}

/* A write outside a transaction (on the worker's own connection) returns once
 * it is flushed: only when the connection's commits changed something. */
static int durable(struct sqlite_conn *c)
{
	if (c->is_writer || !sqlite3_get_autocommit(c->db))
		return DB_OK;
	sqlite3_int64 changes = sqlite3_total_changes64(c->db);
	if (changes == c->changes)
		return DB_OK;
	released(c);
	if (flush_after_commit(c))
		return DB_ERR;
	c->changes = changes;
	return DB_OK;
}

static void set_err(struct sqlite_conn *c, const char *what)
{
	snprintf(c->err, sizeof c->err, "%s: %s", what, sqlite3_errmsg(c->db));
}

/* Before SQLite's first use: no memory statistics. Keeping them takes one mutex
 * around every allocation SQLite makes, in every thread, and under load the
 * workers queued on it (futex waits were a tenth of a thread page's time). */
static void configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlite_connect(const char *path, struct db_conn **out, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, configure);
	struct sqlite_conn *c = xcalloc(1, sizeof *c);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_db_readonly(c->db, "main") == 1) {
		snprintf(err, errlen, "cannot open SQLite database %s: the file is read-only",
		         path);
		goto fail_quiet;
	}
	c->sync = wal_sync_for(path);
	sqlite3_busy_handler(c->db, busy, c->sync);
	/* synchronous=NORMAL: durable() flushes instead, for groups of commits.
	 * cache_size: each pooled connection keeps its own page cache, which fills to its
	 * size and stays full (a search alone fills it), so SQLite's 2 MB default came to
	 * 20 MB across a pool of ten. 512 KB holds a request's pages; the rest come from
	 * the kernel's page cache, one pread each. The writer keeps the default (writer_of). */
	if (sqlite3_exec(c->db,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
	                 "foreign_keys=ON; PRAGMA cache_size=-512;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(c->db, "BEGIN", -1, &c->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "COMMIT", -1, &c->commit, NULL) != SQLITE_OK)
		goto fail;
	c->changes = sqlite3_total_changes64(c->db);
	c->base.be = &db_sqlite_backend;
	pthread_mutex_lock(&c->sync->lock);
	c->sync->conns++;
	pthread_mutex_unlock(&c->sync->lock);
	*out = &c->base;
	return DB_OK;
fail:
	snprintf(
	    err, errlen,
	    "cannot open SQLite database %s: %s (does its directory exist, and is it writable?)",
	    path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
fail_quiet:
	sqlite3_finalize(c->begin);
	sqlite3_finalize(c->commit);
	sqlite3_close(c->db);
	free(c);
	return DB_ERR_CONN;
}

static void close_conn(struct sqlite_conn *c)
{
	for (int i = 0; i < STMT_BUCKETS; i++) {
		for (struct sqlite_stmt *s = c->buckets[i], *next; s; s = next) {
			next = s->next;
			sqlite3_finalize(s->st);
			free(s->sql);
			free(s);
		}
	}
	sqlite3_finalize(c->begin);
	sqlite3_finalize(c->commit);
	sqlite3_close(c->db);
	free(c);
}

/* The last connection of a file closes its writer too, so that SQLite's last
 * close checkpoints the WAL as it would without one. */
static void sqlite_disconnect(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	struct wal_sync *w = c->sync;
	struct writer *last = NULL;
	pthread_mutex_lock(&w->lock);
	if (--w->conns == 0) {
		last = w->writer;
		w->writer = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	close_conn(c);
	if (last) {
		close_conn(last->conn);
		pthread_mutex_destroy(&last->turn);
		pthread_cond_destroy(&last->committed);
		free(last);
	}
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
	if (c->redirect)
		c = c->redirect; /* inside a transaction: on the writer */
	/* Hashing the text byte by byte was a tenth of a thread page's instructions
	 * (a dozen statements of 500 bytes); the address finds it in a few. */
	struct sqlite_stmt **slot = &c->by_address[((uintptr_t)sql >> 3) % STMT_BUCKETS];
	if (*slot && !strcmp((*slot)->sql, sql))
		return &(*slot)->base;
	unsigned h = hash_sql(sql);
	for (struct sqlite_stmt *s = c->buckets[h]; s; s = s->next)
		if (!strcmp(s->sql, sql)) {
			*slot = s;
			return &s->base;
		}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		set_err(c, "cannot prepare statement");
		return NULL;
	}
	struct sqlite_stmt *s = xcalloc(1, sizeof *s);
	/* Parameters are written $1, $2 … so that PostgreSQL reads the same SQL;
	 * SQLite numbers them by first appearance: map them once, here. */
	for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		int n = name && name[0] == '$' ? atoi(name + 1) : 0;
		if (n < 1 || n > MAX_PARAMS || i > 255) {
			snprintf(c->err, sizeof c->err, "cannot prepare statement: parameter %s",
			         name ? name : "?");
			sqlite3_finalize(st);
			free(s);
			return NULL;
		}
		s->param[n] = (unsigned char)i;
	}
	s->base.conn = &c->base;
	s->st = st;
	s->sql = xstrdup(sql);
	s->next = c->buckets[h];
	c->buckets[h] = s;
	*slot = s;
	return &s->base;
}

/* SQLite's index of parameter $idx, or -1 when the statement has none. */
static int param_index(struct sqlite_stmt *s, int idx)
{
	return idx >= 1 && idx <= MAX_PARAMS && s->param[idx] ? s->param[idx] : -1;
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

static int sqlite_bind_blob(struct db_stmt *base, int idx, const void *p, size_t n)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	int i = param_index(s, idx);
	/* SQLITE_STATIC: the caller keeps p until db_reset (db.h), so no copy. */
	return i < 0 ? DB_ERR : bind_result(s, sqlite3_bind_blob64(s->st, i, p, n, SQLITE_STATIC));
}

static const void *sqlite_col_blob(struct db_stmt *base, int col, size_t *n)
{
	sqlite3_stmt *st = ((struct sqlite_stmt *)base)->st;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(st, col);
	*n = (size_t)sqlite3_column_bytes(st, col);
	return p ? p : "";
}

/* The writer this thread's transaction runs on, while it runs. */
static _Thread_local struct sqlite_conn *my_turn;

/*
 * Whether statement s may run now. A statement prepared before db_begin would
 * run outside the transaction (on the worker's own connection, which would then
 * wait for the writer's lock held by its own thread), and one prepared inside it
 * belongs to the writer, which another thread may be using once it has ended.
 * Both are mistakes in the calling code: said loudly, and in debug builds fatal.
 */
static bool in_place(struct sqlite_stmt *s)
{
	struct sqlite_conn *c = (struct sqlite_conn *)s->base.conn;
	if (c->is_writer ? my_turn == c : !c->redirect)
		return true;
	snprintf(c->err, sizeof c->err, "statement used %s its transaction: %.150s",
	         c->is_writer ? "after" : "inside, but prepared before,", s->sql);
	log_error("%s", c->err);
	assert(!"a statement used across db_begin or db_commit");
	return false;
}

/* Ends a pooled connection's snapshot (see the top), if it has one. Statements still
 * running keep their read locks until they are reset; SQLite may also have ended the
 * transaction itself (after an I/O error), which leaves nothing to commit. */
static void snapshot_end(struct sqlite_conn *c)
{
	if (!c->snapshot)
		return;
	c->snapshot = false;
	if (sqlite3_get_autocommit(c->db))
		return;
	if (sqlite3_step(c->commit) != SQLITE_DONE)
		log_error("ending a read snapshot: %s", sqlite3_errmsg(c->db));
	sqlite3_reset(c->commit);
}

/* Before a statement's first step on a pooled connection: a query opens the snapshot
 * when no transaction is open (not even a write's, stepped and not yet reset, which
 * BEGIN would swallow); anything else ends it. Only statements that return rows open
 * it, since SQLite counts BEGIN, SAVEPOINT, ATTACH and some PRAGMAs as read-only. */
static void snapshot_for(struct sqlite_conn *c, sqlite3_stmt *st)
{
	if (c->is_writer || sqlite3_stmt_busy(st))
		return;
	if (!sqlite3_stmt_readonly(st) || !sqlite3_column_count(st)) {
		snapshot_end(c);
	} else if (!c->snapshot && sqlite3_txn_state(c->db, NULL) == SQLITE_TXN_NONE) {
		/* Should BEGIN fail, the statement runs in autocommit as it would have. */
		c->snapshot = sqlite3_step(c->begin) == SQLITE_DONE;
		sqlite3_reset(c->begin);
	}
}

static void sqlite_release(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	snapshot_end(c);
	/* The pool must never hand out a connection with a transaction open (a write
	 * left stepped and not reset, say): it would hold the write lock from everyone. */
	if (!c->is_writer && !sqlite3_get_autocommit(c->db)) {
		log_error("a connection went back to the pool inside a transaction: rolled back");
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
}

static int sqlite_step(struct db_stmt *base)
{
	struct sqlite_stmt *s = (struct sqlite_stmt *)base;
	if (!in_place(s))
		return DB_ERR;
	snapshot_for((struct sqlite_conn *)base->conn, s->st);
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return durable((struct sqlite_conn *)base->conn) ? DB_ERR : DB_DONE;
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
	if (!in_place(s))
		return;
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	/* An INSERT … RETURNING outside a transaction commits here, when reset before
	 * its last row. db_reset cannot fail, so a failed flush is only logged; the
	 * next write on this connection flushes again. */
	if (durable((struct sqlite_conn *)base->conn))
		log_error("%s", ((struct sqlite_conn *)base->conn)->err);
}

static int sqlite_exec(struct db_conn *base, const char *sql)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	if (c->redirect) {
		if (sqlite3_exec(c->redirect->db, sql, NULL, NULL, NULL) == SQLITE_OK)
			return DB_OK;
		snprintf(c->err, sizeof c->err, "statement failed: %s",
		         sqlite3_errmsg(c->redirect->db));
		return (sqlite3_extended_errcode(c->redirect->db) & 0xff) == SQLITE_CONSTRAINT
		           ? DB_ERR_CONSTRAINT
		           : DB_ERR;
	}
	snapshot_end(c); /* sql may write */
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	if (sqlite3_get_autocommit(c->db))
		released(c); /* a COMMIT or ROLLBACK, or a write on its own */
	if (rc == SQLITE_OK)
		return durable(c);
	set_err(c, "statement failed");
	return (rc & 0xff) == SQLITE_CONSTRAINT ? DB_ERR_CONSTRAINT : DB_ERR;
}

static const char *sqlite_errmsg(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	return c->redirect ? c->redirect->err : c->err;
}

/* ------------------------------------------------------------ transactions */

/* The writer of c's file, opened by the first transaction. */
static struct writer *writer_of(struct sqlite_conn *c)
{
	struct wal_sync *w = c->sync;
	pthread_mutex_lock(&w->lock);
	struct writer *wr = w->writer;
	pthread_mutex_unlock(&w->lock);
	if (wr)
		return wr;
	struct db_conn *conn;
	char err[256];
	if (sqlite_connect(w->path, &conn, err, sizeof err)) {
		snprintf(c->err, sizeof c->err, "%s", err);
		return NULL;
	}
	wr = xcalloc(1, sizeof *wr);
	wr->conn = (struct sqlite_conn *)conn;
	wr->conn->is_writer = true;
	/* Every write's pages pass through the one writer, so its cache earns SQLite's
	 * default size. */
	sqlite3_exec(wr->conn->db, "PRAGMA cache_size=-2000", NULL, NULL, NULL);
	pthread_mutex_init(&wr->turn, NULL);
	pthread_cond_init(&wr->committed, NULL);
	pthread_mutex_lock(&w->lock);
	w->conns--; /* the writer is not one of the pool's */
	struct writer *raced = w->writer;
	if (!raced)
		w->writer = wr;
	pthread_mutex_unlock(&w->lock);
	if (raced) { /* another thread opened one first */
		close_conn(wr->conn);
		pthread_mutex_destroy(&wr->turn);
		pthread_cond_destroy(&wr->committed);
		free(wr);
		wr = raced;
	}
	return wr;
}

/* Runs sql on the writer, its error into c's message. */
static int on_writer(struct sqlite_conn *c, struct sqlite_conn *wc, const char *sql)
{
	if (sqlite3_exec(wc->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return DB_OK;
	snprintf(c->err, sizeof c->err, "%s failed: %s", sql, sqlite3_errmsg(wc->db));
	return DB_ERR;
}

/*
 * Ends the turn of the transaction that ran on the writer, its savepoint already
 * released or rolled back. If others wait for their turn, and the batch is not
 * full, the batch stays open for them; otherwise this thread commits it, for
 * everyone in it. m, for a transaction that is to be committed, waits for that
 * COMMIT and a flush after it, and returns their result.
 */
static int end_turn(struct sqlite_conn *c, struct writer *wr, struct batch_member *m)
{
	struct wal_sync *w = c->sync;
	struct sqlite_conn *wc = wr->conn;
	my_turn = NULL;
	c->redirect = NULL;
	/* An error that SQLite answers by rolling back the whole transaction (a full
	 * disk, say) took the batch's earlier transactions with it. */
	bool lost = wr->open && sqlite3_get_autocommit(wc->db);
	pthread_mutex_lock(&w->lock);
	if (m) {
		m->next = wr->finished;
		wr->finished = m;
		wr->members++;
	}
	if (!lost && wr->open && wr->waiting && wr->members < BATCH_MAX) {
		pthread_mutex_unlock(&wr->turn);
	} else {
		struct batch_member *list = wr->finished;
		wr->finished = NULL;
		wr->members = 0;
		pthread_mutex_unlock(&w->lock);
		int rc = DB_OK;
		char err[sizeof wc->err] = "";
		if (lost) {
			rc = DB_ERR;
			snprintf(err, sizeof err,
			         "the transaction was rolled back after an error: %s",
			         sqlite3_errmsg(wc->db));
		} else if (wr->open && sqlite3_exec(wc->db, "COMMIT", NULL, NULL, NULL)) {
			rc = DB_ERR;
			snprintf(err, sizeof err, "cannot commit: %s", sqlite3_errmsg(wc->db));
			sqlite3_exec(wc->db, "ROLLBACK", NULL, NULL, NULL);
		}
		wr->open = false;
		/* The next batch may run while this one's flush does. */
		pthread_mutex_unlock(&wr->turn);
		released(c); /* writers on other connections */
		/* One flush for the batch, made here before its members wake: each waking
		 * only to wait again for the flush cost a context switch apiece, and
		 * switches were a third of a post's time in this VM. */
		if (list && !rc && flush_after_commit(c)) {
			rc = DB_ERR;
			snprintf(err, sizeof err, "%s", c->err);
		}
		pthread_mutex_lock(&w->lock);
		for (struct batch_member *x = list; x; x = x->next) {
			x->rc = rc;
			x->done = true;
			if (rc)
				snprintf(x->err, sizeof x->err, "%s", err);
		}
		pthread_cond_broadcast(&wr->committed);
	}
	while (m && !m->done)
		pthread_cond_wait(&wr->committed, &w->lock);
	pthread_mutex_unlock(&w->lock);
	if (m && m->rc) {
		snprintf(c->err, sizeof c->err, "%s", m->err);
		return m->rc;
	}
	return DB_OK; /* committed and flushed */
}

static int sqlite_begin(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	struct writer *wr = writer_of(c);
	if (!wr)
		return DB_ERR;
	snapshot_end(c);           /* reads after the transaction see what it wrote */
	if (my_turn == wr->conn) { /* would wait for itself */
		snprintf(c->err, sizeof c->err,
		         "a transaction began while this thread's other transaction was open");
		log_error("%s", c->err);
		assert(!"nested transactions on two connections");
		return DB_ERR;
	}
	struct wal_sync *w = c->sync;
	pthread_mutex_lock(&w->lock);
	wr->waiting++;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_lock(&wr->turn);
	pthread_mutex_lock(&w->lock);
	wr->waiting--;
	pthread_mutex_unlock(&w->lock);
	struct sqlite_conn *wc = wr->conn;
	if (!wr->open && on_writer(c, wc, "BEGIN IMMEDIATE") == DB_OK)
		wr->open = true;
	if (!wr->open || on_writer(c, wc, "SAVEPOINT tx")) {
		end_turn(c, wr, NULL);
		return DB_ERR;
	}
	c->redirect = wc;
	my_turn = wc;
	return DB_OK;
}
static int sqlite_commit(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	struct sqlite_conn *wc = c->redirect;
	if (!wc) {
		snprintf(c->err, sizeof c->err, "COMMIT without a transaction");
		return DB_ERR;
	}
	struct writer *wr = c->sync->writer;
	if (on_writer(c, wc, "RELEASE tx")) {
		/* A statement still running, say: this transaction is undone alone. */
		sqlite3_exec(wc->db, "ROLLBACK TO tx; RELEASE tx", NULL, NULL, NULL);
		end_turn(c, wr, NULL);
		return DB_ERR;
	}
	struct batch_member m = {0};
	return end_turn(c, wr, &m);
}

static void sqlite_rollback(struct db_conn *base)
{
	struct sqlite_conn *c = (struct sqlite_conn *)base;
	struct sqlite_conn *wc = c->redirect;
	if (!wc)
		return;
	sqlite3_exec(wc->db, "ROLLBACK TO tx; RELEASE tx", NULL, NULL, NULL);
	end_turn(c, c->sync->writer, NULL);
}

const struct db_backend db_sqlite_backend = {
    .kind = DB_SQLITE,
    .connect = sqlite_connect,
    .disconnect = sqlite_disconnect,
    .alive = sqlite_alive,
    .release = sqlite_release,
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
    .bind_blob = sqlite_bind_blob,
    .col_blob = sqlite_col_blob,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
};
