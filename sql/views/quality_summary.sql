-- quality_summary: One row per study: how its JBI case-series appraisal came out (answers counted, items answered no or unclear), or why it has none.
-- Columns:
--   study_id: the study
--   appraised: the study's package holds an appraisal
--   n_items: items answered (10 when appraised)
--   n_yes: items answered yes
--   n_no: items answered no
--   n_unclear: items answered unclear
--   n_not_applicable: items answered not applicable
--   summary: e.g. "3 yes of 10 (3 no, 4 unclear)"; NULL when not appraised
--   items_no: the items answered no, e.g. "7, 8, 10"
--   items_unclear: the items answered unclear
--   answered_by: who appraised (several joined with "; ")
--   level: patient or aggregate, as in studies
--   secondary: figures quoted by another paper rather than reported first-hand
--   note: why a study has no appraisal
-- Notes:
--   JBI defines no summary score; the counts are a reading aid for setting pooled results beside
--   study quality. A secondary study (figures quoted by another paper) is not appraised: the
--   checklist judges how a study was done and reported, and a quotation shows neither.
CREATE OR REPLACE VIEW quality_summary AS
WITH counts AS (
    SELECT study_id,
           CAST(count(*) AS BIGINT) AS n_items,
           CAST(count(*) FILTER (WHERE answer = 'yes') AS BIGINT) AS n_yes,
           CAST(count(*) FILTER (WHERE answer = 'no') AS BIGINT) AS n_no,
           CAST(count(*) FILTER (WHERE answer = 'unclear') AS BIGINT) AS n_unclear,
           CAST(count(*) FILTER (WHERE answer = 'not applicable') AS BIGINT) AS n_not_applicable,
           string_agg(CASE WHEN answer = 'no' THEN CAST(item AS VARCHAR) END, ', ' ORDER BY item) AS items_no,
           string_agg(CASE WHEN answer = 'unclear' THEN CAST(item AS VARCHAR) END, ', ' ORDER BY item) AS items_unclear
    FROM appraisal
    GROUP BY study_id
),
appraisers AS (
    SELECT study_id, string_agg(answered_by, '; ' ORDER BY answered_by) AS answered_by
    FROM (SELECT DISTINCT study_id, answered_by FROM appraisal) AS distinct_appraisers
    GROUP BY study_id
)
SELECT s.study_id,
       c.study_id IS NOT NULL AS appraised,
       coalesce(c.n_items, 0) AS n_items,
       c.n_yes,
       c.n_no,
       c.n_unclear,
       c.n_not_applicable,
       CASE WHEN c.study_id IS NOT NULL THEN
           CAST(c.n_yes AS VARCHAR) || ' yes of ' || CAST(c.n_items AS VARCHAR) || ' ('
           || CAST(c.n_no AS VARCHAR) || ' no, ' || CAST(c.n_unclear AS VARCHAR) || ' unclear'
           || CASE WHEN c.n_not_applicable > 0 THEN ', ' || CAST(c.n_not_applicable AS VARCHAR) || ' not applicable' ELSE '' END
           || ')'
       END AS summary,
       c.items_no,
       c.items_unclear,
       a.answered_by,
       s.level,
       s.secondary,
       CASE WHEN c.study_id IS NOT NULL THEN NULL
            WHEN s.secondary THEN 'not appraised: figures quoted by ' || coalesce(s.reported_in, 'another paper')
                 || ', not a first-hand report; the checklist judges how a study was done and reported, which a quotation does not show'
            ELSE 'not appraised: the package holds no appraisal' END AS note
FROM studies s
LEFT JOIN counts c ON c.study_id = s.study_id
LEFT JOIN appraisers a ON a.study_id = s.study_id
