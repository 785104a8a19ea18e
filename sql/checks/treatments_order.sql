-- treatments_order: start_day is after end_day
-- File: treatments.csv
-- Column: start_day
SELECT _line, start_day || ' > ' || end_day AS value FROM treatments WHERE start_day > end_day
