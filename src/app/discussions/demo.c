/*
 * demo.c — the demo collective's discussions (see discussions.h): a space of
 * each kind, a group of practice managers, and threads on strategy and policy
 * with replies, a question the executive has answered officially and one still
 * awaiting a response. Everything here is fictional.
 */
#include <stdio.h>
#include <string.h>

#include "app/discussions/discussions.h"

static const char *const demo_spaces[][4] = {
    /* name, description, visibility, group */
    {"General practice strategy",
     "Where the collective's practices discuss strategy and policy with each other and with "
     "the executive.",
     "members", NULL},
    {"Practice managers", "For practice managers: rotas, contracts, estates and the day to day.",
     "group", "Practice managers"},
    {"Executive only", "The executive's own working space.", "executive", NULL},
    {"Winter planning with partners",
     "Shared with the ICB, the trusts and the council: plans for winter 2026/27.", "partners",
     NULL},
};

struct demo_post {
	const char *author;
	int days_ago;
	const char *body;
};

static const struct {
	int space;
	const char *title;
	int question, pinned, official; /* official: index of the post that is the response, or 0 */
	struct demo_post posts[5];
} demo_threads[] = {
    {0,
     "Enhanced access from April: how are you staffing Saturday clinics?",
     1,
     0,
     3,
     {{"gp@riverside.wyvern.example", 9,
       "We are struggling to fill the Saturday rota for the **enhanced access** service from "
       "April. Two questions for the executive:\n\n1. Will the PCN be allowed to pool Saturday "
       "sessions across practices?\n2. Is there any flexibility on the 9am to 5pm window?"},
      {"nurse@castlegate.wyvern.example", 8,
       "Castlegate runs a nurse-led Saturday morning already. Pooling would help us cover "
       "childhood immunisations across the PCN."},
      {"lead@riverside.wyvern.example", 7,
       "| Practice | Saturday sessions filled |\n|---|---|\n| Riverside | 3 of 4 |\n| Bridge "
       "Street | 1 of 4 |\n\nBridge Street needs help most."},
      {"chair@wyvern.example", 5,
       "Thank you all. The executive met the ICB on Tuesday. **Pooling across the PCN is "
       "allowed** as long as each practice's patients can book any pooled session. The hours "
       "stay 9am to 5pm for now; we will raise flexibility at the next contract review."},
      {NULL, 0, NULL}}},
    {0,
     "ICB consultation on the primary care estates strategy",
     1,
     0,
     0,
     {{"lead@harbour.wyvern.example", 3,
       "The ICB has opened a consultation on its estates strategy, closing in three weeks. "
       "Harbour PCN would lose its planned hub. Will the executive send a collective response, "
       "and can practices contribute to it?"},
      {"gp@riverside.wyvern.example", 2,
       "Agree with Chris. ~~The hub was promised in 2024~~ It was promised in 2023 and has "
       "slipped twice. @[Dr Priya Shah (LMC chair)], could the LMC add this to its agenda?"},
      {NULL, 0, NULL}}},
    {0,
     "How the executive will share decisions with members",
     0,
     1,
     0,
     {{"chair@wyvern.example", 20,
       "From this month every executive decision is posted here within a week, with the "
       "reasons and how members can respond. Mark a thread as a *question for the executive* "
       "and we will answer it officially."},
      {NULL, 0, NULL}}},
    {1,
     "Locum rates this winter",
     0,
     0,
     0,
     {{"lead@riverside.wyvern.example", 4,
       "Is anyone else being quoted more than last winter for GP locum sessions? We are seeing "
       "rates well above the PCN's guide."},
      {"lead@harbour.wyvern.example", 4,
       "Yes, across Harbour too. We have started sharing a bank of sessional GPs between three "
       "practices, which helps."},
      {NULL, 0, NULL}}},
    {2,
     "Agenda for the December executive meeting",
     0,
     0,
     0,
     {{"chair@wyvern.example", 2,
       "- Estates consultation response\n- Enhanced access review\n- Winter pressures: "
       "escalation so far"},
      {NULL, 0, NULL}}},
    {3,
     "Winter plan 2026/27: discharges and GP workload",
     0,
     0,
     0,
     {{"partner@icb.wyvern.example", 6,
       "The ICB's draft winter plan expects more **discharge-to-assess** patients to need GP "
       "follow-up in December and January. We would welcome practices' views on what support "
       "would help."},
      {"chair@wyvern.example", 5,
       "Thank you, Rowan. The collective asks for a named ward contact for each locality and "
       "discharge summaries that arrive on the day of discharge."},
      {"lead@riverside.wyvern.example", 4,
       "Agreed. Late summaries are the main cause of unplanned work for us."},
      {NULL, 0, NULL}}},
};

static int person(struct db_conn *c, const char *email, int64_t *id)
{
	struct db_stmt *st = db_prepare(c, "SELECT id FROM people WHERE email = $1");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, email);
	int rc = db_step(st);
	*id = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	return rc == DB_ROW ? 0 : DB_ERR;
}

static int insert_id(struct db_stmt *st, int64_t *id)
{
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int(st, 0);
	db_reset(st);
	return rc == DB_ROW ? 0 : DB_ERR;
}

int discussions_demo_load(struct db_conn *c, int64_t now)
{
	struct db_stmt *st = db_prepare(c, "SELECT count(*) FROM spaces");
	if (!st)
		return DB_ERR;
	int rc = db_step(st);
	long long existing = rc == DB_ROW ? db_col_int(st, 0) : -1;
	db_reset(st);
	if (existing != 0)
		return existing < 0 ? DB_ERR : 0;
	int64_t chair, group = 0, spaces[4];
	if (person(c, "chair@wyvern.example", &chair))
		return DB_ERR;
	st = db_prepare(c, "INSERT INTO discussion_groups (name, created_at) VALUES ($1, $2) "
	                   "RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, "Practice managers");
	db_bind_int(st, 2, now);
	if (insert_id(st, &group))
		return DB_ERR;
	static const char *const managers[] = {"lead@riverside.wyvern.example",
	                                       "lead@harbour.wyvern.example"};
	for (size_t i = 0; i < 2; i++) {
		int64_t id;
		if (person(c, managers[i], &id))
			return DB_ERR;
		st = db_prepare(c, "INSERT INTO discussion_group_members (group_id, person_id, "
		                   "created_at) VALUES ($1, $2, $3)");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, group);
		db_bind_int(st, 2, id);
		db_bind_int(st, 3, now);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return DB_ERR;
	}
	for (size_t i = 0; i < 4; i++) {
		st = db_prepare(c,
		                "INSERT INTO spaces (name, description, visibility, group_id, "
		                "position, created_by, created_at, updated_at) VALUES ($1, $2, $3, "
		                "$4, $5, $6, $7, $7) RETURNING id");
		if (!st)
			return DB_ERR;
		db_bind_text(st, 1, demo_spaces[i][0]);
		db_bind_text(st, 2, demo_spaces[i][1]);
		db_bind_text(st, 3, demo_spaces[i][2]);
		if (demo_spaces[i][3])
			db_bind_int(st, 4, group);
		else
			db_bind_null(st, 4);
		db_bind_int(st, 5, (int64_t)i + 1);
		db_bind_int(st, 6, chair);
		db_bind_int(st, 7, now - 30 * 86400);
		if (insert_id(st, &spaces[i]))
			return DB_ERR;
	}
	for (size_t i = 0; i < sizeof demo_threads / sizeof demo_threads[0]; i++) {
		const struct demo_post *posts = demo_threads[i].posts;
		int64_t author, thread, post_ids[5] = {0};
		int64_t at = now - (int64_t)posts[0].days_ago * 86400;
		if (person(c, posts[0].author, &author))
			return DB_ERR;
		st = db_prepare(
		    c, "INSERT INTO threads (space_id, title, author_id, created_at, "
		       "last_post_at, question, pinned) VALUES ($1, $2, $3, $4, $4, $5, $6) "
		       "RETURNING id");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, spaces[demo_threads[i].space]);
		db_bind_text(st, 2, demo_threads[i].title);
		db_bind_int(st, 3, author);
		db_bind_int(st, 4, at);
		db_bind_int(st, 5, demo_threads[i].question);
		db_bind_int(st, 6, demo_threads[i].pinned);
		if (insert_id(st, &thread))
			return DB_ERR;
		for (size_t j = 0; j < 5 && posts[j].author; j++) {
			struct form_errors errors = {0};
			struct disc_body body;
			char problem[300];
			if (person(c, posts[j].author, &author) ||
			    disc_body_prepare(c, posts[j].body, "body", &errors, problem,
			                      sizeof problem, &body))
				return DB_ERR;
			rc = disc_add_post(c, thread, spaces[demo_threads[i].space], author, &body,
			                   now - (int64_t)posts[j].days_ago * 86400 +
			                       (int64_t)j * 600,
			                   &post_ids[j]);
			disc_body_free(&body);
			if (rc)
				return rc;
		}
		if (demo_threads[i].official) {
			st = db_prepare(
			    c, "UPDATE threads SET official_post_id = $2, answered_at = $3 "
			       "WHERE id = $1");
			if (!st)
				return DB_ERR;
			db_bind_int(st, 1, thread);
			db_bind_int(st, 2, post_ids[demo_threads[i].official]);
			db_bind_int(st, 3, now - 5 * 86400);
			rc = db_step(st);
			db_reset(st);
			if (rc != DB_DONE)
				return DB_ERR;
		}
	}
	return 0;
}
