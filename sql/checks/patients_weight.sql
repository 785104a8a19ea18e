-- patients_weight: weight_kg must lie between 0.5 and 400
-- File: patients.csv
-- Column: weight_kg
SELECT _line, CAST(weight_kg AS VARCHAR) AS value FROM patients WHERE weight_kg < 0.5 OR weight_kg > 400
