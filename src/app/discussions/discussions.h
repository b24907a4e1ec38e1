/*
 * discussions.h — spaces, threads and posts: where members discuss strategy
 * and policy with each other and with their executive (docs/discussions.md).
 *
 * Who sees a space is one rule (docs/discussions.md, "Who sees what"), decided
 * for one space by policy_may_see_space and, for lists, by the SQL filter
 * DISCUSSIONS_VISIBLE_SQL; tests check both give the same answers. A thread and
 * its posts are seen by exactly those who see its space. Anything a viewer may
 * not see is a 404, as if it did not exist.
 */
#ifndef SHOAL_APP_DISCUSSIONS_H
#define SHOAL_APP_DISCUSSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "app/admin/listing.h"
#include "app/discussions/attachments.h"
#include "app/page.h"
#include "auth/policy.h"
#include "core/limits.h"
#include "core/time.h"
#include "core/xmalloc.h"
#include "db/db.h"
#include "http/http.h"

#include <string.h> /* strcmp, in templates */

/* Limits of discussions (beside those in core/limits.h, which they build on). */
#define DISCUSSIONS_MAX_POST_CHARS   50000 /* a post's Markdown, in characters */
#define DISCUSSIONS_MAX_REASON_BYTES 500   /* a moderator's reason for hiding a post */
#define DISCUSSIONS_POSTS_PER_PAGE   50
#define DISCUSSIONS_THREADS_PER_PAGE 30
#define DISCUSSIONS_MAX_SPACES       100
#define DISCUSSIONS_MAX_GROUPS       100
#define DISCUSSIONS_MAX_MEMBERS      500 /* shown on a group's page */
#define DISCUSSIONS_MAX_REVISIONS    50
#define DISCUSSIONS_MAX_QUESTIONS    200

/*
 * The visibility rule as an SQL condition on a space aliased "s", for list
 * queries: $1 is the viewer's person id, $2 their role name. It must say what
 * policy_may_see_space says (docs/discussions.md, "Who sees what").
 */
#define DISCUSSIONS_VISIBLE_SQL                                                                    \
	"(s.visibility = 'partners' OR ($2 <> 'partner' AND (s.visibility = 'members' OR $2 IN "   \
	"('executive', 'administrator') OR (s.visibility = 'group' AND EXISTS (SELECT 1 FROM "     \
	"discussion_group_members gm WHERE gm.group_id = s.group_id AND gm.person_id = $1)))))"

/*
 * Of a thread's posts p ($1), a page: $2 posts from the $3-th (0 is the first), in order.
 * The page's first post is found by counting along the thread's index alone; with OFFSET
 * on the page's own query, every post before the page was read and joined to its author
 * first: page 100 of a 29,782-post thread took 150 ms on PostgreSQL, and takes 0.7 ms.
 * Counting still costs a step a post, so a page in the thread's second half is counted
 * from its end (DISCUSSIONS_PAGE_FROM_END_SQL, by the thread's post_count in the same
 * statement): a regular reader opens a long thread at its newest page.
 * disc_page_from_end() says which to use.
 */
#define DISCUSSIONS_PAGE_SQL                                                                       \
	"p.thread_id = $1 AND p.id >= (SELECT id FROM posts WHERE thread_id = $1 ORDER BY id "     \
	"LIMIT 1 OFFSET $3) ORDER BY p.id LIMIT $2"
#define DISCUSSIONS_PAGE_FROM_END_SQL                                                              \
	"p.thread_id = $1 AND p.id >= (SELECT id FROM posts WHERE thread_id = $1 ORDER BY id "     \
	"DESC LIMIT 1 OFFSET (SELECT CASE WHEN post_count > $3 THEN post_count - 1 - $3 ELSE 0 "   \
	"END FROM threads WHERE id = $1)) ORDER BY p.id LIMIT $2"

/* ------------------------------------------------------------ model */

struct disc_space {
	int64_t id, group_id, position;
	char name[LIMIT_NAME_BYTES + 1];
	char description[LIMIT_TEXT_BYTES + 1];
	char visibility[12];
	char group_name[LIMIT_NAME_BYTES + 1];
	const char *audience; /* "All members", "Executive only", … */
	long long threads, unread_threads;
};

struct disc_thread {
	int64_t id, space_id, author_id, official_post_id, last_post_id;
	char title[LIMIT_NAME_BYTES + 1];
	char space[LIMIT_NAME_BYTES + 1];
	char visibility[12];
	char author[LIMIT_NAME_BYTES + 1];
	bool pinned, locked, question;
	long long post_count, attachment_count;
	int64_t created_at;
	int64_t last_read; /* the viewer's last read post here, or 0 */
};

/**
 * Loads space id if viewer may see it: 1, 0 (no such space, or not visible: the same to
 * the viewer), < 0 error.
 */
int disc_load_space(struct db_conn *c, const struct viewer *viewer, int64_t id,
                    struct disc_space *s) __attribute__((warn_unused_result));
/** Loads thread id (and its space) if viewer may see it: 1, 0, < 0 as disc_load_space. */
int disc_load_thread(struct db_conn *c, const struct viewer *viewer, int64_t id,
                     struct disc_thread *t) __attribute__((warn_unused_result));
/** Whether s is NULL, empty or only spaces, tabs and line breaks. */
bool disc_blank(const char *s);
/** "All members", "Executive only", "Group: NAME" or "Shared with partners" into out. */
void disc_audience(const char *visibility, const char *group, char *out, size_t len);
/** Writes an audit entry for the viewer of req. 0 or < 0. */
int disc_audit(struct db_conn *c, struct http_request *req, const char *action, const char *subject,
               const char *detail) __attribute__((warn_unused_result));
/** "3 days", "1 hour", "less than an hour": how long ago then was, at now. */
void disc_age(int64_t then, int64_t now, char *out, size_t len);

/* Whether the page from post `offset` (0 is the first) of a thread of post_count posts is
 * nearer its end: then it is read with DISCUSSIONS_PAGE_FROM_END_SQL. A page past the end
 * is read from the start, and is empty. */
bool disc_page_from_end(long long offset, long long post_count);

/* A post's text checked and rendered: what a form sends back. */
struct disc_body {
	const char *source;
	char *html; /* owned */
	int64_t mentions[20];
	size_t n_mentions;
};
/**
 * Checks and renders a post's Markdown (field is the form field, for the error):
 * 0 ok, 1 a problem added to errors, < 0 error. Free with disc_body_free.
 */
int disc_body_prepare(struct db_conn *c, const char *source, const char *field,
                      struct form_errors *errors, char *problem, size_t problem_len,
                      struct disc_body *b) __attribute__((warn_unused_result));
void disc_body_free(struct disc_body *b);
/**
 * Adds a post to thread t (in the caller's transaction): the post, its mentions,
 * the thread's counters, and the author's read mark. *post_id gets its id.
 */
int disc_add_post(struct db_conn *c, int64_t thread_id, int64_t space_id, int64_t author_id,
                  const struct disc_body *b, int64_t now, int64_t *post_id)
    __attribute__((warn_unused_result));
/* What disc_react does with the person's reaction. */
enum disc_react_op { DISC_REACT_GIVE, DISC_REACT_TAKE_BACK, DISC_REACT_TOGGLE };
/**
 * Gives or takes back person_id's reaction of kind ("agree" or "thanks") to post_id,
 * and keeps the post's count of that kind, in one transaction of its own: the only
 * writer of reactions, so the counts a thread page shows stay true. Giving one already
 * given, or taking back one never given, changes nothing. *agree and *thanks get the
 * post's counts after. 0 or < 0.
 */
int disc_react(struct db_conn *c, int64_t post_id, const char *kind, int64_t person_id,
               enum disc_react_op op, long long *agree, long long *thanks)
    __attribute__((warn_unused_result));
/** The page (from 1) of thread_id on which post_id sits. */
int disc_page_of(struct db_conn *c, int64_t thread_id, int64_t post_id, long long *page)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------ views */

struct disc_index_view {
	const char *notice;
	bool may_manage, may_see_queue;
	long long awaiting;
	struct disc_space *spaces; /* DISCUSSIONS_MAX_SPACES */
	size_t n;
	const char *csrf;
};

struct disc_group_option {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1];
};

struct disc_space_form_view {
	const char *csrf, *action, *heading, *button;
	struct form_errors errors;
	const char *name, *description, *visibility;
	int64_t group_id;
	struct disc_group_option groups[DISCUSSIONS_MAX_GROUPS];
	size_t n_groups;
};

struct disc_thread_row {
	int64_t id, first_unread;
	char title[LIMIT_NAME_BYTES + 1], author[LIMIT_NAME_BYTES + 1];
	char last_post[TIME_DATE_TIME_BYTES];
	char space[LIMIT_NAME_BYTES + 1];
	char age[32];
	long long posts, unread;
	bool pinned, locked, question, answered, never_read;
};

struct disc_space_view {
	struct disc_space space;
	const char *notice;
	bool may_start, may_manage;
	struct disc_thread_row rows[DISCUSSIONS_THREADS_PER_PAGE];
	size_t n;
	struct listing_pager pager;
};

struct disc_thread_new_view {
	const char *csrf;
	struct disc_space space;
	struct form_errors errors;
	const char *title, *body;
	bool question, may_ask;
	struct attach_set files;
};

struct disc_post_row {
	int64_t id, author_id;
	long long number;
	char author[LIMIT_NAME_BYTES + 1];
	char when[TIME_DATE_TIME_BYTES];
	bool edited, deleted, hidden, by_executive, official, first_unread;
	bool may_edit, may_delete, may_hide, may_mark_official, may_react, may_quote;
	const char *hidden_reason; /* in disc_thread_view.text */
	struct safe_html body;     /* in disc_thread_view.text */
	long long agree, thanks;
	bool agreed, thanked;
	const struct attach_row *attachments; /* into disc_thread_view.attachments */
	size_t n_attachments;
};

struct disc_space_option {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1];
};

struct disc_thread_view {
	const char *csrf, *notice;
	struct disc_thread t;
	struct disc_post_row *posts; /* DISCUSSIONS_POSTS_PER_PAGE */
	size_t n;
	struct strpool text; /* the posts' bodies and reasons */
	struct disc_post_row official;
	bool has_official;
	long long page, pages;
	struct listing_pager pager;
	bool may_reply, moderator;
	const char *reply; /* the reply box's text */
	struct form_errors errors;
	struct disc_space_option spaces[DISCUSSIONS_MAX_SPACES];
	size_t n_spaces;
	char reply_action[64];
	struct attach_row *attachments; /* of the posts on this page (owned) */
	size_t n_attachments;
	struct attach_set *files; /* a reply's files while it is checked (owned) */
};

struct disc_post_edit_view {
	const char *csrf;
	int64_t post_id, thread_id;
	char title[LIMIT_NAME_BYTES + 1];
	const char *body;
	struct form_errors errors;
};

struct disc_revision_row {
	char when[TIME_DATE_TIME_BYTES];
	struct safe_html body;
	bool current;
};
struct disc_history_view {
	int64_t post_id, thread_id;
	char title[LIMIT_NAME_BYTES + 1], author[LIMIT_NAME_BYTES + 1];
	struct disc_revision_row rows[DISCUSSIONS_MAX_REVISIONS + 1];
	size_t n;
};

struct disc_hide_view {
	const char *csrf;
	int64_t post_id, thread_id;
	char title[LIMIT_NAME_BYTES + 1], author[LIMIT_NAME_BYTES + 1];
	const char *reason;
	struct form_errors errors;
};

struct disc_question_row {
	int64_t id, first_post;
	char title[LIMIT_NAME_BYTES + 1], author[LIMIT_NAME_BYTES + 1];
	char space[LIMIT_NAME_BYTES + 1], asked[TIME_DATE_TIME_BYTES], age[32];
	long long replies;
};
struct disc_questions_view {
	struct disc_question_row *rows; /* DISCUSSIONS_MAX_QUESTIONS */
	size_t n;
};

struct disc_group_row {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1];
	long long members, spaces;
};
struct disc_groups_view {
	const char *csrf, *notice, *name;
	struct form_errors errors;
	struct disc_group_row rows[DISCUSSIONS_MAX_GROUPS];
	size_t n;
};
struct disc_member_row {
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1], email[LIMIT_EMAIL_BYTES + 1];
};
struct disc_group_view {
	const char *csrf, *notice, *email;
	int64_t id;
	char name[LIMIT_NAME_BYTES + 1];
	struct form_errors errors;
	struct disc_member_row *rows; /* DISCUSSIONS_MAX_MEMBERS */
	size_t n;
};

/** Loads the demo collective's spaces, threads and replies (demo.c), inside the
 * caller's transaction; does nothing when spaces exist already. Returns 0 or < 0. */
int discussions_demo_load(struct db_conn *c, int64_t now) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ handlers */

/* spaces.c */
void discussions_index(struct http_request *req, struct http_response *res);
void discussions_space_new_page(struct http_request *req, struct http_response *res);
void discussions_space_create(struct http_request *req, struct http_response *res);
void discussions_space_page(struct http_request *req, struct http_response *res);
void discussions_space_edit_page(struct http_request *req, struct http_response *res);
void discussions_space_edit(struct http_request *req, struct http_response *res);
void discussions_space_position(struct http_request *req, struct http_response *res);
/* groups.c: /admin/groups */
void discussions_groups_page(struct http_request *req, struct http_response *res);
void discussions_group_create(struct http_request *req, struct http_response *res);
void discussions_group_page(struct http_request *req, struct http_response *res);
void discussions_group_add(struct http_request *req, struct http_response *res);
void discussions_group_remove(struct http_request *req, struct http_response *res);
/* threads.c */
void discussions_thread_new_page(struct http_request *req, struct http_response *res);
void discussions_thread_create(struct http_request *req, struct http_response *res);
void discussions_thread_page(struct http_request *req, struct http_response *res);
void discussions_reply(struct http_request *req, struct http_response *res);
void discussions_thread_pin(struct http_request *req, struct http_response *res);
void discussions_thread_lock(struct http_request *req, struct http_response *res);
void discussions_thread_move(struct http_request *req, struct http_response *res);
void discussions_questions(struct http_request *req, struct http_response *res);
/* posts.c */
void discussions_post_edit_page(struct http_request *req, struct http_response *res);
void discussions_post_edit(struct http_request *req, struct http_response *res);
void discussions_post_history(struct http_request *req, struct http_response *res);
void discussions_post_delete(struct http_request *req, struct http_response *res);
void discussions_post_hide_page(struct http_request *req, struct http_response *res);
void discussions_post_hide(struct http_request *req, struct http_response *res);
void discussions_post_react(struct http_request *req, struct http_response *res);
void discussions_post_official(struct http_request *req, struct http_response *res);

#endif
