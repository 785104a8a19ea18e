-- km_survival: Kaplan-Meier survival from the index day, per study and pooled over every patient row (study_id NULL), with Greenwood variance and log-log 95 % confidence interval.
-- Columns:
--   study_id: the study; NULL on the rows pooled over the patients of every study
--   day: a day on which at least one patient of the group dies or is censored (days after the index day)
--   n_at_risk: patients still under observation at the start of the day (event or censoring day on or after it)
--   n_events: deaths on that day
--   n_censored: patients censored on that day (last known alive that day)
--   survival: Kaplan-Meier estimate S(day): the product over days up to it of (1 - n_events / n_at_risk)
--   ci_low: lower bound of the pointwise 95 % log-log interval (1 while no one has died; NULL once survival is 0)
--   ci_high: upper bound of the pointwise 95 % log-log interval (1 while no one has died; NULL once survival is 0)
--   std_err: Greenwood standard error of survival, S * sqrt(sum of n_events / (n_at_risk * (n_at_risk - n_events))); NULL once survival is 0
--   n_patients: patients in the group (study, or all studies)
-- Notes:
--   Times come from patient_outcomes. A dead patient's event time is death_day, or death_day_max
--   when only a range is known (the latest possible day). A patient who is not dead is censored at
--   last_followup_day, the last day the rows show them alive (the rule of survival_at_day); no
--   follow-up day at all, or only days before day 0, censors at day 0. A death whose latest possible
--   day is unknown is censored at death_day_min - 1 (alive before the earliest possible day), or 0.
--   One row per distinct event-or-censoring day per group; no row is added for day 0 unless someone
--   dies or is censored on it. Ties: deaths come before censorings on the same day, so a patient
--   censored on day d is at risk on d. Interval: se = sqrt(Greenwood sum) / |ln S|,
--   exp(-exp(ln(-ln S) +/- z * se)) with z = 1.959963984540054 (the 97.5 % normal quantile).
--   While S = 1 the Greenwood variance is 0 and the interval is 1 to 1; once S = 0 the interval and
--   std_err are NULL (undefined). The pooled rows put every patient of every patient-level study
--   in one table, without stratifying by study.
CREATE OR REPLACE VIEW km_survival AS
WITH times AS (
    SELECT o.study_id,
           CASE WHEN o.vital_status = 'dead' AND coalesce(o.death_day, o.death_day_max) IS NOT NULL
                    THEN coalesce(o.death_day, o.death_day_max)
                WHEN o.vital_status = 'dead'
                    THEN greatest(coalesce(o.death_day_min - 1, 0), 0)
                ELSE greatest(coalesce(o.last_followup_day, 0), 0) END AS day,
           CASE WHEN o.vital_status = 'dead' AND coalesce(o.death_day, o.death_day_max) IS NOT NULL
                THEN 1 ELSE 0 END AS event
    FROM patient_outcomes o
),
grouped AS (
    SELECT study_id, day, event FROM times
    UNION ALL
    SELECT CAST(NULL AS VARCHAR) AS study_id, day, event FROM times
),
per_day AS (
    SELECT study_id,
           day,
           CAST(sum(event) AS BIGINT) AS n_events,
           CAST(sum(1 - event) AS BIGINT) AS n_censored
    FROM grouped
    GROUP BY study_id, day
),
at_risk AS (
    SELECT study_id,
           day,
           n_events,
           n_censored,
           CAST(sum(n_events + n_censored) OVER (PARTITION BY study_id ORDER BY day DESC
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS n_at_risk,
           CAST(sum(n_events + n_censored) OVER (PARTITION BY study_id) AS BIGINT) AS n_patients
    FROM per_day
),
steps AS (
    SELECT study_id,
           day,
           n_at_risk,
           n_events,
           n_censored,
           n_patients,
           CASE WHEN n_events < n_at_risk
                THEN ln(1 - CAST(n_events AS DOUBLE) / NULLIF(n_at_risk, 0)) ELSE 0 END AS log_factor,
           CASE WHEN n_events > 0 AND n_events >= n_at_risk THEN 1 ELSE 0 END AS reaches_zero,
           CASE WHEN n_events < n_at_risk
                THEN CAST(n_events AS DOUBLE) / NULLIF(CAST(n_at_risk AS DOUBLE) * (n_at_risk - n_events), 0)
                ELSE 0 END AS greenwood_term
    FROM at_risk
),
cumulative AS (
    SELECT study_id,
           day,
           n_at_risk,
           n_events,
           n_censored,
           n_patients,
           sum(log_factor) OVER w AS log_s,
           max(reaches_zero) OVER w AS is_zero,
           sum(n_events) OVER w AS events_so_far,
           sum(greenwood_term) OVER w AS greenwood
    FROM steps
    WINDOW w AS (PARTITION BY study_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
bounds AS (
    SELECT study_id,
           day,
           n_at_risk,
           n_events,
           n_censored,
           n_patients,
           log_s,
           is_zero,
           events_so_far,
           greenwood,
           CASE WHEN is_zero = 0 AND events_so_far > 0
                THEN CAST(1.959963984540054 AS DOUBLE) * sqrt(greenwood) / NULLIF(abs(log_s), 0) END AS z_se
    FROM cumulative
)
SELECT study_id,
       day,
       n_at_risk,
       n_events,
       n_censored,
       CASE WHEN is_zero = 1 THEN 0.0 ELSE exp(log_s) END AS survival,
       CASE WHEN is_zero = 1 THEN NULL
            WHEN events_so_far = 0 THEN 1.0
            ELSE exp(-exp(ln(-log_s) + z_se)) END AS ci_low,
       CASE WHEN is_zero = 1 THEN NULL
            WHEN events_so_far = 0 THEN 1.0
            ELSE exp(-exp(ln(-log_s) - z_se)) END AS ci_high,
       CASE WHEN is_zero = 1 THEN NULL ELSE exp(log_s) * sqrt(greenwood) END AS std_err,
       n_patients
FROM bounds
