-- caseregistry schema, version 2: the tables a registry stores. A registry made by an older version
-- is brought up to this one by the steps in schema/upgrades/ (`registry upgrade`).
--
-- Conventions
-- * Every row belongs to a study (study_id) and, for patient data, to a patient (patient_id, the
--   paper's own pseudonymous number). Keys are VARCHAR so every engine reads them the same way.
-- * Time is in whole days from the index day (day 0 = first infusion). No calendar dates for
--   patients. A day that a paper gives only as a range is stored as day NULL with day_min/day_max.
-- * Every data row names its provenance: source_id -> sources (document, locator, verbatim quote).
-- * Keys are enforced by the importer's set-wise checks (sql/checks/), not by PRIMARY KEY /
--   FOREIGN KEY declarations: those build per-row indexes that cost 2-4x the import time on the
--   measurement table and do not spill to disk.
-- * The "key:" line of each table comment is the key the checks enforce.

-- key: key
CREATE TABLE registry_meta (
    key   VARCHAR NOT NULL,  -- schema_version, created_by, ...
    value VARCHAR
);

-- key: study_id
CREATE TABLE studies (
    study_id           VARCHAR NOT NULL,  -- short stable id, e.g. perez-2023
    title              VARCHAR,
    authors            VARCHAR,           -- "Surname Initials; Surname Initials; ..."
    journal            VARCHAR,
    year               INTEGER,
    citation           VARCHAR,           -- volume, issue, pages as printed
    doi                VARCHAR,
    registration       VARCHAR,           -- trial registration, e.g. NCT04416139
    design             VARCHAR,           -- as the paper names it: case series, pilot open-label...
    country            VARCHAR,
    setting            VARCHAR,           -- hospital or centre
    recruitment_period VARCHAR,           -- as stated, e.g. "April 2020 to July 2020"
    ethics_approval    VARCHAR,
    condition          VARCHAR,           -- e.g. COVID-19 ARDS
    index_day          VARCHAR,           -- what day 0 is, e.g. "day of the MSC infusion"
    followup_days      INTEGER,           -- planned or stated follow-up from day 0
    level              VARCHAR NOT NULL,  -- patient (rows per patient) | aggregate (reported figures only)
    secondary          BOOLEAN NOT NULL,  -- true: figures quoted by another paper, not a primary report
    reported_in        VARCHAR,           -- for secondary studies: the study whose paper quotes them
    notes              VARCHAR,
    source_id          VARCHAR NOT NULL
);

-- key: study_id, document_id
CREATE TABLE documents (
    study_id    VARCHAR NOT NULL,
    document_id VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,  -- article | press_release | supplement | registry_entry | other
    citation    VARCHAR NOT NULL,
    doi         VARCHAR,
    url         VARCHAR,
    licence     VARCHAR            -- e.g. CC-BY-4.0, where the document states one
);

-- key: study_id, source_id
CREATE TABLE sources (
    study_id    VARCHAR NOT NULL,
    source_id   VARCHAR NOT NULL,
    document_id VARCHAR NOT NULL,
    locator     VARCHAR NOT NULL,  -- Table 2 / Figure 1H / Results, paragraph 2 / Abstract
    quote       VARCHAR,           -- short verbatim quote from the document
    note        VARCHAR            -- how a value was read off or deduced from the quote
);

-- key: study_id, table_name, row_key, field
-- Per-field provenance where one row's fields come from different places.
CREATE TABLE field_sources (
    study_id   VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,  -- studies | patients | products | ...
    row_key    VARCHAR NOT NULL,  -- the row's id within the study (patient_id, product_id, study_id)
    field      VARCHAR NOT NULL,
    source_id  VARCHAR NOT NULL
);

-- key: study_id, arm_id
CREATE TABLE arms (
    study_id    VARCHAR NOT NULL,
    arm_id      VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    description VARCHAR,
    source_id   VARCHAR NOT NULL
);

-- key: study_id, product_id
CREATE TABLE products (
    study_id      VARCHAR NOT NULL,
    product_id    VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,  -- as the paper names it, e.g. ahUCMSC
    cell_type     VARCHAR,           -- MSC, ...
    tissue_source VARCHAR,           -- umbilical cord | umbilical cord lining | adipose | bone marrow | placenta | ...
    donor_type    VARCHAR,           -- allogeneic | autologous
    culture       VARCHAR,           -- e.g. hypoxic (5% O2)
    manufacturer  VARCHAR,
    notes         VARCHAR,
    source_id     VARCHAR NOT NULL
);

-- key: study_id, patient_id
CREATE TABLE patients (
    study_id     VARCHAR NOT NULL,
    patient_id   VARCHAR NOT NULL,  -- the paper's own number (001, 1, ...), never a name
    arm_id       VARCHAR,
    sex          VARCHAR,           -- F | M | NULL (not reported)
    age_years    DOUBLE,
    weight_kg    DOUBLE,
    severity     VARCHAR,           -- mild | moderate | severe | critical, as classified at baseline
    care_setting VARCHAR,           -- icu | ward: where the patient was at the index day
    source_id    VARCHAR NOT NULL,
    age_90_plus  BOOLEAN            -- true: aged 90 or older, age_years then NULL (HIPAA Safe Harbor); since version 2
);

-- key: study_id, patient_id, infusion
CREATE TABLE doses (
    study_id     VARCHAR NOT NULL,
    patient_id   VARCHAR NOT NULL,
    product_id   VARCHAR,
    infusion     INTEGER NOT NULL,  -- 1 for the first infusion
    day          INTEGER,           -- day of the infusion (0 for the first)
    amount       DOUBLE NOT NULL,   -- in `unit`
    unit         VARCHAR NOT NULL,  -- cells/kg | cells
    route        VARCHAR,           -- IV | intratracheal | inhaled | intranasal | ...
    duration_min DOUBLE,            -- infusion duration in minutes
    source_id    VARCHAR NOT NULL
);

-- key: study_id, patient_id, analyte, context, day, seq
CREATE TABLE measurements (
    study_id        VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    day             INTEGER,           -- NULL when the paper does not give the day
    seq             INTEGER,           -- order of values whose day is not given (1, 2, ...)
    analyte         VARCHAR NOT NULL,  -- code in the analytes catalog
    value           DOUBLE NOT NULL,   -- as reported, in `unit`
    unit            VARCHAR NOT NULL,  -- as reported
    value_canonical DOUBLE NOT NULL,   -- converted to the analyte's canonical unit
    context         VARCHAR,           -- conditions of the measurement: room air, O2 8 L/min, mechanical ventilation
    source_id       VARCHAR NOT NULL
);

-- key: study_id, patient_id, event, day, day_min, day_max
CREATE TABLE events (
    study_id   VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    event      VARCHAR NOT NULL,  -- code in the event_types catalog
    day        INTEGER,           -- exact day, when known
    day_min    INTEGER,           -- earliest possible day, when only a range is known
    day_max    INTEGER,           -- latest possible day
    detail     VARCHAR,           -- e.g. the reason for a discharge
    source_id  VARCHAR NOT NULL
);

-- key: study_id, patient_id, kind
-- Durations a paper gives only as counts (days hospitalised / in ICU / intubated).
CREATE TABLE durations (
    study_id     VARCHAR NOT NULL,
    patient_id   VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,  -- hospital | icu | ventilation
    days         DOUBLE NOT NULL,   -- 0 means "none", as the paper reports it
    counted_from VARCHAR NOT NULL,  -- admission | index: where the count starts
    ongoing      BOOLEAN NOT NULL,  -- still under way when the paper was written
    source_id    VARCHAR NOT NULL
);

-- key: study_id, patient_id, term, onset_day
CREATE TABLE adverse_events (
    study_id        VARCHAR NOT NULL,
    patient_id      VARCHAR NOT NULL,
    term            VARCHAR NOT NULL,  -- as reported, e.g. muscle spasms
    grade           INTEGER,           -- CTCAE grade 1-5 where stated
    onset_day       INTEGER,
    onset_hours     DOUBLE,            -- hours after the infusion, where stated
    duration_days   DOUBLE,
    infusion_related BOOLEAN,          -- stated as infusion-associated
    serious         BOOLEAN,
    relatedness     VARCHAR,           -- related | possibly related | unrelated | not stated
    treatment       VARCHAR,
    outcome         VARCHAR,
    source_id       VARCHAR NOT NULL
);

-- key: study_id, patient_id, code
CREATE TABLE comorbidities (
    study_id   VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    condition  VARCHAR NOT NULL,  -- as reported, e.g. Severe pulmonary hypertension
    code       VARCHAR NOT NULL,  -- normalised: hypertension, pulmonary_hypertension, ...; none = stated none; not_reported = stated NA
    source_id  VARCHAR NOT NULL
);

-- key: study_id, patient_id, code, phase
-- Concomitant treatments (drugs and procedures other than the studied product).
CREATE TABLE treatments (
    study_id   VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    drug       VARCHAR NOT NULL,  -- as reported
    code       VARCHAR NOT NULL,  -- normalised generic name; none / not_reported as for comorbidities
    drug_class VARCHAR,           -- corticosteroid | il6_inhibitor | jak_inhibitor | anticoagulant | ...
    phase      VARCHAR NOT NULL,  -- hospital | after_discharge
    start_day  INTEGER,
    end_day    INTEGER,
    detail     VARCHAR,
    source_id  VARCHAR NOT NULL
);

-- key: study_id, patient_id, category, finding, day
-- Qualitative statements about one patient (signs, imaging, course) that fit no numeric table.
CREATE TABLE findings (
    study_id   VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL,
    day        INTEGER,
    day_min    INTEGER,
    day_max    INTEGER,
    category   VARCHAR NOT NULL,  -- symptom | sign | haemodynamics | respiratory_support | imaging | laboratory | course | outcome | ...
    finding    VARCHAR NOT NULL,
    source_id  VARCHAR NOT NULL
);

-- key: study_id, fact_id
-- Statements about the study as a whole, including facts the text does not tie to a patient.
CREATE TABLE study_facts (
    study_id  VARCHAR NOT NULL,
    fact_id   VARCHAR NOT NULL,
    topic     VARCHAR NOT NULL,  -- inclusion | exclusion | dose | follow_up | outcome | adverse_events | ...
    statement VARCHAR NOT NULL,
    value     DOUBLE,
    unit      VARCHAR,
    source_id VARCHAR NOT NULL
);

-- key: study_id, reported_id
-- The paper's own aggregate figures. `variable` uses the vocabulary in docs/package-format.md so
-- that reported_vs_computed can recompute it from the rows; other variables are stored as reported.
CREATE TABLE reported_aggregates (
    study_id    VARCHAR NOT NULL,
    reported_id VARCHAR NOT NULL,
    variable    VARCHAR NOT NULL,  -- e.g. age_years, female, comorbidity, treatment_class, alive
    codes       VARCHAR,           -- for comorbidity/treatment variables: codes counted, |-separated
    day         INTEGER,           -- horizon for survival-type variables
    statistic   VARCHAR NOT NULL,  -- n | percent | median | mean | min | max | sd | q1 | q3
    value       DOUBLE NOT NULL,
    value_text  VARCHAR NOT NULL,  -- as printed (keeps the reported decimals)
    unit        VARCHAR,
    population  VARCHAR,           -- all, or an arm_id
    label       VARCHAR,           -- the row label as printed, e.g. "Hypertension – n (%)"
    note        VARCHAR,           -- coding choices for the recomputation
    source_id   VARCHAR NOT NULL
);

-- key: study_id, item_id
-- Content a paper places in tables or figures that the available text does not contain.
CREATE TABLE missing_content (
    study_id    VARCHAR NOT NULL,
    item_id     VARCHAR NOT NULL,
    document_id VARCHAR NOT NULL,
    locator     VARCHAR NOT NULL,  -- Table 3, Figure 1, Supplementary Table 1
    description VARCHAR NOT NULL   -- what it holds, as the text describes it
);

-- key: import_id
CREATE TABLE import_log (
    import_id      INTEGER NOT NULL,
    study_id       VARCHAR NOT NULL,
    action         VARCHAR NOT NULL,  -- import | replace | restore | remove
    package        VARCHAR NOT NULL,  -- path as given ('' for a removal)
    package_sha256 VARCHAR NOT NULL,  -- of the package files' bytes
    content_hash   VARCHAR NOT NULL,  -- of the normalised rows; equal content = no-op re-import
    row_counts     VARCHAR NOT NULL,  -- JSON: table -> rows added
    imported_at    TIMESTAMP NOT NULL,
    tool_version   VARCHAR NOT NULL,
    version        INTEGER,           -- the study's version this entry created (NULL for a removal)
    os_user        VARCHAR,           -- who ran it
    rows_removed   VARCHAR            -- JSON: table -> rows removed (replace, restore, remove)
);

-- key: study_id, version
-- Every version of a study that a replace or removal superseded, as the package it was, so that
-- `registry restore STUDY_ID --version N` can bring it back.
CREATE TABLE study_versions (
    study_id    VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    archived_at TIMESTAMP NOT NULL,
    reason      VARCHAR NOT NULL,  -- replaced | removed
    package_zip BLOB NOT NULL,     -- the study exported as a package (study.yaml + CSVs), zipped
    sha256      VARCHAR NOT NULL   -- of package_zip
);

COMMENT ON TABLE registry_meta IS 'Facts about this registry file: schema version, the tool that made it.';
COMMENT ON TABLE studies IS 'One row per study: citation, registration, design, setting, follow-up, level (patient or aggregate).';
COMMENT ON TABLE documents IS 'The documents each study''s facts come from, with DOI and licence.';
COMMENT ON TABLE sources IS 'Places in a document (table, figure, section) with a short verbatim quote; every row names one.';
COMMENT ON TABLE field_sources IS 'The source of a single field where one row''s fields come from different places.';
COMMENT ON TABLE arms IS 'Treatment arms of a study.';
COMMENT ON TABLE products IS 'Cell products: tissue source, donor type, culture conditions, manufacturer.';
COMMENT ON TABLE patients IS 'Patients by the paper''s own number: sex, age, weight, severity, care setting.';
COMMENT ON TABLE doses IS 'Infusions: day, amount and unit (cells/kg or cells), route, duration.';
COMMENT ON TABLE measurements IS 'Longitudinal values in long format: patient, day, analyte, value as reported and in the canonical unit, context.';
COMMENT ON TABLE events IS 'Clinical events with their day from the index day (or a range): intubation, extubation, discharge, death...';
COMMENT ON TABLE durations IS 'Stays a paper gives only as counts: days in hospital, in ICU, intubated.';
COMMENT ON TABLE adverse_events IS 'Adverse events: term, grade, onset, duration, treatment, relatedness.';
COMMENT ON TABLE comorbidities IS 'Conditions present before the index day, as reported and coded.';
COMMENT ON TABLE treatments IS 'Concomitant drugs and procedures, with class, in hospital or after discharge.';
COMMENT ON TABLE findings IS 'Qualitative statements about one patient: signs, imaging, course.';
COMMENT ON TABLE study_facts IS 'Statements about a study as a whole, including facts the text ties to no single patient.';
COMMENT ON TABLE reported_aggregates IS 'The figures each paper reports itself (its Table 1, numbers in its text).';
COMMENT ON TABLE missing_content IS 'Tables and figures a paper has whose contents the available text does not hold.';
COMMENT ON TABLE import_log IS 'Audit trail: every import, replace, restore and removal: time, OS user, package checksum, rows added and removed.';
COMMENT ON TABLE study_versions IS 'Superseded versions of each study, kept as zipped packages so that any can be restored.';

-- key: study_id, item
-- The study's risk-of-bias appraisal: one answer per item of the JBI Critical Appraisal Checklist
-- for Case Series (items and questions in the appraisal_items catalog), with who answered and why.
CREATE TABLE appraisal (
    study_id    VARCHAR NOT NULL,
    item        INTEGER NOT NULL,  -- item number in appraisal_items (1-10)
    answer      VARCHAR NOT NULL,  -- yes | no | unclear | not applicable
    answered_by VARCHAR NOT NULL,  -- who appraised, e.g. caseregistry curators (from the published text)
    rationale   VARCHAR NOT NULL,  -- why: what the paper states or leaves out
    source_id   VARCHAR            -- optional: the place in the paper the answer rests on
);

COMMENT ON TABLE appraisal IS 'Risk-of-bias appraisal of each study: one answer per item of the JBI checklist for case series, with who answered, why, and the supporting source.';
