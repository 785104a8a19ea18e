-- appraisal_complete: an appraisal answers every item of the checklist, 1 to 10 (answer unclear where the paper does not tell); the value is the item that has no row
-- File: appraisal.csv
-- Column: item
SELECT CAST(NULL AS BIGINT) AS _line, CAST(i.item AS VARCHAR) AS value
FROM appraisal_items i
WHERE EXISTS (SELECT 1 FROM appraisal)
  AND NOT EXISTS (SELECT 1 FROM appraisal a WHERE a.item = i.item)
