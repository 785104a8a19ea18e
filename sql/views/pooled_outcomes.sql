-- pooled_outcomes: Binary outcomes (death by a day or by the end of follow-up, extubation of the ventilated) per study with Wilson 95 % intervals, and pooled across studies by a random-effects model on the Freeman-Tukey double arcsine scale.
-- Columns:
--   outcome: the outcome and its horizon: 'death by day N', 'death by end of follow-up', 'extubation by end of follow-up (ventilated patients)'
--   study_id: the study; NULL on a pooled row
--   n_studies: studies in the row: 1 on a study row, the studies pooled on a pooled row
--   n_patients: the denominator: patients (deaths) or ventilated patients (extubation); summed over the studies on a pooled row
--   n_events: patients with the outcome (deaths, extubations); NULL when neither the rows nor the paper give a count
--   estimate: a study's proportion n_events / n_patients; on a pooled row the back-transformed random-effects proportion
--   ci_low: lower bound of the 95 % interval (Wilson score for a study; back-transformed random-effects bound when pooled)
--   ci_high: upper bound of the 95 % interval (Wilson score for a study; back-transformed random-effects bound when pooled)
--   method: how estimate and interval were computed (NULL when there is no count)
--   i2: heterogeneity I-squared of a pooled row in percent, max(0, (Q - (k - 1)) / Q) * 100; NULL on study rows
--   count_source: where a study's count comes from: patient rows, reported (the paper's own count), reported percent (the paper's percentage times its n, rounded), or NULL (no count)
--   horizon_day: the day of the horizon; NULL for the end of follow-up
--   secondary: the study is secondary (figures quoted by another paper, studies.secondary); NULL on pooled rows
--   aggregate_only: the study has no patient rows, only reported figures (studies.level = aggregate); NULL on pooled rows
--   includes_secondary: on a pooled row, whether secondary studies were admitted to the pool (false: primary studies only); on a study row, the same as secondary
--   n_secondary_studies: on a pooled row, how many of its studies are secondary; NULL on study rows
--   tau2: DerSimonian-Laird between-study variance on the double arcsine scale; NULL on study rows
--   n_status_unknown: patients of a patient-level study whose status at the horizon the rows do not establish; NULL for aggregate-only studies and pooled rows
-- Notes:
--   Horizons: every day of patient_status_on_day (7, 14, 21, 28, 30 and every day a paper reports a
--   figure for) and the end of follow-up; only like horizons are pooled. Count per study: from the
--   patient rows when they establish every patient's status at the horizon (patient_status_on_day;
--   for the end of follow-up the same rule at studies.followup_days, every non-dead patient unknown
--   when no follow-up is stated). Otherwise the paper's own figure from reported_aggregates
--   (population all or empty): for day N the figures with day N; for the end of follow-up those
--   without a day, else those on the stated last day of follow-up. deaths n is used as given,
--   alive n as population - alive, a percentage as round(population * percent / 100) (count_source
--   reported percent); preference: deaths n, alive n, deaths percent, alive percent. The population
--   is the paper's n_patients (n), else the patient rows. Reported figures of equal preference that
--   disagree, or a figure without a population, give no count. Extubation: among ventilated
--   patients (patient_outcomes.ventilated), yes with an extubation event, no when the patient died
--   (without an extubation) or is still ventilated at the report, else unknown; the paper's extubated
--   n over its ventilated n otherwise. Study rows: every horizon for a patient-level study (NULL
--   counts show what cannot be counted), and the horizons an aggregate-only study reports.
--   Wilson: (p + z^2/2n +/- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.959963984540054.
--   Pooled rows, one with every study that has a count and n > 0 (includes_secondary true) and one
--   with the non-secondary ones only (false), each when it has at least 2 studies:
--   t = asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))), v = 1/(n + 0.5) (valid with 0 events);
--   DerSimonian-Laird tau2 = max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w)), w = 1/v;
--   t_RE = sum(t/(v+tau2)) / sum(1/(v+tau2)), se = sqrt(1 / sum(1/(v+tau2))), bounds t_RE +/- z se;
--   back-transform (Miller 1978) with the harmonic mean n' of the n:
--   p = (1 - sgn(cos t) sqrt(1 - (sin t + (sin t - 1/sin t)/n')^2)) / 2, 0 below
--   t = asin(sqrt(1/(n'+1))) and 1 above asin(sqrt(n'/(n'+1))) + pi/2.
CREATE OR REPLACE VIEW pooled_outcomes AS
WITH reported_n AS (
    -- the paper's own number of patients and of ventilated patients (disagreeing figures: none)
    SELECT study_id,
           variable,
           CASE WHEN min(value) = max(value) THEN CAST(min(value) AS BIGINT) END AS n
    FROM reported_aggregates
    WHERE variable IN ('n_patients', 'ventilated')
      AND statistic = 'n'
      AND coalesce(population, 'all') = 'all'
    GROUP BY study_id, variable
),
row_patients AS (
    SELECT study_id,
           CAST(count(*) AS BIGINT) AS n_patients,
           CAST(count(*) FILTER (WHERE ventilated) AS BIGINT) AS n_ventilated
    FROM patient_outcomes
    GROUP BY study_id
),
end_status AS (
    SELECT o.study_id,
           CASE WHEN s.followup_days IS NULL
                    THEN CASE WHEN o.vital_status = 'dead' THEN 'dead' ELSE 'unknown' END
                WHEN o.death_day_max <= s.followup_days THEN 'dead'
                WHEN o.death_day_min > s.followup_days THEN 'alive'
                WHEN o.death_day_min IS NULL AND o.last_followup_day >= s.followup_days THEN 'alive'
                ELSE 'unknown' END AS status
    FROM patient_outcomes o
    JOIN studies s ON s.study_id = o.study_id
),
extubation_status AS (
    SELECT o.study_id,
           CASE WHEN x.patient_id IS NOT NULL THEN 'yes'
                WHEN o.vital_status = 'dead' OR o.ventilation_ongoing THEN 'no'
                ELSE 'unknown' END AS status
    FROM patient_outcomes o
    LEFT JOIN (SELECT DISTINCT study_id, patient_id FROM events WHERE event = 'extubation') x
      ON x.study_id = o.study_id AND x.patient_id = o.patient_id
    WHERE o.ventilated
),
row_counts AS (
    SELECT study_id,
           'death by day ' || CAST(day AS VARCHAR) AS outcome,
           day AS horizon_day,
           CAST(count(*) AS BIGINT) AS n,
           CAST(count(*) FILTER (WHERE status = 'dead') AS BIGINT) AS x,
           CAST(count(*) FILTER (WHERE status = 'unknown') AS BIGINT) AS n_unknown
    FROM patient_status_on_day
    GROUP BY study_id, day
    UNION ALL
    SELECT study_id,
           'death by end of follow-up' AS outcome,
           CAST(NULL AS INTEGER) AS horizon_day,
           CAST(count(*) AS BIGINT) AS n,
           CAST(count(*) FILTER (WHERE status = 'dead') AS BIGINT) AS x,
           CAST(count(*) FILTER (WHERE status = 'unknown') AS BIGINT) AS n_unknown
    FROM end_status
    GROUP BY study_id
    UNION ALL
    SELECT study_id,
           'extubation by end of follow-up (ventilated patients)' AS outcome,
           CAST(NULL AS INTEGER) AS horizon_day,
           CAST(count(*) AS BIGINT) AS n,
           CAST(count(*) FILTER (WHERE status = 'yes') AS BIGINT) AS x,
           CAST(count(*) FILTER (WHERE status = 'unknown') AS BIGINT) AS n_unknown
    FROM extubation_status
    GROUP BY study_id
),
reported_figures AS (
    SELECT r.study_id, r.variable, r.statistic, r.day, r.value, s.followup_days
    FROM reported_aggregates r
    JOIN studies s ON s.study_id = r.study_id
    WHERE coalesce(r.population, 'all') = 'all'
      AND ((r.variable IN ('deaths', 'alive') AND r.statistic IN ('n', 'percent'))
           OR (r.variable = 'extubated' AND r.statistic = 'n'))
),
reported_horizons AS (
    -- a figure with a day stands for that day; one without a day, or on the stated last day of
    -- follow-up (second choice), for the end of follow-up
    SELECT study_id, variable, statistic, value,
           'death by day ' || CAST(day AS VARCHAR) AS outcome,
           day AS horizon_day,
           0 AS horizon_rank
    FROM reported_figures
    WHERE day IS NOT NULL AND variable IN ('deaths', 'alive')
    UNION ALL
    SELECT study_id, variable, statistic, value,
           CASE WHEN variable = 'extubated' THEN 'extubation by end of follow-up (ventilated patients)'
                ELSE 'death by end of follow-up' END AS outcome,
           CAST(NULL AS INTEGER) AS horizon_day,
           CASE WHEN day IS NULL THEN 0 ELSE 1 END AS horizon_rank
    FROM reported_figures
    WHERE day IS NULL OR day = followup_days
),
reported_populations AS (
    SELECT h.study_id, h.variable, h.statistic, h.value, h.outcome, h.horizon_day, h.horizon_rank,
           CASE WHEN h.variable = 'extubated' THEN coalesce(nv.n, rp.n_ventilated)
                ELSE coalesce(np.n, rp.n_patients) END AS population
    FROM reported_horizons h
    LEFT JOIN reported_n np ON np.study_id = h.study_id AND np.variable = 'n_patients'
    LEFT JOIN reported_n nv ON nv.study_id = h.study_id AND nv.variable = 'ventilated'
    LEFT JOIN row_patients rp ON rp.study_id = h.study_id
),
reported_candidates AS (
    SELECT study_id, outcome, horizon_day, population,
           CAST(CASE WHEN variable IN ('deaths', 'extubated') AND statistic = 'n' THEN value
                     WHEN variable = 'alive' AND statistic = 'n' THEN population - value
                     WHEN variable = 'deaths' AND statistic = 'percent' THEN floor(population * value / 100 + 0.5)
                     WHEN variable = 'alive' AND statistic = 'percent'
                         THEN population - floor(population * value / 100 + 0.5) END AS BIGINT) AS x,
           CASE WHEN statistic = 'percent' THEN 1 ELSE 0 END AS from_percent,
           rank() OVER (PARTITION BY study_id, outcome
                        ORDER BY horizon_rank,
                                 CASE WHEN statistic = 'n' AND variable IN ('deaths', 'extubated') THEN 1
                                      WHEN statistic = 'n' THEN 2
                                      WHEN variable = 'deaths' THEN 3
                                      ELSE 4 END) AS preference
    FROM reported_populations
),
reported_counts AS (
    SELECT study_id,
           outcome,
           horizon_day,
           CASE WHEN min(x) = max(x) AND min(x) >= 0 AND max(x) <= min(population) THEN min(x) END AS x,
           min(population) AS n,
           max(from_percent) AS from_percent
    FROM reported_candidates
    WHERE preference = 1
    GROUP BY study_id, outcome, horizon_day
),
study_keys AS (
    SELECT study_id, outcome, horizon_day FROM row_counts
    UNION
    SELECT study_id, outcome, horizon_day FROM reported_counts
),
study_counts AS (
    SELECT k.study_id,
           k.outcome,
           k.horizon_day,
           s.secondary,
           s.level = 'aggregate' AS aggregate_only,
           CASE WHEN c.n > 0 AND c.n_unknown = 0 THEN 'patient rows'
                WHEN r.x IS NOT NULL AND r.n > 0 AND r.from_percent = 1 THEN 'reported percent'
                WHEN r.x IS NOT NULL AND r.n > 0 THEN 'reported' END AS count_source,
           c.n AS row_n,
           c.x AS row_x,
           c.n_unknown,
           r.n AS reported_n,
           r.x AS reported_x
    FROM study_keys k
    JOIN studies s ON s.study_id = k.study_id
    LEFT JOIN row_counts c ON c.study_id = k.study_id AND c.outcome = k.outcome
    LEFT JOIN reported_counts r ON r.study_id = k.study_id AND r.outcome = k.outcome
),
study_rows AS (
    SELECT study_id, outcome, horizon_day, secondary, aggregate_only, count_source, n_unknown,
           CASE WHEN count_source = 'patient rows' THEN row_n
                WHEN count_source IS NOT NULL THEN reported_n
                ELSE coalesce(row_n, reported_n) END AS n,
           CASE WHEN count_source = 'patient rows' THEN row_x
                WHEN count_source IS NOT NULL THEN reported_x END AS x
    FROM study_counts
),
study_estimates AS (
    SELECT study_id, outcome, horizon_day, secondary, aggregate_only, count_source, n_unknown, n, x,
           CAST(x AS DOUBLE) / NULLIF(n, 0) AS p,
           CAST(1.959963984540054 AS DOUBLE) AS z
    FROM study_rows
),
pools AS (
    SELECT c.outcome,
           c.horizon_day,
           p.includes_secondary,
           c.secondary,
           c.n,
           c.x,
           asin(sqrt(CAST(c.x AS DOUBLE) / (c.n + 1))) + asin(sqrt(CAST(c.x + 1 AS DOUBLE) / (c.n + 1))) AS t,
           1 / (CAST(c.n AS DOUBLE) + 0.5) AS v
    FROM study_rows c
    CROSS JOIN (VALUES (true), (false)) AS p(includes_secondary)
    WHERE c.x IS NOT NULL AND c.n > 0
      AND (p.includes_secondary OR NOT c.secondary)
),
fixed AS (
    SELECT outcome,
           horizon_day,
           includes_secondary,
           CAST(count(*) AS BIGINT) AS k,
           sum(1 / v) AS sum_w,
           sum(1 / (v * v)) AS sum_w2,
           sum(t / v) AS sum_wt,
           CAST(sum(n) AS BIGINT) AS n_patients,
           CAST(sum(x) AS BIGINT) AS n_events,
           sum(1 / CAST(n AS DOUBLE)) AS sum_inv_n,
           CAST(count(*) FILTER (WHERE secondary) AS BIGINT) AS n_secondary
    FROM pools
    GROUP BY outcome, horizon_day, includes_secondary
    HAVING count(*) >= 2
),
heterogeneity AS (
    SELECT f.outcome,
           f.includes_secondary,
           sum(power(p.t - f.sum_wt / NULLIF(f.sum_w, 0), 2) / p.v) AS q
    FROM fixed f
    JOIN pools p ON p.outcome = f.outcome AND p.includes_secondary = f.includes_secondary
    GROUP BY f.outcome, f.includes_secondary
),
dl AS (
    SELECT f.outcome,
           f.horizon_day,
           f.includes_secondary,
           f.k,
           f.n_patients,
           f.n_events,
           f.n_secondary,
           CAST(f.k AS DOUBLE) / NULLIF(f.sum_inv_n, 0) AS n_harmonic,
           h.q,
           greatest(0, (h.q - (f.k - 1)) / NULLIF(f.sum_w - f.sum_w2 / NULLIF(f.sum_w, 0), 0)) AS tau2
    FROM fixed f
    JOIN heterogeneity h ON h.outcome = f.outcome AND h.includes_secondary = f.includes_secondary
),
random_effects AS (
    SELECT b.outcome,
           b.includes_secondary,
           sum(p.t / (p.v + b.tau2)) / NULLIF(sum(1 / (p.v + b.tau2)), 0) AS t_re,
           sqrt(1 / NULLIF(sum(1 / (p.v + b.tau2)), 0)) AS se_re
    FROM dl b
    JOIN pools p ON p.outcome = b.outcome AND p.includes_secondary = b.includes_secondary
    GROUP BY b.outcome, b.includes_secondary
),
transformed_bounds AS (
    SELECT b.outcome,
           b.includes_secondary,
           w.bound,
           r.t_re + w.direction * CAST(1.959963984540054 AS DOUBLE) * r.se_re AS t,
           b.n_harmonic AS nh
    FROM dl b
    JOIN random_effects r ON r.outcome = b.outcome AND r.includes_secondary = b.includes_secondary
    CROSS JOIN (VALUES ('estimate', 0), ('low', -1), ('high', 1)) AS w(bound, direction)
),
back_transformed AS (
    SELECT outcome,
           includes_secondary,
           bound,
           CASE WHEN t <= asin(sqrt(1 / (nh + 1))) THEN 0.0
                WHEN t >= asin(sqrt(nh / (nh + 1))) + asin(1) THEN 1.0
                ELSE 0.5 * (1 - (CASE WHEN t > asin(1) THEN -1 ELSE 1 END)
                                * sqrt(greatest(0, 1 - power(sin(t) + (sin(t) - 1 / NULLIF(sin(t), 0)) / nh, 2))))
           END AS p
    FROM transformed_bounds
),
pooled_rows AS (
    SELECT b.outcome,
           b.horizon_day,
           b.includes_secondary,
           b.k,
           b.n_patients,
           b.n_events,
           b.n_secondary,
           b.tau2,
           CASE WHEN b.q > b.k - 1 THEN 100 * (b.q - (b.k - 1)) / NULLIF(b.q, 0) ELSE 0.0 END AS i2,
           max(CASE WHEN t.bound = 'estimate' THEN t.p END) AS estimate,
           max(CASE WHEN t.bound = 'low' THEN t.p END) AS ci_low,
           max(CASE WHEN t.bound = 'high' THEN t.p END) AS ci_high
    FROM dl b
    JOIN back_transformed t ON t.outcome = b.outcome AND t.includes_secondary = b.includes_secondary
    GROUP BY b.outcome, b.horizon_day, b.includes_secondary, b.k, b.n_patients, b.n_events, b.n_secondary, b.tau2, b.q
)
SELECT outcome,
       study_id,
       CAST(1 AS BIGINT) AS n_studies,
       n AS n_patients,
       x AS n_events,
       p AS estimate,
       CASE WHEN p IS NOT NULL
            THEN greatest(0, (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)))
                             / (1 + z * z / n)) END AS ci_low,
       CASE WHEN p IS NOT NULL
            THEN least(1, (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)))
                          / (1 + z * z / n)) END AS ci_high,
       CASE WHEN x IS NOT NULL THEN 'Wilson score interval' END AS method,
       CAST(NULL AS DOUBLE) AS i2,
       count_source,
       horizon_day,
       secondary,
       aggregate_only,
       secondary AS includes_secondary,
       CAST(NULL AS BIGINT) AS n_secondary_studies,
       CAST(NULL AS DOUBLE) AS tau2,
       n_unknown AS n_status_unknown
FROM study_estimates
UNION ALL
SELECT outcome,
       CAST(NULL AS VARCHAR) AS study_id,
       k AS n_studies,
       n_patients,
       n_events,
       estimate,
       ci_low,
       ci_high,
       'random effects: Freeman-Tukey double arcsine, DerSimonian-Laird tau2, Miller back-transform (harmonic mean n)' AS method,
       i2,
       CAST(NULL AS VARCHAR) AS count_source,
       horizon_day,
       CAST(NULL AS BOOLEAN) AS secondary,
       CAST(NULL AS BOOLEAN) AS aggregate_only,
       includes_secondary,
       n_secondary AS n_secondary_studies,
       tau2,
       CAST(NULL AS BIGINT) AS n_status_unknown
FROM pooled_rows
