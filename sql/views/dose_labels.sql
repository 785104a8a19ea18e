-- dose_labels: Each infusion's amount written the way papers write it, e.g. "1x10^6 cells/kg".
-- Columns:
--   study_id: the study
--   patient_id: the paper's own patient number
--   infusion: infusion number
--   amount_text: the amount as mantissa x 10^exponent with its unit
--   dose_text: amount_text with the route and duration, e.g. "1x10^6 cells/kg IV over 15 min"
CREATE OR REPLACE VIEW dose_labels AS
WITH parts AS (
    SELECT study_id, patient_id, infusion, unit, route, duration_min,
           CAST(floor(log10(amount)) AS INTEGER) AS exponent,
           amount / power(10, floor(log10(amount))) AS mantissa
    FROM doses
),
amounts AS (
    SELECT study_id, patient_id, infusion, route, duration_min,
           CASE WHEN mantissa = round(mantissa) THEN CAST(CAST(mantissa AS BIGINT) AS VARCHAR)
                ELSE CAST(round(mantissa, 2) AS VARCHAR) END
             || 'x10^' || CAST(exponent AS VARCHAR) || ' ' || unit AS amount_text
    FROM parts
)
SELECT study_id, patient_id, infusion, amount_text,
       amount_text
         || coalesce(' ' || route, '')
         || coalesce(' over ' || CAST(CAST(duration_min AS BIGINT) AS VARCHAR) || ' min', '') AS dose_text
FROM amounts
