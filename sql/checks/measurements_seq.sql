-- measurements_seq: seq orders values whose day is not given and must be 1 or more
-- File: measurements.csv
-- Column: seq
SELECT _line, CAST(seq AS VARCHAR) AS value FROM measurements WHERE seq < 1
