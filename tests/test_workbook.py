"""Case-series packages as Excel workbooks: template, export, import, and the round trip.

Workbooks are built and edited with openpyxl the way a person's edits arrive in the file (a
number typed in a cell, a date Excel made of "1-2"), then imported through the real registry.
"""

from __future__ import annotations

import csv
import datetime
import shutil

import duckdb
import openpyxl
import pytest
from conftest import DEMO, run, table_snapshot

from registry import PackageError, Registry
from registry.schema import CSV_TABLES, STUDY_TABLES
from registry.workbook import sheet_columns, write_template


def study_rows(path, study_id):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t} WHERE study_id = ?", [study_id]).fetchall(), key=repr)
                for t in STUDY_TABLES}
    finally:
        con.close()


def fresh_registry(_templates, tmp_path) -> Registry:
    shutil.copyfile(_templates["empty"], tmp_path / "fresh.duckdb")
    return Registry(tmp_path / "fresh.duckdb")


# ---- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("study_id", ["iglesias-2021", "perez-2023"])
def test_bundled_primary_study_round_trip(study_id, bundled_registry, _templates, tmp_path):
    book = bundled_registry.export_package(study_id, tmp_path / f"{study_id}.xlsx")
    fresh = fresh_registry(_templates, tmp_path)
    assert fresh.import_package(book).action == "imported"
    assert study_rows(fresh.path, study_id) == study_rows(bundled_registry.path, study_id)
    assert fresh.import_package(book).action == "unchanged"  # same content hash: a no-op
    logged = fresh.sql(f"SELECT package FROM import_log WHERE study_id = '{study_id}'").rows()
    assert logged == [(str(book),)]


def test_demo_round_trip_and_cell_types(demo_registry, _templates, tmp_path):
    book = demo_registry.export_package("demo-2024", tmp_path / "demo.xlsx")
    fresh = fresh_registry(_templates, tmp_path)
    fresh.import_package(book)
    assert study_rows(fresh.path, "demo-2024") == study_rows(demo_registry.path, "demo-2024")

    wb = openpyxl.load_workbook(book)
    patients = wb["patients"]
    # demo patients.csv row 2: 1,msc,F,50,70,severe,icu,s-table
    header = [c.value for c in patients[1]]
    assert header == [c.name for c in sheet_columns("patients")]  # the columns of patients.csv, in order
    first = dict(zip(header, patients[2]))
    assert {k: first[k].value for k in ("patient_id", "arm_id", "sex", "age_years", "weight_kg", "severity", "care_setting", "source_id")} \
        == {"patient_id": "1", "arm_id": "msc", "sex": "F", "age_years": 50, "weight_kg": 70, "severity": "severe",
            "care_setting": "icu", "source_id": "s-table"}
    assert first["patient_id"].data_type == "s" and first["patient_id"].number_format == "@"  # text, not the number 1
    assert first["age_years"].data_type == "n"  # the age is a number
    events = wb["events"]
    # rows in key order (patient, event): patient 1's extubation (day 5), then admission (day -3)
    assert [[c.value for c in events[r]][:3] for r in (2, 3)] == [["1", "extubation", 5], ["1", "hospital_admission", -3]]
    assert isinstance(events[3][2].value, int)
    study = {r[0].value: r[1].value for r in wb["study"].iter_rows(min_row=2)}
    assert study["study_id"] == "demo-2024" and study["followup_days"] == 28 and study["secondary"] == "false"
    # study.yaml's field_sources (followup_days: s-methods) are the study sheet's source_id column
    sources = {r[0].value: r[2].value for r in wb["study"].iter_rows(min_row=2) if r[2].value}
    assert sources == {"followup_days": "s-methods"}


def test_reported_values_keep_their_printed_decimals(bundled_registry, tmp_path):
    """perez-2023 reports "44.4" and iglesias-style figures as printed: the workbook keeps text."""
    book = bundled_registry.export_package("perez-2023", tmp_path / "p.xlsx")
    ws = openpyxl.load_workbook(book)["reported_aggregates"]
    by_id = {r[0].value: r[5] for r in ws.iter_rows(min_row=2)}
    assert by_id["t1-female-pct"].value == "44.4" and by_id["t1-female-pct"].data_type == "s"


def test_export_refuses_an_existing_file(demo_registry, tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"keep me")
    result = run("export-package", "demo-2024", str(tmp_path / "x.xlsx"), db=demo_registry.path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'x.xlsx'} exists: choose a new file name (nothing was written)\n"
    assert (tmp_path / "x.xlsx").read_bytes() == b"keep me"


# ---- template ---------------------------------------------------------------------------------


def test_template_sheets_headers_and_dropdowns(tmp_path):
    write_template(tmp_path / "t.xlsx")
    write_template_dir = tmp_path / "dir"
    assert run("template", str(write_template_dir)).exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames == ["README", "study", "documents", "products", "arms", *CSV_TABLES, "codes"]
    for table in CSV_TABLES:  # the same columns, in the same order, as the directory template's CSVs
        with (write_template_dir / f"{table}.csv").open() as handle:
            assert [c.value for c in wb[table][1]] == next(csv.reader(handle)), table

    def dropdown(sheet: str, letter: str) -> list:
        rules = [dv for dv in wb[sheet].data_validations.dataValidation if f"{letter}2" in str(dv.sqref).split(":")[0]]
        assert len(rules) == 1, (sheet, letter)
        formula = rules[0].formula1
        if formula.startswith('"'):
            return formula.strip('"').split(",")
        ref = formula.lstrip("=").replace("$", "")
        codes_sheet, cells = ref.split("!")
        return [c[0].value for c in wb[codes_sheet][cells]]

    assert dropdown("patients", "C") == ["F", "M"]  # sex: sql/checks/patients_sex.sql
    assert dropdown("patients", "F") == ["mild", "moderate", "severe", "critical"]
    assert dropdown("durations", "E") == ["true", "false"]  # ongoing is a boolean
    # event: every code of schema/002_catalog.sql's event_types, sorted
    assert dropdown("events", "B") == sorted([
        "hospital_admission", "hospital_discharge", "icu_admission", "icu_discharge", "intubation",
        "extubation", "tracheostomy", "prone_position", "death", "known_alive"])
    analytes = dropdown("measurements", "D")
    assert len(analytes) == 21 and "spo2" in analytes and "pao2_fio2" in analytes
    assert dropdown("appraisal", "A") == list(range(1, 11))
    # day columns accept whole days in the import's window
    day_rules = [dv for dv in wb["events"].data_validations.dataValidation if str(dv.sqref).startswith("C2")]
    assert (day_rules[0].type, day_rules[0].formula1, day_rules[0].formula2) == ("whole", "-365", "3650")
    readme = "\n".join(str(c.value) for row in wb["README"].iter_rows() for c in row if c.value)
    assert "whole days from the index day" in readme and "sheet measurements" in readme
    assert "F, M" in readme  # the sex codes, listed from the check


def test_filled_template_validates(tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path)
    with pytest.raises(PackageError) as refused:
        Registry.validate(path)
    assert [str(p) for p in refused.value.problems] == [
        "sheet documents, row 2, column C (citation): required field is missing or empty"
    ]
    wb = openpyxl.load_workbook(path)
    wb["documents"]["C2"] = "Me. My paper. 2024."
    wb["sources"].append(["s-title", "paper", "Title", None, None])
    wb["patients"].append([1, None, "F", 61.5, None, None, None, "s-title"])  # id typed as a number
    wb.save(path)
    # one row each: the study, its document, a source, a patient
    assert Registry.validate(path).summary() == "my-study-2024: is valid (4 rows in 4 tables)"
    result = run("validate", str(path))
    assert result.exit_code == 0 and result.stdout == "my-study-2024: is valid (4 rows in 4 tables)\n"


# ---- what Excel does to cells -----------------------------------------------------------------


def test_excel_coercions_are_undone(empty_registry, tmp_path):
    """A whole number in a text column is its digits (patient 7 -> '7'), 3.0 in a day column is
    day 3, an empty string is not reported, text stays text ('001')."""
    path = tmp_path / "c.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    wb["documents"]["C2"] = "Me. My paper. 2024."
    wb["sources"].append(["s-title", "paper", "Title", "", None])
    wb["patients"].append([7, None, "M", 70, "", None, None, "s-title"])
    wb["patients"].append(["001", None, "F", 61.5, 80.25, None, None, "s-title"])
    wb["events"].append([7, "death", 3.0, None, None, None, "s-title"])
    wb["durations"].append(["001", "hospital", 12, "admission", True, "s-title"])
    wb["study"]["B6"] = 2024.0  # year (row 6: study_id, title, authors, journal, year)
    wb.save(path)
    empty_registry.import_package(path)
    assert empty_registry.sql("SELECT patient_id, sex, age_years, weight_kg FROM patients ORDER BY 1").rows() == [
        ("001", "F", 61.5, 80.25), ("7", "M", 70.0, None)]
    assert empty_registry.sql("SELECT patient_id, event, day FROM events").rows() == [("7", "death", 3)]
    assert empty_registry.sql("SELECT ongoing FROM durations").rows() == [(True,)]
    assert empty_registry.sql("SELECT quote, year FROM sources, studies").rows() == [(None, 2024)]


def bad_workbook(tmp_path, edit):
    book = tmp_path / "bad.xlsx"
    shutil.copyfile(tmp_path / "demo.xlsx", book)
    wb = openpyxl.load_workbook(book)
    edit(wb)
    wb.save(book)
    return book


@pytest.fixture
def demo_book(demo_registry, tmp_path):
    return demo_registry.export_package("demo-2024", tmp_path / "demo.xlsx")


def test_problems_name_sheet_excel_row_and_column(demo_book, demo_registry, tmp_path):
    def edit(wb):
        wb["patients"]["E3"] = "sixty"        # weight of patient 2
        wb["patients"]["C4"] = "W"            # sex of patient 3
        wb["events"].insert_rows(3, 2)        # two empty rows: later rows keep their Excel numbers
        wb["events"]["C6"] = datetime.datetime(2020, 5, 1)  # a date where a day belongs
        wb["measurements"]["A3"] = "9"        # no patient 9
        wb["sources"]["C2"] = "Title\nand abstract"  # a line break in a cell: still one row
        wb["sources"]["C3"] = None            # locator is required
    book = bad_workbook(tmp_path, edit)
    before = table_snapshot(demo_registry.path)
    result = run("import", str(book), "--replace", db=demo_registry.path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"Error: {book}: 5 problems; nothing was imported",
        "  sheet events, row 6, column C (day): a date: give whole days from the index day (day 0), never calendar dates (value: '2020-05-01')",
        "  sheet patients, row 3, column E (weight_kg): must be a number (value: 'sixty')",
        "  sheet sources, row 3, column C (locator): required value is empty",
        "  sheet measurements, row 3, column A (patient_id): patient_id does not name a row of sheet patients (value: '9')",
        "  sheet patients, row 4, column C (sex): sex must be F or M (leave it empty when the paper does not report it) (value: 'W')",
    ]
    assert table_snapshot(demo_registry.path) == before


def test_sheet_level_problems(demo_book, tmp_path):
    def edit(wb):
        wb.create_sheet("patient")   # a misspelt sheet would otherwise be ignored silently
        wb.remove(wb["sources"])
        wb["study"]["B6"] = "twenty"  # year
    book = bad_workbook(tmp_path, edit)
    with pytest.raises(PackageError) as refused:
        Registry.validate(book)
    shown = [str(p) for p in refused.value.problems]
    assert shown[0].startswith("sheet patient: unknown sheet (did you mean patients?)")
    assert "sheet study, row 6, column B (value of year): must be of type INTEGER (value: 'twenty')" in shown
    assert "sheet sources: missing required sheet: every row names its source in sheet sources" in shown


def test_formula_cells_are_refused(demo_book, tmp_path):
    def edit(wb):
        wb["patients"]["D2"] = "=40+10"  # openpyxl stores a text starting with = as a formula, as Excel does
    book = bad_workbook(tmp_path, edit)
    with pytest.raises(PackageError) as refused:
        Registry.validate(book)
    assert [str(p) for p in refused.value.problems] == [
        ("sheet patients, row 2, column D (age_years): a formula: type the value itself (copy, then Paste "
         "Special > Values) (value: '=40+10')")
    ]


def test_not_a_workbook(tmp_path):
    (tmp_path / "x.xlsx").write_text("not a zip")
    result = run("validate", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {tmp_path / 'x.xlsx'}: 1 problem; nothing was imported\n  x.xlsx: cannot be read as an Excel workbook")


def test_cli_template_export_import(demo_registry, _templates, tmp_path):
    assert run("template", str(tmp_path / "t.xlsx")).stdout.startswith(f"template written to {tmp_path / 't.xlsx'}")
    exported = run("export-package", "demo-2024", str(tmp_path / "d.xlsx"), db=demo_registry.path)
    assert exported.stdout == f"demo-2024: written to {tmp_path / 'd.xlsx'}\n"
    fresh = fresh_registry(_templates, tmp_path)
    imported = run("import", str(tmp_path / "d.xlsx"), db=fresh.path)
    # the demo package holds 72 rows in 18 tables (README)
    assert imported.exit_code == 0 and imported.stdout == "demo-2024: imported (72 rows in 18 tables)\n"
    assert DEMO.exists()
