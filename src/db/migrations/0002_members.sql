-- 0002: members and access: people, memberships, sessions, tokens, invitations,
-- join requests, password resets, MFA recovery codes, throttling, the mail
-- outbox and the audit trail. Times are Unix seconds (UTC).

-- A person. Never deleted: deactivated_at keeps history attributable.
-- role is the person's place in the collective; leading a practice is a
-- membership (memberships.lead), so one person can lead one practice and be a
-- plain member of another.
CREATE TABLE people (
	id @ID@,
	email TEXT NOT NULL UNIQUE, -- stored lower-case
	name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('member', 'executive', 'administrator', 'partner')),
	password_hash TEXT,          -- argon2id string; NULL until the person sets one
	totp_secret TEXT,            -- base32; NULL when MFA is not enrolled
	totp_last_step BIGINT NOT NULL DEFAULT 0, -- a TOTP code is accepted once
	job_title TEXT NOT NULL DEFAULT '',
	can_help_with TEXT NOT NULL DEFAULT '',
	visible_to_partners INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	deactivated_at BIGINT
);

CREATE TABLE memberships (
	person_id BIGINT NOT NULL REFERENCES people (id),
	organisation_id BIGINT NOT NULL REFERENCES organisations (id),
	lead INTEGER NOT NULL DEFAULT 0, -- the person is a practice lead of this organisation
	created_at BIGINT NOT NULL,
	PRIMARY KEY (person_id, organisation_id)
);
CREATE INDEX memberships_organisation ON memberships (organisation_id);

-- Browser sessions. Only a hash of the cookie's token is stored.
CREATE TABLE sessions (
	id @ID@,
	token_hash TEXT NOT NULL UNIQUE,
	person_id BIGINT NOT NULL REFERENCES people (id),
	csrf_token TEXT NOT NULL,
	mfa_pending INTEGER NOT NULL DEFAULT 0, -- password checked, second factor not yet
	created_at BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_person ON sessions (person_id);

-- Personal access tokens for the API. Only a hash is stored; the token is shown once.
CREATE TABLE api_tokens (
	id @ID@,
	person_id BIGINT NOT NULL REFERENCES people (id),
	name TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
	created_at BIGINT NOT NULL,
	last_used_at BIGINT,
	revoked_at BIGINT
);
CREATE INDEX api_tokens_person ON api_tokens (person_id);

CREATE TABLE invitations (
	id @ID@,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('member', 'practice-lead', 'executive', 'administrator', 'partner')),
	organisation_id BIGINT REFERENCES organisations (id),
	invited_by BIGINT NOT NULL REFERENCES people (id),
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	accepted_at BIGINT,
	revoked_at BIGINT
);
CREATE INDEX invitations_email ON invitations (email);

-- A request to join a practice, from an email address in an allowed domain.
CREATE TABLE join_requests (
	id @ID@,
	email TEXT NOT NULL,
	name TEXT NOT NULL,
	organisation_id BIGINT NOT NULL REFERENCES organisations (id),
	message TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
	decided_by BIGINT REFERENCES people (id),
	created_at BIGINT NOT NULL,
	decided_at BIGINT
);
CREATE INDEX join_requests_organisation ON join_requests (organisation_id, status);

CREATE TABLE password_resets (
	id @ID@,
	person_id BIGINT NOT NULL REFERENCES people (id),
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT
);

CREATE TABLE recovery_codes (
	id @ID@,
	person_id BIGINT NOT NULL REFERENCES people (id),
	code_hash TEXT NOT NULL,
	used_at BIGINT
);
CREATE INDEX recovery_codes_person ON recovery_codes (person_id);

-- Failed sign-in counters, per account ('account:EMAIL') and per address ('address:IP').
CREATE TABLE throttle (
	key TEXT PRIMARY KEY,
	failures BIGINT NOT NULL,
	window_start BIGINT NOT NULL,
	locked_until BIGINT NOT NULL DEFAULT 0
);

-- Mail waiting to go, or gone. The jobs thread delivers it (SMTP or .eml files).
CREATE TABLE outbox (
	id @ID@,
	to_address TEXT NOT NULL,
	subject TEXT NOT NULL,
	body_text TEXT NOT NULL,
	body_html TEXT,
	created_at BIGINT NOT NULL,
	attempts BIGINT NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	sent_at BIGINT,
	failed_at BIGINT,  -- gave up after the last retry
	last_error TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);

-- Append-only audit trail. Each entry's hash covers its fields and the previous
-- entry's hash, so any edit or deletion breaks the chain (shoal audit verify).
CREATE TABLE audit_log (
	id @ID@,
	at BIGINT NOT NULL,
	actor_id BIGINT REFERENCES people (id),
	actor TEXT NOT NULL,       -- email at the time, or 'anonymous' / 'system'
	action TEXT NOT NULL,      -- e.g. 'sign-in', 'sign-in-failed', 'invitation-sent'
	subject TEXT NOT NULL DEFAULT '', -- what it was done to, e.g. 'person:12'
	detail TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, at);
