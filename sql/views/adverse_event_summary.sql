-- adverse_event_summary: Per study, adverse event term and grade: events, patients, and whether the events are infusion-related.
-- Columns:
--   study_id: the study
--   term: the adverse event as reported
--   severity: CTCAE grade where stated (NULL: not stated)
--   n_events: events
--   n_patients: patients with the event
--   infusion_related: true when the paper states the events as infusion-associated or they began on day 0; false when it states they were not; NULL when it says neither
--   infusion_related_basis: stated (the paper says so), onset on day 0 (inferred from timing), or NULL
--   n_serious: events stated as serious
--   onset_days: the distinct onset days, from the index day, comma-separated in day order
CREATE OR REPLACE VIEW adverse_event_summary AS
SELECT study_id,
       term,
       grade AS severity,
       CAST(count(*) AS BIGINT) AS n_events,
       CAST(count(DISTINCT patient_id) AS BIGINT) AS n_patients,
       CASE WHEN coalesce(bool_or(infusion_related), false) OR coalesce(bool_or(onset_day = 0), false) THEN true
            WHEN bool_and(infusion_related = false) THEN false END AS infusion_related,
       CASE WHEN coalesce(bool_or(infusion_related), false) THEN 'stated'
            WHEN coalesce(bool_or(onset_day = 0), false) THEN 'onset on day 0' END AS infusion_related_basis,
       CAST(count(*) FILTER (WHERE serious) AS BIGINT) AS n_serious,
       string_agg(CASE WHEN nth_at_onset = 1 THEN CAST(onset_day AS VARCHAR) END, ', ' ORDER BY onset_day) AS onset_days
FROM (
    -- one row per onset day marked, so that the days are listed once each, in day order, on every engine
    SELECT *, row_number() OVER (PARTITION BY study_id, term, grade, onset_day ORDER BY patient_id) AS nth_at_onset
    FROM adverse_events
) AS events_numbered
GROUP BY study_id, term, grade
