/*
 * jobs.h — the one background thread of `shoal serve`: runs periodic work
 * (mail delivery, pressure reminders, retention, digests, indexing new posts for
 * search) outside request handling.
 *
 * Each job is a function with an interval in a small table in jobs.c. A job
 * keeps its state in the database, never in the thread, so any number of
 * nodes may run the same jobs against one PostgreSQL: the job's own SQL
 * decides who does each piece of work (the outbox's claim, for mail).
 */
#ifndef SHOAL_JOBS_JOBS_H
#define SHOAL_JOBS_JOBS_H

#include "core/config.h"
#include "db/db.h"

/**
 * Starts the jobs thread on db and cfg, which must outlive jobs_stop. Every
 * job runs once at start and then at its interval. Returns 0, or -1 (logged)
 * when the thread cannot start or is already running.
 */
int jobs_start(struct db *db, const struct config *cfg) __attribute__((warn_unused_result));

/**
 * Asks the thread to stop, and waits for it: it returns once the job running
 * now (if any) reaches a point where it can stop, such as the end of the
 * message being sent. Harmless when the thread is not running.
 */
void jobs_stop(void);

/**
 * Runs the jobs that respond to waking (mail delivery) now rather than at their
 * next tick. Harmless when the thread is not running.
 */
void jobs_wake(void);

#endif
