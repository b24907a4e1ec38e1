-- 0007_briefing.sql — the teleconference briefing (docs/pressure.md, "The
-- teleconference briefing"), its distribution list, and files attached to mail.

-- What the executive writes for one period's briefing. Nothing here names a
-- practice: themes are the executive's anonymised wording of returns' free
-- text, and keep no link to the return they came from.
CREATE TABLE briefing_items (
	id @ID@,
	period_id BIGINT NOT NULL REFERENCES pressure_periods (id),
	kind TEXT NOT NULL CHECK (kind IN ('theme', 'ask', 'action')),
	body TEXT NOT NULL,
	updated_by BIGINT NOT NULL REFERENCES people (id),
	updated_at BIGINT NOT NULL
);
CREATE INDEX briefing_items_period ON briefing_items (period_id, kind, id);

-- Partners' addresses the briefing is emailed to.
CREATE TABLE briefing_recipients (
	id @ID@,
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	added_by BIGINT NOT NULL REFERENCES people (id),
	added_at BIGINT NOT NULL
);

-- Each time a briefing was emailed (also in the audit trail).
CREATE TABLE briefing_sends (
	id @ID@,
	period_id BIGINT NOT NULL REFERENCES pressure_periods (id),
	sent_by BIGINT NOT NULL REFERENCES people (id),
	sent_at BIGINT NOT NULL,
	recipients BIGINT NOT NULL
);

-- A file attached to a message in the outbox (src/mail/mail.c). Base64 text,
-- so that both engines store it the same way.
CREATE TABLE outbox_attachments (
	outbox_id BIGINT PRIMARY KEY REFERENCES outbox (id),
	filename TEXT NOT NULL,
	content_type TEXT NOT NULL,
	content_base64 TEXT NOT NULL
);
