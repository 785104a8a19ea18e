-- deid_dates_in_text: a calendar date tied to a patient identifies them: record time as days from the index day (day, day_min/day_max; day 0 = the first infusion, negative before it), not as a date
-- File: findings.csv
-- Notes:
--   De-identification guard (HIPAA Safe Harbor: every element of a date tied to a person except
--   the year). Refuses 2020-04-01, 01/04/2020, 4/1/20, "April 1, 2020", "1st of April", "Apr. 1"
--   and "April 2020"; a year alone is allowed. The detail shows the text that matched.
--   One rule over every free-text column of patient-level data; each row names its own
--   file and column (file_name, column_name).
WITH texts AS (
    SELECT 'adverse_events.csv' AS file_name, 'outcome' AS column_name, _line, "outcome" AS text FROM adverse_events
    UNION ALL
    SELECT 'adverse_events.csv' AS file_name, 'term' AS column_name, _line, "term" AS text FROM adverse_events
    UNION ALL
    SELECT 'adverse_events.csv' AS file_name, 'treatment' AS column_name, _line, "treatment" AS text FROM adverse_events
    UNION ALL
    SELECT 'comorbidities.csv' AS file_name, 'condition' AS column_name, _line, "condition" AS text FROM comorbidities
    UNION ALL
    SELECT 'events.csv' AS file_name, 'detail' AS column_name, _line, "detail" AS text FROM events
    UNION ALL
    SELECT 'findings.csv' AS file_name, 'finding' AS column_name, _line, "finding" AS text FROM findings
    UNION ALL
    SELECT 'measurements.csv' AS file_name, 'context' AS column_name, _line, "context" AS text FROM measurements
    UNION ALL
    SELECT 'treatments.csv' AS file_name, 'detail' AS column_name, _line, "detail" AS text FROM treatments
    UNION ALL
    SELECT 'treatments.csv' AS file_name, 'drug' AS column_name, _line, "drug" AS text FROM treatments
),
hits AS (
    SELECT *, regexp_extract(text, '\b(19|20)\d{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])\b|\b(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|[12]\d|3[01])[-/.]((19|20)\d{2}|\d{2})\b|\b((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(\d{1,2}(st|nd|rd|th)?\b|(19|20)\d{2}\b)|\b\d{1,2}(st|nd|rd|th)?\s+(of\s+)?((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b') AS hit
    FROM texts
    WHERE text IS NOT NULL
)
SELECT _line, text AS value, 'found ' || hit AS detail, file_name, column_name
FROM hits
WHERE hit <> ''
