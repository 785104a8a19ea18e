"""`registry check`: a real registry file is corrupted in one way at a time (with a plain DuckDB
connection, as a stray script or a broken disk would) and the check must name exactly that.

The demo study (tests/data/packages/demo-2024) has patients 1-4; patient 4 has 1 comorbidity,
1 dose, 1 duration, 1 event, 2 measurements and 1 treatment; the study has 11 measurements.
Patient 1 is intubated on day -2 and extubated on day 5.
"""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import pytest
from conftest import DEMO, run


def _corrupt(path, *statements):
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def test_a_whole_registry_passes(demo_registry):
    assert demo_registry.check() == []
    result = run("check", db=demo_registry.path)
    assert result.exit_code == 0
    assert result.stdout == (
        f"registry ok: {demo_registry.path} (1 study; references, day order, import log and archived versions checked)\n"
    )
    assert result.stderr == ""


def test_the_bundled_registry_passes(bundled_registry):
    assert bundled_registry.check() == []


def test_a_patient_deleted_under_its_rows(demo_registry):
    """Patient 4's rows stay: one line per table naming them, and the log's patient count (4) is off."""
    _corrupt(demo_registry.path, "DELETE FROM patients WHERE patient_id = '4'")
    expected = [
        "demo-2024: 1 row of comorbidities names patient '4', who is not in patients",
        "demo-2024: 1 row of doses names patient '4', who is not in patients",
        "demo-2024: 1 row of durations names patient '4', who is not in patients",
        "demo-2024: 1 row of events names patient '4', who is not in patients",
        "demo-2024: 2 rows of measurements name patient '4', who is not in patients",
        "demo-2024: 1 row of treatments names patient '4', who is not in patients",
        "demo-2024: import_log (import_id 1) row counts differ from the rows: patients logged 4, found 3",
    ]
    assert demo_registry.check() == expected
    result = run("check", db=demo_registry.path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "".join(line + "\n" for line in expected)


def test_a_changed_row_count_in_the_log(demo_registry):
    _corrupt(
        demo_registry.path,
        "UPDATE import_log SET row_counts = replace(row_counts, '\"measurements\": 11', '\"measurements\": 12')",
    )
    assert demo_registry.check() == [
        "demo-2024: import_log (import_id 1) row counts differ from the rows: measurements logged 12, found 11"
    ]


def test_a_value_changed_outside_an_import(demo_registry):
    """Same counts, another value: only the content hash can tell."""
    _corrupt(demo_registry.path, "UPDATE measurements SET value = 91 WHERE patient_id = '1' AND day = 0")
    assert demo_registry.check() == [
        "demo-2024: import_log (import_id 1) content hash differs from the rows: a row was changed outside `registry import`"
    ]


def test_extubation_moved_before_intubation(demo_registry):
    """Day order is the import's own rule (sql/checks/events_extubation_order.sql), run on stored rows."""
    _corrupt(demo_registry.path, "UPDATE events SET day = -3 WHERE patient_id = '1' AND event = 'extubation'")
    assert demo_registry.check() == [
        "demo-2024: import_log (import_id 1) content hash differs from the rows: a row was changed outside `registry import`",
        (
            "demo-2024: events.day: extubation before the patient's first intubation (intubated on day -2 at the "
            "earliest) (value: '-3')"
        ),
    ]


def test_a_removed_study_is_absent_and_a_present_one_was_imported(demo_registry):
    """After `remove`, losing the removal's log entry makes the log claim a study that is not there."""
    demo_registry.remove("demo-2024")
    assert demo_registry.check() == []
    _corrupt(demo_registry.path, "DELETE FROM import_log WHERE action = 'remove'")
    assert demo_registry.check() == [
        "import_log says demo-2024 is there (import_id 1, import of version 1) but it is not in studies"
    ]


def test_a_tampered_archive(demo_registry, tmp_path):
    """A replace archives version 1 as a zip; one byte appended to it breaks its recorded SHA-256."""
    changed = shutil.copytree(DEMO, tmp_path / "demo-2024")
    patients = changed / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80,,,ward", "4,msc,M,80,82,,ward"))
    demo_registry.import_package(changed, replace=True)
    assert demo_registry.check() == []
    con = duckdb.connect(str(demo_registry.path))
    try:
        recorded, data = con.execute("SELECT sha256, package_zip FROM study_versions WHERE version = 1").fetchone()
        con.execute("UPDATE study_versions SET package_zip = package_zip || '\\x00'::BLOB WHERE version = 1")
    finally:
        con.close()
    now = hashlib.sha256(data + b"\x00").hexdigest()
    assert demo_registry.check() == [
        (
            f"study_versions: demo-2024 version 1 does not match its SHA-256 (recorded {recorded[:12]}…, "
            f"now {now[:12]}…): the archived package is damaged and cannot be restored safely"
        )
    ]


def test_an_unreadable_registry_is_refused_not_checked(tmp_path):
    path = tmp_path / "not-a-registry.duckdb"
    duckdb.connect(str(path)).close()
    result = run("check", db=path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path} is a DuckDB file but not a registry (no registry_meta table)\n"


@pytest.mark.parametrize("table", ["measurements"])
def test_rows_of_no_study(demo_registry, table):
    _corrupt(demo_registry.path, f"UPDATE {table} SET study_id = 'ghost-2020' WHERE patient_id = '4'")
    assert demo_registry.check() == [
        "measurements: 2 rows name study 'ghost-2020', which is not in studies",
        "demo-2024: import_log (import_id 1) row counts differ from the rows: measurements logged 11, found 9",
    ]


def test_every_integrity_rule_is_a_headed_file_returning_one_problem_column(empty_registry):
    """sql/integrity/NAME.sql: '-- NAME: description', a documented `problem` column, and that column only."""
    from registry import integrity

    rules = integrity.rules()
    assert [r.name for r in rules] == [
        "log_study_absent", "log_study_present", "references_entity", "references_patient",
        "references_source", "references_study", "versions_logged", "versions_sha256",
    ]
    con = duckdb.connect(str(empty_registry.path), read_only=True)
    try:
        for rule in rules:
            assert list(rule.columns) == ["problem"], rule.name
            assert [c[0] for c in con.execute(f"DESCRIBE {rule.body}").fetchall()] == ["problem"], rule.name
    finally:
        con.close()
