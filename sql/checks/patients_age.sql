-- patients_age: age_years must lie between 0 and 120
-- File: patients.csv
-- Column: age_years
SELECT _line, CAST(age_years AS VARCHAR) AS value FROM patients WHERE age_years < 0 OR age_years > 120
