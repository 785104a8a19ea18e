-- quality_appraisal: Each study's risk-of-bias appraisal item by item (JBI Critical Appraisal Checklist for Case Series): the question, the answer, who gave it and why, with the passage it rests on.
-- Columns:
--   study_id: the study
--   item: item number on the checklist (1-10)
--   label: a short name for the item
--   question: the checklist's question (appraisal_items)
--   answer: yes, no, unclear or not applicable
--   answered_by: who appraised, e.g. caseregistry curators (from the published text)
--   rationale: why: what the paper states or leaves out
--   source_id: the passage of the paper the answer rests on (NULL when none is named)
--   locator: where that passage stands (Methods, Table 2, ...)
--   quote: the passage, verbatim
--   n_yes: items of the study's appraisal answered yes
--   n_items: items of the study's appraisal answered (10 when complete)
-- Notes:
--   Only studies whose package holds an appraisal have rows; quality_summary has one row per
--   study, saying why a study has none. JBI defines no summary score: n_yes of n_items is a
--   reading aid, and the items answered no or unclear say more than the count.
CREATE OR REPLACE VIEW quality_appraisal AS
WITH per_study AS (
    SELECT study_id,
           CAST(count(*) FILTER (WHERE answer = 'yes') AS BIGINT) AS n_yes,
           CAST(count(*) AS BIGINT) AS n_items
    FROM appraisal
    GROUP BY study_id
)
SELECT a.study_id,
       a.item,
       i.label,
       i.question,
       a.answer,
       a.answered_by,
       a.rationale,
       a.source_id,
       s.locator,
       s.quote,
       p.n_yes,
       p.n_items
FROM appraisal a
JOIN appraisal_items i ON i.item = a.item
JOIN per_study p ON p.study_id = a.study_id
LEFT JOIN sources s ON s.study_id = a.study_id AND s.source_id = a.source_id
