-- 0013: indexes for the discussion lists and the digest at region scale
-- (bench/README.md).
--
-- A space's page of threads reads its rows from the index in the page's order
-- (pinned first, then the latest post, then the id) instead of sorting every
-- thread of the space.
DROP INDEX threads_space;
CREATE INDEX threads_space_order ON threads (space_id, pinned, last_post_at, id);

-- The digest job gathers a period's new threads, official responses and active
-- discussions once per run (src/app/notifications/digest.c), by time.
CREATE INDEX threads_created ON threads (created_at);
CREATE INDEX threads_answered ON threads (answered_at);
CREATE INDEX posts_created ON posts (created_at);
