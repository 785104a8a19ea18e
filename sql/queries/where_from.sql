-- where_from: Every stored fact about one patient with the place in the paper it came from and the quote.
-- Parameters:
--   study (VARCHAR): the study id
--   patient (VARCHAR): the paper's patient number, e.g. 004
SELECT table_name, item, locator, quote, source_note
FROM provenance
WHERE study_id = $study AND patient_id = $patient
ORDER BY table_name, item
