-- adverse_events_grade: grade must be a CTCAE grade from 1 to 5
-- File: adverse_events.csv
-- Column: grade
SELECT _line, CAST(grade AS VARCHAR) AS value FROM adverse_events WHERE grade NOT BETWEEN 1 AND 5
