"""Importing packages: every validation rule, all-or-nothing, no-op re-import, replace, dry run."""

from __future__ import annotations


import pytest

from bad_packages import CASES
from conftest import DEMO, rows, run, table_snapshot
from registry import PackageError, Registry, StudyExists


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validation_rule(case, demo_package):
    """Each broken package is refused with its first problem named exactly; valid variants pass."""
    case.mutate(demo_package)
    if not case.expected:
        assert Registry.validate(demo_package).action == "valid"
        return
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    first = str(raised.value.problems[0])
    if case.name in ("yaml-syntax", "yaml-unknown-field", "yaml-no-documents"):
        assert first.startswith(case.expected)  # the rest is the parser's text / the field list
    else:
        assert first == case.expected


@pytest.mark.parametrize("case", [c for c in CASES if c.expected], ids=[c.name for c in CASES if c.expected])
def test_failed_import_leaves_every_table_unchanged(case, demo_package, demo_registry):
    """A refused import (into a registry already holding the demo study, under a new study id so
    that it is a fresh import) rolls back completely: every table holds exactly what it held."""
    case.mutate(demo_package)
    study = demo_package / "study.yaml"
    if study.exists():
        study.write_text(study.read_text(encoding="utf-8", errors="replace").replace("demo-2024", "demo-copy"))
    before = table_snapshot(demo_registry.path)
    with pytest.raises(PackageError):
        demo_registry.import_package(demo_package)
    assert table_snapshot(demo_registry.path) == before


def test_cli_reports_problems_with_exit_1_and_no_traceback(demo_package, empty_registry):
    (demo_package / "patients.csv").write_text(
        (demo_package / "patients.csv").read_text().replace("2,msc,M,60", "2,msc,Q,sixty")
    )
    result = run("import", str(demo_package), db=empty_registry.path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {demo_package}: 2 problems; nothing was imported\n"
        "  patients.csv, row 3, column age_years: must be a number (value: 'sixty')\n"
        "  patients.csv, row 3, column sex: sex must be F or M (leave it empty when the paper does not report it)"
        " (value: 'Q')\n"
    )
    assert "Traceback" not in result.output


def test_every_problem_is_listed(demo_package):
    """Three independent problems in three files are all reported, not just the first."""
    for name, old, new in [
        ("patients.csv", "1,msc,F,50", "1,msc,W,50"),
        ("measurements.csv", "1,7,,spo2,95", "1,7,,spo2,195"),
        ("events.csv", "4,hospital_discharge", "4,hospital_exit"),
    ]:
        path = demo_package / name
        path.write_text(path.read_text().replace(old, new))
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    assert sorted((p.file, p.row, p.column) for p in raised.value.problems) == [
        ("events.csv", 9, "event"),
        ("measurements.csv", 6, "value"),
        ("patients.csv", 2, "sex"),
    ]


def test_last_row_bad_leaves_registry_unchanged(demo_package, empty_registry):
    """The style guide's test: the very last row of the last file is bad; nothing at all is written."""
    with (demo_package / "missing_content.csv").open("a") as handle:
        handle.write("m-fig2,nodoc,Figure 2,an image\n")
    before = table_snapshot(empty_registry.path)
    with pytest.raises(PackageError, match="document_id does not name a row of study.yaml"):
        empty_registry.import_package(demo_package)
    assert table_snapshot(empty_registry.path) == before


def test_reimport_of_same_content_is_a_noop(demo_registry, demo_package, tmp_path):
    """Same rows in another order, with CRLF line endings and a BOM: still the same content."""
    patients = demo_package / "patients.csv"
    header, *body = patients.read_text().splitlines()
    patients.write_bytes(("\ufeff" + "\r\n".join([header, *reversed(body)]) + "\r\n").encode("utf-8"))
    before = table_snapshot(demo_registry.path)
    result = demo_registry.import_package(demo_package)
    assert result.action == "unchanged"
    assert table_snapshot(demo_registry.path) == before
    cli = run("import", str(demo_package), db=demo_registry.path)
    assert cli.exit_code == 0
    assert cli.stdout == "demo-2024: already holds this content: nothing changed (72 rows in 18 tables)\n"


def test_changed_package_is_refused_without_replace(demo_registry, demo_package):
    patients = demo_package / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80", "4,msc,M,81"))
    before = table_snapshot(demo_registry.path)
    with pytest.raises(StudyExists, match="use --replace"):
        demo_registry.import_package(demo_package)
    assert table_snapshot(demo_registry.path) == before
    cli = run("import", str(demo_package), db=demo_registry.path)
    assert cli.exit_code == 1 and "already in the registry with different content" in cli.stderr


def test_replace_swaps_the_study(demo_registry, demo_package):
    patients = demo_package / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80", "4,msc,M,81"))
    (demo_package / "findings.csv").unlink()
    result = demo_registry.import_package(demo_package, replace=True)
    assert result.action == "replaced"
    assert rows(demo_registry, "SELECT age_years FROM patients WHERE patient_id = '4'") == [(81.0,)]
    assert rows(demo_registry, "SELECT count(*) FROM findings") == [(0,)]
    assert rows(demo_registry, "SELECT action FROM import_log ORDER BY import_id") == [("import",), ("replace",)]


def test_failed_replace_keeps_the_old_version(demo_registry, demo_package):
    patients = demo_package / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80", "4,msc,M,999"))
    before = table_snapshot(demo_registry.path)
    with pytest.raises(PackageError, match="age_years must lie between 0 and 120"):
        demo_registry.import_package(demo_package, replace=True)
    assert table_snapshot(demo_registry.path) == before


def test_dry_run_writes_nothing(empty_registry):
    before = table_snapshot(empty_registry.path)
    result = run("import", str(DEMO), "--dry-run", db=empty_registry.path)
    assert result.exit_code == 0
    assert result.stdout == "demo-2024: is valid and would be imported (dry run: nothing written) (72 rows in 18 tables)\n"
    assert table_snapshot(empty_registry.path) == before


def test_import_log_records_the_package(demo_registry):
    (row,) = rows(demo_registry, "SELECT study_id, action, package, length(package_sha256), length(content_hash), row_counts FROM import_log")
    assert row[:2] == ("demo-2024", "import") and row[2].endswith("demo-2024")
    assert row[3:5] == (64, 64)
    assert '"measurements": 11' in row[5] and '"patients": 4' in row[5]


def test_values_are_converted_to_the_canonical_unit(demo_registry):
    """CRP 5 mg/dL x 10 = 50 mg/L; SpO2 % unchanged."""
    assert rows(
        demo_registry,
        "SELECT analyte, value, unit, value_canonical FROM measurements WHERE patient_id = '1' AND day = 0 ORDER BY analyte",
    ) == [("crp", 5.0, "mg/dL", 50.0), ("spo2", 90.0, "%", 90.0)]


def test_each_unit_has_one_conversion(empty_registry):
    """The import joins unit_conversions on (analyte, unit): a second row for a pair would double
    every measurement in that unit, so the catalog must hold each pair once."""
    assert rows(empty_registry, "SELECT analyte, unit FROM unit_conversions GROUP BY ALL HAVING count(*) > 1") == []
    # and the catalog is not empty: spo2 in % is there, converted by 1 + 0
    assert rows(empty_registry, "SELECT factor, \"offset\" FROM unit_conversions WHERE analyte = 'spo2' AND unit = '%'") == [(1.0, 0.0)]


def test_unknown_unit_is_refused_by_name(demo_package):
    """With the conversion a join, an unknown unit leaves value_canonical NULL: the diagnosis must
    still name the unit rule, not the derived column."""
    path = demo_package / "measurements.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    unit = header.index("unit")
    cells = lines[1].split(",")
    cells[unit] = "furlongs"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PackageError) as error:
        Registry.validate(demo_package)
    message = str(error.value)
    assert "measurements.csv, row 2, column unit: unit is not known for this analyte" in message
    assert "value_canonical" not in message


def test_json_and_toml_study_files(demo_package, tmp_path):
    """study.json / study.toml carry the same metadata as study.yaml."""
    import json

    import yaml

    data = yaml.safe_load((demo_package / "study.yaml").read_text())
    (demo_package / "study.yaml").unlink()
    (demo_package / "study.json").write_text(json.dumps(data))
    assert Registry.validate(demo_package).action == "valid"


def test_not_a_directory(tmp_path):
    with pytest.raises(PackageError, match="a package is a directory holding study.yaml and CSV files"):
        Registry.validate(tmp_path / "nothing-here")


def test_validate_never_touches_the_registry(demo_package, empty_registry):
    before = empty_registry.path.read_bytes()
    result = run("validate", str(demo_package), db=empty_registry.path)
    assert result.exit_code == 0 and result.stdout == "demo-2024: is valid (72 rows in 18 tables)\n"
    assert empty_registry.path.read_bytes() == before
