-- disagreements: Figures a paper reports that its own patient rows contradict, and text-versus-text conflicts.
SELECT study_id, 'reported vs rows' AS kind, label, variable, statistic,
       value_text AS reported,
       CASE WHEN computed_value IS NOT NULL THEN CAST(round(computed_value, 2) AS VARCHAR)
            ELSE CAST(round(computed_low, 2) AS VARCHAR) || '-' || CAST(round(computed_high, 2) AS VARCHAR) END AS computed_or_other,
       locator, note
FROM reported_vs_computed
WHERE agrees = false
UNION ALL
SELECT study_id, 'text vs text', NULL, variable, statistic,
       value_a, value_b, locator_a || ' / ' || locator_b, NULL
FROM reported_conflicts
ORDER BY study_id, kind, variable, statistic
