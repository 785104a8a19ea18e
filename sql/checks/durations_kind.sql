-- durations_kind: kind must be hospital, icu or ventilation
-- File: durations.csv
-- Column: kind
SELECT _line, kind AS value FROM durations WHERE kind NOT IN ('hospital', 'icu', 'ventilation')
