-- patients_age_90_plus: age_90_plus is true but age_years holds an exact age: leave age_years empty for a patient aged 90 or older
-- File: patients.csv
-- Column: age_years
SELECT _line, CAST(age_years AS VARCHAR) AS value FROM patients WHERE age_90_plus AND age_years IS NOT NULL
