/*
 * gate.c — the heavy-work gate (see gate.h): a counting semaphore sized by the cores.
 */
#include "core/gate.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static long running, most;

void gate_enter(void)
{
	pthread_mutex_lock(&lock);
	if (!most) {
		most = sysconf(_SC_NPROCESSORS_ONLN);
		if (most < 1)
			most = 1;
	}
	while (running >= most)
		pthread_cond_wait(&freed, &lock);
	running++;
	pthread_mutex_unlock(&lock);
}

void gate_leave(void)
{
	pthread_mutex_lock(&lock);
	running--;
	pthread_cond_signal(&freed);
	pthread_mutex_unlock(&lock);
}
