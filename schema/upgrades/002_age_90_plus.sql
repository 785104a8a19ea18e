-- 002_age_90_plus: schema version 1 -> 2: patients aged 90 or older are flagged, with age_years NULL.
--
-- HIPAA Safe Harbor allows no exact age above 89; the flag keeps the fact that a patient was 90
-- or older. The column goes at the end of patients, where schema/001_tables.sql puts it too, so
-- an upgraded registry and a new one have the same columns in the same order.
ALTER TABLE patients ADD COLUMN age_90_plus BOOLEAN;
