-- change_at: One analyte's change from baseline on one day, in every study that measured it.
-- Parameters:
--   analyte (VARCHAR): analyte code, e.g. resp_rate
--   day (INTEGER, default 4): day after the index day
SELECT study_id, context, day, n, median_change, q1_change, q3_change, median_relative_change, unit
FROM biomarker_change_summary
WHERE analyte = $analyte AND day = $day
ORDER BY study_id, context NULLS FIRST
