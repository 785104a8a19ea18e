-- measurements_analyte: analyte must be a code of the analytes catalog (registry sql "FROM analytes")
-- File: measurements.csv
-- Column: analyte
SELECT m._line, m.analyte AS value
FROM measurements m
WHERE NOT EXISTS (SELECT 1 FROM analytes a WHERE a.analyte = m.analyte)
