-- adverse_events_times: onset_hours and duration_days cannot be negative
-- File: adverse_events.csv
-- Column: onset_hours
SELECT _line, CAST(onset_hours AS VARCHAR) || ' / ' || CAST(duration_days AS VARCHAR) AS value
FROM adverse_events WHERE onset_hours < 0 OR duration_days < 0
