-- treatments_code: a code is lower-case letters, digits and _ (e.g. enoxaparin, steroid_unspecified)
-- File: treatments.csv
-- Column: code
SELECT _line, code AS value FROM treatments WHERE NOT regexp_full_match(code, '[a-z0-9_]+')
