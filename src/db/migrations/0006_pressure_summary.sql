-- 0006: what pressure summaries read (src/app/pressure/summary.c). A weekly
-- summary gathers the daily (surge) returns of its week by kind and day, and
-- the dashboard's recent weeks are read newest first: both by this index.
CREATE INDEX pressure_periods_kind_day ON pressure_periods (kind, reference_day);
