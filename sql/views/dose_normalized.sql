-- dose_normalized: Per patient: the cell dose per kg and in total over all infusions, converted only where the weight is known, with the product.
-- Columns:
--   study_id: the study
--   patient_id: the paper's own patient number
--   cells_per_kg: cells per kg of body weight over all infusions (NULL when a total dose has no weight to divide by)
--   total_cells: cells over all infusions (NULL when a per-kg dose has no weight to multiply by)
--   n_infusions: infusions given
--   tissue_source: the product's tissue of origin (umbilical cord, adipose, ...)
--   culture: the product's culture conditions
--   weight_kg: the weight used: patients.weight_kg, else the last weight measured at or before day 0
--   product_id: the product (the first infusion's)
--   dose_as_reported: the infusions' amounts, e.g. "1x10^6 cells/kg" (joined with + when several)
-- Notes:
--   A dose is never invented: a per-kg dose becomes a total only with a known weight, and back.
CREATE OR REPLACE VIEW dose_normalized AS
WITH weights AS (
    SELECT study_id, patient_id, value_canonical AS weight_kg
    FROM (
        SELECT *, row_number() OVER (PARTITION BY study_id, patient_id ORDER BY day DESC) AS latest
        FROM measurements
        WHERE analyte = 'weight' AND day <= 0
    ) AS ranked
    WHERE latest = 1
),
per_patient AS (
    SELECT d.study_id, d.patient_id,
           coalesce(p.weight_kg, w.weight_kg) AS weight_kg,
           count(*) AS n_infusions,
           count(*) FILTER (WHERE d.unit = 'cells/kg') AS n_per_kg,
           count(*) FILTER (WHERE d.unit = 'cells') AS n_total,
           sum(CASE WHEN d.unit = 'cells/kg' THEN d.amount ELSE 0 END) AS per_kg_sum,
           sum(CASE WHEN d.unit = 'cells' THEN d.amount ELSE 0 END) AS total_sum,
           min(d.product_id) AS product_id,
           string_agg(l.amount_text, ' + ' ORDER BY d.infusion) AS dose_as_reported
    FROM doses d
    JOIN dose_labels l ON l.study_id = d.study_id AND l.patient_id = d.patient_id AND l.infusion = d.infusion
    LEFT JOIN patients p ON p.study_id = d.study_id AND p.patient_id = d.patient_id
    LEFT JOIN weights w ON w.study_id = d.study_id AND w.patient_id = d.patient_id
    GROUP BY d.study_id, d.patient_id, coalesce(p.weight_kg, w.weight_kg)
)
SELECT pp.study_id,
       pp.patient_id,
       CASE WHEN pp.n_total = 0 THEN pp.per_kg_sum
            WHEN pp.weight_kg IS NOT NULL THEN pp.per_kg_sum + pp.total_sum / pp.weight_kg END AS cells_per_kg,
       CASE WHEN pp.n_per_kg = 0 THEN pp.total_sum
            WHEN pp.weight_kg IS NOT NULL THEN pp.total_sum + pp.per_kg_sum * pp.weight_kg END AS total_cells,
       CAST(pp.n_infusions AS BIGINT) AS n_infusions,
       pr.tissue_source,
       pr.culture,
       pp.weight_kg,
       pp.product_id,
       pp.dose_as_reported
FROM per_patient pp
LEFT JOIN products pr ON pr.study_id = pp.study_id AND pr.product_id = pp.product_id
