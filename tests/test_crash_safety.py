"""Crash safety: `registry import` killed with SIGKILL at random points leaves a whole registry.

A generated package (the demo plus 1,000 patients x 200 days = 200,000 measurement rows) is
imported by a real `registry` process that is killed after a random delay, spread over the whole
run (start-up, loading, checks, commit, checkpoint, after the end). The registry must then open,
hold the study whole or not at all (every table's rows equal to the package's, or none), leave
another study untouched, and pass the registry's own check (`registry check`, through
tests/crash_packages.integrity_problems: references, day order, import_log matches the content).
The same for `--replace`: the old version or the new one, never a mix. scripts/kill_imports.py
runs many more kill points.
"""

from __future__ import annotations

import random
from pathlib import Path

import crash_packages as cp
import pytest

from registry import Registry

KILL_POINTS = 4  # per test; each costs a process start and part of an import


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> dict[str, Path]:
    """Packages A and B of the same study (B: other values, 1,000 fewer rows) and a registry
    holding another study."""
    base = tmp_path_factory.mktemp("crash")
    packages = {
        "A": cp.make_big_package(base / "a" / "demo-2024", days=200),
        "B": cp.make_big_package(base / "b" / "demo-2024", days=199, shift=1),
    }
    registry, _ = Registry.create(base / "base.duckdb", packages=[cp.other_study(base / "other" / "other-2024")])
    return {**packages, "base": registry.path, "dir": base}


def _full_run(db: Path, args: list[str]) -> float:
    killed, seconds = cp.run_and_kill(db, args, delay=600)
    assert not killed
    return seconds


def _kill_at_random_points(db: Path, baseline: Path, args: list[str], allowed: dict[str, cp.Version], seconds: float, seed: str):
    other = cp.versions_of(baseline)["other-2024"]
    outcomes = []
    for delay in cp.stratified_delays(KILL_POINTS, 0.3, seconds * 1.1, random.Random(seed)):
        cp.copy_registry(baseline, db)
        killed, _ = cp.run_and_kill(db, args, delay)
        name, problems = cp.check_after_kill(db, allowed)
        assert not problems, f"killed after {delay:.2f} s: {problems}"
        assert cp.versions_of(db)["other-2024"] == other, "another study changed"
        outcomes.append((round(delay, 2), killed, name))
    return outcomes


def test_killed_import_leaves_the_study_whole_or_absent(big, tmp_path):
    db = cp.copy_registry(big["base"], tmp_path / "registry.duckdb")
    seconds = _full_run(db, ["import", str(big["A"])])
    whole = cp.versions_of(db)[cp.STUDY]
    assert dict(whole.counts)["measurements"] == 200_011 and dict(whole.counts)["patients"] == 1_004
    assert cp.check_after_kill(db, {"A": whole}) == ("A", [])
    none = cp.study_version_of(big["base"])  # the study's rows where it is absent: none
    assert none.empty
    outcomes = _kill_at_random_points(db, big["base"], ["import", str(big["A"])], {"none": none, "A": whole}, seconds, "import")
    print(f"import ran {seconds:.1f} s; kill points (delay, killed, state after): {outcomes}")


def test_killed_replace_leaves_the_old_or_the_new_version(big, tmp_path):
    with_a = cp.copy_registry(big["base"], tmp_path / "with-a.duckdb")
    _full_run(with_a, ["import", str(big["A"])])
    old = cp.versions_of(with_a)[cp.STUDY]
    db = cp.copy_registry(with_a, tmp_path / "registry.duckdb")
    seconds = _full_run(db, ["import", str(big["B"]), "--replace"])
    new = cp.versions_of(db)[cp.STUDY]
    assert old != new and dict(new.counts)["measurements"] == 199_011
    outcomes = _kill_at_random_points(db, with_a, ["import", str(big["B"]), "--replace"], {"A": old, "B": new}, seconds, "replace")
    print(f"replace ran {seconds:.1f} s; kill points (delay, killed, state after): {outcomes}")


def test_integrity_check_finds_a_broken_registry(big, tmp_path):
    """The check itself: an orphan measurement and a stale import_log are found."""
    import duckdb

    db = cp.copy_registry(big["base"], tmp_path / "registry.duckdb")
    con = duckdb.connect(str(db))
    try:
        assert cp.integrity_problems(con) == []
        con.execute("INSERT INTO measurements SELECT * REPLACE ('999' AS patient_id) FROM measurements LIMIT 1")
        problems = cp.integrity_problems(con)
    finally:
        con.close()
    assert problems == [
        "other-2024: 1 row of measurements names patient '999', who is not in patients",
        "other-2024: import_log (import_id 1) row counts differ from the rows: measurements logged 11, found 12",
    ]
