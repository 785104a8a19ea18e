-- versions_sha256: every archived version's zipped package still has the SHA-256 recorded when it was archived
-- Columns:
--   problem: the study and version whose archive changed, and both digests (first 12 hex digits)
SELECT 'study_versions: ' || study_id || ' version ' || CAST(version AS VARCHAR)
       || ' does not match its SHA-256 (recorded ' || left(sha256, 12) || '…, now ' || left(sha256(package_zip), 12)
       || '…): the archived package is damaged and cannot be restored safely' AS problem
FROM study_versions
WHERE sha256 <> sha256(package_zip)
ORDER BY study_id, version
