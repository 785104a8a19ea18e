-- reported_value: value must be a number as printed (e.g. 55.5; no % sign or range)
-- File: reported_aggregates.csv
-- Column: value
SELECT _line, value_text AS value FROM reported_aggregates WHERE value_text IS NOT NULL AND value IS NULL
