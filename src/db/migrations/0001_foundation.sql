-- 0001: the foundation: installation settings and the organisations of the collective.
-- @ID@ and @BLOB@ are replaced per engine by migrate.c; everything else is SQL both accept.

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- Practices, PCNs, localities, the federation, the LMC and partner organisations.
-- ods_code is the ODS code where one exists, else a code the collective assigns.
CREATE TABLE organisations (
	id @ID@,
	ods_code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('practice', 'pcn', 'locality', 'federation', 'lmc',
		'icb', 'trust', 'council', 'public-health', 'other')),
	parent_id BIGINT REFERENCES organisations (id),
	list_size BIGINT CHECK (list_size IS NULL OR list_size >= 0),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX organisations_parent ON organisations (parent_id);
CREATE INDEX organisations_kind ON organisations (kind, name);
