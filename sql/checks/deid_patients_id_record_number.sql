-- deid_patients_id_record_number: patient_id looks like a medical record number: use the paper's own number for the patient (1, 001, P1), never a record, chart or insurance number
-- File: patients.csv
-- Column: patient_id
-- Notes:
--   De-identification guard: six or more digits in a row (a paper numbers its patients 1, 001,
--   1012), or MRN, MR#, medical record, record no., hospital number, NHS, SSN, chart no.
SELECT _line, patient_id AS value,
       'found ' || regexp_extract(patient_id, '(?i:\b(mrn|mr\s*#|medical\s+record|record\s*(no|number|#)|hospital\s+(no|number)|nhs|ssn|chart\s*(no|number|#))\b)|\d{6,}') AS detail
FROM patients
WHERE regexp_matches(patient_id, '(?i:\b(mrn|mr\s*#|medical\s+record|record\s*(no|number|#)|hospital\s+(no|number)|nhs|ssn|chart\s*(no|number|#))\b)|\d{6,}')
