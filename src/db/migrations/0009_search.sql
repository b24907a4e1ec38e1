-- 0009: search over discussions (docs/discussions.md, "Search"), and private
-- tokens for Atom feeds. Lines marked --@sqlite or --@postgres run on that
-- engine only (src/db/migrate.c): the two full-text engines differ.
--
-- Only standing posts are indexed: a post that is deleted by its author or
-- hidden by a moderator leaves the index in the same statement, so its text
-- can never come back in a result or a snippet. A thread's title is indexed
-- with its opening post. Searches still join posts and spaces and filter by
-- DISCUSSIONS_VISIBLE_SQL: the index knows words, never who may read them.

-- SQLite: an FTS5 table whose rowid is the post's id, kept in step by triggers
-- (every insert, edit, deletion, hiding and title change), filled here for the
-- posts that exist already.
--@sqlite CREATE VIRTUAL TABLE post_search USING fts5 (title, body,
--@sqlite 	tokenize = 'porter unicode61 remove_diacritics 2');
--@sqlite CREATE TRIGGER post_search_insert AFTER INSERT ON posts
--@sqlite WHEN new.deleted_at IS NULL AND new.hidden_at IS NULL BEGIN
--@sqlite 	INSERT INTO post_search (rowid, title, body) SELECT new.id, CASE WHEN EXISTS (
--@sqlite 		SELECT 1 FROM posts o WHERE o.thread_id = new.thread_id AND o.id < new.id)
--@sqlite 		THEN '' ELSE t.title END, new.body_source FROM threads t WHERE t.id = new.thread_id;
--@sqlite END;
--@sqlite CREATE TRIGGER post_search_update AFTER UPDATE OF body_source, deleted_at, hidden_at
--@sqlite ON posts BEGIN
--@sqlite 	DELETE FROM post_search WHERE rowid = old.id;
--@sqlite 	INSERT INTO post_search (rowid, title, body) SELECT new.id, CASE WHEN EXISTS (
--@sqlite 		SELECT 1 FROM posts o WHERE o.thread_id = new.thread_id AND o.id < new.id)
--@sqlite 		THEN '' ELSE t.title END, new.body_source FROM threads t WHERE t.id = new.thread_id
--@sqlite 		AND new.deleted_at IS NULL AND new.hidden_at IS NULL;
--@sqlite END;
--@sqlite CREATE TRIGGER post_search_delete AFTER DELETE ON posts BEGIN
--@sqlite 	DELETE FROM post_search WHERE rowid = old.id;
--@sqlite END;
--@sqlite CREATE TRIGGER post_search_title AFTER UPDATE OF title ON threads BEGIN
--@sqlite 	UPDATE post_search SET title = new.title
--@sqlite 		WHERE rowid = (SELECT min(id) FROM posts WHERE thread_id = new.id);
--@sqlite END;
--@sqlite INSERT INTO post_search (rowid, title, body) SELECT p.id, CASE WHEN p.id = (SELECT
--@sqlite 	min(o.id) FROM posts o WHERE o.thread_id = p.thread_id) THEN t.title ELSE '' END,
--@sqlite 	p.body_source FROM posts p JOIN threads t ON t.id = p.thread_id
--@sqlite 	WHERE p.deleted_at IS NULL AND p.hidden_at IS NULL;

-- PostgreSQL: stored generated tsvector columns (computed for existing rows as
-- they are added, and on every change after) with GIN indexes; a removed
-- post's vector is NULL. Queries use websearch_to_tsquery('english', …).
--@postgres ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (CASE WHEN
--@postgres 	deleted_at IS NULL AND hidden_at IS NULL THEN to_tsvector('english', body_source)
--@postgres 	END) STORED;
--@postgres CREATE INDEX posts_search ON posts USING GIN (search_vector);
--@postgres ALTER TABLE threads ADD COLUMN search_vector tsvector GENERATED ALWAYS AS
--@postgres 	(to_tsvector('english', title)) STORED;
--@postgres CREATE INDEX threads_search ON threads USING GIN (search_vector);

-- A person's private feed token: the Atom feeds of the spaces they see take
-- it in the URL (feed readers send no cookies). Only its SHA-256 is kept;
-- revoking it (or deactivation) ends every feed it opened.
CREATE TABLE feed_tokens (
	id @ID@,
	person_id BIGINT NOT NULL REFERENCES people (id),
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT
);
CREATE INDEX feed_tokens_person ON feed_tokens (person_id);
