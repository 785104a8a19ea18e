-- references_patient: every patient-level row names a patient of its own study
-- Columns:
--   problem: the study, the table, how many of its rows name the missing patient, and the patient
WITH named AS (
    SELECT 'doses' AS table_name, study_id, patient_id FROM doses
    UNION ALL SELECT 'measurements', study_id, patient_id FROM measurements
    UNION ALL SELECT 'events', study_id, patient_id FROM events
    UNION ALL SELECT 'durations', study_id, patient_id FROM durations
    UNION ALL SELECT 'adverse_events', study_id, patient_id FROM adverse_events
    UNION ALL SELECT 'comorbidities', study_id, patient_id FROM comorbidities
    UNION ALL SELECT 'treatments', study_id, patient_id FROM treatments
    UNION ALL SELECT 'findings', study_id, patient_id FROM findings
)
SELECT study_id || ': ' || CAST(count(*) AS VARCHAR) || CASE WHEN count(*) = 1 THEN ' row' ELSE ' rows' END
       || ' of ' || table_name || CASE WHEN count(*) = 1 THEN ' names' ELSE ' name' END
       || ' patient ''' || patient_id || ''', who is not in patients' AS problem
FROM named n
-- rows of a study that is not there are named once, by references_study
WHERE n.study_id IN (SELECT study_id FROM studies)
  AND NOT EXISTS (SELECT 1 FROM patients p WHERE p.study_id = n.study_id AND p.patient_id = n.patient_id)
GROUP BY study_id, table_name, patient_id
ORDER BY study_id, table_name, patient_id
