-- patients_severity: severity must be mild, moderate, severe or critical
-- File: patients.csv
-- Column: severity
SELECT _line, severity AS value FROM patients WHERE severity NOT IN ('mild', 'moderate', 'severe', 'critical')
