-- deid_date_events_detail: a calendar date tied to a patient identifies them: record time as days from the index day (day, day_min/day_max; day 0 = the first infusion, negative before it), not as a date
-- File: events.csv
-- Column: detail
-- Notes:
--   De-identification guard (HIPAA Safe Harbor: every element of a date tied to a person except
--   the year). Refuses 2020-04-01, 01/04/2020, 4/1/20, "April 1, 2020", "1st of April", "Apr. 1"
--   and "April 2020"; a year alone is allowed. The detail shows the text that matched.
SELECT _line, "detail" AS value,
       'found ' || regexp_extract("detail", '\b(19|20)\d{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])\b|\b(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|[12]\d|3[01])[-/.]((19|20)\d{2}|\d{2})\b|\b((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(\d{1,2}(st|nd|rd|th)?\b|(19|20)\d{2}\b)|\b\d{1,2}(st|nd|rd|th)?\s+(of\s+)?((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b') AS detail
FROM events
WHERE regexp_matches("detail", '\b(19|20)\d{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])\b|\b(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|[12]\d|3[01])[-/.]((19|20)\d{2}|\d{2})\b|\b((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+(\d{1,2}(st|nd|rd|th)?\b|(19|20)\d{2}\b)|\b\d{1,2}(st|nd|rd|th)?\s+(of\s+)?((?i:january|february|march|april|june|july|august|september|october|november|december)|May|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b')
