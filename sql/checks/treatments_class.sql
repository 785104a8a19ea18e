-- treatments_class: drug_class must be a code of the drug_classes catalog (registry sql "FROM drug_classes")
-- File: treatments.csv
-- Column: drug_class
SELECT t._line, t.drug_class AS value
FROM treatments t
WHERE t.drug_class IS NOT NULL AND NOT EXISTS (SELECT 1 FROM drug_classes c WHERE c.drug_class = t.drug_class)
