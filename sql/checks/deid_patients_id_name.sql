-- deid_patients_id_name: patient_id looks like a personal name or initials: use the paper's own number for the patient (1, 001, P1), never a name or initials
-- File: patients.csv
-- Column: patient_id
-- Notes:
--   De-identification guard: an id made of letters only (and spaces, dots, commas, apostrophes,
--   hyphens), at least two of them: John Smith, Smith, J., JS, J.S., José García. A paper's own
--   label such as "Patient A" or "case b" is allowed; any id with a digit passes this rule.
SELECT _line, patient_id AS value
FROM patients
WHERE regexp_matches(patient_id, '^\p{L}[\p{L}.,''\s-]*[\p{L}.]$')
  AND NOT regexp_matches(patient_id, '(?i)^(patient|case|subject|pt|p|no|id|participant)[\s.#_-]*[a-z]$')
