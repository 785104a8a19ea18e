"""Ages of 90 or older (schema version 2): a flag, age_90_plus, with age_years empty.

The demo package has patients 1-4 aged 50, 60, 70, 80. Each test adds patient 5 (row 6 of
patients.csv) through a package with an age_90_plus column.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from registry import PackageError, Registry

HEADER = "patient_id,arm_id,sex,age_years,weight_kg,severity,care_setting,source_id"


def with_flag(package: Path, patient_5: str | None) -> Path:
    """patients.csv with an age_90_plus column (empty for patients 1-4) and, if given, patient 5."""
    patients = package / "patients.csv"
    lines = patients.read_text().splitlines()
    assert lines[0] == HEADER
    rows = [lines[0] + ",age_90_plus"] + [line + "," for line in lines[1:]]
    if patient_5 is not None:
        rows.append(patient_5)
    patients.write_text("\n".join(rows) + "\n")
    return package


def test_a_patient_aged_90_or_older_is_stored_and_counted(demo_package, empty_registry):
    """Ages 50, 60, 70, 80 and 90+ (counted as 90): median 70, min 50, max 90, mean 350/5 = 70.0."""
    with_flag(demo_package, "5,msc,F,,,,,s-table,true")
    empty_registry.import_package(demo_package)
    assert empty_registry.sql(
        "SELECT patient_id, age_years, age_90_plus FROM patients WHERE patient_id = '5'"
    ).rows() == [("5", None, True)]
    assert empty_registry.sql(
        "SELECT n_patients, age_median, age_min, age_max, n_age_90_plus FROM study_overview"
    ).rows() == [(5, 70.0, 50.0, 90.0, 1)]
    assert empty_registry.sql(
        "SELECT statistic, n, denominator, value_text, note FROM table_one WHERE section = 'age' ORDER BY sort_order"
    ).rows() == [
        ("median (min–max)", 5, 5, "70 (50–90)", "n = patients with a reported age; 1 aged 90 or older, counted as 90"),
        ("mean", 5, 5, "70.0", "n = patients with a reported age; 1 aged 90 or older, counted as 90"),
    ]
    assert empty_registry.sql(
        "SELECT item FROM provenance WHERE table_name = 'patients' AND patient_id = '5'"
    ).rows() == [("patient 5, sex F, age 90+",)]
    assert empty_registry.check() == []


def test_an_exact_age_over_89_is_refused_with_how_to_record_it(demo_package):
    with_flag(demo_package, "5,msc,F,93,,,,s-table,")
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    assert [str(p) for p in raised.value.problems] == [
        (
            "patients.csv, row 6, column age_years: record ages over 89 as 90+ (HIPAA Safe Harbor): leave age_years "
            "empty and set age_90_plus to true (value: '93.0')"
        )
    ]


def test_90_plus_written_as_the_age_says_how_to_record_it(demo_package):
    with_flag(demo_package, "5,msc,F,90+,,,,s-table,")
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    assert [str(p) for p in raised.value.problems] == [
        (
            "patients.csv, row 6, column age_years: must be a number; for a patient aged 90 or older leave age_years "
            "empty and set age_90_plus to true (value: '90+')"
        )
    ]


def test_the_flag_with_an_exact_age_is_refused(demo_package):
    with_flag(demo_package, "5,msc,F,70,,,,s-table,true")
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    assert [str(p) for p in raised.value.problems] == [
        (
            "patients.csv, row 6, column age_years: age_90_plus is true but age_years holds an exact age: leave "
            "age_years empty for a patient aged 90 or older (value: '70.0')"
        )
    ]


def test_an_empty_flag_column_does_not_change_the_content(demo_package, demo_registry):
    """The demo again, with an age_90_plus column left empty: the same content, a no-op."""
    with_flag(demo_package, None)
    assert demo_registry.import_package(demo_package).action == "unchanged"
