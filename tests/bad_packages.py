"""Broken variants of the demo package: one broken rule each, with the exact problem expected.

Each case changes one thing in a copy of tests/data/packages/demo-2024; the expected text is the
first problem the importer reports (file, row = line in the file with the header as line 1,
column, rule, value).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Path], None]
    expected: str


def replace(file: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(package: Path) -> None:
        path = package / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def append(file: str, line: str) -> Callable[[Path], None]:
    def apply(package: Path) -> None:
        with (package / file).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    return apply


def write_bytes(file: str, data: bytes) -> Callable[[Path], None]:
    def apply(package: Path) -> None:
        (package / file).write_bytes(data)

    return apply


def remove(file: str) -> Callable[[Path], None]:
    def apply(package: Path) -> None:
        (package / file).unlink()

    return apply


def reencode(file: str, encoding: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(package: Path) -> None:
        path = package / file
        path.write_bytes(path.read_text(encoding="utf-8").replace(old, new).encode(encoding))

    return apply


CASES = [
    Case("missing-study-yaml", remove("study.yaml"),
         "study.yaml: missing required file: every package needs study.yaml (or .json/.toml)"),
    Case("missing-sources", remove("sources.csv"),
         "sources.csv: missing required file: every row names its source in sources.csv"),
    Case("missing-patients", remove("patients.csv"),
         "patients.csv: missing required file: a level: patient study needs patients.csv"),
    Case("unknown-file", write_bytes("labs.csv", b"a,b\n"),
         "labs.csv: unknown file: a package holds adverse_events.csv, appraisal.csv, comorbidities.csv, doses.csv, durations.csv, "
         "events.csv, field_sources.csv, findings.csv, measurements.csv, missing_content.csv, patients.csv, "
         "reported_aggregates.csv, sources.csv, study_facts.csv, treatments.csv"),
    Case("yaml-syntax", write_bytes("study.yaml", b"study_id: [unclosed\n"),
         "study.yaml: cannot be parsed: while parsing a flow sequence"),
    Case("yaml-unknown-field", replace("study.yaml", "journal:", "jounral:"),
         "study.yaml, column jounral: unknown field"),
    Case("yaml-bad-year", replace("study.yaml", "year: 2024", "year: twenty"),
         "study.yaml, column year: must be of type INTEGER (value: 'twenty')"),
    Case("yaml-bad-level", replace("study.yaml", "level: patient", "level: patients"),
         "study.yaml, column level: level must be patient or aggregate (value: 'patients')"),
    Case("yaml-bad-study-id", replace("study.yaml", "study_id: demo-2024", "study_id: Demo 2024"),
         "study.yaml, column study_id: study_id must be lower-case letters, digits and . _ - (at most 63) (value: 'Demo 2024')"),
    Case("yaml-no-documents", replace("study.yaml", "documents:", "documentz:"),
         "study.yaml, column documentz: unknown field"),
    Case("unknown-column", replace("patients.csv", "severity,", "severty,"),
         "patients.csv, row 1, column severty: unknown column (did you mean severity?); patients.csv has: patient_id, "
         "arm_id, sex, age_years, weight_kg, severity, care_setting, source_id, age_90_plus"),
    Case("missing-required-column", replace("measurements.csv", "analyte,", ""),
         "measurements.csv, row 1, column analyte: required column is missing from the header"),
    Case("duplicate-header", replace("patients.csv", "weight_kg,", "sex,"),
         "patients.csv, row 1, column sex: column appears twice in the header"),
    Case("empty-file", write_bytes("events.csv", b""),
         "events.csv: file is empty: it needs at least a header row with the column names"),
    Case("binary-garbage", write_bytes("events.csv", b"\x00\x01\x02\xff\xfe garbage\n"),
         "events.csv, row 1: file is binary, not CSV text"),
    Case("utf16", reencode("findings.csv", "utf-16", "x", "x"),
         "findings.csv: file is UTF-16 text: save it as UTF-8 (in Excel: CSV UTF-8)"),
    Case("latin1-header", reencode("findings.csv", "latin-1", "finding,", "befund_é,"),
         "findings.csv, row 1: file is not UTF-8 text (Latin-1?): save it as UTF-8 (in Excel: CSV UTF-8)"),
    Case("latin1-row", reencode("findings.csv", "latin-1", "hypotension", "hypotensión"),
         "findings.csv, row 2: file is not UTF-8 text: save it as UTF-8 (in Excel: CSV UTF-8) "
         "(value: '3,4,,,haemodynamics,hypotensi??,s-table')"),
    Case("ragged-row", append("patients.csv", "5,msc,F,40"),
         "patients.csv, row 6: row does not have the header's 8 columns (value: '5,msc,F,40')"),
    Case("unterminated-quote", append("findings.csv", '3,5,,,sign,"fever,s-table'),
         "findings.csv, row 3: unterminated or misplaced quote (quote a value that holds a comma with \"...\") "
         "(value: '3,5,,,sign,\"fever,s-table')"),
    Case("not-a-number", replace("patients.csv", "2,msc,M,60", "2,msc,M,sixty"),
         "patients.csv, row 3, column age_years: must be a number (value: 'sixty')"),
    Case("not-an-integer", replace("events.csv", "2,death,10", "2,death,10.5"),
         "events.csv, row 6, column day: must be a whole number (value: '10.5')"),
    Case("not-a-boolean", replace("durations.csv", "20,admission,false", "20,admission,maybe"),
         "durations.csv, row 2, column ongoing: must be true or false (or yes/no, 1/0) (value: 'maybe')"),
    Case("nan", replace("measurements.csv", "1,0,,spo2,90,", "1,0,,spo2,NaN,"),
         "measurements.csv, row 2, column value: must be a finite number (no NaN or infinity) (value: 'nan')"),
    Case("overflow", replace("measurements.csv", "1,0,,spo2,90,", "1,0,,spo2,1e309,"),
         "measurements.csv, row 2, column value: must be a finite number (no NaN or infinity) (value: 'inf')"),
    Case("required-empty", replace("patients.csv", "3,msc,F,70,,critical,icu,s-table", "3,msc,F,70,,critical,icu,"),
         "patients.csv, row 4, column source_id: required value is empty"),
    Case("bad-sex", replace("patients.csv", "2,msc,M,", "2,msc,X,"),
         "patients.csv, row 3, column sex: sex must be F or M (leave it empty when the paper does not report it) (value: 'X')"),
    Case("bad-severity", replace("patients.csv", "moderate", "bad"),
         "patients.csv, row 3, column severity: severity must be mild, moderate, severe or critical (value: 'bad')"),
    Case("age-range", replace("patients.csv", "4,msc,M,80", "4,msc,M,130"),
         "patients.csv, row 5, column age_years: age_years must lie between 0 and 120 (value: '130.0')"),
    Case("unknown-analyte", replace("measurements.csv", "1,0,,crp,", "1,0,,cprx,"),
         "measurements.csv, row 10, column analyte: analyte must be a code of the analytes catalog (registry sql \"FROM analytes\") (value: 'cprx')"),
    Case("unknown-unit", replace("measurements.csv", "crp,5,mg/dL", "crp,5,mmol/L"),
         "measurements.csv, row 10, column unit: unit is not known for this analyte (known for crp: mg/L, mg/dL) (value: 'mmol/L')"),
    Case("spo2-range", replace("measurements.csv", "1,7,,spo2,95,", "1,7,,spo2,150,"),
         "measurements.csv, row 6, column value: value outside the analyte's plausible range (spo2 must lie within 0.0-100.0 %) (value: '150.0 %')"),
    Case("day-window", replace("events.csv", "1,known_alive,28", "1,known_alive,4000"),
         "events.csv, row 5, column day: day outside the plausible window -365 to 3650 (days from the index day) (value: '4000')"),
    Case("unknown-patient", append("doses.csv", "9,msc,1,0,1e6,cells/kg,IV,15,s-methods"),
         "doses.csv, row 6, column patient_id: patient_id does not name a row of patients.csv (value: '9')"),
    Case("unknown-source", replace("findings.csv", "hypotension,s-table", "hypotension,s-nowhere"),
         "findings.csv, row 2, column source_id: source_id does not name a row of sources.csv (value: 's-nowhere')"),
    Case("unknown-product", replace("doses.csv", "4,msc,1", "4,msk,1"),
         "doses.csv, row 5, column product_id: product_id does not name a row of study.yaml (value: 'msk')"),
    Case("duplicate-measurement", append("measurements.csv", "1,0,,spo2,91,%,room air,s-table"),
         "measurements.csv, row 13: duplicate row: another row has the same patient_id, analyte, context, day, seq (same as row 2) (value: '1 / spo2 / room air / 0 / ')"),
    Case("same-value-other-context", append("measurements.csv", "1,0,,spo2,91,%,O2 2 L/min,s-table"), ""),
    Case("duplicate-source", append("sources.csv", "s-table,paper,Table 2,,"),
         "sources.csv, row 7: duplicate row: another row has the same source_id (same as row 4) (value: 's-table')"),
    Case("unknown-event", replace("events.csv", "known_alive", "survived"),
         "events.csv, row 5, column event: event must be a code of the event_types catalog (registry sql \"FROM event_types\") (value: 'survived')"),
    Case("extubation-before-intubation", replace("events.csv", "1,extubation,5", "1,extubation,-3"),
         "events.csv, row 4, column day: extubation before the patient's first intubation (intubated on day -2 at the earliest) (value: '-3')"),
    Case("event-after-death", append("events.csv", "2,known_alive,15,,,,s-text"),
         "events.csv, row 10, column day: recorded on a day after the patient's death (death on day 10) (value: 'known_alive on day 15')"),
    Case("measurement-after-death", append("measurements.csv", "2,12,,spo2,90,%,room air,s-table"),
         "measurements.csv, row 13, column day: measured on a day after the patient's death (death on day 10) (value: '12')"),
    Case("day-range-reversed", append("events.csv", "4,hospital_admission,,0,-4,,s-table"),
         "events.csv, row 10, column day_min: day_min is after day_max (value: '0 > -4')"),
    Case("negative-duration", replace("durations.csv", "2,hospital,13", "2,hospital,-13"),
         "durations.csv, row 5, column days: a duration must lie between 0 and 3650 days (value: '-13.0')"),
    Case("bad-duration-kind", replace("durations.csv", "1,icu,10", "1,intensive,10"),
         "durations.csv, row 3, column kind: kind must be hospital, icu or ventilation (value: 'intensive')"),
    Case("bad-dose-unit", replace("doses.csv", "4,msc,1,0,1e6,cells/kg", "4,msc,1,0,1e6,million"),
         "doses.csv, row 5, column unit: a dose unit must be cells/kg or cells (value: 'million')"),
    Case("bad-grade", replace("adverse_events.csv", "1,hypotension,2,", "1,hypotension,7,"),
         "adverse_events.csv, row 2, column grade: grade must be a CTCAE grade from 1 to 5 (value: '7')"),
    Case("bad-drug-class", replace("treatments.csv", "dexamethasone,corticosteroid", "dexamethasone,steroid"),
         "treatments.csv, row 2, column drug_class: drug_class must be a code of the drug_classes catalog (registry sql \"FROM drug_classes\") (value: 'steroid')"),
    Case("bad-phase", replace("treatments.csv", "anticoagulant,after_discharge", "anticoagulant,later"),
         "treatments.csv, row 7, column phase: phase must be hospital or after_discharge (value: 'later')"),
    Case("bad-code", replace("comorbidities.csv", "Type 2 diabetes,diabetes_type2", "Type 2 diabetes,Diabetes Type 2"),
         "comorbidities.csv, row 4, column code: a code is lower-case letters, digits and _ (e.g. hypertension, diabetes_type2) (value: 'Diabetes Type 2')"),
    Case("reported-percent-sign", replace("reported_aggregates.csv", "percent,66.6,", "percent,66.6%,"),
         "reported_aggregates.csv, row 8, column value: value must be a number as printed (e.g. 55.5; no % sign or range) (value: '66.6%')"),
    Case("bad-statistic", replace("reported_aggregates.csv", "r-n,n_patients,,,n,", "r-n,n_patients,,,count,"),
         "reported_aggregates.csv, row 2, column statistic: statistic must be n, percent, value, median, mean, min, max, sd, q1 or q3 (value: 'count')"),
    Case("bad-field-source", write_bytes("field_sources.csv", b"table_name,row_key,field,source_id\npatients,1,gender,s-table\n"),
         "field_sources.csv, row 2, column field: table_name and field must name a column of a package table (value: 'patients.gender')"),
    Case("bom-is-fine", reencode("patients.csv", "utf-8-sig", "x", "x"), ""),
    Case("header-only-is-fine", write_bytes("adverse_events.csv",
         b"patient_id,term,grade,onset_day,onset_hours,duration_days,infusion_related,serious,relatedness,treatment,outcome,source_id\n"), ""),
    Case("optional-file-left-out", remove("findings.csv"), ""),
    Case("columns-in-any-order", write_bytes("study_facts.csv",
         b"source_id,fact_id,topic,statement,value,unit\ns-methods,f-followup,follow_up,Patients were followed for 28 days,28,days\n"), ""),
    Case("negative-day-is-baseline", replace("measurements.csv", "1,0,,crp,", "1,-2,,crp,"), ""),
]
