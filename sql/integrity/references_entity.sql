-- references_entity: products, arms and documents named by other rows are in their study
-- Columns:
--   problem: the study, the table and column, how many rows name the missing entity, and its id
WITH named AS (
    SELECT 'doses' AS table_name, 'product_id' AS column_name, 'products' AS target, study_id, product_id AS id
    FROM doses WHERE product_id IS NOT NULL
    UNION ALL SELECT 'patients', 'arm_id', 'arms', study_id, arm_id FROM patients WHERE arm_id IS NOT NULL
    UNION ALL SELECT 'sources', 'document_id', 'documents', study_id, document_id FROM sources
    UNION ALL SELECT 'missing_content', 'document_id', 'documents', study_id, document_id FROM missing_content
),
known AS (
    SELECT 'products' AS target, study_id, product_id AS id FROM products
    UNION ALL SELECT 'arms', study_id, arm_id FROM arms
    UNION ALL SELECT 'documents', study_id, document_id FROM documents
)
SELECT study_id || ': ' || CAST(count(*) AS VARCHAR) || CASE WHEN count(*) = 1 THEN ' row' ELSE ' rows' END
       || ' of ' || table_name || CASE WHEN count(*) = 1 THEN ' names ' ELSE ' name ' END
       || column_name || ' ''' || id || ''', which is not in ' || target AS problem
FROM named n
-- rows of a study that is not there are named once, by references_study
WHERE n.study_id IN (SELECT study_id FROM studies)
  AND NOT EXISTS (SELECT 1 FROM known k WHERE k.target = n.target AND k.study_id = n.study_id AND k.id = n.id)
GROUP BY study_id, table_name, column_name, target, id
ORDER BY study_id, table_name, column_name, id
