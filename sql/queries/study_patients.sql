-- study_patients: Every patient of one study with vital status, follow-up, stays and ventilation.
-- Parameters:
--   study (VARCHAR): the study id, e.g. perez-2023
SELECT patient_id, sex, age_years, vital_status, death_day, last_followup_day,
       hospital_days, icu_days, ventilation_days, extubation_day, hospital_ongoing
FROM patient_outcomes
WHERE study_id = $study
ORDER BY patient_id
