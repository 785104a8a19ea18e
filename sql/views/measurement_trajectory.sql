-- measurement_trajectory: Median and quartiles of each analyte per study, context and day, in the analyte's canonical unit.
-- Columns:
--   study_id: the study
--   analyte: analyte code (see the analytes table)
--   context: conditions of the measurement (room air, O2 8 L/min, mechanical ventilation); NULL when not stated
--   day: days from the index day; NULL when the paper does not give the day
--   n: patients with a value
--   median: median value, canonical unit
--   q1: first quartile (continuous), canonical unit
--   q3: third quartile (continuous), canonical unit
--   unit: the canonical unit
--   seq: order of values whose day is not given (NULL when day is known)
--   n_values: values summarised
-- Notes:
--   Values from different contexts are never pooled. Quartiles use linear interpolation
--   (quantile_cont), as R's type 7 does.
--   n is count(*): the import refuses two rows with the same study, patient, analyte, context,
--   day and seq, so each row of a group is another patient (count(DISTINCT) cost 4x the time).
CREATE OR REPLACE VIEW measurement_trajectory AS
-- One quantile_cont over a list of fractions: a single copy of the values per group (see
-- biomarker_change_summary); median is its middle element.
SELECT study_id,
       analyte,
       context,
       day,
       n,
       quartiles[2] AS median,
       quartiles[1] AS q1,
       quartiles[3] AS q3,
       unit,
       seq,
       n AS n_values
FROM (
    SELECT m.study_id,
           m.analyte,
           m.context,
           m.day,
           CAST(count(*) AS BIGINT) AS n,
           quantile_cont(m.value_canonical, [0.25, 0.5, 0.75]) AS quartiles,
           a.canonical_unit AS unit,
           m.seq
    FROM measurements m
    JOIN analytes a ON a.analyte = m.analyte
    GROUP BY m.study_id, m.analyte, m.context, m.day, m.seq, a.canonical_unit
) AS grouped
