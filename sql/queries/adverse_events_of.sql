-- adverse_events_of: One study's adverse events per patient with timing, treatment and whether stated as infusion-related.
-- Parameters:
--   study (VARCHAR): the study id
SELECT patient_id, term, grade, onset_day, onset_hours, duration_days, infusion_related, treatment, relatedness
FROM adverse_events
WHERE study_id = $study
ORDER BY patient_id, onset_day NULLS LAST, term
