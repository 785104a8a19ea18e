-- references_source: every row that names a source names one of its own study (provenance)
-- Columns:
--   problem: the study, the table, how many of its rows name the missing source, and the source
WITH named AS (
    SELECT 'studies' AS table_name, study_id, source_id FROM studies
    UNION ALL SELECT 'field_sources', study_id, source_id FROM field_sources
    UNION ALL SELECT 'arms', study_id, source_id FROM arms
    UNION ALL SELECT 'products', study_id, source_id FROM products
    UNION ALL SELECT 'patients', study_id, source_id FROM patients
    UNION ALL SELECT 'doses', study_id, source_id FROM doses
    UNION ALL SELECT 'measurements', study_id, source_id FROM measurements
    UNION ALL SELECT 'events', study_id, source_id FROM events
    UNION ALL SELECT 'durations', study_id, source_id FROM durations
    UNION ALL SELECT 'adverse_events', study_id, source_id FROM adverse_events
    UNION ALL SELECT 'comorbidities', study_id, source_id FROM comorbidities
    UNION ALL SELECT 'treatments', study_id, source_id FROM treatments
    UNION ALL SELECT 'findings', study_id, source_id FROM findings
    UNION ALL SELECT 'study_facts', study_id, source_id FROM study_facts
    UNION ALL SELECT 'reported_aggregates', study_id, source_id FROM reported_aggregates
    UNION ALL SELECT 'appraisal', study_id, source_id FROM appraisal WHERE source_id IS NOT NULL
)
SELECT study_id || ': ' || CAST(count(*) AS VARCHAR) || CASE WHEN count(*) = 1 THEN ' row' ELSE ' rows' END
       || ' of ' || table_name || CASE WHEN count(*) = 1 THEN ' names' ELSE ' name' END
       || ' source ''' || source_id || ''', which is not in sources' AS problem
FROM named n
-- rows of a study that is not there are named once, by references_study
WHERE n.study_id IN (SELECT study_id FROM studies)
  AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.study_id = n.study_id AND s.source_id = n.source_id)
GROUP BY study_id, table_name, source_id
ORDER BY study_id, table_name, source_id
