-- 0004: pressure returns (the weekly "sitrep", daily during a surge), the
-- periods they belong to, surges, the executive's pick-list of sources of
-- pressure, escalations with the executive's recorded response, and the record
-- of reminders sent. Times are Unix seconds (UTC); reference days are London
-- dates written 'YYYY-MM-DD'.

-- Staff a practice lead has authorised to complete the practice's return.
ALTER TABLE memberships ADD COLUMN may_report INTEGER NOT NULL DEFAULT 0;

-- A surge: daily returns for some localities (or all) until ends_on.
CREATE TABLE pressure_surges (
	id @ID@,
	all_localities INTEGER NOT NULL DEFAULT 0,
	starts_on TEXT NOT NULL, -- London date
	ends_on TEXT NOT NULL,   -- last day of daily returns (inclusive)
	reason TEXT NOT NULL DEFAULT '',
	declared_by BIGINT NOT NULL REFERENCES people (id),
	created_at BIGINT NOT NULL,
	ended_at BIGINT,          -- ended early by the executive
	ended_by BIGINT REFERENCES people (id)
);
CREATE TABLE pressure_surge_localities (
	surge_id BIGINT NOT NULL REFERENCES pressure_surges (id),
	locality_id BIGINT NOT NULL REFERENCES organisations (id),
	PRIMARY KEY (surge_id, locality_id)
);

-- A reporting period. scope is 'all' (weekly periods, and surges of every
-- locality) or a locality's ODS code (a surge of some localities), so that a
-- period exists once per scope and reference day whoever opens it first.
CREATE TABLE pressure_periods (
	id @ID@,
	kind TEXT NOT NULL CHECK (kind IN ('weekly', 'daily')),
	scope TEXT NOT NULL,
	reference_day TEXT NOT NULL,
	opens_at BIGINT NOT NULL,
	deadline_at BIGINT NOT NULL, -- changes after this are marked late
	closes_at BIGINT NOT NULL,   -- no returns or changes from this moment
	surge_id BIGINT REFERENCES pressure_surges (id),
	created_at BIGINT NOT NULL,
	UNIQUE (kind, scope, reference_day)
);
CREATE INDEX pressure_periods_open ON pressure_periods (opens_at, closes_at);

-- The main source of pressure: a pick-list the executive maintains.
CREATE TABLE pressure_sources (
	id @ID@,
	label TEXT NOT NULL UNIQUE,
	position BIGINT NOT NULL DEFAULT 0,
	active INTEGER NOT NULL DEFAULT 1
);
INSERT INTO pressure_sources (label, position) VALUES
	('Demand for appointments', 1), ('Staff sickness or absence', 2),
	('Vacancies', 3), ('Respiratory illness (flu, COVID-19, RSV)', 4),
	('Hospital discharges and follow-up work', 5), ('NHS 111 and urgent care referrals', 6),
	('Care homes and home visits', 7), ('Estates or IT problems', 8), ('Other', 9);

-- One return per practice per period: a resubmission amends it.
CREATE TABLE pressure_returns (
	id @ID@,
	period_id BIGINT NOT NULL REFERENCES pressure_periods (id),
	organisation_id BIGINT NOT NULL REFERENCES organisations (id),
	level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
	calculated_level INTEGER NOT NULL DEFAULT 0 CHECK (calculated_level BETWEEN 0 AND 4), -- 0: too few figures
	flow_rating INTEGER CHECK (flow_rating BETWEEN 1 AND 4),
	staffing_rating INTEGER CHECK (staffing_rating BETWEEN 1 AND 4),
	comms_rating INTEGER CHECK (comms_rating BETWEEN 1 AND 4),
	appts_gp BIGINT CHECK (appts_gp >= 0),
	appts_nurse BIGINT CHECK (appts_nurse >= 0),
	appts_hca BIGINT CHECK (appts_hca >= 0),
	appts_pharmacist BIGINT CHECK (appts_pharmacist >= 0),
	appts_other BIGINT CHECK (appts_other >= 0),
	list_size BIGINT,                 -- the practice's list size when submitted
	staff_available_pct BIGINT CHECK (staff_available_pct BETWEEN 0 AND 100),
	clinical_staff BIGINT CHECK (clinical_staff >= 0),
	absences BIGINT CHECK (absences >= 0),
	vacancies BIGINT CHECK (vacancies >= 0),
	nhs111_bookings BIGINT CHECK (nhs111_bookings >= 0),
	home_visits BIGINT CHECK (home_visits >= 0),
	incident TEXT NOT NULL DEFAULT 'none' CHECK (incident IN ('none', 'minor', 'critical')),
	incident_detail TEXT NOT NULL DEFAULT '',
	source_id BIGINT REFERENCES pressure_sources (id),
	action_plan TEXT NOT NULL DEFAULT '',
	support_mutual_aid INTEGER NOT NULL DEFAULT 0,
	support_call_redirection INTEGER NOT NULL DEFAULT 0,
	support_111_review INTEGER NOT NULL DEFAULT 0,
	support_other TEXT NOT NULL DEFAULT '',
	comments TEXT NOT NULL DEFAULT '',
	consent_to_share INTEGER NOT NULL DEFAULT 0,
	submitted_by BIGINT NOT NULL REFERENCES people (id),
	submitted_at BIGINT NOT NULL,
	updated_by BIGINT NOT NULL REFERENCES people (id),
	updated_at BIGINT NOT NULL,
	late INTEGER NOT NULL DEFAULT 0, -- first sent, or last changed, after the deadline
	UNIQUE (organisation_id, period_id)
);
CREATE INDEX pressure_returns_period ON pressure_returns (period_id, level);

-- Escalations: 'black' (alert at once), 'red' (contact within one working day),
-- 'review' (three periods in a row at Red or Black). One of each kind per
-- practice per period; the executive records the response the practice sees.
CREATE TABLE pressure_escalations (
	id @ID@,
	return_id BIGINT NOT NULL REFERENCES pressure_returns (id),
	organisation_id BIGINT NOT NULL REFERENCES organisations (id),
	period_id BIGINT NOT NULL REFERENCES pressure_periods (id),
	kind TEXT NOT NULL CHECK (kind IN ('black', 'red', 'review')),
	created_at BIGINT NOT NULL,
	respond_by BIGINT NOT NULL,
	responded_at BIGINT,
	responded_by BIGINT REFERENCES people (id),
	contact_made_by TEXT NOT NULL DEFAULT '',
	support_offered TEXT NOT NULL DEFAULT '',
	UNIQUE (organisation_id, period_id, kind)
);
CREATE INDEX pressure_escalations_open ON pressure_escalations (responded_at, created_at);

-- Reminders sent, so that each practice gets one per period and several nodes
-- never send the same one twice (the primary key decides).
CREATE TABLE pressure_reminders (
	period_id BIGINT NOT NULL REFERENCES pressure_periods (id),
	organisation_id BIGINT NOT NULL REFERENCES organisations (id),
	sent_at BIGINT NOT NULL,
	PRIMARY KEY (period_id, organisation_id)
);
