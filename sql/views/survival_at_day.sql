-- survival_at_day: Survival at days 7, 14, 21, 28 and 30 after the index day (and any day a paper reports), per study, among patients whose status that day is known.
-- Columns:
--   study_id: the study
--   day: days after the index day
--   n_patients: patients in the study
--   n_known: patients whose status on that day the rows establish
--   n_alive: of those, alive on that day
--   survival: n_alive / n_known (NULL when n_known is 0)
--   n_dead: of those, dead by that day
--   n_unknown: patients whose status on that day the rows do not establish
-- Notes:
--   Status on day d is known when the patient died on or before d (dead), or is shown alive on
--   d or later, or died after d (alive): see patient_status_on_day. A stated survival through
--   the follow-up is a known_alive event in the data; a stay counted from admission places its
--   end from the earliest possible admission day (see patient_outcomes). This is a
--   complete-case proportion; censoring is handled by km_survival.
CREATE OR REPLACE VIEW survival_at_day AS
SELECT study_id,
       day,
       CAST(count(*) AS BIGINT) AS n_patients,
       CAST(count(*) FILTER (WHERE status <> 'unknown') AS BIGINT) AS n_known,
       CAST(count(*) FILTER (WHERE status = 'alive') AS BIGINT) AS n_alive,
       CAST(count(*) FILTER (WHERE status = 'alive') AS DOUBLE)
         / NULLIF(count(*) FILTER (WHERE status <> 'unknown'), 0) AS survival,
       CAST(count(*) FILTER (WHERE status = 'dead') AS BIGINT) AS n_dead,
       CAST(count(*) FILTER (WHERE status = 'unknown') AS BIGINT) AS n_unknown
FROM patient_status_on_day
GROUP BY study_id, day
