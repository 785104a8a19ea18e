"""table_one: a paper's "Table 1" recomputed from the rows, on the demo package and on Perez 2023.

Every expected cell is worked out by hand from the package CSVs (the demo) or from the paper's
Table 2 (Perez), never copied from the view's output.
"""

from __future__ import annotations

import pytest

from conftest import rows

COLUMNS = "sort_order, characteristic, level, statistic, n, denominator, value_text"


def table(registry, study_id: str) -> list[tuple]:
    return rows(registry, f"SELECT {COLUMNS} FROM table_one WHERE study_id = '{study_id}' ORDER BY sort_order")


def cells(registry, study_id: str) -> dict[tuple, tuple]:
    """(characteristic, level) -> (n, denominator, value_text)."""
    return {(r[1], r[2]): (r[4], r[5], r[6]) for r in table(registry, study_id)}


def test_demo_table_one(demo_registry):
    """The whole table for the demo package (tests/data/packages/demo-2024), computed by hand:

    patients.csv: 1 F 50, 2 M 60, 3 F 70, 4 M 80.
      Age: sorted 50 60 70 80 -> median (60+70)/2 = 65, range 50-80; mean 260/4 = 65.0.
      Female: patients 1 and 3 -> 2 of 4 = 50.0 %.
    comorbidities.csv: 1 hypertension; 2 hypertension + diabetes_type2; 3 pulmonary_hypertension;
      4 "NA" (not_reported) -> lists stated for 1, 2, 3 = 3 of 4; nobody's list is "none" -> 0/3.
      hypertension 2/3 = 66.67 -> 66.7 (rounded half up, not truncated to 66.6);
      diabetes_type2 1/3 = 33.3; pulmonary_hypertension 1/3 = 33.3 (ties ordered by code).
    treatments.csv, hospital phase: 1 dexamethasone (corticosteroid); 2 steroids (corticosteroid),
      enoxaparin (anticoagulant); 3 enoxaparin (anticoagulant); 4 "None" (code none).
      -> lists stated 4 of 4; none: patient 4 = 1/4 = 25.0 %; anticoagulant 2 and 3 = 2/4 = 50.0 %
      (1's apixaban is after discharge and does not count); corticosteroid 1 and 2 = 2/4 = 50.0 %.
      Both classes have n = 2, so they come in code order: anticoagulant before corticosteroid.
    Ventilation: 1 (intubated day -2) and 3 (intubated day 0) = 2/4. ICU: 1 and 3 (care setting icu) = 2/4.
    durations.csv, hospital: 1 20, 2 13, 3 25 (ongoing), 4 11 -> completed 11 13 20: median 13,
      range 11-20, n = 3 of 4 stated; 1 still in hospital.
    Deaths: 2 (day 10) and 3 (day 20) = 2/4. Adverse events: 1 (hypotension), 3 (fever) = 2/4.
    """
    assert table(demo_registry, "demo-2024") == [
        (1000, "Patients", None, "n", 4, None, "4"),
        (2000, "Age, years", None, "median (min–max)", 4, 4, "65 (50–80)"),
        (2001, "Age, years", None, "mean", 4, 4, "65.0"),
        (3000, "Female sex", None, "n (%)", 2, 4, "2 (50.0)"),
        (4000, "Comorbidities", "list stated", "n of N", 3, 4, "3 of 4"),
        (4001, "Comorbidities", "none", "n (%)", 0, 3, "0 (0.0)"),
        (4011, "Comorbidities", "hypertension", "n (%)", 2, 3, "2 (66.7)"),
        (4012, "Comorbidities", "diabetes type2", "n (%)", 1, 3, "1 (33.3)"),
        (4013, "Comorbidities", "pulmonary hypertension", "n (%)", 1, 3, "1 (33.3)"),
        (5000, "Concomitant treatment in hospital", "list stated", "n of N", 4, 4, "4 of 4"),
        (5001, "Concomitant treatment in hospital", "none", "n (%)", 1, 4, "1 (25.0)"),
        (5011, "Concomitant treatment in hospital", "Anticoagulant (heparin group and others) (ATC B01A)", "n (%)", 2, 4, "2 (50.0)"),
        (5012, "Concomitant treatment in hospital", "Corticosteroid for systemic use (ATC H02AB)", "n (%)", 2, 4, "2 (50.0)"),
        (6000, "Invasive mechanical ventilation", None, "n (%)", 2, 4, "2 (50.0)"),
        (7000, "Intensive care", None, "n (%)", 2, 4, "2 (50.0)"),
        (8000, "Hospital stay, days", None, "median (min–max)", 3, 4, "13 (11–20)"),
        (8001, "Hospital stay, days", "still in hospital at the report", "n", 1, 4, "1"),
        (9000, "Deaths", None, "n (%)", 2, 4, "2 (50.0)"),
        (10000, "Adverse events", "patients with any", "n (%)", 2, 4, "2 (50.0)"),
    ]


def test_demo_codes_and_sections(demo_registry):
    """The code column names what a level stands for; sections group the rows."""
    got = rows(
        demo_registry,
        "SELECT section, code FROM table_one WHERE code IS NOT NULL ORDER BY sort_order",
    )
    assert got == [
        ("comorbidities", "none"),
        ("comorbidities", "hypertension"),
        ("comorbidities", "diabetes_type2"),
        ("comorbidities", "pulmonary_hypertension"),
        ("treatments", "none"),
        ("treatments", "anticoagulant"),
        ("treatments", "corticosteroid"),
    ]


def test_comorbidity_denominator_is_said(demo_registry):
    """The note says the percentage is of the 3 patients with a stated list, not of all 4."""
    (note,) = rows(demo_registry, "SELECT note FROM table_one WHERE code = 'hypertension'")[0]
    assert "3 patients whose comorbidity list is stated" in note and "not of all patients" in note


def test_decimals_and_half_up_rounding(empty_registry, demo_package):
    """Ages 50, 61, 68, 80: median (61+68)/2 = 64.5 prints "64.5 (50–80)" (a whole number prints
    without decimals, anything else to one); mean 259/4 = 64.75 prints 64.8 (half up, not 64.7)."""
    patients = demo_package / "patients.csv"
    text = patients.read_text()
    patients.write_text(text.replace("2,msc,M,60,", "2,msc,M,61,").replace("3,msc,F,70,", "3,msc,F,68,"))
    empty_registry.import_package(demo_package)
    age = rows(empty_registry, "SELECT statistic, value_text FROM table_one WHERE section = 'age' ORDER BY sort_order")
    assert age == [("median (min–max)", "64.5 (50–80)"), ("mean", "64.8")]


def test_age_not_reported_for_some(empty_registry, demo_package):
    """Patient 4's age left empty: ages 50 60 70 -> median 60 (50-70), mean 60.0, n = 3 of 4, and the
    note says for how many it is missing."""
    patients = demo_package / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80,", "4,msc,M,,"))
    empty_registry.import_package(demo_package)
    got = rows(
        empty_registry,
        "SELECT statistic, n, denominator, value_text, note FROM table_one WHERE section = 'age' ORDER BY sort_order",
    )
    assert [g[:4] for g in got] == [("median (min–max)", 3, 4, "60 (50–70)"), ("mean", 3, 4, "60.0")]
    assert "not reported for 1 of 4" in got[0][4]


# ---- Perez 2023 against its own Table 2 ------------------------------------------------------


def test_perez_demographics_match_table_2(bundled_registry):
    """Table 2 ages: 61 69 75 83 61 58 65 75 73; sorted 58 61 61 65 69 73 75 75 83 -> median 69,
    range 58-83 (Table 1 prints "68.8 (61 – 83)"); mean 620/9 = 68.89 -> 68.9.
    Gender F for 001, 002, 004, 009: 4/9 = 44.44 -> "4 (44.4)", as Table 1 prints it."""
    got = cells(bundled_registry, "perez-2023")
    assert got[("Patients", None)] == (9, None, "9")
    assert got[("Female sex", None)] == (4, 9, "4 (44.4)")
    age = rows(bundled_registry, "SELECT value_text FROM table_one WHERE study_id = 'perez-2023' AND section = 'age' ORDER BY sort_order")
    assert age == [("69 (58–83)",), ("68.9",)]


def test_perez_comorbidities_of_the_stated_lists(bundled_registry):
    """Table 2 "Relevant concomitant medical conditions": 006 is "NA", so 8 of 9 lists are stated.
    HT: 002, 003, 007, 009 = 4 of 8 = 50.0 % (Table 1: 5 (55.5) of all 9).
    DM2: 003, 007, 008 = 3 of 8 = 37.5 % (Table 1: 3 (33.3), the same 3 over all 9).
    "None": 001 = 1 of 8 = 12.5 %. 004's "Severe pulmonary hypertension" is its own code: 1 of 8."""
    got = cells(bundled_registry, "perez-2023")
    assert got[("Comorbidities", "list stated")] == (8, 9, "8 of 9")
    assert got[("Comorbidities", "hypertension")] == (4, 8, "4 (50.0)")
    assert got[("Comorbidities", "diabetes type2")] == (3, 8, "3 (37.5)")
    assert got[("Comorbidities", "none")] == (1, 8, "1 (12.5)")
    assert got[("Comorbidities", "pulmonary hypertension")] == (1, 8, "1 (12.5)")
    assert ("Comorbidities", "obesity") not in got  # Table 1's obesity 4 (44.4) has no patient in Table 2


def test_perez_treatment_classes_match_table_2(bundled_registry):
    """Table 2 "Treatments received" (all 9 lists stated):
    enoxaparin: every patient but 006 = 8/9 = 88.89 -> 88.9 (Table 1 prints 88.8, truncated);
    steroids 001 002 003 007 + methylprednisolone 008 = 5/9 = 55.6 (Table 1: 9 (100));
    hydroxychloroquine 001 003 005 008 = 4/9 = 44.4 (Table 1: 7 (77.7));
    tocilizumab 002 004 006 = 3/9 = 33.3 (Table 1: 5 (55.5));
    azithromycin 001 003 + levofloxacin 005 = 3/9 = 33.3 (Table 1: 9 (100)); no antiviral at all."""
    got = {r[0]: (r[1], r[2]) for r in rows(
        bundled_registry,
        "SELECT code, n, value_text FROM table_one WHERE study_id = 'perez-2023' AND section = 'treatments' AND code IS NOT NULL",
    )}
    assert got["anticoagulant"] == (8, "8 (88.9)")
    assert got["corticosteroid"] == (5, "5 (55.6)")
    assert got["antimalarial"] == (4, "4 (44.4)")
    assert got["il6_inhibitor"] == (3, "3 (33.3)")
    assert got["antibiotic"] == (3, "3 (33.3)")
    assert "antiviral" not in got
    assert cells(bundled_registry, "perez-2023")[("Concomitant treatment in hospital", "list stated")] == (9, 9, "9 of 9")


def test_perez_course_and_outcomes(bundled_registry):
    """Days intubated > 0: 002 006 007 009 = 4/9 = 44.4 (Table 1: 4 (44.4)); ICU days > 0: the same 4.
    Days hospitalised, completed: 9 26 6 19 6 10 12 19 (006's 25 is ongoing, "Hospitalized") ->
    sorted 6 6 9 10 12 19 19 26, median (10+12)/2 = 11, range 6-26; 1 still in hospital.
    Table 2 records no death and no adverse event: 0/9 each."""
    got = cells(bundled_registry, "perez-2023")
    assert got[("Invasive mechanical ventilation", None)] == (4, 9, "4 (44.4)")
    assert got[("Intensive care", None)] == (4, 9, "4 (44.4)")
    assert got[("Hospital stay, days", None)] == (8, 9, "11 (6–26)")
    assert got[("Hospital stay, days", "still in hospital at the report")] == (1, 9, "1")
    assert got[("Deaths", None)] == (0, 9, "0 (0.0)")
    assert got[("Adverse events", "patients with any")] == (0, 9, "0 (0.0)")


def test_iglesias_says_not_reported(bundled_registry):
    """Iglesias' Table 1 is not in the text: no ages, no comorbidity list, sex only for patients 3
    and 4 (both M) -> female 0 of 2, with the 3 of 5 unknown named in the note. Deaths: 4 and 5 = 2/5."""
    got = cells(bundled_registry, "iglesias-2021")
    assert got[("Age, years", None)][2] == "not reported"
    assert got[("Comorbidities", "list stated")] == (0, 5, "not reported")
    assert got[("Female sex", None)] == (0, 2, "0 (0.0)")
    assert got[("Deaths", None)] == (2, 5, "2 (40.0)")
    (note,) = rows(bundled_registry, "SELECT note FROM table_one WHERE study_id = 'iglesias-2021' AND section = 'sex'")[0]
    assert "not reported for 3 of 5" in note


def test_aggregate_study_has_only_its_count(bundled_registry):
    """Leng 2020 is aggregate-only: one row, 0 patients, and a note pointing to reported_aggregates."""
    got = rows(bundled_registry, "SELECT characteristic, n, value_text, note FROM table_one WHERE study_id = 'leng-2020'")
    assert len(got) == 1 and got[0][:3] == ("Patients", 0, "0") and "reported_aggregates" in got[0][3]


def test_rows_are_well_formed(bundled_registry):
    """For every study: sort_order is unique, n never exceeds its denominator, value_text is set."""
    assert rows(
        bundled_registry,
        "SELECT study_id, sort_order FROM table_one GROUP BY study_id, sort_order HAVING count(*) > 1",
    ) == []
    assert rows(bundled_registry, "SELECT study_id, sort_order FROM table_one WHERE n > denominator") == []
    assert rows(bundled_registry, "SELECT study_id, sort_order FROM table_one WHERE value_text IS NULL") == []


@pytest.mark.parametrize("study_id", ["perez-2023", "iglesias-2021"])
def test_first_row_is_the_patient_count(bundled_registry, study_id):
    first = rows(bundled_registry, f"SELECT section FROM table_one WHERE study_id = '{study_id}' ORDER BY sort_order LIMIT 1")
    assert first == [("patients",)]
