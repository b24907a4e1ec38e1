/*
 * notify.c — signals between nodes (see notify.h): LISTEN/NOTIFY on
 * PostgreSQL, an in-process queue on SQLite.
 */
#include "db/notify.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stopping;
	pthread_t thread;
	struct db *db;
	char *url;
	db_notify_fn fn;
	void *arg;
	int stop_pipe[2]; /* PostgreSQL: written to wake the thread out of poll() */
	/* SQLite: signals waiting for their transaction to end. */
	char queue[DB_NOTIFY_QUEUE][DB_NOTIFY_PAYLOAD_BYTES + 1];
	size_t queued;
} listener = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .stop_pipe = {-1, -1}};

int db_notify(struct db_conn *c, const char *payload)
{
	if (strlen(payload) > DB_NOTIFY_PAYLOAD_BYTES)
		return DB_ERR;
	if (db_conn_kind(c) == DB_POSTGRES) {
		struct db_stmt *st = db_prepare(c, "SELECT pg_notify($1, $2)");
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, DB_NOTIFY_CHANNEL);
		db_bind_text(st, 2, payload);
		int rc = db_step(st);
		db_reset(st);
		return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
	}
	pthread_mutex_lock(&listener.lock);
	if (listener.running) {
		/* The same signal twice in one batch says nothing more. */
		bool seen = false;
		for (size_t i = 0; i < listener.queued && !seen; i++)
			seen = !strcmp(listener.queue[i], payload);
		if (!seen && listener.queued < DB_NOTIFY_QUEUE) {
			snprintf(listener.queue[listener.queued++], DB_NOTIFY_PAYLOAD_BYTES + 1,
			         "%s", payload);
			pthread_cond_signal(&listener.wake);
		}
	}
	pthread_mutex_unlock(&listener.lock);
	return 0;
}

/* SQLite: waits for signals, then for the transactions that sent them to end,
 * then delivers them. */
static void sqlite_loop(void)
{
	char(*batch)[DB_NOTIFY_PAYLOAD_BYTES + 1] = xmalloc(sizeof listener.queue);
	pthread_mutex_lock(&listener.lock);
	while (!listener.stopping) {
		if (!listener.queued) {
			pthread_cond_wait(&listener.wake, &listener.lock);
			continue;
		}
		size_t n = listener.queued;
		memcpy(batch, listener.queue, n * sizeof batch[0]);
		listener.queued = 0;
		pthread_mutex_unlock(&listener.lock);
		/* A write barrier: BEGIN IMMEDIATE waits for the write lock, which the
		 * sender holds until its transaction ends, so what it wrote is visible
		 * to whoever looks again when told. */
		struct db_conn *c = db_acquire(listener.db);
		if (c && db_begin(c) == 0)
			db_rollback(c);
		db_release(c);
		for (size_t i = 0; i < n; i++)
			listener.fn(batch[i], listener.arg);
		pthread_mutex_lock(&listener.lock);
	}
	pthread_mutex_unlock(&listener.lock);
	free(batch);
}

static bool stopping(void)
{
	pthread_mutex_lock(&listener.lock);
	bool s = listener.stopping;
	pthread_mutex_unlock(&listener.lock);
	return s;
}

/* Waits up to seconds for the stop pipe; true when asked to stop. */
static bool nap(int seconds)
{
	struct pollfd p = {.fd = listener.stop_pipe[0], .events = POLLIN};
	poll(&p, 1, seconds * 1000);
	return stopping();
}

/* PostgreSQL: LISTEN on a connection of our own; reconnect when it is lost, and
 * then say that signals may have been missed. */
static void postgres_loop(void)
{
	const char *const keys[] = {"application_name", "connect_timeout", "dbname", NULL};
	const char *const vals[] = {"shoal-listen", "10", listener.url, NULL};
	bool connected_before = false;
	while (!stopping()) {
		PGconn *pg = PQconnectdbParams(keys, vals, 1);
		PGresult *r = NULL;
		if (pg && PQstatus(pg) == CONNECTION_OK)
			r = PQexec(pg, "LISTEN " DB_NOTIFY_CHANNEL);
		if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_error("live updates: cannot listen on PostgreSQL: %.200s",
			          pg ? PQerrorMessage(pg) : "out of memory");
			PQclear(r);
			PQfinish(pg);
			if (nap(2))
				return;
			continue;
		}
		PQclear(r);
		if (connected_before)
			listener.fn(NULL, listener.arg);
		connected_before = true;
		for (;;) {
			struct pollfd p[2] = {{.fd = PQsocket(pg), .events = POLLIN},
			                      {.fd = listener.stop_pipe[0], .events = POLLIN}};
			if (poll(p, 2, -1) < 0)
				continue;
			if (p[1].revents || stopping()) {
				PQfinish(pg);
				return;
			}
			if (!PQconsumeInput(pg)) {
				log_error("live updates: lost the PostgreSQL connection: %.200s",
				          PQerrorMessage(pg));
				break;
			}
			PGnotify *n;
			while ((n = PQnotifies(pg))) {
				listener.fn(n->extra, listener.arg);
				PQfreemem(n);
			}
		}
		PQfinish(pg);
		if (nap(1))
			return;
	}
}

static void *listener_main(void *arg)
{
	(void)arg;
	if (db_kind(listener.db) == DB_POSTGRES)
		postgres_loop();
	else
		sqlite_loop();
	return NULL;
}

int db_listen_start(struct db *db, const char *url, db_notify_fn fn, void *arg)
{
	pthread_mutex_lock(&listener.lock);
	if (listener.running) {
		pthread_mutex_unlock(&listener.lock);
		log_error("live updates: the listener is already running");
		return -1;
	}
	if (pipe(listener.stop_pipe)) {
		pthread_mutex_unlock(&listener.lock);
		log_error("live updates: cannot make a pipe");
		return -1;
	}
	listener.db = db;
	listener.url = xstrdup(url);
	listener.fn = fn;
	listener.arg = arg;
	listener.stopping = false;
	listener.queued = 0;
	if (pthread_create(&listener.thread, NULL, listener_main, NULL)) {
		close(listener.stop_pipe[0]);
		close(listener.stop_pipe[1]);
		free(listener.url);
		pthread_mutex_unlock(&listener.lock);
		log_error("live updates: cannot start the listener thread");
		return -1;
	}
	listener.running = true;
	pthread_mutex_unlock(&listener.lock);
	return 0;
}

void db_listen_stop(void)
{
	pthread_mutex_lock(&listener.lock);
	if (!listener.running) {
		pthread_mutex_unlock(&listener.lock);
		return;
	}
	listener.stopping = true;
	pthread_cond_broadcast(&listener.wake);
	pthread_mutex_unlock(&listener.lock);
	ssize_t w = write(listener.stop_pipe[1], "x", 1);
	(void)w;
	pthread_join(listener.thread, NULL);
	pthread_mutex_lock(&listener.lock);
	listener.running = false;
	close(listener.stop_pipe[0]);
	close(listener.stop_pipe[1]);
	listener.stop_pipe[0] = listener.stop_pipe[1] = -1;
	free(listener.url);
	listener.url = NULL;
	pthread_mutex_unlock(&listener.lock);
}
