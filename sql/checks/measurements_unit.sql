-- measurements_unit: unit is not known for this analyte
-- File: measurements.csv
-- Column: unit
-- Fast: value_canonical IS NULL
--   (the import's fast path: the import joins unit_conversions for value_canonical, so a row
--   refused here has no conversion and a NULL value_canonical, which only a refused row has;
--   one predicate in the table's single scan instead of this query over 10M rows)
SELECT m._line, m.unit AS value,
       'known for ' || m.analyte || ': ' || (SELECT string_agg(c.unit, ', ' ORDER BY c.unit) FROM unit_conversions c WHERE c.analyte = m.analyte) AS detail
FROM measurements m
WHERE EXISTS (SELECT 1 FROM analytes a WHERE a.analyte = m.analyte)
  AND NOT EXISTS (SELECT 1 FROM unit_conversions c WHERE c.analyte = m.analyte AND c.unit = m.unit)
