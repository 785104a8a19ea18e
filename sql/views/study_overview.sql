-- study_overview: One row per study: patients, sex, age, ventilation, ICU, deaths, follow-up and dose.
-- Columns:
--   study_id: the study
--   n_patients: patients with rows in the registry (0 for an aggregate-only study)
--   n_female: patients recorded as F
--   age_median: median age in years (a patient aged 90 or older counts as 90: see n_age_90_plus)
--   age_min: youngest age in years (90 counts for 90 or older)
--   age_max: oldest age in years (90 when the oldest is 90 or older: then read it as 90+)
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
--   n_age_90_plus: patients recorded as aged 90 or older (age_90_plus), whose exact age is not stored
-- Notes:
--   Ages of 90 or older are stored as a flag, not a number (HIPAA Safe Harbor). The age columns
--   count such a patient as 90, the lowest age the flag allows: a median or minimum below 90 is
--   then exact, and a value of 90 means "90 or older" when n_age_90_plus > 0.
CREATE OR REPLACE VIEW study_overview AS
WITH outcomes AS (
    SELECT study_id,
           CAST(count(*) AS BIGINT) AS n_patients,
           CAST(count(*) FILTER (WHERE sex = 'F') AS BIGINT) AS n_female,
           CAST(count(sex) AS BIGINT) AS n_sex_known,
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
ages AS (
    SELECT study_id,
           median(coalesce(age_years, CASE WHEN age_90_plus THEN 90 END)) AS age_median,
           min(coalesce(age_years, CASE WHEN age_90_plus THEN 90 END)) AS age_min,
           max(coalesce(age_years, CASE WHEN age_90_plus THEN 90 END)) AS age_max,
           CAST(count(*) FILTER (WHERE age_90_plus) AS BIGINT) AS n_age_90_plus
    FROM patients
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
       a.age_median,
       a.age_min,
       a.age_max,
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
       coalesce(o.n_sex_known, 0) AS n_sex_known,
       coalesce(a.n_age_90_plus, 0) AS n_age_90_plus
FROM studies s
LEFT JOIN outcomes o ON o.study_id = s.study_id
LEFT JOIN ages a ON a.study_id = s.study_id
LEFT JOIN doses_by_study d ON d.study_id = s.study_id
LEFT JOIN reported_n r ON r.study_id = s.study_id
