-- treatments_phase: phase must be hospital or after_discharge
-- File: treatments.csv
-- Column: phase
SELECT _line, phase AS value FROM treatments WHERE phase NOT IN ('hospital', 'after_discharge')
