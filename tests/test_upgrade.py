"""Schema versions and `registry upgrade`, on a real registry made by schema version 1.

tests/data/registry-v1.duckdb.gz is a registry built by caseregistry 0.1.0 at schema version 1
(commit b41c282 and the work tree of 23 Nov 2026, before the age_90_plus column): the demo study
imported, then imported again with patient 4's weight stated (82 kg) with --replace, so that
version 1 is archived in study_versions. It is stored gzipped (12 MB of mostly empty DuckDB
blocks; 176 kB compressed). What it holds, from the demo package: 4 patients aged 50, 60, 70 and
80 (median 65), 11 measurements, 8 events; import_log entries 1 (import) and 2 (replace).
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import DEMO, ROOT, run, table_snapshot

import registry.upgrade
from registry import Registry, SchemaVersionError
from registry.schema import SCHEMA_VERSION

V1 = ROOT / "tests" / "data" / "registry-v1.duckdb.gz"
NEEDS_UPGRADE = "was made by schema version 1; run `registry upgrade` (a backup is written first) to bring it to version 2"


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    path = tmp_path / "registry.duckdb"
    with gzip.open(V1, "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def _meta(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT key, value FROM registry_meta").fetchall())
    finally:
        con.close()


def _columns(path: Path, table: str) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    finally:
        con.close()


def test_the_stored_v1_registry_is_small_and_version_1(v1):
    assert V1.stat().st_size < 1_000_000
    assert _meta(v1)["schema_version"] == "1"
    assert "age_90_plus" not in _columns(v1, "patients")
    assert SCHEMA_VERSION == 2


@pytest.mark.parametrize(
    "args",
    [["list"], ["query", "study_overview"], ["query", "survival_at", "-p", "day", "28"], ["sql", "SELECT 1"],
     ["history"], ["check"], ["table1", "demo-2024"], ["export", "--out", "OUT"]],
)
def test_reading_commands_refuse_an_old_registry_and_change_nothing(v1, args, tmp_path):
    before = v1.read_bytes()
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = run(*args, db=v1)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {v1} {NEEDS_UPGRADE}\n"
    assert v1.read_bytes() == before
    assert sorted(p.name for p in v1.parent.iterdir() if p.name.startswith("registry")) == ["registry.duckdb"]


def test_upgrade_writes_a_backup_then_upgrades_keeping_every_row(v1):
    before = table_snapshot(v1)
    result = run("upgrade", db=v1)
    assert result.exit_code == 0, result.stderr
    backup = v1.with_name("registry.duckdb.v1.bak")
    assert result.stdout == f"{v1}: upgraded from schema version 1 to 2; the old file is kept as {backup}\n"
    # the backup is the old registry: version 1, no new column, the same rows
    assert _meta(backup)["schema_version"] == "1"
    assert "age_90_plus" not in _columns(backup, "patients")
    assert table_snapshot(backup) == before
    # the upgraded one: version 2, the new column last (as schema/001_tables.sql has it), all NULL
    assert _meta(v1)["schema_version"] == "2" and _meta(v1)["upgraded_from"] == "schema version 1"
    assert _columns(v1, "patients")[-1] == "age_90_plus"
    after = table_snapshot(v1)
    assert {t: len(r) for t, r in after.items() if t != "registry_meta"} == {
        t: len(r) for t, r in before.items() if t != "registry_meta"
    }
    assert after["patients"] == [row + (None,) for row in before["patients"]]
    for table in set(before) - {"patients", "registry_meta"}:
        assert after[table] == before[table], table
    # the views are this version's, over the old rows: ages 50, 60, 70, 80 -> median 65
    upgraded = Registry(v1)
    assert upgraded.sql(
        "SELECT n_patients, age_median, age_min, age_max, n_age_90_plus FROM study_overview"
    ).rows() == [(4, 65.0, 50.0, 80.0, 0)]
    # content hashes were kept (the new column counts only where set): the check passes
    assert upgraded.check() == []
    # the archived version 1 (weight of patient 4 not stated) can be restored
    assert upgraded.restore("demo-2024", 1).action == "restored"
    assert upgraded.sql("SELECT weight_kg FROM patients WHERE patient_id = '4'").rows() == [(None,)]
    # a second upgrade has nothing to do
    again = run("upgrade", db=v1)
    assert again.exit_code == 0 and again.stdout == f"{v1}: already at schema version 2; nothing to do\n"


def test_a_writing_command_upgrades_first_and_says_where_the_backup_is(v1):
    result = run("remove", "demo-2024", db=v1)
    assert result.exit_code == 0, result.stderr
    backup = v1.with_name("registry.duckdb.v1.bak")
    assert result.stderr == f"{v1}: upgraded from schema version 1 to 2; the old file is kept as {backup}\n"
    assert result.stdout.startswith("demo-2024: removed (")
    assert _meta(v1)["schema_version"] == "2"
    assert Registry(backup.parent / backup.name).path.exists()  # opens (older: writes would upgrade it)
    con = duckdb.connect(str(backup), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM patients").fetchone() == (4,)
    finally:
        con.close()


def test_a_re_import_of_the_same_content_after_upgrade_changes_nothing(v1, tmp_path):
    """The v1 registry holds the demo with patient 4 at 82 kg; that package again is a no-op."""
    package = shutil.copytree(DEMO, tmp_path / "demo-2024")
    patients = package / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80,,,ward", "4,msc,M,80,82,,ward"))
    result = run("import", str(package), db=v1)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "demo-2024: already holds this content: nothing changed (72 rows in 18 tables)\n"


def test_a_failing_step_leaves_the_registry_as_it_was(v1, tmp_path, monkeypatch):
    """A step that fails halfway (after its ALTER TABLE) is rolled back whole."""
    bad = tmp_path / "002_bad.sql"
    bad.write_text("ALTER TABLE patients ADD COLUMN age_90_plus BOOLEAN;\nSELECT error('step failed');\n")
    monkeypatch.setattr(registry.upgrade, "steps", lambda: {2: bad})
    before = table_snapshot(v1)
    with pytest.raises(duckdb.Error, match="step failed"):
        Registry(v1).upgrade()
    assert _meta(v1)["schema_version"] == "1"
    assert "age_90_plus" not in _columns(v1, "patients")
    assert table_snapshot(v1) == before


def test_a_newer_registry_is_refused(demo_registry):
    con = duckdb.connect(str(demo_registry.path))
    con.execute("UPDATE registry_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    message = (
        f"Error: {demo_registry.path} was made by a newer caseregistry (schema version 3; this one reads "
        "version 2): upgrade caseregistry to use it\n"
    )
    for args in (["list"], ["upgrade"], ["remove", "demo-2024"], ["check"]):
        result = run(*args, db=demo_registry.path)
        assert (result.exit_code, result.stderr) == (1, message), args
    with pytest.raises(SchemaVersionError):
        Registry(demo_registry.path)


def test_every_step_file_is_named_after_the_version_it_leads_to():
    steps = registry.upgrade.steps()
    assert sorted(steps) == list(range(2, SCHEMA_VERSION + 1))
    assert steps[2].name == "002_age_90_plus.sql"
