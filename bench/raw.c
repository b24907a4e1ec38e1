/*
 * raw.c — shoal-bench-raw: the machine's limit for durable writes, for `make bench`.
 *
 *   shoal-bench-raw --db URL [--threads N] [--seconds S]
 *
 * N threads each commit one small row per transaction into a scratch table, for S
 * seconds, through the same db layer and settings as the server (on SQLite: WAL
 * with group commit, src/db/sqlite.c), and it prints "inserts/s: X". A post or a return costs more
 * than this (checks, audit, rendering); the ratio says how much more.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"

static struct db *db;
static atomic_bool stop;
static atomic_long inserted, failed;

static void *writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct db_conn *c = db_acquire(db);
		struct db_stmt *st =
		    c ? db_prepare(c, "INSERT INTO bench_raw (at, body) VALUES ($1, $2)") : NULL;
		if (!st) {
			atomic_fetch_add(&failed, 1);
			db_release(c);
			continue;
		}
		db_bind_int(st, 1, (int64_t)time(NULL));
		db_bind_text(st, 2, "A post of about the length of a short reply in a thread.");
		int rc = db_step(st);
		db_reset(st);
		db_release(c);
		atomic_fetch_add(rc == DB_DONE ? &inserted : &failed, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *url = NULL;
	int threads = 32, seconds = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--db"))
			url = argv[i + 1];
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atoi(argv[i + 1]);
	}
	if (!url || threads < 1 || threads > 256 || seconds < 1) {
		fputs("usage: shoal-bench-raw --db URL [--threads N] [--seconds S]\n", stderr);
		return 2;
	}
	char err[256];
	if (db_open(url, (unsigned)threads, &db, err, sizeof err)) {
		fprintf(stderr, "shoal-bench-raw: %s\n", err);
		return 1;
	}
	struct db_conn *c = db_acquire(db);
	if (!c || db_exec(c, "CREATE TABLE IF NOT EXISTS bench_raw (at BIGINT NOT NULL, body TEXT "
	                     "NOT NULL)")) {
		fprintf(stderr, "shoal-bench-raw: cannot make the scratch table\n");
		return 1;
	}
	db_release(c);
	pthread_t *t = calloc((size_t)threads, sizeof *t);
	for (int i = 0; t && i < threads; i++)
		pthread_create(&t[i], NULL, writer, NULL);
	struct timespec nap = {seconds, 0};
	nanosleep(&nap, NULL);
	atomic_store(&stop, true);
	for (int i = 0; t && i < threads; i++)
		pthread_join(t[i], NULL);
	c = db_acquire(db);
	if (c && db_exec(c, "DROP TABLE bench_raw"))
		fprintf(stderr, "shoal-bench-raw: the scratch table bench_raw is left behind\n");
	db_release(c);
	db_close(db);
	free(t);
	printf("inserts/s: %.0f\nfailed: %ld\n", (double)atomic_load(&inserted) / seconds,
	       atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}
