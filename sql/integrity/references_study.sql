-- references_study: every row of a study's tables names a study that is in studies
-- Columns:
--   problem: the table, how many of its rows name the missing study, and the study
WITH named AS (
    SELECT 'documents' AS table_name, study_id FROM documents
    UNION ALL SELECT 'sources', study_id FROM sources
    UNION ALL SELECT 'field_sources', study_id FROM field_sources
    UNION ALL SELECT 'arms', study_id FROM arms
    UNION ALL SELECT 'products', study_id FROM products
    UNION ALL SELECT 'patients', study_id FROM patients
    UNION ALL SELECT 'doses', study_id FROM doses
    UNION ALL SELECT 'measurements', study_id FROM measurements
    UNION ALL SELECT 'events', study_id FROM events
    UNION ALL SELECT 'durations', study_id FROM durations
    UNION ALL SELECT 'adverse_events', study_id FROM adverse_events
    UNION ALL SELECT 'comorbidities', study_id FROM comorbidities
    UNION ALL SELECT 'treatments', study_id FROM treatments
    UNION ALL SELECT 'findings', study_id FROM findings
    UNION ALL SELECT 'study_facts', study_id FROM study_facts
    UNION ALL SELECT 'reported_aggregates', study_id FROM reported_aggregates
    UNION ALL SELECT 'missing_content', study_id FROM missing_content
    UNION ALL SELECT 'appraisal', study_id FROM appraisal
)
SELECT table_name || ': ' || CAST(count(*) AS VARCHAR) || CASE WHEN count(*) = 1 THEN ' row names' ELSE ' rows name' END
       || ' study ''' || study_id || ''', which is not in studies' AS problem
FROM named n
WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.study_id = n.study_id)
GROUP BY table_name, study_id
ORDER BY table_name, study_id
