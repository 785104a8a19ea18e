-- log_study_absent: a study whose latest import_log entry is not a removal is in the registry; a removed one is not
-- Columns:
--   problem: the study and the import_log entry that says it should be there
WITH latest AS (
    SELECT study_id, import_id, action, version,
           row_number() OVER (PARTITION BY study_id ORDER BY import_id DESC) AS recency
    FROM import_log
)
SELECT 'import_log says ' || l.study_id || ' is there (import_id ' || CAST(l.import_id AS VARCHAR) || ', '
       || l.action || ' of version ' || coalesce(CAST(l.version AS VARCHAR), '?') || ') but it is not in studies' AS problem
FROM latest l
WHERE l.recency = 1 AND l.action <> 'remove'
  AND NOT EXISTS (SELECT 1 FROM studies s WHERE s.study_id = l.study_id)
ORDER BY l.study_id
