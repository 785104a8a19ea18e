-- measurements_analyte: analyte must be a code of the analytes catalog (registry sql "FROM analytes")
-- File: measurements.csv
-- Column: analyte
-- Fast: value_canonical IS NULL
--   (the import's fast path: the import joins unit_conversions for value_canonical, so a row
--   refused here has no conversion and a NULL value_canonical, which only a refused row has;
--   one predicate in the table's single scan instead of this query over 10M rows)
SELECT m._line, m.analyte AS value
FROM measurements m
WHERE NOT EXISTS (SELECT 1 FROM analytes a WHERE a.analyte = m.analyte)
