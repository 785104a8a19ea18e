"""Nothing lost: the audit trail, and removed or replaced versions that can be restored."""

from __future__ import annotations

import json

import pytest

from conftest import rows, table_snapshot
from registry import UnknownName


def _age_81(package):
    path = package / "patients.csv"
    path.write_text(path.read_text().replace("4,msc,M,80", "4,msc,M,81"))


def test_import_is_logged_with_user_checksum_and_counts(demo_registry):
    (row,) = rows(demo_registry, "SELECT action, version, os_user, length(package_sha256), row_counts, rows_removed FROM import_log")
    action, version, user, digest_length, counts, removed = row
    assert (action, version, digest_length, removed) == ("import", 1, 64, None)
    assert user and json.loads(counts)["measurements"] == 11


def test_replace_keeps_the_old_version_and_restore_brings_it_back(demo_registry, demo_package):
    """v1 (age 80) -> replace with v2 (age 81): v1 is archived. restore v1 -> v3 with age 80,
    and v2 is archived in turn. Every step is in the log with rows added and removed."""
    _age_81(demo_package)
    demo_registry.import_package(demo_package, replace=True)
    assert rows(demo_registry, "SELECT age_years FROM patients WHERE patient_id = '4'") == [(81.0,)]
    result = demo_registry.restore("demo-2024", 1)
    assert result.action == "restored" and result.summary() == "demo-2024: restored (72 rows in 18 tables)"
    assert rows(demo_registry, "SELECT age_years FROM patients WHERE patient_id = '4'") == [(80.0,)]
    history = demo_registry.history("demo-2024").rows()
    assert [(h[2], h[3], h[9]) for h in history] == [("import", 1, True), ("replace", 2, True), ("restore", 3, False)]
    assert json.loads(history[1][8])["measurements"] == 11  # the replace removed v1's 11 measurements


def test_restored_version_equals_the_original(demo_registry, demo_package, tmp_path):
    """Every table's rows after replace + restore equal the rows before (import_log and archive aside)."""
    before = table_snapshot(demo_registry.path)
    _age_81(demo_package)
    demo_registry.import_package(demo_package, replace=True)
    demo_registry.restore("demo-2024", 1)
    after = table_snapshot(demo_registry.path)
    for table in before:
        if table not in ("import_log", "study_versions"):
            assert after[table] == before[table], table


def test_remove_then_restore(demo_registry):
    removed = demo_registry.remove("demo-2024")
    assert removed["patients"] == 4 and removed["measurements"] == 11
    assert rows(demo_registry, "SELECT count(*) FROM patients") == [(0,)]
    assert rows(demo_registry, "SELECT action, version, rows_removed IS NOT NULL FROM import_log ORDER BY import_id") == [
        ("import", 1, False), ("remove", None, True),
    ]
    demo_registry.restore("demo-2024", 1)
    assert rows(demo_registry, "SELECT count(*) FROM measurements") == [(11,)]


def test_unknown_version_or_study(demo_registry):
    with pytest.raises(UnknownName, match=r"no stored version 7 of demo-2024 \(kept versions: none"):
        demo_registry.restore("demo-2024", 7)
    with pytest.raises(UnknownName, match="did you mean demo-2024"):
        demo_registry.remove("demo-2025")


def test_a_noop_reimport_with_replace_archives_nothing(demo_registry):
    from conftest import DEMO

    assert demo_registry.import_package(DEMO, replace=True).action == "unchanged"
    assert rows(demo_registry, "SELECT count(*) FROM study_versions") == [(0,)]
