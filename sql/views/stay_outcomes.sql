-- stay_outcomes: Per study and kind of stay (hospital, icu, ventilation): how many, median and quartiles of completed stays, and how many were still under way.
-- Columns:
--   study_id: the study
--   stay: hospital, icu or ventilation
--   n: patients with such a stay stated (days > 0), completed or ongoing
--   median: median length of the completed stays, days
--   q1: first quartile of the completed stays, days
--   q3: third quartile of the completed stays, days
--   min: shortest completed stay, days
--   max: longest completed stay, days
--   n_ongoing: stays still under way at the report (counted in n, left out of the statistics)
--   n_complete: completed stays the statistics describe
--   n_none: patients stated to have had no such stay (0 days)
--   counted_from: where the paper starts counting (admission or index; both when mixed)
-- Notes:
--   An ongoing stay is only a lower bound of its length, so it is counted and flagged but not
--   treated as complete. Quartiles are quantile_cont (linear interpolation).
CREATE OR REPLACE VIEW stay_outcomes AS
SELECT study_id,
       kind AS stay,
       CAST(count(*) FILTER (WHERE days > 0) AS BIGINT) AS n,
       median(days) FILTER (WHERE days > 0 AND NOT ongoing) AS median,
       quantile_cont(days, 0.25) FILTER (WHERE days > 0 AND NOT ongoing) AS q1,
       quantile_cont(days, 0.75) FILTER (WHERE days > 0 AND NOT ongoing) AS q3,
       min(days) FILTER (WHERE days > 0 AND NOT ongoing) AS min,
       max(days) FILTER (WHERE days > 0 AND NOT ongoing) AS max,
       CAST(count(*) FILTER (WHERE days > 0 AND ongoing) AS BIGINT) AS n_ongoing,
       CAST(count(*) FILTER (WHERE days > 0 AND NOT ongoing) AS BIGINT) AS n_complete,
       CAST(count(*) FILTER (WHERE days = 0) AS BIGINT) AS n_none,
       CASE WHEN min(counted_from) = max(counted_from) THEN min(counted_from) ELSE 'both' END AS counted_from
FROM durations
GROUP BY study_id, kind
