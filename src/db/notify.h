/*
 * notify.h — "something changed" signals between the nodes of one database,
 * sent with the transaction that made the change.
 *
 * On PostgreSQL, db_notify is NOTIFY (pg_notify) in the caller's transaction:
 * PostgreSQL delivers it to every node's listener, this one's included, only
 * if and when the transaction commits. Each node listens on a connection of
 * its own, outside the pool, in a thread (db_listen_start).
 *
 * On SQLite there is one node, so the signal stays in the process: the
 * listener thread delivers it once the writing transaction has ended (it waits
 * for SQLite's write lock, which that transaction holds until it commits or
 * rolls back). A rolled-back change may therefore still be signalled: a
 * signal means "look again", never what changed, so that is harmless.
 *
 * Payloads are short text that carries no confidential data (they cross the
 * database and end up in browsers): "pressure 42", not figures.
 */
#ifndef SHOAL_DB_NOTIFY_H
#define SHOAL_DB_NOTIFY_H

#include "db/db.h"

#define DB_NOTIFY_CHANNEL       "shoal_events"
#define DB_NOTIFY_PAYLOAD_BYTES 200 /* PostgreSQL allows 8000; ours are a few words */
#define DB_NOTIFY_QUEUE         256 /* SQLite: signals waiting for delivery; more are dropped */

/**
 * Receives a payload on the listener thread. payload NULL means signals may
 * have been missed (the listener lost its connection): look again at everything.
 */
typedef void (*db_notify_fn)(const char *payload, void *arg);

/**
 * Signals payload to every node's listener when c's transaction commits
 * (at once when none is open). 0, or < 0 when the payload is too long or
 * PostgreSQL refused it.
 */
int db_notify(struct db_conn *c, const char *payload) __attribute__((warn_unused_result));

/**
 * Starts the listener thread for db (url: the same URL db was opened with),
 * calling fn(payload, arg) for each signal. 0, or -1 (logged). One listener per
 * process.
 */
int db_listen_start(struct db *db, const char *url, db_notify_fn fn, void *arg)
    __attribute__((warn_unused_result));

/** Stops the listener thread and waits for it. Harmless when it is not running. */
void db_listen_stop(void);

#endif
