-- patients_sex: sex must be F or M (leave it empty when the paper does not report it)
-- File: patients.csv
-- Column: sex
SELECT _line, sex AS value FROM patients WHERE sex NOT IN ('F', 'M')
