-- patient_outcomes: One row per patient: vital status, death and follow-up days, stays, ventilation and extubation.
-- Columns:
--   study_id: the study
--   patient_id: the paper's own patient number
--   sex: F, M or NULL (not reported)
--   age_years: age in years as reported
--   vital_status: alive, dead or unknown at the last follow-up the rows show
--   death_day: day of death from the index day (NULL: no death recorded, or its day is only a range)
--   last_followup_day: the death day, or else the last day the rows show the patient alive (a lower bound)
--   hospital_days: days in hospital as the paper reports them (0 = none; NULL = not reported)
--   icu_days: days in intensive care as reported (0 = none; NULL = not reported)
--   ventilation_days: days of invasive ventilation as reported (0 = none; NULL = not reported)
--   extubation_day: day of the first extubation from the index day
--   hospital_ongoing: the hospital stay was still under way at the report
--   icu_ongoing: the ICU stay was still under way at the report
--   ventilation_ongoing: ventilation was still under way at the report
--   hospital_days_counted_from: admission or index: where the paper starts counting hospital_days
--   death_day_min: earliest possible death day (equals death_day when exact)
--   death_day_max: latest possible death day
--   ventilated: ever on invasive ventilation (an intubation, or ventilation days > 0)
--   icu: in intensive care (care setting icu, an ICU admission, or ICU days > 0)
--   intubation_day: day of the first intubation (NULL when only a range is known)
--   care_setting: icu or ward at the index day
-- Notes:
--   "Alive on day d" evidence: any dated event other than death (for a range, its earliest day),
--   a measurement, a dose, a dated finding, and the end of a stated stay (a stay counted from
--   admission ends no earlier than the earliest possible admission day plus its length).
--   Every lower bound is conservative: a day the rows do not establish is never assumed.
CREATE OR REPLACE VIEW patient_outcomes AS
WITH deaths AS (
    SELECT study_id, patient_id,
           min(day) AS death_day,
           min(coalesce(day, day_min)) AS death_day_min,
           min(coalesce(day, day_max)) AS death_day_max
    FROM events
    WHERE event = 'death'
    GROUP BY study_id, patient_id
),
admissions AS (
    SELECT study_id, patient_id,
           min(coalesce(day, day_min)) AS earliest_day
    FROM events
    WHERE event = 'hospital_admission'
    GROUP BY study_id, patient_id
),
stay_ends AS (
    SELECT d.study_id, d.patient_id,
           CASE WHEN d.counted_from = 'index' THEN d.days
                ELSE a.earliest_day + d.days END AS day
    FROM durations d
    LEFT JOIN admissions a ON a.study_id = d.study_id AND a.patient_id = d.patient_id
),
alive_evidence AS (
    SELECT study_id, patient_id, coalesce(day, day_min) AS day FROM events WHERE event <> 'death'
    UNION ALL
    SELECT study_id, patient_id, day FROM measurements
    UNION ALL
    SELECT study_id, patient_id, day FROM doses
    UNION ALL
    SELECT study_id, patient_id, coalesce(day, day_min) AS day FROM findings
    UNION ALL
    SELECT study_id, patient_id, CAST(floor(day) AS INTEGER) AS day FROM stay_ends
),
last_alive AS (
    SELECT study_id, patient_id, max(day) AS day
    FROM alive_evidence
    WHERE day IS NOT NULL
    GROUP BY study_id, patient_id
),
alive_at_end AS (
    -- stated alive at the end of the record: discharged alive, stated alive, or still in a stay
    SELECT DISTINCT study_id, patient_id FROM events WHERE event IN ('hospital_discharge', 'known_alive')
    UNION
    SELECT DISTINCT study_id, patient_id FROM durations WHERE ongoing
),
stays AS (
    SELECT study_id, patient_id,
           max(CASE WHEN kind = 'hospital' THEN days END) AS hospital_days,
           max(CASE WHEN kind = 'icu' THEN days END) AS icu_days,
           max(CASE WHEN kind = 'ventilation' THEN days END) AS ventilation_days,
           bool_or(CASE WHEN kind = 'hospital' THEN ongoing END) AS hospital_ongoing,
           bool_or(CASE WHEN kind = 'icu' THEN ongoing END) AS icu_ongoing,
           bool_or(CASE WHEN kind = 'ventilation' THEN ongoing END) AS ventilation_ongoing,
           max(CASE WHEN kind = 'hospital' THEN counted_from END) AS hospital_days_counted_from
    FROM durations
    GROUP BY study_id, patient_id
),
airway AS (
    SELECT study_id, patient_id,
           bool_or(event = 'intubation') AS intubated,
           bool_or(event = 'icu_admission') AS icu_admitted,
           min(CASE WHEN event = 'intubation' THEN day END) AS intubation_day,
           min(CASE WHEN event = 'extubation' THEN day END) AS extubation_day
    FROM events
    GROUP BY study_id, patient_id
)
SELECT
    p.study_id,
    p.patient_id,
    p.sex,
    p.age_years,
    CASE WHEN d.patient_id IS NOT NULL THEN 'dead'
         WHEN e.patient_id IS NOT NULL THEN 'alive'
         ELSE 'unknown' END AS vital_status,
    d.death_day,
    CASE WHEN d.patient_id IS NOT NULL THEN d.death_day ELSE l.day END AS last_followup_day,
    s.hospital_days,
    s.icu_days,
    s.ventilation_days,
    a.extubation_day,
    coalesce(s.hospital_ongoing, false) AS hospital_ongoing,
    coalesce(s.icu_ongoing, false) AS icu_ongoing,
    coalesce(s.ventilation_ongoing, false) AS ventilation_ongoing,
    s.hospital_days_counted_from,
    d.death_day_min,
    d.death_day_max,
    coalesce(a.intubated, false) OR coalesce(s.ventilation_days > 0, false) AS ventilated,
    coalesce(p.care_setting = 'icu', false) OR coalesce(a.icu_admitted, false) OR coalesce(s.icu_days > 0, false) AS icu,
    a.intubation_day,
    p.care_setting
FROM patients p
LEFT JOIN deaths d ON d.study_id = p.study_id AND d.patient_id = p.patient_id
LEFT JOIN alive_at_end e ON e.study_id = p.study_id AND e.patient_id = p.patient_id
LEFT JOIN last_alive l ON l.study_id = p.study_id AND l.patient_id = p.patient_id
LEFT JOIN stays s ON s.study_id = p.study_id AND s.patient_id = p.patient_id
LEFT JOIN airway a ON a.study_id = p.study_id AND a.patient_id = p.patient_id
