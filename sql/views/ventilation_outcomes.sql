-- ventilation_outcomes: Per study: patients ventilated and extubated, day of extubation, and ventilator-free days at day 28.
-- Columns:
--   study_id: the study
--   n_ventilated: patients ever on invasive ventilation (see patient_outcomes.ventilated)
--   n_extubated: ventilated patients with an extubation event
--   extubation_day_median: median day of the first extubation, from the index day
--   vfd28_median: median ventilator-free days at day 28 among ventilated patients whose VFD28 is known
--   n_vfd28_known: ventilated patients whose VFD28 the rows establish
--   n_ventilated_at_index: patients intubated on or before day 0 and not extubated by then
-- Notes:
--   VFD28 (standard definition): 0 for a patient who dies by day 28; for a patient alive on day
--   28, 28 minus the days on the ventilator between day 0 and day 28 (from max(intubation day, 0)
--   to the first extubation; intubation before day 0 counts from day 0); 0 for a patient still
--   ventilated at day 28. NULL when the patient's status on day 28 is unknown, or when the days
--   on the ventilator cannot be placed (no extubation day and ventilation not ongoing).
--   Re-intubation is not modelled: the first extubation ends the count.
CREATE OR REPLACE VIEW ventilation_outcomes AS
WITH airway AS (
    SELECT study_id, patient_id,
           min(CASE WHEN event = 'extubation' THEN day END) AS extubation_day,
           bool_or(event = 'extubation') AS extubated,
           min(CASE WHEN event = 'intubation' THEN coalesce(day, day_max) END) AS intubation_latest,
           bool_or(event = 'intubation' AND coalesce(day, day_max) <= 0) AS intubated_by_index,
           bool_or(event = 'extubation' AND coalesce(day, day_max) <= 0) AS extubated_by_index
    FROM events
    WHERE event IN ('intubation', 'extubation')
    GROUP BY study_id, patient_id
),
per_patient AS (
    SELECT o.study_id, o.patient_id, o.ventilated,
           coalesce(a.extubated, false) AS extubated,
           a.extubation_day,
           coalesce(a.intubated_by_index AND NOT a.extubated_by_index, false) AS ventilated_at_index,
           CASE
               WHEN o.death_day_max <= 28 THEN 0
               WHEN NOT (coalesce(o.death_day_min > 28, false)
                         OR (o.death_day_min IS NULL AND o.last_followup_day >= 28)) THEN NULL
               WHEN o.ventilation_ongoing THEN 0
               WHEN a.extubation_day IS NOT NULL AND a.intubation_latest <= 0
                   THEN 28 - least(a.extubation_day, 28)
               WHEN a.extubation_day IS NOT NULL AND a.intubation_latest > 0
                   THEN 28 - (least(a.extubation_day, 28) - a.intubation_latest)
               ELSE NULL
           END AS vfd28
    FROM patient_outcomes o
    LEFT JOIN airway a ON a.study_id = o.study_id AND a.patient_id = o.patient_id
)
SELECT study_id,
       CAST(count(*) FILTER (WHERE ventilated) AS BIGINT) AS n_ventilated,
       CAST(count(*) FILTER (WHERE ventilated AND extubated) AS BIGINT) AS n_extubated,
       median(extubation_day) FILTER (WHERE ventilated) AS extubation_day_median,
       median(vfd28) FILTER (WHERE ventilated) AS vfd28_median,
       CAST(count(vfd28) FILTER (WHERE ventilated) AS BIGINT) AS n_vfd28_known,
       CAST(count(*) FILTER (WHERE ventilated_at_index) AS BIGINT) AS n_ventilated_at_index
FROM per_patient
GROUP BY study_id
