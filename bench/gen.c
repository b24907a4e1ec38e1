/*
 * gen.c — shoal-bench-gen: fills an empty database with a region-sized, fictional
 * collective for `make bench` (bench/README.md).
 *
 *   shoal-bench-gen --db URL [--scale F]
 *
 * At --scale 1 (the default): 1,500 practices in 300 PCNs and 30 localities,
 * 20,000 people, 3 years of weekly pressure returns from every practice plus a
 * fortnight of daily surge returns each winter, and the discussions (see
 * gen_discussions.c). Smaller scales keep the shape (tests use 0.01).
 *
 * Everything goes in through the same db interface and schema as the server, in a
 * few large transactions with prepared statements reused, so it takes seconds,
 * not hours. Every person's password is BENCH_PASSWORD; executives and the
 * administrator have the TOTP secret BENCH_TOTP_SECRET. The generator is
 * deterministic: the same scale gives the same data.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/notifications/notifications.h"
#include "app/pressure/pressure.h"
#include "auth/password.h"
#include "gen.h"
#include "db/migrate.h"

/* A small, fast, deterministic generator (xorshift64*). */
uint64_t gen_random(struct gen *g)
{
	g->seed ^= g->seed >> 12;
	g->seed ^= g->seed << 25;
	g->seed ^= g->seed >> 27;
	return g->seed * 2685821657736338717ULL;
}

int gen_below(struct gen *g, int n)
{
	return n > 0 ? (int)(gen_random(g) % (uint64_t)n) : 0;
}

int gen_count(double scale, int full, int least)
{
	int n = (int)(full * scale + 0.5);
	return n < least ? least : n;
}

int gen_step(struct gen *g, struct db_stmt *st)
{
	int rc = st ? db_step(st) : DB_ERR;
	int64_t id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	if (st)
		db_reset(st);
	if (rc != DB_DONE && rc != DB_ROW) {
		fprintf(stderr, "shoal-bench-gen: %s\n", db_errmsg(g->c));
		return -1;
	}
	g->last_id = id;
	return 0;
}

double gen_seconds(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static int organisation(struct gen *g, const char *ods, const char *name, const char *kind,
                        int64_t parent, int64_t list_size)
{
	struct db_stmt *st = db_prepare(
	    g->c, "INSERT INTO organisations (ods_code, name, kind, parent_id, list_size, "
	          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id");
	if (!st)
		return -1;
	db_bind_text(st, 1, ods);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, kind);
	if (parent)
		db_bind_int(st, 4, parent);
	else
		db_bind_null(st, 4);
	if (list_size)
		db_bind_int(st, 5, list_size);
	else
		db_bind_null(st, 5);
	db_bind_int(st, 6, g->now);
	return gen_step(g, st);
}

/* The region's organisations: practice i sits in PCN i / 5, PCN j in locality j / 10. */
static int organisations(struct gen *g)
{
	char ods[16], name[64];
	if (organisation(g, "BNFED", "Bench Region GP Federation", "federation", 0, 0) ||
	    organisation(g, "BNLMC", "Bench Region LMC", "lmc", 0, 0) ||
	    organisation(g, "BNICB", "Bench Region Integrated Care Board", "icb", 0, 0))
		return -1;
	g->partner_org = g->last_id;
	g->localities = calloc((size_t)g->n_localities, sizeof *g->localities);
	g->pcns = calloc((size_t)g->n_pcns, sizeof *g->pcns);
	g->practices = calloc((size_t)g->n_practices, sizeof *g->practices);
	g->list_sizes = calloc((size_t)g->n_practices, sizeof *g->list_sizes);
	if (!g->localities || !g->pcns || !g->practices || !g->list_sizes)
		return -1;
	for (int i = 0; i < g->n_localities; i++) {
		snprintf(ods, sizeof ods, "BL%03d", i);
		snprintf(name, sizeof name, "Locality %d", i + 1);
		if (organisation(g, ods, name, "locality", 0, 0))
			return -1;
		g->localities[i] = g->last_id;
	}
	for (int i = 0; i < g->n_pcns; i++) {
		snprintf(ods, sizeof ods, "BP%04d", i);
		snprintf(name, sizeof name, "Primary Care Network %d", i + 1);
		if (organisation(g, ods, name, "pcn",
		                 g->localities[i * g->n_localities / g->n_pcns], 0))
			return -1;
		g->pcns[i] = g->last_id;
	}
	for (int i = 0; i < g->n_practices; i++) {
		snprintf(ods, sizeof ods, "B%05d", i);
		snprintf(name, sizeof name, "Practice %d Medical Centre", i + 1);
		g->list_sizes[i] = 3000 + gen_below(g, 17000); /* 3,000 to 20,000 patients */
		if (organisation(g, ods, name, "practice", g->pcns[i * g->n_pcns / g->n_practices],
		                 g->list_sizes[i]))
			return -1;
		g->practices[i] = g->last_id;
	}
	return 0;
}

/* People: person 0 the administrator, 1–15 the executive, then partners, then members,
 * spread over the practices, the first member of each practice its lead. */
static int people(struct gen *g)
{
	char hash[PASSWORD_HASH_BYTES], email[64], name[64];
	if (password_hash(BENCH_PASSWORD, hash))
		return -1;
	g->people = calloc((size_t)g->n_people, sizeof *g->people);
	if (!g->people)
		return -1;
	int partners = gen_count(g->scale, 200, 1);
	for (int i = 0; i < g->n_people; i++) {
		const char *role = i == 0               ? "administrator"
		                   : i <= 15            ? "executive"
		                   : i <= 15 + partners ? "partner"
		                                        : "member";
		snprintf(email, sizeof email, "person%d@bench.example", i);
		snprintf(name, sizeof name, "Bench Person %d", i);
		struct db_stmt *st = db_prepare(
		    g->c,
		    "INSERT INTO people (email, name, role, password_hash, totp_secret, "
		    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id");
		if (!st)
			return -1;
		db_bind_text(st, 1, email);
		db_bind_text(st, 2, name);
		db_bind_text(st, 3, role);
		db_bind_text(st, 4, hash);
		db_bind_text(st, 5, i <= 15 ? BENCH_TOTP_SECRET : NULL);
		db_bind_int(st, 6, g->now);
		if (gen_step(g, st))
			return -1;
		g->people[i] = g->last_id;
		int64_t org = i <= 15 ? 0 : i <= 15 + partners ? g->partner_org : 0;
		int member = i - 16 - partners;
		bool lead = false;
		if (member >= 0) {
			org = g->practices[member % g->n_practices];
			lead = member < g->n_practices;
		}
		if (!org)
			continue;
		st = db_prepare(g->c, "INSERT INTO memberships (person_id, organisation_id, lead, "
		                      "created_at) VALUES ($1, $2, $3, $4)");
		if (!st)
			return -1;
		db_bind_int(st, 1, g->last_id);
		db_bind_int(st, 2, org);
		db_bind_int(st, 3, lead);
		db_bind_int(st, 4, g->now);
		if (gen_step(g, st))
			return -1;
	}
	g->first_member = 16 + partners;
	return 0;
}

/* How pressed practice i is in the week starting at t: worse in winter, worse in a surge. */
static int level_for(struct gen *g, int64_t t, bool surge)
{
	struct time_london l;
	time_london(t, &l);
	int winter = l.month >= 11 || l.month <= 2;
	int r = gen_below(g, 100) + (winter ? 25 : 0) + (surge ? 20 : 0);
	return r < 60 ? 1 : r < 95 ? 2 : r < 118 ? 3 : 4;
}

static int pressure_return(struct gen *g, int64_t period, int i, int level, int64_t at)
{
	struct db_stmt *st = db_prepare(
	    g->c, "INSERT INTO pressure_returns (period_id, organisation_id, level, "
	          "calculated_level, appts_gp, appts_nurse, list_size, staff_available_pct, "
	          "clinical_staff, absences, nhs111_bookings, comments, consent_to_share, "
	          "submitted_by, submitted_at, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, "
	          "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $15)");
	if (!st)
		return -1;
	int64_t list = g->list_sizes[i];
	int64_t appts = list * (90 + level * 12 + gen_below(g, 20)) / 1000 / 10;
	int64_t staff = 8 + list / 1500;
	int pct = 100 - (level - 1) * 9 - gen_below(g, 8);
	struct pressure_figures f = {list, pct, appts, 0, list / 3000, 0};
	db_bind_int(st, 1, period);
	db_bind_int(st, 2, g->practices[i]);
	db_bind_int(st, 3, level);
	db_bind_int(st, 4, pressure_calculated_level(&f));
	db_bind_int(st, 5, appts * 2 / 3);
	db_bind_int(st, 6, appts - appts * 2 / 3);
	db_bind_int(st, 7, list);
	db_bind_int(st, 8, pct);
	db_bind_int(st, 9, staff);
	db_bind_int(st, 10, staff * (100 - pct) / 100);
	db_bind_int(st, 11, f.nhs111_bookings);
	db_bind_text(st, 12, level >= 3 ? "Staff sickness and high demand for same-day care." : "");
	db_bind_int(st, 13, gen_below(g, 4) == 0);
	db_bind_int(st, 14, g->people[g->first_member + i % (g->n_people - g->first_member)]);
	db_bind_int(st, 15, at);
	return gen_step(g, st);
}

/* A period through the server's own code (pressure_current_period), so that its
 * reference day and deadlines are exactly what the server would make. */
static int period_at(struct gen *g, int64_t t, struct pressure_period *out)
{
	struct pressure_practice p = {.id = g->practices[0], .list_size = g->list_sizes[0]};
	return pressure_current_period(g->c, &p, t, out);
}

static int weeks(struct gen *g)
{
	for (int w = g->n_weeks; w >= 1; w--) {
		struct pressure_period period;
		int64_t t = g->now - (int64_t)w * 7 * 86400;
		if (period_at(g, t, &period))
			return -1;
		for (int i = 0; i < g->n_practices; i++)
			if (pressure_return(g, period.id, i, level_for(g, t, false),
			                    period.opens_at + 2 * 86400))
				return -1;
	}
	return 0;
}

/* A fortnight's surge each December (all localities), with a return every day. */
static int surges(struct gen *g)
{
	struct time_london l;
	time_london(g->now, &l);
	for (int y = l.year - g->n_weeks / 52; y < l.year; y++) {
		int64_t start = time_london_day_start(y, 12, 1);
		if (start <= g->now - (int64_t)g->n_weeks * 7 * 86400)
			continue;
		char from[24], to[24];
		snprintf(from, sizeof from, "%04d-12-01", y);
		snprintf(to, sizeof to, "%04d-12-14", y);
		struct db_stmt *st = db_prepare(
		    g->c,
		    "INSERT INTO pressure_surges (all_localities, starts_on, ends_on, reason, "
		    "declared_by, created_at) VALUES (1, $1, $2, 'Winter surge', $3, $4)");
		if (!st)
			return -1;
		db_bind_text(st, 1, from);
		db_bind_text(st, 2, to);
		db_bind_int(st, 3, g->people[1]);
		db_bind_int(st, 4, start);
		if (gen_step(g, st))
			return -1;
		for (int d = 0; d < 14; d++) {
			struct pressure_period period;
			int64_t t = start + (int64_t)d * 86400 + 12 * 3600;
			if (period_at(g, t, &period))
				return -1;
			for (int i = 0; i < g->n_practices; i++)
				if (pressure_return(g, period.id, i, level_for(g, t, true), t))
					return -1;
		}
	}
	return 0;
}

/*
 * The latest daily and weekly digests count as sent, as in a region that has been
 * running: otherwise a server started on a Monday morning composes and mails
 * 20,000 weekly digests while the scenarios are measured, and figures depend on
 * the day of the week.
 */
static int digests(struct gen *g)
{
	for (int weekly = 0; weekly < 2; weekly++) {
		struct db_stmt *st = db_prepare(
		    g->c,
		    "INSERT INTO digests_sent (person_id, period, period_end, sent_at, items) "
		    "SELECT id, $1, $2, $2, 0 FROM people");
		if (!st)
			return -1;
		db_bind_text(st, 1, weekly ? "weekly" : "daily");
		db_bind_int(st, 2, notifications_digest_period_end(g->now, weekly));
		if (gen_step(g, st))
			return -1;
	}
	return 0;
}

static int stage(struct gen *g, const char *what, int (*fn)(struct gen *))
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (db_begin(g->c) || fn(g) || db_commit(g->c)) {
		fprintf(stderr, "shoal-bench-gen: %s failed: %s\n", what, db_errmsg(g->c));
		return -1;
	}
	printf("  %-28s %6.1f s\n", what, gen_seconds(&t0));
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fputs("usage: shoal-bench-gen --db URL [--scale F]   (fills a new, empty database)\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct gen g = {.scale = 1.0, .seed = 0x5eed5a0a1ULL};
	const char *url = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
			g.scale = strtod(argv[++i], NULL);
		else
			return usage();
	}
	if (!url || !(g.scale > 0 && g.scale <= 10))
		return usage();
	g.n_localities = gen_count(g.scale, 30, 1);
	g.n_pcns = gen_count(g.scale, 300, 1);
	g.n_practices = gen_count(g.scale, 1500, 3);
	g.n_people = gen_count(g.scale, 20000, 40);
	g.n_weeks = 156;
	g.now = (int64_t)time(NULL);

	char err[256];
	int applied;
	struct db *db;
	if (db_open(url, 1, &db, err, sizeof err) || migrate_apply(db, &applied, err, sizeof err)) {
		fprintf(stderr, "shoal-bench-gen: %s\n", err);
		return 1;
	}
	g.c = db_acquire(db);
	struct db_stmt *st = g.c ? db_prepare(g.c, "SELECT count(*) FROM people") : NULL;
	if (!st || db_step(st) != DB_ROW || db_col_int(st, 0) != 0) {
		fprintf(stderr, "shoal-bench-gen: the database must be new and empty\n");
		db_release(g.c);
		db_close(db);
		return 1;
	}
	db_reset(st);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("shoal-bench-gen: scale %g\n", g.scale);
	int rc = stage(&g, "organisations", organisations) || stage(&g, "people", people) ||
	         stage(&g, "weekly pressure returns", weeks) ||
	         stage(&g, "surge returns", surges) || stage(&g, "discussions", gen_discussions) ||
	         stage(&g, "digests sent", digests);
	/* PostgreSQL plans by statistics, which autovacuum gathers in a running region;
	 * measured straight after a bulk load without them, a space's list ran at a
	 * ninth of its speed. (SQLite plans without statistics, as in production.) */
	if (!rc && db_conn_kind(g.c) == DB_POSTGRES) {
		struct timespec ta;
		clock_gettime(CLOCK_MONOTONIC, &ta);
		if (db_exec(g.c, "VACUUM ANALYZE")) {
			fprintf(stderr, "shoal-bench-gen: VACUUM ANALYZE failed: %s\n",
			        db_errmsg(g.c));
			rc = 1;
		} else {
			printf("  %-28s %6.1f s\n", "VACUUM ANALYZE", gen_seconds(&ta));
		}
	}
	if (!rc)
		printf("shoal-bench-gen: done in %.1f s\n", gen_seconds(&t0));
	db_release(g.c);
	db_close(db);
	free(g.localities);
	free(g.pcns);
	free(g.practices);
	free(g.list_sizes);
	free(g.people);
	return rc ? 1 : 0;
}
