-- durations_counted_from: counted_from must be admission or index
-- File: durations.csv
-- Column: counted_from
SELECT _line, counted_from AS value FROM durations WHERE counted_from NOT IN ('admission', 'index')
