-- 0015: a post carries its counts of reactions, so a thread page reads them with the
-- posts, and looks up only the viewer's own (src/app/discussions/threads.c).
--
-- Counting each post's reactions in a statement of their own was a quarter of a thread
-- page's instructions on SQLite (261,000 of 968,000 under callgrind, 50 probes of the
-- reactions' key on a region with 640,000 of them). disc_react (model.c) is the only
-- writer of reactions, and changes a count in the transaction that changes a reaction.
--
-- On PostgreSQL an UPDATE of a post also computes its search_vector again (0009): a few
-- microseconds for a reaction, which a reader of the page repays many times over. Here it
-- runs once for every post that has a reaction: on a region (1,000,000 posts, 640,000
-- reactions) this migration took 11.8 s on PostgreSQL and 11.4 s on SQLite.
ALTER TABLE posts ADD COLUMN agree_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN thanks_count BIGINT NOT NULL DEFAULT 0;
UPDATE posts SET agree_count = r.agree, thanks_count = r.thanks FROM (SELECT post_id,
	sum(CASE WHEN kind = 'agree' THEN 1 ELSE 0 END) AS agree,
	sum(CASE WHEN kind = 'thanks' THEN 1 ELSE 0 END) AS thanks
	FROM post_reactions GROUP BY post_id) r WHERE posts.id = r.post_id;

-- The viewer's own reactions on a page: one range of this index.
CREATE INDEX post_reactions_person ON post_reactions (person_id, post_id);
