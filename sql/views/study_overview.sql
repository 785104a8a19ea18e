-- study_overview: One row per study: patients, sex, age, ventilation, ICU, deaths, follow-up and dose.
-- Columns:
--   study_id: the study
--   n_patients: patients with rows in the registry (0 for an aggregate-only study)
--   n_female: patients recorded as F
--   age_median: median age in years
--   age_min: youngest age in years
--   age_max: oldest age in years
--   n_mechanical_ventilation: patients ever on invasive ventilation
--   n_icu: patients in intensive care
--   n_deaths: patients with a recorded death
--   followup_days: the study's stated follow-up from the index day, days
--   dose_summary: the doses given, e.g. "1x10^6 cells/kg IV over 15 min (5 patients)"
--   title: the study's title
--   year: publication year
--   level: patient (rows per patient) or aggregate (reported figures only)
--   secondary: figures quoted by another paper rather than reported first-hand
--   n_patients_reported: the paper's own reported number of patients, where it gives one
--   n_sex_known: patients whose sex is recorded (n_female counts among these)
CREATE OR REPLACE VIEW study_overview AS
WITH outcomes AS (
    SELECT study_id,
           CAST(count(*) AS BIGINT) AS n_patients,
           CAST(count(*) FILTER (WHERE sex = 'F') AS BIGINT) AS n_female,
           CAST(count(sex) AS BIGINT) AS n_sex_known,
           median(age_years) AS age_median,
           min(age_years) AS age_min,
           max(age_years) AS age_max,
           CAST(count(*) FILTER (WHERE ventilated) AS BIGINT) AS n_mechanical_ventilation,
           CAST(count(*) FILTER (WHERE icu) AS BIGINT) AS n_icu,
           CAST(count(*) FILTER (WHERE vital_status = 'dead') AS BIGINT) AS n_deaths
    FROM patient_outcomes
    GROUP BY study_id
),
dose_groups AS (
    SELECT study_id, dose_text AS dose, count(DISTINCT patient_id) AS n
    FROM dose_labels
    GROUP BY study_id, dose_text
),
doses_by_study AS (
    SELECT study_id,
           string_agg(dose || ' (' || CAST(n AS VARCHAR) || ' patient' || CASE WHEN n = 1 THEN '' ELSE 's' END || ')', '; ' ORDER BY dose) AS dose_summary
    FROM dose_groups
    GROUP BY study_id
),
reported_n AS (
    SELECT study_id, max(value) AS n_patients_reported
    FROM reported_aggregates
    WHERE variable = 'n_patients' AND statistic = 'n'
    GROUP BY study_id
)
SELECT s.study_id,
       coalesce(o.n_patients, 0) AS n_patients,
       coalesce(o.n_female, 0) AS n_female,
       o.age_median,
       o.age_min,
       o.age_max,
       coalesce(o.n_mechanical_ventilation, 0) AS n_mechanical_ventilation,
       coalesce(o.n_icu, 0) AS n_icu,
       coalesce(o.n_deaths, 0) AS n_deaths,
       s.followup_days,
       d.dose_summary,
       s.title,
       s.year,
       s.level,
       s.secondary,
       CAST(r.n_patients_reported AS BIGINT) AS n_patients_reported,
       coalesce(o.n_sex_known, 0) AS n_sex_known
FROM studies s
LEFT JOIN outcomes o ON o.study_id = s.study_id
LEFT JOIN doses_by_study d ON d.study_id = s.study_id
LEFT JOIN reported_n r ON r.study_id = s.study_id
