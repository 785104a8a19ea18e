-- codes_format: a code is lower-case letters, digits and _ (e.g. hypertension, diabetes_type2)
-- File: comorbidities.csv
-- Column: code
SELECT _line, code AS value FROM comorbidities WHERE NOT regexp_full_match(code, '[a-z0-9_]+')
