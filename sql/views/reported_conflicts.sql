-- reported_conflicts: Pairs of figures one paper reports twice, from different places, with different values.
-- Columns:
--   study_id: the study
--   variable: what both figures describe
--   statistic: n, percent, median, ...
--   day: the horizon, for survival-type variables
--   codes: the codes counted, for comorbidity and treatment variables
--   value_a: the first figure as printed
--   locator_a: where the first figure stands
--   quote_a: the paper's words for the first figure
--   value_b: the second figure as printed
--   locator_b: where the second figure stands
--   quote_b: the paper's words for the second figure
-- Notes:
--   A text-versus-text disagreement (e.g. an age range given one way in the Results and
--   another in Table 1). Each pair is listed once (a before b in reported_id order).
CREATE OR REPLACE VIEW reported_conflicts AS
SELECT a.study_id,
       a.variable,
       a.statistic,
       a.day,
       a.codes,
       a.value_text AS value_a,
       sa.locator AS locator_a,
       sa.quote AS quote_a,
       b.value_text AS value_b,
       sb.locator AS locator_b,
       sb.quote AS quote_b
FROM reported_aggregates a
JOIN reported_aggregates b
  ON b.study_id = a.study_id
 AND b.variable = a.variable
 AND b.statistic = a.statistic
 AND coalesce(b.day, -1000) = coalesce(a.day, -1000)
 AND coalesce(b.codes, '') = coalesce(a.codes, '')
 AND coalesce(b.population, 'all') = coalesce(a.population, 'all')
 AND b.reported_id > a.reported_id
 AND b.value <> a.value
LEFT JOIN sources sa ON sa.study_id = a.study_id AND sa.source_id = a.source_id
LEFT JOIN sources sb ON sb.study_id = b.study_id AND sb.source_id = b.source_id
