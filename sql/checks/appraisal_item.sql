-- appraisal_item: item must be an item number of the JBI checklist for case series, 1 to 10 (registry sql "FROM appraisal_items")
-- File: appraisal.csv
-- Column: item
SELECT a._line, CAST(a.item AS VARCHAR) AS value
FROM appraisal a
WHERE a.item IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appraisal_items i WHERE i.item = a.item)
