-- measurements_range: value outside the analyte's plausible range
-- File: measurements.csv
-- Column: value
SELECT m._line, CAST(m.value AS VARCHAR) || ' ' || m.unit AS value,
       m.analyte || ' must lie within ' || a.plausible_min || '-' || a.plausible_max || ' ' || a.canonical_unit AS detail
FROM measurements m
JOIN analytes a ON a.analyte = m.analyte
WHERE m.value_canonical < a.plausible_min OR m.value_canonical > a.plausible_max
