-- trajectory: One analyte's median and quartiles by day (and context) for one study.
-- Parameters:
--   study (VARCHAR): the study id
--   analyte (VARCHAR): analyte code, e.g. spo2 (see `registry sql "FROM analytes"`)
SELECT context, day, seq, n, median, q1, q3, unit
FROM measurement_trajectory
WHERE study_id = $study AND analyte = $analyte
ORDER BY context NULLS FIRST, day NULLS LAST, seq
