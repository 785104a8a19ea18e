-- patients_care_setting: care_setting must be icu or ward
-- File: patients.csv
-- Column: care_setting
SELECT _line, care_setting AS value FROM patients WHERE care_setting NOT IN ('icu', 'ward')
