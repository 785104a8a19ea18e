-- survival_at: Survival on one day after the index day, for every study with patient rows.
-- Parameters:
--   day (INTEGER, default 28): days after the index day
-- Notes:
--   The same status rule as patient_status_on_day, for any day: dead when the latest possible
--   death day is on or before it; alive when death comes after it or the patient is shown
--   alive on it or later; otherwise unknown (not counted).
WITH status AS (
    SELECT study_id,
           CASE WHEN death_day_max <= $day THEN 'dead'
                WHEN death_day_min > $day THEN 'alive'
                WHEN death_day_min IS NULL AND last_followup_day >= $day THEN 'alive'
                ELSE 'unknown' END AS status
    FROM patient_outcomes
)
SELECT study_id,
       $day AS day,
       count(*) AS n_patients,
       count(*) FILTER (WHERE status <> 'unknown') AS n_known,
       count(*) FILTER (WHERE status = 'alive') AS n_alive,
       round(CAST(count(*) FILTER (WHERE status = 'alive') AS DOUBLE)
             / NULLIF(count(*) FILTER (WHERE status <> 'unknown'), 0), 4) AS survival
FROM status
GROUP BY study_id
ORDER BY study_id
