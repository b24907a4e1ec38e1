-- 0011: attachments of discussion posts (docs/discussions.md, "Attachments").
-- The file itself is kept in the database, so that every node serves it, and is
-- written in the same transaction as its post. type is what the content was
-- found to be (never what the browser said); sha256 is of data, in hex.
CREATE TABLE attachments (
	id @ID@,
	post_id BIGINT NOT NULL REFERENCES posts (id),
	position BIGINT NOT NULL, -- 1, 2, … in the order they were attached
	filename TEXT NOT NULL,
	type TEXT NOT NULL CHECK (type IN ('pdf', 'png', 'jpeg', 'docx', 'xlsx', 'pptx', 'doc',
		'xls', 'ppt')),
	size BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	created_at BIGINT NOT NULL,
--@sqlite 	data BLOB NOT NULL
--@postgres 	data BYTEA NOT NULL
);
CREATE INDEX attachments_post ON attachments (post_id, position);
