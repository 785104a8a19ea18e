-- caseregistry schema, version 1: the catalogs that packages are checked against.
-- Codes here are what a package may use; add rows here (with a schema note) to extend them.

-- key: analyte
CREATE TABLE analytes (
    analyte        VARCHAR NOT NULL,  -- code used in measurements.analyte
    name           VARCHAR NOT NULL,
    loinc          VARCHAR,           -- only where one code clearly fits
    canonical_unit VARCHAR NOT NULL,
    plausible_min  DOUBLE NOT NULL,   -- in the canonical unit; values outside are refused
    plausible_max  DOUBLE NOT NULL
);

INSERT INTO analytes VALUES
    ('spo2',            'Oxygen saturation by pulse oximetry (SpO2)', '59408-5', '%',           0,    100),
    ('pao2_fio2',       'PaO2/FiO2 ratio',                             NULL,     'mmHg',        20,   700),
    ('fio2',            'Fraction of inspired oxygen',                 '3150-0', '%',           21,   100),
    ('o2_flow',         'Supplemental oxygen flow',                    '3151-8', 'L/min',       0,    100),
    ('resp_rate',       'Respiratory rate',                            '9279-1', 'breaths/min', 0,    100),
    ('heart_rate',      'Heart rate',                                  '8867-4', 'beats/min',   0,    300),
    ('temperature',     'Body temperature',                            '8310-5', 'degC',        25,   45),
    ('crp',             'C-reactive protein',                          '1988-5', 'mg/L',        0,    1000),
    ('d_dimer',         'D-dimer',                                     NULL,     'ng/mL',       0,    200000),
    ('ferritin',        'Ferritin',                                    '2276-4', 'ng/mL',       0,    200000),
    ('ldh',             'Lactate dehydrogenase',                       '2532-0', 'U/L',         0,    20000),
    ('hemoglobin',      'Hemoglobin',                                  '718-7',  'g/dL',        1,    25),
    ('creatinine',      'Creatinine',                                  '2160-0', 'mg/dL',       0.05, 30),
    ('wbc',             'White blood cells',                           '6690-2', '10^3/uL',     0,    500),
    ('platelets',       'Platelets',                                   '777-3',  '10^3/uL',     0,    2000),
    ('lymphocytes',     'Lymphocytes (absolute count)',                '731-0',  'cells/uL',    0,    100000),
    ('neutrophils_pct', 'Neutrophils (% of leukocytes)',               '770-8',  '%',           0,    100),
    ('lymphocytes_pct', 'Lymphocytes (% of leukocytes)',               '736-9',  '%',           0,    100),
    ('nlr',             'Neutrophil-to-lymphocyte ratio',              NULL,     'ratio',       0,    500),
    ('il6',             'Interleukin-6',                               '26881-3', 'pg/mL',      0,    100000),
    ('weight',          'Body weight',                                 '29463-7', 'kg',         0.5,  400);

-- key: analyte, unit
-- canonical value = value * factor + offset
CREATE TABLE unit_conversions (
    analyte VARCHAR NOT NULL,
    unit    VARCHAR NOT NULL,
    factor  DOUBLE NOT NULL,
    "offset" DOUBLE NOT NULL
);

INSERT INTO unit_conversions
SELECT analyte, canonical_unit, 1, 0 FROM analytes;

INSERT INTO unit_conversions VALUES
    ('pao2_fio2',   'kPa',          7.50062,  0),
    ('fio2',        'fraction',     100,      0),
    ('o2_flow',     'L/m',          1,        0),
    ('resp_rate',   '/min',         1,        0),
    ('heart_rate',  'bpm',          1,        0),
    ('temperature', 'degF',         5.0 / 9,  -160.0 / 9),
    ('crp',         'mg/dL',        10,       0),
    ('d_dimer',     'ug/mL',        1000,     0),
    ('d_dimer',     'mg/L',         1000,     0),
    ('d_dimer',     'ug/L',         1,        0),
    ('ferritin',    'ug/L',         1,        0),
    ('hemoglobin',  'g/L',          0.1,      0),
    ('creatinine',  'umol/L',       1 / 88.42, 0),
    ('wbc',         '10^9/L',       1,        0),
    ('wbc',         'cells/uL',     0.001,    0),
    ('platelets',   '10^9/L',       1,        0),
    ('lymphocytes', '10^3/uL',      1000,     0),
    ('lymphocytes', '10^9/L',       1000,     0),
    ('lymphocytes', '/uL',          1,        0),
    ('weight',      'lb',           0.45359237, 0);

-- key: event
CREATE TABLE event_types (
    event       VARCHAR NOT NULL,
    description VARCHAR NOT NULL
);

INSERT INTO event_types VALUES
    ('hospital_admission', 'admitted to hospital'),
    ('hospital_discharge', 'discharged from hospital alive'),
    ('icu_admission',      'admitted to intensive care'),
    ('icu_discharge',      'left intensive care alive'),
    ('intubation',         'tracheal intubation / start of invasive mechanical ventilation'),
    ('extubation',         'extubation / end of invasive mechanical ventilation'),
    ('tracheostomy',       'tracheostomy'),
    ('prone_position',     'placed in prone position'),
    ('death',              'death'),
    ('known_alive',        'stated alive on this day (e.g. survived the stated follow-up)');

-- key: drug_class
CREATE TABLE drug_classes (
    drug_class VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    atc        VARCHAR           -- ATC code of the class, where one exists
);

INSERT INTO drug_classes VALUES
    ('corticosteroid',     'Corticosteroid for systemic use',        'H02AB'),
    ('il6_inhibitor',      'Interleukin-6 inhibitor',                'L04AC'),
    ('jak_inhibitor',      'Janus kinase inhibitor',                 'L04AF'),
    ('anticoagulant',      'Anticoagulant (heparin group and others)', 'B01A'),
    ('antimalarial',       'Antimalarial (aminoquinoline)',          'P01BA'),
    ('antibiotic',         'Antibacterial for systemic use',         'J01'),
    ('antifungal',         'Antimycotic for systemic use',           'J02'),
    ('antiviral',          'Antiviral for systemic use',             'J05'),
    ('antiparasitic',      'Anthelmintic / antiparasitic',           'P02'),
    ('antipsychotic',      'Antipsychotic',                          'N05A'),
    ('sedative',           'Hypnotic or sedative',                   'N05C'),
    ('vasopressor',        'Adrenergic and dopaminergic cardiac stimulant', 'C01CA'),
    ('pde5_inhibitor',     'Phosphodiesterase-5 inhibitor',          'G04BE'),
    ('calcium_channel_blocker', 'Calcium channel blocker',           'C08'),
    ('blood_product',      'Blood product or transfusion',           'B05A'),
    ('oxygen',             'Medical oxygen',                         'V03AN01'),
    ('renal_replacement',  'Renal replacement therapy (procedure)',  NULL),
    ('respiratory_support','Respiratory support (procedure)',        NULL),
    ('other',              'Other',                                  NULL);

COMMENT ON TABLE analytes IS 'Analyte catalog: code, name, LOINC, canonical unit, plausible range.';
COMMENT ON TABLE unit_conversions IS 'Units each analyte may be reported in and the conversion to its canonical unit.';
COMMENT ON TABLE event_types IS 'The event codes events.event may use.';
COMMENT ON TABLE drug_classes IS 'Drug classes for treatments.drug_class, with ATC codes where one exists.';

-- key: item
-- The JBI Critical Appraisal Checklist for Case Series (Munn Z, Barker TH, Moola S, et al.
-- Methodological quality of case series studies: an introduction to the JBI critical appraisal
-- tool. JBI Evidence Synthesis 2020;18(10):2127-2133). The questions are quoted as the curators
-- know the checklist and were compared with a published reproduction of it, not with JBI's own
-- form: small wording differences from the official checklist are possible. Each item is answered
-- yes, no, unclear or not applicable (appraisal.answer).
CREATE TABLE appraisal_items (
    item     INTEGER NOT NULL,  -- item number on the checklist
    label    VARCHAR NOT NULL,  -- a short name for tables
    question VARCHAR NOT NULL   -- the checklist's question
);

INSERT INTO appraisal_items VALUES
    (1,  'clear inclusion criteria',             'Were there clear criteria for inclusion in the case series?'),
    (2,  'condition measured reliably',          'Was the condition measured in a standard, reliable way for all participants included in the case series?'),
    (3,  'valid identification of the condition', 'Were valid methods used for identification of the condition for all participants included in the case series?'),
    (4,  'consecutive inclusion',                'Did the case series have consecutive inclusion of participants?'),
    (5,  'complete inclusion',                   'Did the case series have complete inclusion of participants?'),
    (6,  'demographics reported',                'Was there clear reporting of the demographics of the participants in the study?'),
    (7,  'clinical information reported',        'Was there clear reporting of clinical information of the participants?'),
    (8,  'outcomes reported',                    'Were the outcomes or follow up results of cases clearly reported?'),
    (9,  'site demographics reported',           'Was there clear reporting of the presenting site(s)/clinic(s) demographic information?'),
    (10, 'appropriate statistical analysis',     'Was statistical analysis appropriate?');

COMMENT ON TABLE appraisal_items IS 'The 10 items of the JBI Critical Appraisal Checklist for Case Series (Munn et al. 2020), quoted as known to the curators (checked against a published reproduction, not the official form; wording may differ slightly).';
