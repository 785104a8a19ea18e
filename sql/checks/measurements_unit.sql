-- measurements_unit: unit is not known for this analyte
-- File: measurements.csv
-- Column: unit
SELECT m._line, m.unit AS value,
       'known for ' || m.analyte || ': ' || (SELECT string_agg(c.unit, ', ' ORDER BY c.unit) FROM unit_conversions c WHERE c.analyte = m.analyte) AS detail
FROM measurements m
WHERE EXISTS (SELECT 1 FROM analytes a WHERE a.analyte = m.analyte)
  AND NOT EXISTS (SELECT 1 FROM unit_conversions c WHERE c.analyte = m.analyte AND c.unit = m.unit)
