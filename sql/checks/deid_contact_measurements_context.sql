-- deid_contact_measurements_context: contact details (an email address or phone number) identify the patient: remove them from the text
-- File: measurements.csv
-- Column: context
-- Notes:
--   De-identification guard: an email address, a phone number in international (+44 ...),
--   area-code ((555) 123-4567) or North American (555-123-4567) form, or one labelled
--   tel/phone/mobile/fax. The detail shows the text that matched.
SELECT _line, "context" AS value,
       'found ' || regexp_extract("context", '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}|(?i:\b(tel|phone|telephone|mobile|cell|fax)\b)\.?:?\s*\+?\(?\d[\d\s().-]{4,}\d|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}|\(\d{2,4}\)\s?\d{3,4}[\s.-]?\d{3,4}|\b\d{3}[.-]\d{3}[.-]\d{4}\b') AS detail
FROM measurements
WHERE regexp_matches("context", '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}|(?i:\b(tel|phone|telephone|mobile|cell|fax)\b)\.?:?\s*\+?\(?\d[\d\s().-]{4,}\d|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}|\(\d{2,4}\)\s?\d{3,4}[\s.-]?\d{3,4}|\b\d{3}[.-]\d{3}[.-]\d{4}\b')
