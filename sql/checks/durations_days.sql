-- durations_days: a duration must lie between 0 and 3650 days
-- File: durations.csv
-- Column: days
SELECT _line, CAST(days AS VARCHAR) AS value FROM durations WHERE days < 0 OR days > 3650
