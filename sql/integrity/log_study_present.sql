-- log_study_present: every study in the registry was put there by an import, replace or restore that import_log records
-- Columns:
--   problem: the study, and what its latest import_log entry says instead
WITH latest AS (
    SELECT study_id, import_id, action,
           row_number() OVER (PARTITION BY study_id ORDER BY import_id DESC) AS recency
    FROM import_log
)
SELECT s.study_id || ' is in studies but '
       || CASE WHEN l.study_id IS NULL THEN 'import_log has no entry for it'
               ELSE 'its latest import_log entry (import_id ' || CAST(l.import_id AS VARCHAR) || ') is a removal' END
       AS problem
FROM studies s
LEFT JOIN latest l ON l.study_id = s.study_id AND l.recency = 1
WHERE l.study_id IS NULL OR l.action = 'remove'
ORDER BY s.study_id
