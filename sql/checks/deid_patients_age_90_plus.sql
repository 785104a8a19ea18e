-- deid_patients_age_90_plus: record ages over 89 as 90+ (HIPAA Safe Harbor): leave age_years empty and set age_90_plus to true
-- File: patients.csv
-- Column: age_years
-- Notes:
--   De-identification guard: HIPAA Safe Harbor allows no exact age above 89. Ages above 120
--   are refused by patients_age instead. The flag age_90_plus (schema version 2) keeps the
--   fact that the patient was 90 or older.
SELECT _line, CAST(age_years AS VARCHAR) AS value
FROM patients
WHERE age_years > 89 AND age_years <= 120
