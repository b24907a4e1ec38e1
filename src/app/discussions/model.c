/*
 * model.c — what every discussions page needs: loading a space or thread only
 * if the viewer may see it, checking and rendering a post's text, adding a
 * post with its mentions and counters, a reaction with its count, and the audit trail
 * (see discussions.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/access.h"
#include "app/discussions/discussions.h"
#include "app/discussions/markdown.h"
#include "auth/audit.h"
#include "core/log.h"

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

bool disc_blank(const char *s)
{
	while (s && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	return !s || !*s;
}

void disc_audience(const char *visibility, const char *group, char *out, size_t len)
{
	if (!strcmp(visibility, "executive"))
		copy(out, len, "Executive only");
	else if (!strcmp(visibility, "group"))
		snprintf(out, len, "Group: %s", group ? group : "");
	else if (!strcmp(visibility, "partners"))
		copy(out, len, "Shared with partners");
	else
		copy(out, len, "All members");
}

int disc_load_space(struct db_conn *c, const struct viewer *viewer, int64_t id,
                    struct disc_space *s)
{
	memset(s, 0, sizeof *s);
	if (id <= 0)
		return 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT s.id, s.name, s.description, s.visibility, s.group_id, g.name, s.position, "
	       "(SELECT count(*) FROM discussion_group_members gm WHERE gm.group_id = s.group_id "
	       "AND gm.person_id = $2) FROM spaces s LEFT JOIN discussion_groups g ON g.id = "
	       "s.group_id WHERE s.id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, viewer->person_id);
	int rc = db_step(st);
	bool in_group = false;
	if (rc == DB_ROW) {
		s->id = db_col_int(st, 0);
		copy(s->name, sizeof s->name, db_col_text(st, 1));
		copy(s->description, sizeof s->description, db_col_text(st, 2));
		copy(s->visibility, sizeof s->visibility, db_col_text(st, 3));
		s->group_id = db_col_int(st, 4);
		copy(s->group_name, sizeof s->group_name, db_col_text(st, 5));
		s->position = db_col_int(st, 6);
		in_group = db_col_int(st, 7) > 0;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW || !policy_may_see_space(viewer, s->visibility, in_group))
		return 0;
	return 1;
}

int disc_load_thread(struct db_conn *c, const struct viewer *viewer, int64_t id,
                     struct disc_thread *t)
{
	memset(t, 0, sizeof *t);
	if (id <= 0)
		return 0;
	struct db_stmt *st = db_prepare(
	    c, "SELECT t.id, t.space_id, t.title, s.name, s.visibility, t.author_id, p.name, "
	       "t.pinned, t.locked, t.question, t.official_post_id, t.post_count, t.last_post_id, "
	       "t.created_at, (SELECT count(*) FROM discussion_group_members gm WHERE "
	       "gm.group_id = s.group_id AND gm.person_id = $2), (SELECT r.last_read_post_id FROM "
	       "thread_reads r WHERE r.person_id = $2 AND r.thread_id = t.id), "
	       "t.attachment_count FROM threads t "
	       "JOIN spaces s ON s.id = t.space_id JOIN people p ON p.id = t.author_id "
	       "WHERE t.id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, viewer->person_id);
	int rc = db_step(st);
	bool in_group = false;
	if (rc == DB_ROW) {
		t->id = db_col_int(st, 0);
		t->space_id = db_col_int(st, 1);
		copy(t->title, sizeof t->title, db_col_text(st, 2));
		copy(t->space, sizeof t->space, db_col_text(st, 3));
		copy(t->visibility, sizeof t->visibility, db_col_text(st, 4));
		t->author_id = db_col_int(st, 5);
		copy(t->author, sizeof t->author, db_col_text(st, 6));
		t->pinned = db_col_int(st, 7) != 0;
		t->locked = db_col_int(st, 8) != 0;
		t->question = db_col_int(st, 9) != 0;
		t->official_post_id = db_col_int(st, 10);
		t->post_count = db_col_int(st, 11);
		t->last_post_id = db_col_int(st, 12);
		t->created_at = db_col_int(st, 13);
		in_group = db_col_int(st, 14) > 0;
		t->last_read = db_col_int(st, 15); /* NULL, never read, is 0 */
		t->attachment_count = db_col_int(st, 16);
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW || !policy_may_see_space(viewer, t->visibility, in_group))
		return 0;
	return 1;
}

int disc_audit(struct db_conn *c, struct http_request *req, const char *action, const char *subject,
               const char *detail)
{
	const struct viewer *v = access_viewer(req);
	struct audit_entry e = {v->person_id, v->email, action, subject, detail, req->address};
	int rc = audit_record(c, &e);
	if (rc)
		log_error("request %s: cannot write the audit trail: %s", req->id, db_errmsg(c));
	return rc;
}

void disc_age(int64_t then, int64_t now, char *out, size_t len)
{
	int64_t s = now > then ? now - then : 0;
	if (s < 3600)
		copy(out, len, "less than an hour");
	else if (s < 86400)
		snprintf(out, len, "%lld hour%s", (long long)(s / 3600), s / 3600 == 1 ? "" : "s");
	else
		snprintf(out, len, "%lld day%s", (long long)(s / 86400), s / 86400 == 1 ? "" : "s");
}

/* A mentioned name to an active person (markdown_resolve_fn). */
static int resolve_person(void *ctx, const char *name, int64_t *id)
{
	struct db_conn *c = ctx;
	struct db_stmt *st =
	    db_prepare(c, "SELECT id FROM people WHERE lower(name) = lower($1) AND "
	                  "deactivated_at IS NULL ORDER BY id LIMIT 2");
	if (!st)
		return DB_ERR;
	db_bind_text(st, 1, name);
	int n = 0, rc;
	while ((rc = db_step(st)) == DB_ROW)
		if (n++ == 0)
			*id = db_col_int(st, 0);
	db_reset(st);
	return rc < 0 ? rc : n > 1 ? 2 : n;
}

int disc_body_prepare(struct db_conn *c, const char *source, const char *field,
                      struct form_errors *errors, char *problem, size_t problem_len,
                      struct disc_body *b)
{
	memset(b, 0, sizeof *b);
	b->source = source ? source : "";
	if (disc_blank(b->source)) {
		form_error_add(errors, field, "Enter your message");
		return 1;
	}
	size_t chars = markdown_chars(b->source);
	if (chars > DISCUSSIONS_MAX_POST_CHARS) {
		snprintf(problem, problem_len,
		         "Your message must be 50,000 characters or fewer (it has %zu)", chars);
		form_error_add(errors, field, problem);
		return 1;
	}
	struct markdown_result r;
	int rc = markdown_render(b->source, resolve_person, c, &r);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		copy(problem, problem_len, r.problem);
		form_error_add(errors, field, problem);
		return 1;
	}
	b->html = r.html;
	memcpy(b->mentions, r.mentions, r.n_mentions * sizeof r.mentions[0]);
	b->n_mentions = r.n_mentions;
	return 0;
}

void disc_body_free(struct disc_body *b)
{
	free(b->html);
	b->html = NULL;
}

int disc_add_post(struct db_conn *c, int64_t thread_id, int64_t space_id, int64_t author_id,
                  const struct disc_body *b, int64_t now, int64_t *post_id)
{
	struct db_stmt *st = db_prepare(
	    c, "INSERT INTO posts (thread_id, space_id, author_id, body_source, body_html, "
	       "created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, thread_id);
	db_bind_int(st, 2, space_id);
	db_bind_int(st, 3, author_id);
	db_bind_text(st, 4, b->source);
	db_bind_text(st, 5, b->html);
	db_bind_int(st, 6, now);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*post_id = db_col_int(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	for (size_t i = 0; i < b->n_mentions; i++) {
		st =
		    db_prepare(c, "INSERT INTO post_mentions (post_id, person_id) VALUES ($1, $2)");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, *post_id);
		db_bind_int(st, 2, b->mentions[i]);
		rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	st = db_prepare(c, "UPDATE threads SET last_post_id = $2, last_post_at = $3, post_count = "
	                   "post_count + 1 WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, thread_id);
	db_bind_int(st, 2, *post_id);
	db_bind_int(st, 3, now);
	rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return rc < 0 ? rc : DB_ERR;
	/* The author has read what they wrote. */
	st = db_prepare(
	    c, "INSERT INTO thread_reads (person_id, thread_id, last_read_post_id, read_at) VALUES "
	       "($1, $2, $3, $4) ON CONFLICT (person_id, thread_id) DO UPDATE SET "
	       "last_read_post_id = excluded.last_read_post_id, read_at = excluded.read_at");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, author_id);
	db_bind_int(st, 2, thread_id);
	db_bind_int(st, 3, *post_id);
	db_bind_int(st, 4, now);
	rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

/* Runs sql on (post_id, kind, person_id[, now]): 1 if it returned a row (it changed
 * one), 0 if not, < 0. */
static int reaction_changed(struct db_conn *c, const char *sql, int64_t post_id, const char *kind,
                            int64_t person_id, int64_t now)
{
	struct db_stmt *st = db_prepare(c, sql);
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, post_id);
	db_bind_text(st, 2, kind);
	db_bind_int(st, 3, person_id);
	if (now)
		db_bind_int(st, 4, now);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

int disc_react(struct db_conn *c, int64_t post_id, const char *kind, int64_t person_id,
               enum disc_react_op op, long long *agree, long long *thanks)
{
	if (db_begin(c))
		return DB_ERR;
	int rc = 0, delta = 0;
	if (op != DISC_REACT_TAKE_BACK)
		delta = rc =
		    reaction_changed(c,
		                     "INSERT INTO post_reactions (post_id, kind, person_id, "
		                     "created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO "
		                     "NOTHING RETURNING 1",
		                     post_id, kind, person_id, (int64_t)time(NULL));
	if (op == DISC_REACT_TAKE_BACK || (op == DISC_REACT_TOGGLE && rc == 0)) {
		rc = reaction_changed(c,
		                      "DELETE FROM post_reactions WHERE post_id = $1 AND kind = $2 "
		                      "AND person_id = $3 RETURNING 1",
		                      post_id, kind, person_id, 0);
		delta = -rc;
	}
	if (rc < 0)
		return rc;
	/* Only a change writes the post: on PostgreSQL every write of it also computes its
	 * search_vector again. */
	struct db_stmt *st;
	if (delta) {
		bool is_agree = !strcmp(kind, "agree");
		st =
		    db_prepare(c, "UPDATE posts SET agree_count = agree_count + $2, thanks_count = "
		                  "thanks_count + $3 WHERE id = $1 RETURNING agree_count, "
		                  "thanks_count");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 2, is_agree ? delta : 0);
		db_bind_int(st, 3, is_agree ? 0 : delta);
	} else {
		st = db_prepare(c, "SELECT agree_count, thanks_count FROM posts WHERE id = $1");
		if (!st)
			return DB_ERR;
	}
	db_bind_int(st, 1, post_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*agree = db_col_int(st, 0);
		*thanks = db_col_int(st, 1);
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	return db_commit(c) ? DB_ERR : 0;
}

bool disc_page_from_end(long long offset, long long post_count)
{
	return offset < post_count && offset > post_count / 2;
}

int disc_page_of(struct db_conn *c, int64_t thread_id, int64_t post_id, long long *page)
{
	/* Counted from the end: the posts at or after this one, taken from the thread's
	 * post_count (every post stays a row, deleted or hidden ones as tombstones). A
	 * new reply has one post at or after it, however long the thread: counting the
	 * posts before it was a fifth of a reply's time in a thread of 8,000. */
	struct db_stmt *st = db_prepare(
	    c, "SELECT t.post_count - (SELECT count(*) FROM posts p WHERE p.thread_id = t.id AND "
	       "p.id >= $2) FROM threads t WHERE t.id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, thread_id);
	db_bind_int(st, 2, post_id);
	int rc = db_step(st);
	long long before = rc == DB_ROW ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERR;
	*page = (before > 0 ? before : 0) / DISCUSSIONS_POSTS_PER_PAGE + 1;
	return 0;
}
