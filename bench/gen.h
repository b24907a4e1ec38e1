/*
 * gen.h — the state shoal-bench-gen (bench/gen.c) shares between its stages.
 */
#ifndef SHOAL_BENCH_GEN_H
#define SHOAL_BENCH_GEN_H

#include <stdint.h>
#include <time.h>

#include "db/db.h"

/* Known to bench/run.mjs, which signs in as the generated people. */
#define BENCH_PASSWORD    "bench-password-2026"
#define BENCH_TOTP_SECRET "JBSWY3DPEHPK3PXP"

struct gen {
	struct db_conn *c;
	double scale;
	uint64_t seed;
	int64_t now;
	int64_t last_id; /* the id the last gen_step's RETURNING gave */
	int n_localities, n_pcns, n_practices, n_people, n_weeks;
	int64_t *localities, *pcns, *practices, *list_sizes, *people;
	int64_t partner_org;
	int first_member; /* people[first_member…] are members of practices */
};

uint64_t gen_random(struct gen *g);
/** A number in [0, n). */
int gen_below(struct gen *g, int n);
/** full × scale, rounded, at least least. */
int gen_count(double scale, int full, int least);
/** Steps st once, keeps a RETURNING id in g->last_id and resets; -1 (said) on error. */
int gen_step(struct gen *g, struct db_stmt *st);
double gen_seconds(const struct timespec *since);

/** Spaces, threads and posts (bench/gen_discussions.c). */
int gen_discussions(struct gen *g);

#endif
