-- 0010: discussion notifications (in-app), how loudly each person follows each
-- space, how each person wants email, and which digests were sent. Times are
-- Unix seconds (UTC). See docs/discussions.md, "Notifications and digests".

-- One notice for one person about one post. kind says why:
--   reply     a reply in a thread the person started
--   mention   the person was @mentioned in the post
--   official  the post became the official response in a thread the person
--             started or posted in
--   thread    a new thread in a space the person watches
-- The unique key makes notifying idempotent: calling again for the same post
-- adds nothing and sends no second email.
CREATE TABLE notifications (
	id @ID@,
	person_id BIGINT NOT NULL REFERENCES people (id),
	kind TEXT NOT NULL CHECK (kind IN ('reply', 'mention', 'official', 'thread')),
	thread_id BIGINT NOT NULL REFERENCES threads (id),
	post_id BIGINT NOT NULL REFERENCES posts (id),
	actor_id BIGINT NOT NULL REFERENCES people (id),
	created_at BIGINT NOT NULL,
	read_at BIGINT,
	UNIQUE (person_id, post_id, kind)
);
-- The list (newest first) and the unread badge both read this index only.
CREATE INDEX notifications_person ON notifications (person_id, read_at, id);

-- A person's level for a space; no row means "normal" (replies, mentions and
-- official responses, but not every new thread).
CREATE TABLE space_subscriptions (
	person_id BIGINT NOT NULL REFERENCES people (id),
	space_id BIGINT NOT NULL REFERENCES spaces (id),
	level TEXT NOT NULL CHECK (level IN ('watching', 'muted')),
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (person_id, space_id)
);
CREATE INDEX space_subscriptions_space ON space_subscriptions (space_id, level);

-- How a person wants email about discussions; no row means a weekly digest.
CREATE TABLE notification_preferences (
	person_id BIGINT PRIMARY KEY REFERENCES people (id),
	email TEXT NOT NULL CHECK (email IN ('immediately', 'daily', 'weekly', 'never')),
	updated_at BIGINT NOT NULL
);

-- Digests sent: one per person per period. The primary key decides, so that
-- several nodes running the digest job never send the same digest twice.
CREATE TABLE digests_sent (
	person_id BIGINT NOT NULL REFERENCES people (id),
	period TEXT NOT NULL CHECK (period IN ('daily', 'weekly')),
	period_end BIGINT NOT NULL, -- the send time the digest belongs to (07:00 London)
	sent_at BIGINT NOT NULL,
	items BIGINT NOT NULL,      -- 0: nothing to tell, so no email went
	PRIMARY KEY (person_id, period, period_end)
);
