-- reported_vs_computed: Every aggregate a paper reports beside the same figure recomputed from its patient rows.
-- Columns:
--   study_id: the study
--   variable: what the figure describes (vocabulary in docs/package-format.md)
--   statistic: n, percent, value (the figure every patient shares), median, mean, min, max, ...
--   reported_value: the figure as the paper reports it
--   computed_value: the figure recomputed from the rows (NULL when the rows do not settle it)
--   agrees: true when they agree, false when the rows contradict the paper, NULL when the rows cannot tell
--   note: coding choices and how the comparison was made
--   reported_id: the reported figure's id in its package
--   codes: the codes counted, for comorbidity and treatment variables
--   day: the horizon, for survival-type variables
--   label: the row label as printed
--   value_text: the reported figure as printed
--   computed_low: the lowest value the rows allow
--   computed_high: the highest value the rows allow
--   n_patients: patients the recomputation covers
--   source_id: where the reported figure stands
--   locator: table, figure or section of the paper
--   quote: the paper's words
-- Notes:
--   A percentage or mean agrees when the computed value, rounded half-up or truncated to the
--   reported decimals, equals the reported one (the note says when only truncation matches).
--   Counts agree when equal. Where some patients' status is unknown (a comorbidity list "NA",
--   a patient discharged before the horizon) the rows allow a range; the reported figure is
--   contradicted only when it lies outside that range.
CREATE OR REPLACE VIEW reported_vs_computed AS
WITH reported AS (
    SELECT r.*,
           CASE WHEN strpos(r.value_text, '.') > 0 AND strpos(lower(r.value_text), 'e') = 0
                THEN length(r.value_text) - strpos(r.value_text, '.') ELSE 0 END AS decimals
    FROM reported_aggregates r
),
population AS (
    SELECT r.study_id, r.reported_id, p.patient_id
    FROM reported r
    JOIN patients p
      ON p.study_id = r.study_id
     AND (r.population IS NULL OR r.population = 'all' OR p.arm_id = r.population)
),
reported_codes AS (
    -- codes is a '|'-separated list: a code is in it when '|code|' is in '|codes|' (no string
    -- splitting, which does not carry to PostgreSQL and Spark)
    SELECT study_id, reported_id, variable, '|' || codes || '|' AS code_list
    FROM reported
    WHERE codes IS NOT NULL
),
code_matches AS (
    SELECT DISTINCT rc.study_id, rc.reported_id, c.patient_id
    FROM reported_codes rc
    JOIN comorbidities c ON c.study_id = rc.study_id AND strpos(rc.code_list, '|' || c.code || '|') > 0
    WHERE rc.variable = 'comorbidity'
    UNION
    SELECT DISTINCT rc.study_id, rc.reported_id, t.patient_id
    FROM reported_codes rc
    JOIN treatments t ON t.study_id = rc.study_id AND t.phase = 'hospital'
     AND ((rc.variable = 'treatment_class' AND strpos(rc.code_list, '|' || t.drug_class || '|') > 0)
       OR (rc.variable = 'treatment_drug' AND strpos(rc.code_list, '|' || t.code || '|') > 0))
),
informed AS (
    -- patients for whom the rows state the list at all ("NA" states nothing)
    SELECT DISTINCT study_id, patient_id, 'comorbidity' AS variable
    FROM comorbidities WHERE code <> 'not_reported'
    UNION
    SELECT DISTINCT study_id, patient_id, v.variable
    FROM treatments
    CROSS JOIN (VALUES ('treatment_class'), ('treatment_drug')) AS v(variable)
    WHERE phase = 'hospital' AND code <> 'not_reported'
),
event_flags AS (
    -- per patient, from the events (joined, not correlated EXISTS subqueries: those run once
    -- per patient on PostgreSQL and Spark)
    SELECT study_id, patient_id,
           bool_or(event = 'extubation') AS extubated,
           bool_or(event = 'intubation' AND coalesce(day, day_max) <= 0) AS intubated_by_index,
           bool_or(event = 'extubation' AND coalesce(day, day_max) <= 0) AS extubated_by_index
    FROM events
    GROUP BY study_id, patient_id
),
adverse_patients AS (
    SELECT DISTINCT study_id, patient_id FROM adverse_events
),
patient_flags AS (
    SELECT o.study_id, o.patient_id, o.sex, o.ventilated, o.icu, o.vital_status,
           coalesce(ef.extubated, false) AS extubated,
           ap.patient_id IS NOT NULL AS had_adverse_event,
           coalesce(ef.intubated_by_index, false) AND NOT coalesce(ef.extubated_by_index, false) AS ventilated_at_index
    FROM patient_outcomes o
    LEFT JOIN event_flags ef ON ef.study_id = o.study_id AND ef.patient_id = o.patient_id
    LEFT JOIN adverse_patients ap ON ap.study_id = o.study_id AND ap.patient_id = o.patient_id
),
patient_status AS (
    SELECT pop.study_id, pop.reported_id,
           CASE r.variable
               WHEN 'n_patients' THEN 'yes'
               WHEN 'female' THEN CASE f.sex WHEN 'F' THEN 'yes' WHEN 'M' THEN 'no' ELSE 'unknown' END
               WHEN 'ventilated' THEN CASE WHEN f.ventilated THEN 'yes' ELSE 'no' END
               WHEN 'ventilated_at_index' THEN CASE WHEN f.ventilated_at_index THEN 'yes' ELSE 'no' END
               WHEN 'icu' THEN CASE WHEN f.icu THEN 'yes' ELSE 'no' END
               WHEN 'extubated' THEN CASE WHEN f.extubated THEN 'yes' ELSE 'no' END
               WHEN 'adverse_event_patients' THEN CASE WHEN f.had_adverse_event THEN 'yes' ELSE 'no' END
               WHEN 'deaths' THEN CASE
                   WHEN r.day IS NULL THEN CASE f.vital_status WHEN 'dead' THEN 'yes' WHEN 'alive' THEN 'no' ELSE 'unknown' END
                   ELSE CASE s.status WHEN 'dead' THEN 'yes' WHEN 'alive' THEN 'no' ELSE 'unknown' END END
               WHEN 'alive' THEN CASE
                   WHEN r.day IS NULL THEN CASE f.vital_status WHEN 'alive' THEN 'yes' WHEN 'dead' THEN 'no' ELSE 'unknown' END
                   ELSE CASE s.status WHEN 'alive' THEN 'yes' WHEN 'dead' THEN 'no' ELSE 'unknown' END END
               ELSE CASE WHEN m.patient_id IS NOT NULL THEN 'yes'
                         WHEN i.patient_id IS NOT NULL THEN 'no'
                         ELSE 'unknown' END
           END AS status
    FROM population pop
    JOIN reported r ON r.study_id = pop.study_id AND r.reported_id = pop.reported_id
    JOIN patient_flags f ON f.study_id = pop.study_id AND f.patient_id = pop.patient_id
    LEFT JOIN patient_status_on_day s
      ON s.study_id = pop.study_id AND s.patient_id = pop.patient_id AND s.day = r.day
    LEFT JOIN code_matches m
      ON m.study_id = pop.study_id AND m.reported_id = pop.reported_id AND m.patient_id = pop.patient_id
    LEFT JOIN informed i
      ON i.study_id = pop.study_id AND i.patient_id = pop.patient_id AND i.variable = r.variable
    WHERE r.variable IN ('n_patients', 'female', 'ventilated', 'ventilated_at_index', 'icu', 'extubated',
                         'adverse_event_patients', 'deaths', 'alive', 'comorbidity', 'treatment_class',
                         'treatment_drug')
      AND r.statistic IN ('n', 'percent')
),
count_computed AS (
    SELECT s.study_id, s.reported_id,
           count(*) AS n_patients,
           count(*) FILTER (WHERE s.status = 'yes') AS k_yes,
           count(*) FILTER (WHERE s.status = 'unknown') AS k_unknown
    FROM patient_status s
    GROUP BY s.study_id, s.reported_id
),
admissions AS (
    SELECT study_id, patient_id,
           min(coalesce(day, day_min)) AS earliest_day,
           max(coalesce(day, day_max)) AS latest_day
    FROM events
    WHERE event = 'hospital_admission'
    GROUP BY study_id, patient_id
),
patient_values AS (
    -- where low and high are the same value, high is written `x + 0`: the same column under two
    -- aliases makes Spark 4's optimizer (RemoveRedundantAliases) build an invalid plan
    SELECT pop.study_id, pop.reported_id, p.age_years AS low, p.age_years + 0 AS high
    FROM population pop
    JOIN reported r ON r.study_id = pop.study_id AND r.reported_id = pop.reported_id
    JOIN patients p ON p.study_id = pop.study_id AND p.patient_id = pop.patient_id
    WHERE r.variable = 'age_years'
    UNION ALL
    SELECT pop.study_id, pop.reported_id, d.days, d.days + 0
    FROM population pop
    JOIN reported r ON r.study_id = pop.study_id AND r.reported_id = pop.reported_id
    JOIN durations d ON d.study_id = pop.study_id AND d.patient_id = pop.patient_id
     AND r.variable = d.kind || '_days'
    UNION ALL
    SELECT pop.study_id, pop.reported_id,
           CASE WHEN d.counted_from = 'index' THEN d.days ELSE d.days + a.earliest_day END,
           CASE WHEN d.counted_from = 'index' THEN d.days ELSE d.days + a.latest_day END
    FROM population pop
    JOIN reported r ON r.study_id = pop.study_id AND r.reported_id = pop.reported_id
    JOIN durations d ON d.study_id = pop.study_id AND d.patient_id = pop.patient_id AND d.kind = 'hospital'
    LEFT JOIN admissions a ON a.study_id = pop.study_id AND a.patient_id = pop.patient_id
    WHERE r.variable = 'hospital_days_from_index'
    UNION ALL
    SELECT pop.study_id, pop.reported_id, e.day, e.day + 0
    FROM population pop
    JOIN reported r ON r.study_id = pop.study_id AND r.reported_id = pop.reported_id
    JOIN events e ON e.study_id = pop.study_id AND e.patient_id = pop.patient_id AND e.event = 'extubation'
    WHERE r.variable = 'extubation_day'
),
value_computed AS (
    SELECT v.study_id, v.reported_id, r.statistic,
           count(v.low) AS n_values,
           count(*) AS n_rows,
           CASE r.statistic WHEN 'median' THEN median(v.low) WHEN 'mean' THEN avg(v.low)
                            WHEN 'min' THEN min(v.low) WHEN 'max' THEN max(v.low)
                            WHEN 'value' THEN min(v.low) END AS low,
           CASE r.statistic WHEN 'median' THEN median(v.high) WHEN 'mean' THEN avg(v.high)
                            WHEN 'min' THEN min(v.high) WHEN 'max' THEN max(v.high)
                            WHEN 'value' THEN max(v.high) END AS high
    FROM patient_values v
    JOIN reported r ON r.study_id = v.study_id AND r.reported_id = v.reported_id
    GROUP BY v.study_id, v.reported_id, r.statistic
),
population_size AS (
    SELECT study_id, reported_id, count(*) AS n_patients FROM population GROUP BY study_id, reported_id
),
computed AS (
    SELECT r.study_id, r.reported_id, r.statistic, r.decimals, r.value, ps.n_patients,
           CASE r.statistic
               WHEN 'n' THEN c.k_yes
               WHEN 'percent' THEN 100.0 * c.k_yes / NULLIF(c.n_patients, 0)
               ELSE v.low END AS low,
           CASE r.statistic
               WHEN 'n' THEN c.k_yes + c.k_unknown
               WHEN 'percent' THEN 100.0 * (c.k_yes + c.k_unknown) / NULLIF(c.n_patients, 0)
               ELSE v.high END AS high,
           c.k_unknown,
           v.n_values,
           CASE WHEN c.reported_id IS NOT NULL OR v.reported_id IS NOT NULL THEN true ELSE false END AS recomputable
    FROM reported r
    LEFT JOIN count_computed c ON c.study_id = r.study_id AND c.reported_id = r.reported_id
    LEFT JOIN value_computed v ON v.study_id = r.study_id AND v.reported_id = r.reported_id AND v.n_values > 0
    LEFT JOIN population_size ps ON ps.study_id = r.study_id AND ps.reported_id = r.reported_id
),
compared AS (
    SELECT c.*,
           abs(floor(c.low * power(10, c.decimals) + 0.5) / power(10, c.decimals) - c.value) < 1e-9 AS rounded_match,
           abs(floor(c.low * power(10, c.decimals) + 1e-9) / power(10, c.decimals) - c.value) < 1e-9 AS truncated_match,
           c.value < floor(c.low * power(10, c.decimals) + 1e-9) / power(10, c.decimals) - 1e-9
             OR c.value > floor(c.high * power(10, c.decimals) + 0.5) / power(10, c.decimals) + 1e-9
             -- a value every patient shares is contradicted as soon as two patients differ
             OR (c.statistic = 'value' AND c.low <> c.high) AS outside
    FROM computed c
)
SELECT r.study_id,
       r.variable,
       r.statistic,
       r.value AS reported_value,
       CASE WHEN k.low = k.high THEN k.low END AS computed_value,
       CASE WHEN k.low IS NULL THEN NULL
            WHEN k.low = k.high THEN k.rounded_match OR k.truncated_match
            WHEN k.outside THEN false
            ELSE NULL END AS agrees,
       NULLIF(concat_ws('; ',
           r.note,
           CASE WHEN k.n_patients IS NULL THEN 'no patient rows to recompute from (aggregate-only study)'
                WHEN NOT k.recomputable THEN 'not recomputable from the patient rows'
                WHEN k.low IS NULL THEN 'the rows hold no value for this figure' END,
           CASE WHEN k.low <> k.high AND k.k_unknown > 0
                THEN 'the rows leave ' || CAST(k.k_unknown AS VARCHAR) || ' of '
                     || CAST(k.n_patients AS VARCHAR) || ' patients undetermined'
                WHEN k.low <> k.high THEN 'the rows give only a range' END,
           CASE WHEN k.low = k.high AND NOT k.rounded_match AND k.truncated_match
                THEN 'agrees only when truncated, not when rounded' END,
           CASE WHEN r.variable = 'age_years' AND k.n_values < k.n_patients
                THEN 'computed from ' || CAST(k.n_values AS VARCHAR) || ' of '
                     || CAST(k.n_patients AS VARCHAR) || ' patients with a value' END
       ), '') AS note,
       r.reported_id,
       r.codes,
       r.day,
       r.label,
       r.value_text,
       k.low AS computed_low,
       k.high AS computed_high,
       CAST(k.n_patients AS BIGINT) AS n_patients,
       r.source_id,
       src.locator,
       src.quote
FROM reported r
JOIN compared k ON k.study_id = r.study_id AND k.reported_id = r.reported_id
LEFT JOIN sources src ON src.study_id = r.study_id AND src.source_id = r.source_id
