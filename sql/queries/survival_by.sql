-- survival_by: Survival on one day by dose, cell source, or ventilation at baseline, across the patient-level studies.
-- Parameters:
--   by (VARCHAR, default dose): grouping: dose, cell_source or ventilation_at_baseline
--   day (INTEGER, default 28): days after the index day
-- Notes:
--   Status on the day follows patient_status_on_day: dead when death is on or before it, alive
--   when death comes after it or the patient is shown alive on it or later, else unknown.
WITH airway AS (
    SELECT study_id, patient_id,
           bool_or(event = 'intubation' AND coalesce(day, day_max) <= 0)
             AND NOT bool_or(event = 'extubation' AND coalesce(day, day_max) <= 0) AS at_baseline
    FROM events
    WHERE event IN ('intubation', 'extubation')
    GROUP BY study_id, patient_id
),
grouped AS (
    SELECT o.study_id,
           CASE $by
               WHEN 'dose' THEN d.dose_as_reported
               WHEN 'cell_source' THEN d.tissue_source
               WHEN 'ventilation_at_baseline' THEN CASE WHEN coalesce(a.at_baseline, false) THEN 'ventilated' ELSE 'not ventilated' END
               ELSE error('by must be dose, cell_source or ventilation_at_baseline')
           END AS grp,
           CASE WHEN o.death_day_max <= $day THEN 'dead'
                WHEN o.death_day_min > $day THEN 'alive'
                WHEN o.death_day_min IS NULL AND o.last_followup_day >= $day THEN 'alive'
                ELSE 'unknown' END AS status
    FROM patient_outcomes o
    LEFT JOIN dose_normalized d ON d.study_id = o.study_id AND d.patient_id = o.patient_id
    LEFT JOIN airway a ON a.study_id = o.study_id AND a.patient_id = o.patient_id
)
SELECT $by AS grouping,
       grp AS "group",
       $day AS day,
       count(DISTINCT study_id) AS n_studies,
       count(*) AS n_patients,
       count(*) FILTER (WHERE status <> 'unknown') AS n_known,
       count(*) FILTER (WHERE status = 'alive') AS n_alive,
       round(CAST(count(*) FILTER (WHERE status = 'alive') AS DOUBLE)
             / NULLIF(count(*) FILTER (WHERE status <> 'unknown'), 0), 4) AS survival
FROM grouped
GROUP BY grp
ORDER BY grp
