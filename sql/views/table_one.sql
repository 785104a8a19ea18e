-- table_one: The familiar "Table 1" of a paper, recomputed from each study's rows: patients, age, sex, comorbidities, hospital treatments by drug class, ventilation, ICU, hospital stay, deaths, adverse events.
-- Columns:
--   study_id: the study
--   sort_order: the row's place in the study's table: ORDER BY study_id, sort_order reads as the paper's Table 1
--   section: patients, age, sex, comorbidities, treatments, ventilation, icu, hospital_stay, deaths or adverse_events
--   characteristic: the row label, e.g. "Female sex", "Comorbidities"
--   level: the category within the characteristic (a comorbidity, a drug class with its ATC code, "list stated", "none"); NULL for a single-row characteristic
--   code: the comorbidity code or drug class the level stands for (NULL on other rows)
--   statistic: what value_text shows: n, n (%), n of N, median (min–max) or mean
--   n: patients counted (for an age or a stay: patients whose value enters the statistic)
--   denominator: the patients the row is about: the base of the percentage, of "n of N", or of the age or stay statistic (NULL for the patient count)
--   value_text: the cell as papers print it: "4 (44.4)" (percent to one decimal, rounded half up), "69 (58–83)", "68.9", "8 of 9"; "not reported" when no row gives it
--   note: how the row is counted (its denominator rule, what is left out)
-- Notes:
--   Only patient-level studies have rows beyond the patient count; an aggregate-only study shows
--   0 patients (its own figures are in reported_aggregates). Percentages are computed in whole
--   numbers (tenths of a percent, rounded half up) so that every engine prints the same text.
--   A patient recorded as aged 90 or older (age_90_plus, no exact age) counts as 90 in the age
--   rows, and their note says how many did.
--   Medians and ranges print whole numbers without decimals and others to one decimal; means
--   always to one decimal.
CREATE OR REPLACE VIEW table_one AS
WITH cohort AS (
    SELECT s.study_id,
           CAST(count(p.patient_id) AS BIGINT) AS n_patients,
           CAST(count(p.age_years) + count(*) FILTER (WHERE p.age_90_plus AND p.age_years IS NULL) AS BIGINT) AS n_age,
           CAST(count(*) FILTER (WHERE p.age_90_plus AND p.age_years IS NULL) AS BIGINT) AS n_age_90_plus,
           -- a patient aged 90 or older (a flag, no exact age) counts as 90
           median(coalesce(p.age_years, CASE WHEN p.age_90_plus THEN 90 END)) AS age_median,
           avg(coalesce(p.age_years, CASE WHEN p.age_90_plus THEN 90 END)) AS age_mean,
           min(coalesce(p.age_years, CASE WHEN p.age_90_plus THEN 90 END)) AS age_min,
           max(coalesce(p.age_years, CASE WHEN p.age_90_plus THEN 90 END)) AS age_max,
           CAST(count(*) FILTER (WHERE p.sex = 'F') AS BIGINT) AS n_female,
           CAST(count(p.sex) AS BIGINT) AS n_sex
    FROM studies s
    LEFT JOIN patients p ON p.study_id = s.study_id
    GROUP BY s.study_id
),
patient_studies AS (
    SELECT * FROM cohort WHERE n_patients > 0
),
outcomes AS (
    SELECT study_id,
           CAST(count(*) FILTER (WHERE ventilated) AS BIGINT) AS n_ventilated,
           CAST(count(*) FILTER (WHERE icu) AS BIGINT) AS n_icu,
           CAST(count(*) FILTER (WHERE vital_status = 'dead') AS BIGINT) AS n_dead,
           CAST(count(*) FILTER (WHERE vital_status = 'unknown') AS BIGINT) AS n_status_unknown
    FROM patient_outcomes
    GROUP BY study_id
),
adverse AS (
    SELECT study_id, CAST(count(DISTINCT patient_id) AS BIGINT) AS n_with_event
    FROM adverse_events
    GROUP BY study_id
),
-- a patient's comorbidity list is stated when it has a row other than not_reported ("NA")
comorbidity_lists AS (
    SELECT study_id, patient_id,
           count(*) FILTER (WHERE code NOT IN ('none', 'not_reported')) AS n_conditions
    FROM comorbidities
    GROUP BY study_id, patient_id
    HAVING count(*) FILTER (WHERE code <> 'not_reported') > 0
),
comorbidity_stated AS (
    SELECT c.study_id,
           CAST(count(l.patient_id) AS BIGINT) AS n_stated,
           CAST(count(*) FILTER (WHERE l.n_conditions = 0) AS BIGINT) AS n_none
    FROM patient_studies c
    LEFT JOIN comorbidity_lists l ON l.study_id = c.study_id
    GROUP BY c.study_id
),
comorbidity_codes AS (
    SELECT study_id, code, CAST(count(DISTINCT patient_id) AS BIGINT) AS n
    FROM comorbidities
    WHERE code NOT IN ('none', 'not_reported')
    GROUP BY study_id, code
),
-- the same rule for the treatments given in hospital
treatment_lists AS (
    SELECT study_id, patient_id,
           count(*) FILTER (WHERE code NOT IN ('none', 'not_reported')) AS n_drugs
    FROM treatments
    WHERE phase = 'hospital'
    GROUP BY study_id, patient_id
    HAVING count(*) FILTER (WHERE code <> 'not_reported') > 0
),
treatment_stated AS (
    SELECT c.study_id,
           CAST(count(l.patient_id) AS BIGINT) AS n_stated,
           CAST(count(*) FILTER (WHERE l.n_drugs = 0) AS BIGINT) AS n_none
    FROM patient_studies c
    LEFT JOIN treatment_lists l ON l.study_id = c.study_id
    GROUP BY c.study_id
),
treatment_classes AS (
    SELECT t.study_id, t.drug_class,
           d.name || CASE WHEN d.atc IS NULL THEN '' ELSE ' (ATC ' || d.atc || ')' END AS class_label,
           CAST(count(DISTINCT t.patient_id) AS BIGINT) AS n
    FROM treatments t
    LEFT JOIN drug_classes d ON d.drug_class = t.drug_class
    WHERE t.phase = 'hospital' AND t.drug_class IS NOT NULL AND t.code NOT IN ('none', 'not_reported')
    GROUP BY t.study_id, t.drug_class, d.name, d.atc
),
hospital_stay AS (
    SELECT c.study_id,
           CAST(coalesce(o.n + o.n_none, 0) AS BIGINT) AS n_stated,
           CAST(coalesce(o.n_complete, 0) AS BIGINT) AS n_complete,
           CAST(coalesce(o.n_ongoing, 0) AS BIGINT) AS n_ongoing,
           o.median, o.min, o.max, o.counted_from
    FROM patient_studies c
    LEFT JOIN stay_outcomes o ON o.study_id = c.study_id AND o.stay = 'hospital'
),
table_rows AS (
    -- patients
    SELECT study_id, CAST(1000 AS BIGINT) AS sort_order, 'patients' AS section, 'Patients' AS characteristic,
           CAST(NULL AS VARCHAR) AS level, CAST(NULL AS VARCHAR) AS code, 'n' AS statistic,
           n_patients AS n, CAST(NULL AS BIGINT) AS denominator,
           CAST(NULL AS DOUBLE) AS x, CAST(NULL AS DOUBLE) AS lo, CAST(NULL AS DOUBLE) AS hi,
           CAST(NULL AS VARCHAR) AS missing_text,
           CASE WHEN n_patients = 0
                THEN 'aggregate-only study: no patient rows; the paper''s own figures are in reported_aggregates'
                ELSE 'patients with rows in the registry' END AS note
    FROM cohort
    UNION ALL
    -- age
    SELECT study_id, 2000, 'age', 'Age, years', NULL, NULL, 'median (min–max)',
           n_age, n_patients, age_median, age_min, age_max,
           CASE WHEN n_age = 0 THEN 'not reported' END,
           'n = patients with a reported age'
           || CASE WHEN n_age < n_patients
                   THEN '; not reported for ' || CAST(n_patients - n_age AS VARCHAR) || ' of ' || CAST(n_patients AS VARCHAR)
                   ELSE '' END
           || CASE WHEN n_age_90_plus > 0
                   THEN '; ' || CAST(n_age_90_plus AS VARCHAR) || ' aged 90 or older, counted as 90'
                   ELSE '' END
    FROM patient_studies
    UNION ALL
    SELECT study_id, 2001, 'age', 'Age, years', NULL, NULL, 'mean',
           n_age, n_patients, age_mean, NULL, NULL,
           CASE WHEN n_age = 0 THEN 'not reported' END,
           'n = patients with a reported age'
           || CASE WHEN n_age < n_patients
                   THEN '; not reported for ' || CAST(n_patients - n_age AS VARCHAR) || ' of ' || CAST(n_patients AS VARCHAR)
                   ELSE '' END
           || CASE WHEN n_age_90_plus > 0
                   THEN '; ' || CAST(n_age_90_plus AS VARCHAR) || ' aged 90 or older, counted as 90'
                   ELSE '' END
    FROM patient_studies
    UNION ALL
    -- sex
    SELECT study_id, 3000, 'sex', 'Female sex', NULL, NULL, 'n (%)',
           n_female, n_sex, NULL, NULL, NULL,
           CASE WHEN n_sex = 0 THEN 'not reported' END,
           'percent of the patients whose sex is recorded'
           || CASE WHEN n_sex < n_patients
                   THEN '; not reported for ' || CAST(n_patients - n_sex AS VARCHAR) || ' of ' || CAST(n_patients AS VARCHAR)
                   ELSE '' END
    FROM patient_studies
    UNION ALL
    -- comorbidities
    SELECT c.study_id, 4000, 'comorbidities', 'Comorbidities', 'list stated', NULL, 'n of N',
           s.n_stated, c.n_patients, NULL, NULL, NULL,
           CASE WHEN s.n_stated = 0 THEN 'not reported' END,
           CASE WHEN s.n_stated = 0 THEN 'no patient''s comorbidity list is stated'
                ELSE 'patients whose comorbidity list is stated (a list of "none" counts; one given only as not reported, NA, or no list at all does not)' END
    FROM patient_studies c
    JOIN comorbidity_stated s ON s.study_id = c.study_id
    UNION ALL
    SELECT study_id, 4001, 'comorbidities', 'Comorbidities', 'none', 'none', 'n (%)',
           n_none, n_stated, NULL, NULL, NULL, NULL,
           'percent of the ' || CAST(n_stated AS VARCHAR) || ' patients whose comorbidity list is stated'
    FROM comorbidity_stated
    WHERE n_stated > 0
    UNION ALL
    SELECT k.study_id,
           4010 + row_number() OVER (PARTITION BY k.study_id ORDER BY k.n DESC, k.code),
           'comorbidities', 'Comorbidities', replace(k.code, '_', ' '), k.code, 'n (%)',
           k.n, s.n_stated, NULL, NULL, NULL,
           CASE WHEN s.n_stated = 0 THEN 'not reported' END,
           'percent of the ' || CAST(s.n_stated AS VARCHAR) || ' patients whose comorbidity list is stated, not of all patients'
    FROM comorbidity_codes k
    JOIN comorbidity_stated s ON s.study_id = k.study_id
    UNION ALL
    -- concomitant treatment in hospital, by drug class
    SELECT c.study_id, 5000, 'treatments', 'Concomitant treatment in hospital', 'list stated', NULL, 'n of N',
           s.n_stated, c.n_patients, NULL, NULL, NULL,
           CASE WHEN s.n_stated = 0 THEN 'not reported' END,
           CASE WHEN s.n_stated = 0 THEN 'no patient''s hospital treatment list is stated'
                ELSE 'patients whose hospital treatment list is stated (a list of "none" counts; one given only as not reported, NA, or no list at all does not)' END
    FROM patient_studies c
    JOIN treatment_stated s ON s.study_id = c.study_id
    UNION ALL
    SELECT study_id, 5001, 'treatments', 'Concomitant treatment in hospital', 'none', 'none', 'n (%)',
           n_none, n_stated, NULL, NULL, NULL, NULL,
           'percent of the ' || CAST(n_stated AS VARCHAR) || ' patients whose hospital treatment list is stated'
    FROM treatment_stated
    WHERE n_stated > 0
    UNION ALL
    SELECT k.study_id,
           5010 + row_number() OVER (PARTITION BY k.study_id ORDER BY k.n DESC, k.drug_class),
           'treatments', 'Concomitant treatment in hospital', k.class_label, k.drug_class, 'n (%)',
           k.n, s.n_stated, NULL, NULL, NULL,
           CASE WHEN s.n_stated = 0 THEN 'not reported' END,
           'patients with a hospital-phase treatment of this class (drug_classes); percent of the '
           || CAST(s.n_stated AS VARCHAR) || ' patients whose hospital treatment list is stated'
    FROM treatment_classes k
    JOIN treatment_stated s ON s.study_id = k.study_id
    UNION ALL
    -- course
    SELECT c.study_id, 6000, 'ventilation', 'Invasive mechanical ventilation', NULL, NULL, 'n (%)',
           coalesce(o.n_ventilated, 0), c.n_patients, NULL, NULL, NULL, NULL,
           'ever on invasive ventilation, before or after day 0 (an intubation event or ventilation days > 0); percent of all patients'
    FROM patient_studies c
    LEFT JOIN outcomes o ON o.study_id = c.study_id
    UNION ALL
    SELECT c.study_id, 7000, 'icu', 'Intensive care', NULL, NULL, 'n (%)',
           coalesce(o.n_icu, 0), c.n_patients, NULL, NULL, NULL, NULL,
           'care setting icu on day 0, an ICU admission event or ICU days > 0; percent of all patients'
    FROM patient_studies c
    LEFT JOIN outcomes o ON o.study_id = c.study_id
    UNION ALL
    SELECT study_id, 8000, 'hospital_stay', 'Hospital stay, days', NULL, NULL, 'median (min–max)',
           n_complete, n_stated, median, min, max,
           CASE WHEN n_stated = 0 THEN 'not reported'
                WHEN n_complete = 0 THEN 'no completed stay' END,
           CASE WHEN n_stated = 0 THEN 'no patient''s hospital stay is stated'
                ELSE 'completed stays, counted from '
                     || CASE counted_from WHEN 'index' THEN 'the index day (day 0)'
                                          WHEN 'both' THEN 'admission for some patients and day 0 for others'
                                          ELSE 'admission' END
                     || '; n = completed stays of the '
                     || CAST(n_stated AS VARCHAR) || ' stated; a stay still under way at the report is left out (next row)' END
    FROM hospital_stay
    UNION ALL
    SELECT study_id, 8001, 'hospital_stay', 'Hospital stay, days', 'still in hospital at the report', NULL, 'n',
           n_ongoing, n_stated, NULL, NULL, NULL,
           CASE WHEN n_stated = 0 THEN 'not reported' END,
           'stays still under way when the paper was written: their length is only a lower bound'
    FROM hospital_stay
    UNION ALL
    -- outcomes
    SELECT c.study_id, 9000, 'deaths', 'Deaths', NULL, NULL, 'n (%)',
           coalesce(o.n_dead, 0), c.n_patients, NULL, NULL, NULL, NULL,
           'deaths recorded in the rows, on any day of follow-up; percent of all patients'
           || CASE WHEN coalesce(o.n_status_unknown, 0) > 0
                   THEN '; vital status at the last follow-up unknown for ' || CAST(o.n_status_unknown AS VARCHAR)
                   ELSE '' END
    FROM patient_studies c
    LEFT JOIN outcomes o ON o.study_id = c.study_id
    UNION ALL
    SELECT c.study_id, 10000, 'adverse_events', 'Adverse events', 'patients with any', NULL, 'n (%)',
           coalesce(a.n_with_event, 0), c.n_patients, NULL, NULL, NULL, NULL,
           'patients with at least one recorded adverse event (any grade, any relation to the infusion); percent of all patients'
    FROM patient_studies c
    LEFT JOIN adverse a ON a.study_id = c.study_id
),
scaled AS (
    SELECT r.study_id, r.sort_order, r.section, r.characteristic, r.level, r.code, r.statistic,
           r.n, r.denominator, r.missing_text, r.note,
           -- tenths, rounded half up (all values here are >= 0)
           CAST(floor(r.x * 10 + 0.5) AS BIGINT) AS x10,
           CAST(floor(r.lo * 10 + 0.5) AS BIGINT) AS lo10,
           CAST(floor(r.hi * 10 + 0.5) AS BIGINT) AS hi10,
           CASE WHEN r.denominator > 0
                THEN (2000 * r.n + r.denominator) // NULLIF(2 * r.denominator, 0) END AS pct10
    FROM table_rows r
)
SELECT study_id,
       CAST(sort_order AS BIGINT) AS sort_order,
       section,
       characteristic,
       level,
       code,
       statistic,
       CAST(n AS BIGINT) AS n,
       CAST(denominator AS BIGINT) AS denominator,
       CASE
           WHEN missing_text IS NOT NULL THEN missing_text
           WHEN statistic = 'n' THEN CAST(n AS VARCHAR)
           WHEN statistic = 'n of N' THEN CAST(n AS VARCHAR) || ' of ' || CAST(denominator AS VARCHAR)
           WHEN statistic = 'n (%)' AND pct10 IS NULL THEN 'not reported'
           WHEN statistic = 'n (%)'
               THEN CAST(n AS VARCHAR) || ' (' || CAST(pct10 // 10 AS VARCHAR) || '.' || CAST(pct10 % 10 AS VARCHAR) || ')'
           WHEN statistic = 'mean'
               THEN CAST(x10 // 10 AS VARCHAR) || '.' || CAST(x10 % 10 AS VARCHAR)
           WHEN statistic = 'median (min–max)'
               THEN CAST(x10 // 10 AS VARCHAR) || CASE WHEN x10 % 10 = 0 THEN '' ELSE '.' || CAST(x10 % 10 AS VARCHAR) END
                    || ' (' || CAST(lo10 // 10 AS VARCHAR) || CASE WHEN lo10 % 10 = 0 THEN '' ELSE '.' || CAST(lo10 % 10 AS VARCHAR) END
                    || '–' || CAST(hi10 // 10 AS VARCHAR) || CASE WHEN hi10 % 10 = 0 THEN '' ELSE '.' || CAST(hi10 % 10 AS VARCHAR) END
                    || ')'
       END AS value_text,
       note
FROM scaled
