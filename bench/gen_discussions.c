/*
 * gen_discussions.c — spaces, threads and posts for shoal-bench-gen (see gen.c).
 *
 * At scale 1: 20 spaces (most for all members, two executive-only, two shared with
 * partners, two for a group), 50,000 threads and about 1,000,000 posts over three
 * years. One thread in fifty has 60 posts, so every space has long threads to page
 * through, and one has 5,000; the rest have 1 to 37. A third of the posts have reactions. Post
 * bodies are a handful of Markdown texts, each rendered once by the server's own renderer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/discussions/markdown.h"
#include "app/search/search.h"
#include "gen.h"

static const char *const bodies[] = {
    "We are seeing a big rise in **same-day demand** this week. Is anyone else?",
    "Agreed. Our duty doctor saw 60 patients on Monday; we have asked the PCN for "
    "mutual aid.\n\n> Is anyone else?\n\nYes, all three of our sites.",
    "For the winter call on Thursday, the points I would raise:\n\n"
    "1. NHS 111 bookings over the cap\n2. Discharge letters asking us to chase results\n"
    "3. Flu vaccination stock\n\nSee https://www.england.nhs.uk/ for the guidance.",
    "| Site | Appointments | Staff off |\n|---|---:|---:|\n| Main | 412 | 3 |\n"
    "| Branch | 150 | 1 |\n\nNumbers for last week, for the executive.",
    "Thanks, this is helpful. ~~We will not~~ We will send our return by Thursday.",
    "The LMC has written to the ICB about the shared-care protocols. The executive will "
    "report back after the meeting on the 12th.",
};
#define N_BODIES (sizeof bodies / sizeof bodies[0])

static const char *const titles[] = {
    "Winter access: same-day demand",
    "Shared-care protocols and workload shift",
    "Flu and COVID-19 vaccination stock",
    "NHS 111 bookings over the cap",
    "Estates: leases and repairs",
    "Recruiting ARRS roles across the PCN",
    "Discharge letters asking GPs to chase results",
    "Premises funding this year",
};
#define N_TITLES (sizeof titles / sizeof titles[0])

static int space(struct gen *g, int i, int64_t group, int64_t *id)
{
	static const char *const kinds[] = {"executive", "partners"};
	const char *visibility = i < 14 ? "members" : i < 18 ? kinds[(i - 14) / 2] : "group";
	char name[64];
	snprintf(name, sizeof name, "Space %d", i + 1);
	struct db_stmt *st = db_prepare(
	    g->c,
	    "INSERT INTO spaces (name, description, visibility, group_id, position, "
	    "created_by, created_at, updated_at) VALUES ($1, 'Discussions for the region', $2, "
	    "$3, $4, $5, $6, $6) RETURNING id");
	if (!st)
		return -1;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, visibility);
	if (i >= 18)
		db_bind_int(st, 3, group);
	else
		db_bind_null(st, 3);
	db_bind_int(st, 4, i);
	db_bind_int(st, 5, g->people[1]);
	db_bind_int(st, 6, g->now - 3 * 365 * 86400LL);
	int rc = gen_step(g, st);
	*id = g->last_id;
	return rc;
}

/* A group of practice managers: one member in ten. */
static int group(struct gen *g, int64_t *id)
{
	struct db_stmt *st = db_prepare(g->c, "INSERT INTO discussion_groups (name, created_at) "
	                                      "VALUES ('Practice managers', $1) RETURNING id");
	if (!st)
		return -1;
	db_bind_int(st, 1, g->now);
	if (gen_step(g, st))
		return -1;
	*id = g->last_id;
	for (int i = g->first_member; i < g->n_people; i += 10) {
		st = db_prepare(g->c, "INSERT INTO discussion_group_members (group_id, person_id, "
		                      "created_at) VALUES ($1, $2, $3)");
		if (!st)
			return -1;
		db_bind_int(st, 1, *id);
		db_bind_int(st, 2, g->people[i]);
		db_bind_int(st, 3, g->now);
		if (gen_step(g, st))
			return -1;
	}
	return 0;
}

static int64_t author(struct gen *g)
{
	/* Mostly members, now and then the executive answering. */
	int i = gen_below(g, 8) == 0
	            ? 1 + gen_below(g, 15)
	            : g->first_member + gen_below(g, g->n_people - g->first_member);
	return g->people[i];
}

/*
 * Posts go in POSTS_PER_INSERT rows a statement: on PostgreSQL each statement is
 * a round trip, and a million of them were most of the generator's time. The
 * thread and space are $1 and $2 in every row, four parameters a row follow
 * (author, Markdown, HTML, time): 2 + 4 × 7 = 30, within the 32 that postgres.c takes.
 */
#define POSTS_PER_INSERT 7

static char *insert_posts_sql[POSTS_PER_INSERT];

static void insert_posts_sql_make(void)
{
	for (int n = 1; n <= POSTS_PER_INSERT; n++) {
		char sql[2048];
		int len =
		    snprintf(sql, sizeof sql,
		             "INSERT INTO posts (thread_id, space_id, author_id, body_source, "
		             "body_html, created_at) VALUES ");
		for (int k = 0; k < n; k++)
			len += snprintf(sql + len, sizeof sql - (size_t)len,
			                "%s($1, $2, $%d, $%d, $%d, $%d)", k ? ", " : "", 3 + 4 * k,
			                4 + 4 * k, 5 + 4 * k, 6 + 4 * k);
		snprintf(sql + len, sizeof sql - (size_t)len, " RETURNING id");
		insert_posts_sql[n - 1] = strdup(sql);
	}
}

/* Steps a multi-row INSERT … RETURNING id to the end; *last is the largest id. */
static int last_of(struct gen *g, struct db_stmt *st, int64_t *last)
{
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		if (db_col_int(st, 0) > *last)
			*last = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_DONE) {
		fprintf(stderr, "shoal-bench-gen: %s\n", db_errmsg(g->c));
		return -1;
	}
	return 0;
}

/*
 * Reactions, about 640,000 at scale 1: "agree" on one post in three (two of them on one
 * in nine) and "thanks" on one in five, from members picked by the post's id. A thread
 * page then counts reactions as in a region in use; with none, PostgreSQL planned the
 * reactions query from the empty table, and a plan that reads a whole thread went unseen.
 */
static int reactions(struct gen *g)
{
	int64_t first = g->people[g->first_member], n = g->n_people - g->first_member;
	if (g->people[g->n_people - 1] - first != n - 1) {
		fprintf(stderr, "shoal-bench-gen: members' ids are not consecutive\n");
		return -1;
	}
	static const char *const sql[] = {
	    "INSERT INTO post_reactions (post_id, person_id, kind, created_at) SELECT id, $1 + "
	    "(id * 7919) % $2, 'agree', created_at + 600 FROM posts WHERE id % 3 = 0",
	    "INSERT INTO post_reactions (post_id, person_id, kind, created_at) SELECT id, $1 + "
	    "(id * 7919 + 1) % $2, 'agree', created_at + 900 FROM posts WHERE id % 9 = 0",
	    "INSERT INTO post_reactions (post_id, person_id, kind, created_at) SELECT id, $1 + "
	    "(id * 7919 + 2) % $2, 'thanks', created_at + 1200 FROM posts WHERE id % 5 = 0",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		struct db_stmt *st = db_prepare(g->c, sql[i]);
		if (!st)
			return -1;
		db_bind_int(st, 1, first);
		db_bind_int(st, 2, n);
		if (gen_step(g, st))
			return -1;
	}
	/* The posts' counts, as disc_react keeps them (migration 0015). */
	return gen_step(
	    g, db_prepare(
	           g->c,
	           "UPDATE posts SET agree_count = r.agree, thanks_count = r.thanks FROM (SELECT "
	           "post_id, sum(CASE WHEN kind = 'agree' THEN 1 ELSE 0 END) AS agree, sum(CASE "
	           "WHEN kind = 'thanks' THEN 1 ELSE 0 END) AS thanks FROM post_reactions GROUP BY "
	           "post_id) r WHERE posts.id = r.post_id"));
}

int gen_discussions(struct gen *g)
{
	insert_posts_sql_make();
	char *html[N_BODIES] = {0};
	for (size_t i = 0; i < N_BODIES; i++) {
		struct markdown_result r = {0};
		if (markdown_render(bodies[i], NULL, NULL, &r)) {
			fprintf(stderr, "shoal-bench-gen: cannot render a post\n");
			return -1;
		}
		html[i] = r.html;
	}
	int rc = 0;
	int64_t group_id, spaces[20];
	if (group(g, &group_id))
		rc = -1;
	for (int i = 0; !rc && i < 20; i++)
		rc = space(g, i, group_id, &spaces[i]);
	int n_threads = gen_count(g->scale, 50000, 20);
	int64_t span = 3 * 365 * 86400LL;
	for (int t = 0; !rc && t < n_threads; t++) {
		/* Thread 2 runs all season, 5,000 posts, in a space for all members: its
		 * readers open it at its newest page (bench scenario "a long thread's last
		 * page"). */
		bool season = t == 1;
		int n_posts = season        ? gen_count(g->scale, 5000, 100)
		              : t % 50 == 0 ? 60
		                            : 1 + gen_below(g, 37);
		int64_t space_id = spaces[season ? 0 : gen_below(g, 20)];
		int64_t started = g->now - span + span * t / n_threads;
		struct db_stmt *st = db_prepare(
		    g->c,
		    "INSERT INTO threads (space_id, title, author_id, created_at, last_post_at, "
		    "question) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id");
		if (!st) {
			rc = -1;
			break;
		}
		db_bind_int(st, 1, space_id);
		db_bind_text(st, 2, titles[gen_below(g, N_TITLES)]);
		db_bind_int(st, 3, author(g));
		db_bind_int(st, 4, started);
		db_bind_int(st, 5, gen_below(g, 10) == 0);
		if ((rc = gen_step(g, st)))
			break;
		int64_t thread_id = g->last_id, post_id = 0, at = started;
		for (int p = 0; !rc && p < n_posts; p += POSTS_PER_INSERT) {
			int n = n_posts - p < POSTS_PER_INSERT ? n_posts - p : POSTS_PER_INSERT;
			st = db_prepare(g->c, insert_posts_sql[n - 1]);
			if (!st) {
				rc = -1;
				break;
			}
			db_bind_int(st, 1, thread_id);
			db_bind_int(st, 2, space_id);
			for (int k = 0; k < n; k++) {
				int b = gen_below(g, (int)N_BODIES);
				at += 60 + gen_below(g, 3600);
				db_bind_int(st, 3 + 4 * k, author(g));
				db_bind_text(st, 4 + 4 * k, bodies[b]);
				db_bind_text(st, 5 + 4 * k, html[b]);
				db_bind_int(st, 6 + 4 * k, at);
			}
			rc = last_of(g, st, &post_id);
		}
		st = rc ? NULL
		        : db_prepare(g->c,
		                     "UPDATE threads SET last_post_id = $1, last_post_at = $2, "
		                     "post_count = $3 WHERE id = $4");
		if (!st) {
			rc = -1;
			break;
		}
		db_bind_int(st, 1, post_id);
		db_bind_int(st, 2, at);
		db_bind_int(st, 3, n_posts);
		db_bind_int(st, 4, thread_id);
		rc = gen_step(g, st);
	}
	if (!rc)
		rc = reactions(g);
	/* Into the search index as the server would put them (migration 0014). */
	char why[256];
	if (!rc && search_index_queued(g->c, why, sizeof why)) {
		fprintf(stderr, "shoal-bench-gen: cannot index the posts for search: %s\n", why);
		rc = -1;
	}
	for (size_t i = 0; i < N_BODIES; i++) {
		struct markdown_result r = {.html = html[i]};
		markdown_result_free(&r);
	}
	for (int n = 0; n < POSTS_PER_INSERT; n++)
		free(insert_posts_sql[n]);
	return rc;
}
