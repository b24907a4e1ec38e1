-- Data protection (issue 7): how long audit entries and pressure returns are
-- kept (administrator settings, whole years), and people whose personal
-- details were removed after deactivation. When the retention job deletes the
-- oldest audit entries it records where the chain now starts in settings
-- ('audit_chain_start' = "ID PREV_HASH"), so `shoal audit verify` checks the
-- first remaining entry against it instead of the all-zero genesis hash.
ALTER TABLE people ADD COLUMN anonymised_at BIGINT;

INSERT INTO settings (key, value) VALUES ('retention_audit_years', '6')
	ON CONFLICT (key) DO NOTHING;
INSERT INTO settings (key, value) VALUES ('retention_pressure_years', '6')
	ON CONFLICT (key) DO NOTHING;
