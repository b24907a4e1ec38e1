/*
 * jobs.c — the jobs thread: a table of periodic jobs, a timed wait, a wake-up.
 *
 * One thread runs the jobs one after another. That is enough while each job
 * hands its slow parts to others (a mail server) and keeps its batches short;
 * a job that needs more can claim work in smaller pieces. The thread waits on
 * a condition variable against the monotonic clock, so changing the wall clock
 * neither stalls nor hurries it, and jobs_wake and jobs_stop interrupt the wait.
 */
#include "jobs/jobs.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "app/pressure/pressure.h"
#include "app/privacy/privacy.h"
#include "app/search/search.h"
#include "app/notifications/notifications.h"
#include "mail/mail.h"

/* How often a failing job's error is logged again while it keeps failing. */
#define JOBS_RELOG_SECONDS 300

struct job {
	const char *name;
	int interval_seconds; /* runs at least this often */
	int on_wake;          /* also runs at once on jobs_wake */
	/* Returns 0 when done, 1 when more work is waiting (it runs again at
	 * once), or < 0 with one line in err (logged; tried again next tick).
	 * Returns soon after *stop becomes true. Keeps its state in the database,
	 * so that several nodes can run the same job. */
	int (*run)(struct db *db, const struct config *cfg, const atomic_bool *stop, char *err,
	           size_t errlen);
};

static int job_mail(struct db *db, const struct config *cfg, const atomic_bool *stop, char *err,
                    size_t errlen)
{
	int sent, failed;
	return mail_deliver(db, cfg, stop, &sent, &failed, err, errlen);
}

/* Each runs once at start, then at least every interval_seconds. */
static const struct job jobs[] = {
    {"mail", 5, 1, job_mail},
    {"pressure-reminders", 300, 0, pressure_reminders_job}, /* src/app/pressure/reminders.c */
    {"retention", 3600, 0, privacy_retention_job},          /* src/app/privacy/retention.c */
    {"digests", 300, 0, notifications_digest_job},          /* src/app/notifications/digest.c */
    {"search-index", 2, 0, search_index_job},               /* src/app/search/search.c */
};
#define N_JOBS (sizeof jobs / sizeof jobs[0])

/* A job's progress, kept by the thread alone. */
struct job_state {
	double next_run;  /* monotonic seconds */
	int failing;      /* the last run failed */
	double logged_at; /* when its failure was last logged */
	char last_error[512];
};

static struct {
	pthread_mutex_t lock; /* guards running, woken and the wait */
	pthread_cond_t cond;
	pthread_t thread;
	int running;
	int woken;
	atomic_bool stop;
	struct db *db;
	const struct config *cfg;
} jobs_thread = {.lock = PTHREAD_MUTEX_INITIALIZER};

static double monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one job and schedules its next run; a failure is logged, not fatal. */
static void run_job(const struct job *job, struct job_state *s)
{
	char err[512] = "";
	int rc = job->run(jobs_thread.db, jobs_thread.cfg, &jobs_thread.stop, err, sizeof err);
	double now = monotonic_now();
	s->next_run = rc > 0 ? now : now + job->interval_seconds;
	if (rc >= 0) {
		if (s->failing)
			log_info("job %s: working again", job->name);
		s->failing = 0;
		return;
	}
	/* A database that is down fails every tick: say so once, not every 5 s. */
	if (!s->failing || strcmp(err, s->last_error) || now - s->logged_at >= JOBS_RELOG_SECONDS) {
		log_error("job %s: %s (tried again every %d s)", job->name, err[0] ? err : "failed",
		          job->interval_seconds);
		s->logged_at = now;
		snprintf(s->last_error, sizeof s->last_error, "%s", err);
	}
	s->failing = 1;
}

static void *jobs_main(void *arg)
{
	(void)arg;
	struct job_state state[N_JOBS];
	memset(state, 0, sizeof state); /* next_run 0: everything runs at start */
	pthread_mutex_lock(&jobs_thread.lock);
	while (!atomic_load(&jobs_thread.stop)) {
		int woken = jobs_thread.woken;
		jobs_thread.woken = 0;
		pthread_mutex_unlock(&jobs_thread.lock);
		for (size_t i = 0; i < N_JOBS && !atomic_load(&jobs_thread.stop); i++)
			if (monotonic_now() >= state[i].next_run || (woken && jobs[i].on_wake))
				run_job(&jobs[i], &state[i]);
		double next = state[0].next_run;
		for (size_t i = 1; i < N_JOBS; i++)
			if (state[i].next_run < next)
				next = state[i].next_run;
		pthread_mutex_lock(&jobs_thread.lock);
		while (!atomic_load(&jobs_thread.stop) && !jobs_thread.woken &&
		       monotonic_now() < next) {
			struct timespec until;
			until.tv_sec = (time_t)next;
			until.tv_nsec = (long)((next - (double)until.tv_sec) * 1e9);
			pthread_cond_timedwait(&jobs_thread.cond, &jobs_thread.lock, &until);
		}
	}
	pthread_mutex_unlock(&jobs_thread.lock);
	return NULL;
}

int jobs_start(struct db *db, const struct config *cfg)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	pthread_mutex_lock(&jobs_thread.lock);
	if (jobs_thread.running) {
		pthread_mutex_unlock(&jobs_thread.lock);
		log_error("the jobs thread is already running");
		return -1;
	}
	jobs_thread.db = db;
	jobs_thread.cfg = cfg;
	jobs_thread.woken = 0;
	atomic_store(&jobs_thread.stop, false);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&jobs_thread.cond, &attr);
	pthread_condattr_destroy(&attr);
	/* Signals belong to the main thread: the new thread starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&jobs_thread.thread, NULL, jobs_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&jobs_thread.cond);
		pthread_mutex_unlock(&jobs_thread.lock);
		log_error("cannot start the jobs thread: %s", strerror(rc));
		return -1;
	}
	jobs_thread.running = 1;
	pthread_mutex_unlock(&jobs_thread.lock);
	if (cfg->smtp_url[0])
		log_info("jobs: started; mail is delivered over SMTP");
	else
		log_info("jobs: started; mail is written as files into %s", cfg->mail_dir);
	return 0;
}

void jobs_stop(void)
{
	pthread_mutex_lock(&jobs_thread.lock);
	if (!jobs_thread.running) {
		pthread_mutex_unlock(&jobs_thread.lock);
		return;
	}
	atomic_store(&jobs_thread.stop, true);
	pthread_cond_signal(&jobs_thread.cond);
	pthread_mutex_unlock(&jobs_thread.lock);
	pthread_join(jobs_thread.thread, NULL);
	pthread_mutex_lock(&jobs_thread.lock);
	jobs_thread.running = 0;
	pthread_cond_destroy(&jobs_thread.cond);
	pthread_mutex_unlock(&jobs_thread.lock);
}

void jobs_wake(void)
{
	pthread_mutex_lock(&jobs_thread.lock);
	if (jobs_thread.running) {
		jobs_thread.woken = 1;
		pthread_cond_signal(&jobs_thread.cond);
	}
	pthread_mutex_unlock(&jobs_thread.lock);
}
