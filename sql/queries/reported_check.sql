-- reported_check: One study's reported figures beside what its rows recompute, with agreement.
-- Parameters:
--   study (VARCHAR): the study id
SELECT label, variable, codes, day, statistic, value_text AS reported, computed_value,
       computed_low, computed_high, agrees, note, locator
FROM reported_vs_computed
WHERE study_id = $study
ORDER BY reported_id
