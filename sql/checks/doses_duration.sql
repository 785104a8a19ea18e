-- doses_duration: an infusion duration cannot be negative
-- File: doses.csv
-- Column: duration_min
SELECT _line, CAST(duration_min AS VARCHAR) AS value FROM doses WHERE duration_min < 0
