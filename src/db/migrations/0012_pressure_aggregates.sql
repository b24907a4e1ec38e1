-- 0012: what keeps pressure summaries fast at region scale (docs/pressure.md,
-- "Speed"). Each node keeps the summaries it has computed in memory; before
-- using one it reads, in one cheap query, a stamp of everything the summary
-- was computed from, and computes again when the stamp has moved.
--
-- A period's version counts every change to its returns. Triggers keep it, in
-- the same transaction as the change, whoever makes it (the form and API, the
-- demo, the benchmark's generator, retention), so a committed return always
-- moves the stamp before any reader can see the return itself. A weekly
-- summary's stamp is the sum of the versions of the periods of its week (its
-- own and any daily surge periods), computed by the reader.
CREATE TABLE pressure_period_versions (
	period_id BIGINT PRIMARY KEY, -- pressure_periods (id); no foreign key, so that nothing here holds up a deletion
	version BIGINT NOT NULL DEFAULT 0
);
-- Existing periods start at 1 (the stamp only has to move, never to mean anything).
INSERT INTO pressure_period_versions (period_id, version) SELECT id, 1 FROM pressure_periods;

--@sqlite CREATE TRIGGER pressure_returns_version_insert AFTER INSERT ON pressure_returns BEGIN
--@sqlite 	INSERT INTO pressure_period_versions (period_id, version) VALUES (new.period_id, 1)
--@sqlite 		ON CONFLICT (period_id) DO UPDATE SET version = version + 1;
--@sqlite END;
--@sqlite CREATE TRIGGER pressure_returns_version_update AFTER UPDATE ON pressure_returns BEGIN
--@sqlite 	INSERT INTO pressure_period_versions (period_id, version) VALUES (old.period_id, 1)
--@sqlite 		ON CONFLICT (period_id) DO UPDATE SET version = version + 1;
--@sqlite 	INSERT INTO pressure_period_versions (period_id, version) SELECT new.period_id, 1
--@sqlite 		WHERE new.period_id <> old.period_id
--@sqlite 		ON CONFLICT (period_id) DO UPDATE SET version = version + 1;
--@sqlite END;
--@sqlite CREATE TRIGGER pressure_returns_version_delete AFTER DELETE ON pressure_returns BEGIN
--@sqlite 	INSERT INTO pressure_period_versions (period_id, version) VALUES (old.period_id, 1)
--@sqlite 		ON CONFLICT (period_id) DO UPDATE SET version = version + 1;
--@sqlite END;

--@postgres CREATE FUNCTION pressure_returns_version() RETURNS trigger LANGUAGE plpgsql AS $$
--@postgres BEGIN
--@postgres 	IF TG_OP <> 'INSERT' THEN
--@postgres 		INSERT INTO pressure_period_versions (period_id, version) VALUES (OLD.period_id, 1)
--@postgres 			ON CONFLICT (period_id) DO UPDATE SET version = pressure_period_versions.version + 1;
--@postgres 	END IF;
--@postgres 	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.period_id <> OLD.period_id) THEN
--@postgres 		INSERT INTO pressure_period_versions (period_id, version) VALUES (NEW.period_id, 1)
--@postgres 			ON CONFLICT (period_id) DO UPDATE SET version = pressure_period_versions.version + 1;
--@postgres 	END IF;
--@postgres 	RETURN NULL;
--@postgres END $$;
--@postgres CREATE TRIGGER pressure_returns_version AFTER INSERT OR UPDATE OR DELETE ON pressure_returns
--@postgres 	FOR EACH ROW EXECUTE FUNCTION pressure_returns_version();

-- The organisations part of the stamp is (count, newest updated_at): every
-- import sets updated_at on what it changes. This index makes the newest a
-- single lookup.
CREATE INDEX organisations_updated ON organisations (updated_at);
