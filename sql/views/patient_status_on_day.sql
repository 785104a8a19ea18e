-- patient_status_on_day: Each patient's vital status on days 7, 14, 21, 28 and 30 and on every day a paper reports survival for.
-- Columns:
--   study_id: the study
--   patient_id: the paper's own patient number
--   day: days after the index day
--   status: alive, dead (on or before that day) or unknown (the rows do not establish it)
-- Notes:
--   Dead when the latest possible death day is on or before d; alive when the earliest possible
--   death day is after d, or when no death is recorded and the patient is shown alive on d or
--   later (patient_outcomes.last_followup_day).
CREATE OR REPLACE VIEW patient_status_on_day AS
WITH days AS (
    SELECT day FROM (VALUES (7), (14), (21), (28), (30)) AS t(day)
    UNION
    SELECT DISTINCT day FROM reported_aggregates WHERE day IS NOT NULL
)
SELECT o.study_id,
       o.patient_id,
       days.day,
       CASE WHEN o.death_day_max <= days.day THEN 'dead'
            WHEN o.death_day_min > days.day THEN 'alive'
            WHEN o.death_day_min IS NULL AND o.last_followup_day >= days.day THEN 'alive'
            ELSE 'unknown' END AS status
FROM patient_outcomes o
CROSS JOIN days
