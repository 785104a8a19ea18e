-- deid_contact_in_text: contact details (an email address or phone number) identify the patient: remove them from the text
-- File: findings.csv
-- Notes:
--   De-identification guard: an email address, a phone number in international (+44 ...),
--   area-code ((555) 123-4567) or North American (555-123-4567) form, or one labelled
--   tel/phone/mobile/fax. The detail shows the text that matched.
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
    SELECT *, regexp_extract(text, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}|(?i:\b(tel|phone|telephone|mobile|cell|fax)\b)\.?:?\s*\+?\(?\d[\d\s().-]{4,}\d|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}|\(\d{2,4}\)\s?\d{3,4}[\s.-]?\d{3,4}|\b\d{3}[.-]\d{3}[.-]\d{4}\b') AS hit
    FROM texts
    WHERE text IS NOT NULL
)
SELECT _line, text AS value, 'found ' || hit AS detail, file_name, column_name
FROM hits
WHERE hit <> ''
