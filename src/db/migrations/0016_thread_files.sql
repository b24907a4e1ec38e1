-- 0016: a thread counts its files, so that a page of a thread without any does not look
-- for them (src/app/discussions/threads.c). Most threads have none, and looking cost a
-- probe of attachments_post for each of the page's 50 posts: 57,000 instructions of a
-- SQLite thread page (callgrind), and on PostgreSQL a statement of its own, the page's
-- second dearest (0.11 ms). attach_store (attachments.c), the only writer of files, keeps
-- the count in the transaction that stores them; files are never removed.
ALTER TABLE threads ADD COLUMN attachment_count BIGINT NOT NULL DEFAULT 0;
UPDATE threads SET attachment_count = f.n FROM (SELECT p.thread_id, count(*) AS n
	FROM attachments a JOIN posts p ON p.id = a.post_id GROUP BY p.thread_id) f
	WHERE threads.id = f.thread_id;
