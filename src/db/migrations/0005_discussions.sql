-- 0005: discussions: groups of people, spaces with a visibility, threads,
-- posts (Markdown source and the HTML rendered once at save), their earlier
-- versions, mentions, reactions, and how far each person has read each thread.
-- Times are Unix seconds (UTC). Later features (attachments, notifications,
-- digests, search, feeds, the API) build on these tables: every post carries
-- its space so that a search or a digest can filter by visibility in one join.

-- A named group of people (practice managers, a PCN, a network), managed by
-- administrators; a space may be visible only to one group.
CREATE TABLE discussion_groups (
	id @ID@,
	name TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);
CREATE TABLE discussion_group_members (
	group_id BIGINT NOT NULL REFERENCES discussion_groups (id),
	person_id BIGINT NOT NULL REFERENCES people (id),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (group_id, person_id)
);
CREATE INDEX discussion_group_members_person ON discussion_group_members (person_id);

-- A space (a category of threads). Who sees it is decided by visibility, the
-- rule written once in docs/discussions.md, policy_may_see_space and
-- DISCUSSIONS_VISIBLE_SQL (src/app/discussions/discussions.h):
--   members    every member, the executive and administrators (not partners)
--   executive  the executive and administrators
--   group      members of group_id (not partners), the executive and administrators
--   partners   everyone signed in, partners included
CREATE TABLE spaces (
	id @ID@,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	visibility TEXT NOT NULL CHECK (visibility IN ('members', 'executive', 'group', 'partners')),
	group_id BIGINT REFERENCES discussion_groups (id),
	position BIGINT NOT NULL DEFAULT 0,
	created_by BIGINT NOT NULL REFERENCES people (id),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	CHECK ((visibility = 'group') = (group_id IS NOT NULL))
);

CREATE TABLE threads (
	id @ID@,
	space_id BIGINT NOT NULL REFERENCES spaces (id),
	title TEXT NOT NULL,
	author_id BIGINT NOT NULL REFERENCES people (id),
	created_at BIGINT NOT NULL,
	last_post_id BIGINT NOT NULL DEFAULT 0, -- newest post, for unread counts
	last_post_at BIGINT NOT NULL,
	post_count BIGINT NOT NULL DEFAULT 0,
	pinned INTEGER NOT NULL DEFAULT 0,
	locked INTEGER NOT NULL DEFAULT 0,
	question INTEGER NOT NULL DEFAULT 0,    -- a question for the executive
	official_post_id BIGINT,                -- the executive's official response
	answered_at BIGINT
);
CREATE INDEX threads_space ON threads (space_id, pinned, last_post_at);
CREATE INDEX threads_questions ON threads (question, official_post_id, created_at);

-- A post: the first one of a thread is its opening post. Deleted and hidden
-- posts keep their row (a tombstone is shown); their text stays in
-- post_revisions for the audit of what was there.
CREATE TABLE posts (
	id @ID@,
	thread_id BIGINT NOT NULL REFERENCES threads (id),
	space_id BIGINT NOT NULL REFERENCES spaces (id), -- follows the thread when it moves
	author_id BIGINT NOT NULL REFERENCES people (id),
	body_source TEXT NOT NULL, -- Markdown as typed
	body_html TEXT NOT NULL,   -- rendered once at save, unsafe HTML off
	created_at BIGINT NOT NULL,
	edited_at BIGINT,
	deleted_at BIGINT,         -- by its author
	hidden_at BIGINT,          -- by a moderator
	hidden_by BIGINT REFERENCES people (id),
	hidden_reason TEXT
);
CREATE INDEX posts_thread ON posts (thread_id, id);
CREATE INDEX posts_space ON posts (space_id, id);

-- Earlier versions of a post: one row per edit, holding the text it replaced.
CREATE TABLE post_revisions (
	id @ID@,
	post_id BIGINT NOT NULL REFERENCES posts (id),
	body_source TEXT NOT NULL,
	body_html TEXT NOT NULL,
	written_at BIGINT NOT NULL, -- when this version was written
	replaced_at BIGINT NOT NULL -- when an edit replaced it
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);

-- People mentioned (@[Name]) in a post, for notifications.
CREATE TABLE post_mentions (
	post_id BIGINT NOT NULL REFERENCES posts (id),
	person_id BIGINT NOT NULL REFERENCES people (id),
	PRIMARY KEY (post_id, person_id)
);
CREATE INDEX post_mentions_person ON post_mentions (person_id);

CREATE TABLE post_reactions (
	post_id BIGINT NOT NULL REFERENCES posts (id),
	person_id BIGINT NOT NULL REFERENCES people (id),
	kind TEXT NOT NULL CHECK (kind IN ('agree', 'thanks')),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (post_id, kind, person_id)
);

-- The newest post each person has seen in each thread.
CREATE TABLE thread_reads (
	person_id BIGINT NOT NULL REFERENCES people (id),
	thread_id BIGINT NOT NULL REFERENCES threads (id),
	last_read_post_id BIGINT NOT NULL,
	read_at BIGINT NOT NULL,
	PRIMARY KEY (person_id, thread_id)
);
CREATE INDEX thread_reads_thread ON thread_reads (thread_id);
