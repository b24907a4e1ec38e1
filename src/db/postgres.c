/*
 * postgres.c — the PostgreSQL engine behind db.h, on libpq.
 *
 * Used when Shoal runs as several nodes sharing one database ("--db
 * postgresql://…"). db.c owns the pool; this file provides one connection's
 * worth of work: connect, prepared statements, scripts, reconnection.
 *
 * Statements are prepared on the server once per connection and cached here,
 * keyed by their SQL text, in a small open-addressing hash table (written by
 * hand: it is thirty lines and the keys are the constant SQL strings of the
 * program, so the table stays small and never needs deletion). Statement
 * names are generated per connection ("s1", "s2", …).
 *
 * Parameters and results travel as text, which is what both engines agree
 * on: integers are formatted into a per-parameter buffer, text is copied.
 * A result is fetched whole by PQexecPrepared, so rows of one statement can
 * be read while other statements run on the same connection (as SQLite
 * allows); features keep result sets small with LIMIT.
 *
 * Ownership: a struct pg_conn owns its cache and every struct pg_stmt in it;
 * callers never free statements. A statement returned by prepare is the same
 * object each time for the same SQL, so one SQL text cannot be stepped in two
 * nested loops at once (true of the SQLite cache too).
 */
#include "db/backend.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most parameters one statement may have; Shoal's SQL needs far fewer,
 * and a fixed array keeps binding free of allocation for integers. */
#define PG_MAX_PARAMS 32
/* Room for INT64_MIN in decimal plus the terminating NUL. */
#define PG_INT_TEXT      24
#define PG_ERR_LEN       1024
#define PG_CACHE_INITIAL 64

struct pg_stmt {
	struct db_stmt base; /* first, so db.c can hand it back to us */
	char *sql;           /* the cache key, owned */
	uint64_t hash;
	char name[16]; /* server-side name, "s<n>" */
	int nparams;   /* as reported by the server when prepared */
	const char *values[PG_MAX_PARAMS];
	char *copies[PG_MAX_PARAMS]; /* text we xstrdup'd, freed at reset */
	char ints[PG_MAX_PARAMS][PG_INT_TEXT];
	/* Binary parameters (blobs): their lengths, and format 1 (0 for text). */
	int lengths[PG_MAX_PARAMS];
	int formats[PG_MAX_PARAMS];
	/* The last bytea column decoded (PQfreemem), or NULL. */
	unsigned char *blob;
	int bind_failed; /* a bind was refused: step reports it */
	PGresult *res;   /* the result of the current run, or NULL before step */
	int rc;          /* what the last step returned once the run is over */
	int nrows;
	int row; /* the current row, -1 before the first */
};

struct pg_conn {
	struct db_conn base; /* first, so db.c can hand it back to us */
	PGconn *pg;
	struct pg_stmt **slots; /* open addressing; NULL = empty */
	size_t nslots;          /* a power of two */
	size_t count;
	unsigned next_name;
	char err[PG_ERR_LEN];
};

static struct pg_conn *conn_of(struct db_conn *c)
{
	return (struct pg_conn *)c;
}

static struct pg_stmt *stmt_of(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

/*
 * Copies src into dst as one line: libpq messages end in newlines and carry
 * tab-indented hints, and log lines and error pages want a single line.
 * Every run of whitespace becomes one space; the ends are trimmed.
 */
static void one_line(char *dst, size_t dstlen, const char *src)
{
	size_t n = 0;
	int space = 0;

	if (dstlen == 0)
		return;
	for (; src && *src && n + 1 < dstlen; src++) {
		if (isspace((unsigned char)*src)) {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < dstlen)
			dst[n++] = ' ';
		space = 0;
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

static void set_err(struct pg_conn *pc, const char *msg)
{
	one_line(pc->err, sizeof(pc->err), msg);
}

/*
 * Builds the one-line message for a failed result: the primary message, then
 * the detail (which names the key that clashed) and the position of a syntax
 * error. Falls back to the connection's message when there is no result
 * (libpq returns NULL when it cannot even send the command).
 */
static void set_result_err(struct pg_conn *pc, const PGresult *res)
{
	char tmp[PG_ERR_LEN];
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;

	if (!primary) {
		/* Errors made by libpq itself (lost connection) have no fields. */
		const char *msg = res ? PQresultErrorMessage(res) : "";
		if (!msg[0])
			msg = PQerrorMessage(pc->pg);
		set_err(pc, msg[0] ? msg : "unknown PostgreSQL error");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s%s%s%s%s", primary, detail ? ": " : "", detail ? detail : "",
	         pos ? " at character " : "", pos ? pos : "");
	set_err(pc, tmp);
}

/*
 * Maps a failed result to a db_rc. A lost connection matters most: db.c
 * reconnects on DB_ERR_CONN, so it is checked before the SQLSTATE, which a
 * server that is shutting down (57P01 from pg_terminate_backend) also sends.
 */
static int result_rc(struct pg_conn *pc, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(pc->pg) == CONNECTION_BAD)
		return DB_ERR_CONN;
	if (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0))
		return DB_ERR_CONN;
	if (state && strncmp(state, "23", 2) == 0)
		return DB_ERR_CONSTRAINT;
	if (state && strcmp(state, "57014") == 0) /* query_canceled: statement_timeout */
		return DB_ERR_TIMEOUT;
	return DB_ERR;
}

/* FNV-1a: short, fast on the short keys we have, good enough spread. */
static uint64_t hash_sql(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

static struct pg_stmt *cache_find(struct pg_conn *pc, const char *sql, uint64_t h)
{
	size_t mask = pc->nslots - 1;

	if (!pc->slots)
		return NULL;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct pg_stmt *st = pc->slots[i];
		if (!st)
			return NULL;
		if (st->hash == h && strcmp(st->sql, sql) == 0)
			return st;
	}
}

static void cache_put_slot(struct pg_stmt **slots, size_t nslots, struct pg_stmt *st)
{
	size_t mask = nslots - 1;
	size_t i = st->hash & mask;

	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = st;
}

static void cache_add(struct pg_conn *pc, struct pg_stmt *st)
{
	/* Grow at 70% full so probe runs stay short. */
	if (!pc->slots || (pc->count + 1) * 10 > pc->nslots * 7) {
		size_t n = pc->slots ? pc->nslots * 2 : PG_CACHE_INITIAL;
		struct pg_stmt **slots = xcalloc(n, sizeof(*slots));
		for (size_t i = 0; i < pc->nslots; i++)
			if (pc->slots[i])
				cache_put_slot(slots, n, pc->slots[i]);
		free(pc->slots);
		pc->slots = slots;
		pc->nslots = n;
	}
	cache_put_slot(pc->slots, pc->nslots, st);
	pc->count++;
}

static void pg_reset(struct db_stmt *base)
{
	struct pg_stmt *st = stmt_of(base);

	PQclear(st->res);
	st->res = NULL;
	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		free(st->copies[i]);
		st->copies[i] = NULL;
		st->values[i] = NULL;
		st->formats[i] = 0;
		st->lengths[i] = 0;
	}
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = NULL;
	st->bind_failed = 0;
	st->rc = 0;
	st->nrows = 0;
	st->row = -1;
}

static void stmt_free(struct pg_stmt *st)
{
	pg_reset(&st->base);
	free(st->sql);
	free(st);
}

/* Frees every cached statement; the server side is gone or going with them. */
static void cache_clear(struct pg_conn *pc)
{
	for (size_t i = 0; i < pc->nslots; i++)
		if (pc->slots[i])
			stmt_free(pc->slots[i]);
	free(pc->slots);
	pc->slots = NULL;
	pc->nslots = 0;
	pc->count = 0;
}

/*
 * libpq prints server notices raw on stderr, several lines each; send them to
 * the log as one line instead. With client_min_messages = warning these are
 * warnings, and the FATAL a server sends as it ends our session.
 */
static void notice_to_log(void *arg, const char *message)
{
	char line[PG_ERR_LEN];

	(void)arg;
	one_line(line, sizeof(line), message);
	log_info("postgres: %s", line);
}

/*
 * Session settings every connection needs: warnings only (NOTICEs from
 * "IF NOT EXISTS" in migrations are noise), and UTC so timestamps mean the
 * same on every node whatever the server's default.
 */
static int session_setup(struct pg_conn *pc)
{
	PGresult *res = PQexec(pc->pg, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	int rc = DB_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_result_err(pc, res);
		rc = result_rc(pc, res);
	}
	PQclear(res);
	return rc;
}

static int pg_connect(const char *target, struct db_conn **out, char *err, size_t errlen)
{
	/*
	 * Keywords are applied in order and the last wins, so our defaults come
	 * first and the URL (expanded from dbname) overrides any of them.
	 * connect_timeout keeps a node from hanging forever on a dead address.
	 */
	const char *const keys[] = {"application_name", "connect_timeout", "dbname", NULL};
	const char *const vals[] = {"shoal", "10", target, NULL};
	struct pg_conn *pc = xcalloc(1, sizeof(*pc));
	char msg[PG_ERR_LEN];
	int rc;

	*out = NULL;
	pc->base.be = &db_postgres_backend;
	pc->pg = PQconnectdbParams(keys, vals, 1);
	if (!pc->pg) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory in libpq");
		rc = DB_ERR_CONN;
		goto fail;
	}
	if (PQstatus(pc->pg) != CONNECTION_OK) {
		one_line(msg, sizeof(msg), PQerrorMessage(pc->pg));
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
		rc = DB_ERR_CONN;
		goto fail;
	}
	PQsetNoticeProcessor(pc->pg, notice_to_log, NULL);
	rc = session_setup(pc);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up PostgreSQL session: %s", pc->err);
		goto fail;
	}
	*out = &pc->base;
	return DB_OK;
fail:
	PQfinish(pc->pg);
	free(pc);
	return rc;
}

static void pg_disconnect(struct db_conn *c)
{
	struct pg_conn *pc = conn_of(c);

	if (!pc)
		return;
	cache_clear(pc);
	PQfinish(pc->pg);
	free(pc);
}

/*
 * libpq only learns that the server went away when it next reads. An idle
 * connection has nothing to read, so if its socket is readable the server has
 * sent something unasked: a termination notice and EOF (pg_terminate_backend,
 * restart, idle timeout), or a NOTIFY. Reading it now costs one poll() and
 * lets alive() notice a dead connection before a query fails on it.
 */
static void absorb_pending_input(struct pg_conn *pc)
{
	/* A notice and then EOF may need two reads; a few rounds are plenty. */
	for (int i = 0; i < 4 && PQstatus(pc->pg) == CONNECTION_OK; i++) {
		struct pollfd pfd = {.fd = PQsocket(pc->pg), .events = POLLIN};
		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
			return;
		if (!PQconsumeInput(pc->pg))
			return;
	}
}

static bool pg_alive(struct db_conn *c)
{
	struct pg_conn *pc = conn_of(c);

	if (PQstatus(pc->pg) == CONNECTION_OK && !PQisBusy(pc->pg))
		absorb_pending_input(pc);
	if (PQstatus(pc->pg) != CONNECTION_BAD)
		return true;
	PQreset(pc->pg);
	if (PQstatus(pc->pg) != CONNECTION_OK) {
		set_err(pc, PQerrorMessage(pc->pg));
		return false;
	}
	/* A new server session knows none of our prepared statements. */
	cache_clear(pc);
	return session_setup(pc) == DB_OK;
}

static struct db_stmt *pg_prepare(struct db_conn *c, const char *sql)
{
	struct pg_conn *pc = conn_of(c);
	uint64_t h = hash_sql(sql);
	struct pg_stmt *st = cache_find(pc, sql, h);
	PGresult *res = NULL;
	char name[16];
	int nparams;

	if (st) {
		pg_reset(&st->base);
		return &st->base;
	}
	snprintf(name, sizeof(name), "s%u", ++pc->next_name);
	res = PQprepare(pc->pg, name, sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	PQclear(res);
	/* The server counts the $n in the text; we need it to send NULLs for
	 * parameters never bound and to refuse binding ones that do not exist. */
	res = PQdescribePrepared(pc->pg, name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	nparams = PQnparams(res);
	PQclear(res);
	res = NULL;
	if (nparams > PG_MAX_PARAMS) {
		char sql_dealloc[32];
		snprintf(pc->err, sizeof(pc->err),
		         "statement has %d parameters; at most %d are supported", nparams,
		         PG_MAX_PARAMS);
		snprintf(sql_dealloc, sizeof(sql_dealloc), "DEALLOCATE %s", name);
		PQclear(PQexec(pc->pg, sql_dealloc));
		return NULL;
	}

	st = xcalloc(1, sizeof(*st));
	st->base.conn = c;
	st->sql = xstrdup(sql);
	st->hash = h;
	memcpy(st->name, name, sizeof(name));
	st->nparams = nparams;
	st->row = -1;
	cache_add(pc, st);
	return &st->base;
fail:
	set_result_err(pc, res);
	PQclear(res);
	return NULL;
}

/* Checks idx and drops what was bound there before; returns the slot or -1. */
static int bind_slot(struct pg_stmt *st, int idx)
{
	struct pg_conn *pc = conn_of(st->base.conn);

	if (idx < 1 || idx > st->nparams) {
		snprintf(pc->err, sizeof(pc->err), "no parameter $%d: the statement has %d", idx,
		         st->nparams);
		st->bind_failed = 1;
		return -1;
	}
	free(st->copies[idx - 1]);
	st->copies[idx - 1] = NULL;
	st->formats[idx - 1] = 0;
	return idx - 1;
}

static int pg_bind_int(struct db_stmt *base, int idx, int64_t v)
{
	struct pg_stmt *st = stmt_of(base);
	int i = bind_slot(st, idx);

	if (i < 0)
		return DB_ERR;
	snprintf(st->ints[i], sizeof(st->ints[i]), "%" PRId64, v);
	st->values[i] = st->ints[i];
	return DB_OK;
}

static int pg_bind_text(struct db_stmt *base, int idx, const char *s)
{
	struct pg_stmt *st = stmt_of(base);
	int i = bind_slot(st, idx);

	if (i < 0)
		return DB_ERR;
	if (s)
		st->copies[i] = xstrdup(s);
	st->values[i] = st->copies[i];
	return DB_OK;
}

static int pg_bind_null(struct db_stmt *base, int idx)
{
	struct pg_stmt *st = stmt_of(base);
	int i = bind_slot(st, idx);

	if (i < 0)
		return DB_ERR;
	st->values[i] = NULL;
	return DB_OK;
}

static int pg_bind_blob(struct db_stmt *base, int idx, const void *p, size_t n)
{
	struct pg_stmt *st = stmt_of(base);
	int i = bind_slot(st, idx);

	if (i < 0)
		return DB_ERR;
	if (n > INT32_MAX) {
		snprintf(conn_of(base->conn)->err, PG_ERR_LEN, "parameter $%d is too large", idx);
		st->bind_failed = 1;
		return DB_ERR;
	}
	/* Sent in binary format: the bytes as they are, neither escaped nor copied. */
	st->values[i] = p;
	st->lengths[i] = (int)n;
	st->formats[i] = 1;
	return DB_OK;
}

static int pg_step(struct db_stmt *base)
{
	struct pg_stmt *st = stmt_of(base);
	struct pg_conn *pc = conn_of(base->conn);

	if (st->rc)
		return st->rc; /* the run is over: done, or failed */
	if (st->bind_failed) {
		/* pc->err still says which bind; callers may not check binds. */
		st->rc = DB_ERR;
		return st->rc;
	}
	if (!st->res) {
		st->res = PQexecPrepared(pc->pg, st->name, st->nparams, st->values, st->lengths,
		                         st->formats, 0);
		switch (PQresultStatus(st->res)) {
		case PGRES_TUPLES_OK:
			st->nrows = PQntuples(st->res);
			break;
		case PGRES_COMMAND_OK:
			st->nrows = 0;
			break;
		default:
			set_result_err(pc, st->res);
			st->rc = result_rc(pc, st->res);
			PQclear(st->res);
			st->res = NULL;
			return st->rc;
		}
	}
	if (st->row + 1 < st->nrows) {
		st->row++;
		return DB_ROW;
	}
	st->row = st->nrows; /* past the end: columns read as NULL, as in SQLite */
	st->rc = DB_DONE;
	return st->rc;
}

/* Whether (current row, col) exists; reading outside a row gives NULL / 0. */
static bool cell_ok(const struct pg_stmt *st, int col)
{
	return st->res && st->row >= 0 && st->row < st->nrows && col >= 0 &&
	       col < PQnfields(st->res);
}

static bool pg_col_is_null(struct db_stmt *base, int col)
{
	struct pg_stmt *st = stmt_of(base);

	return !cell_ok(st, col) || PQgetisnull(st->res, st->row, col);
}

static const char *pg_col_text(struct db_stmt *base, int col)
{
	struct pg_stmt *st = stmt_of(base);

	if (pg_col_is_null(base, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

/* Results come in text form, where bytea is hex ("\\x…"): decoded here. */
static const void *pg_col_blob(struct db_stmt *base, int col, size_t *n)
{
	struct pg_stmt *st = stmt_of(base);
	const char *text = pg_col_text(base, col);

	if (!text)
		return NULL;
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)text, n);
	if (!st->blob)
		*n = 0;
	return st->blob;
}

static int64_t pg_col_int(struct db_stmt *base, int col)
{
	const char *s = pg_col_text(base, col);

	if (!s)
		return 0;
	/* Booleans come back as "t" / "f" in text form; SQLite has 1 / 0. */
	if (s[0] == 't' && s[1] == '\0')
		return 1;
	if (s[0] == 'f' && s[1] == '\0')
		return 0;
	return strtoll(s, NULL, 10);
}

static int pg_exec(struct db_conn *c, const char *sql)
{
	struct pg_conn *pc = conn_of(c);
	PGresult *res = PQexec(pc->pg, sql);
	int rc = DB_OK;

	/* With several statements PQexec returns the last result, or the first
	 * error (it stops there); without an explicit BEGIN the whole script is
	 * one transaction, so a failed script leaves nothing half-done. */
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		break;
	default:
		set_result_err(pc, res);
		rc = result_rc(pc, res);
		break;
	}
	PQclear(res);
	return rc;
}

static const char *pg_errmsg(struct db_conn *c)
{
	return conn_of(c)->err;
}

const struct db_backend db_postgres_backend = {
    .kind = DB_POSTGRES,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .alive = pg_alive,
    .prepare = pg_prepare,
    .bind_int = pg_bind_int,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_is_null = pg_col_is_null,
    .reset = pg_reset,
    .exec = pg_exec,
    .errmsg = pg_errmsg,
    .bind_blob = pg_bind_blob,
    .col_blob = pg_col_blob,
};
