-- versions_logged: every archived version in study_versions is a version an import_log entry created
-- Columns:
--   problem: the study and version that no import_log entry created
SELECT 'study_versions: ' || v.study_id || ' version ' || CAST(v.version AS VARCHAR)
       || ' was never created by an import_log entry' AS problem
FROM study_versions v
WHERE NOT EXISTS (SELECT 1 FROM import_log l WHERE l.study_id = v.study_id AND l.version = v.version)
ORDER BY v.study_id, v.version
