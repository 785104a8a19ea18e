-- deid_date_patients_patient_id: patient_id holds a calendar date, which identifies the patient: use the paper's own number for the patient (1, 001, P1)
-- File: patients.csv
-- Column: patient_id
-- Notes:
--   De-identification guard (HIPAA Safe Harbor: every element of a date tied to a person except
--   the year). Refuses 2020-04-01, 01/04/2020, 4/1/20, "April 1, 2020", "1st of April", "Apr. 1"
--   and "April 2020"; a year alone is allowed. The detail shows the text that matched.
SELECT _line, "patient_id" AS value,
       'found ' || regexp_extract("patient_id", '\b(19|20)\d{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])\b|\b(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|[12]\d|3[01])[-/.]((19|20)\d{2}|\d{2})\b|\b((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(\d{1,2}(st|nd|rd|th)?\b|(19|20)\d{2}\b)|\b\d{1,2}(st|nd|rd|th)?\s+(of\s+)?((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b') AS detail
FROM patients
WHERE regexp_matches("patient_id", '\b(19|20)\d{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])\b|\b(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|[12]\d|3[01])[-/.]((19|20)\d{2}|\d{2})\b|\b((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(\d{1,2}(st|nd|rd|th)?\b|(19|20)\d{2}\b)|\b\d{1,2}(st|nd|rd|th)?\s+(of\s+)?((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b')
