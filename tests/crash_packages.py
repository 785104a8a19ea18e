"""Crash safety: large generated packages, `registry import` processes killed with SIGKILL, and the
checks a registry must pass afterwards (tests/test_crash_safety.py, scripts/kill_imports.py).

After any kill the registry must open, hold the study either whole (every table's rows equal to
one version of the package) or not at all, and pass `registry check` (`integrity_problems`):
references, day order and every other import rule, and each study's latest import_log entry
stating its current row counts and content hash.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "data" / "packages" / "demo-2024"
STUDY = "demo-2024"


def make_big_package(target: Path, patients: int = 1000, days: int = 200, shift: int = 0) -> Path:
    """The demo package plus `patients` generated patients with a SpO2 value on each of `days`
    days (patients x days measurement rows), written by DuckDB's COPY. `shift` changes the
    values, so that two packages with equal counts still differ."""
    shutil.copytree(DEMO, target)
    con = duckdb.connect()
    try:
        con.execute(
            f"""COPY (
                SELECT * FROM read_csv('{DEMO / "measurements.csv"}', all_varchar = true)
                UNION ALL
                SELECT CAST(p + 5 AS VARCHAR), CAST(d AS VARCHAR), NULL, 'spo2',
                       CAST(80 + (p + d + {int(shift)}) % 20 AS VARCHAR), '%', 'room air', 's-table'
                FROM range({int(patients)}) a(p), range({int(days)}) b(d)
            ) TO '{target / "measurements.csv"}' (HEADER, DELIMITER ',')"""
        )
        con.execute(
            f"""COPY (
                SELECT * FROM read_csv('{DEMO / "patients.csv"}', all_varchar = true)
                UNION ALL
                SELECT CAST(p + 5 AS VARCHAR), 'msc', NULL, NULL, NULL, NULL, NULL, 's-table'
                FROM range({int(patients)}) a(p)
            ) TO '{target / "patients.csv"}' (HEADER, DELIMITER ',')"""
        )
    finally:
        con.close()
    return target


@dataclass(frozen=True)
class Version:
    """What a study holds: rows per table and the importer's content hash."""

    counts: tuple[tuple[str, int], ...]
    content_hash: str

    @property
    def empty(self) -> bool:
        return all(n == 0 for _, n in self.counts)


def study_version(con: duckdb.DuckDBPyConnection, study_id: str = STUDY) -> Version:
    from registry.importer import content_hash, row_counts

    return Version(tuple(sorted(row_counts(con, study_id).items())), content_hash(con, study_id))


def integrity_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What is wrong with a registry's rows (empty: nothing): the registry's own check, the one
    `registry check` runs (registry/integrity.py)."""
    from registry import integrity

    return integrity.check(con)


def registry_command(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "registry.cli", "--db", str(db), *args]


def run_and_kill(db: Path, args: list[str], delay: float) -> tuple[bool, float]:
    """Start `registry ARGS`, SIGKILL it after `delay` seconds; (was it killed, seconds run)."""
    started = time.monotonic()
    process = subprocess.Popen(
        registry_command(db, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        process.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed = True
    if not killed and process.returncode != 0:
        raise AssertionError(f"registry {' '.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return killed, time.monotonic() - started


def check_after_kill(db: Path, allowed: dict[str, Version]) -> tuple[str, list[str]]:
    """Open the registry as a user would and name the version it holds; (version name, problems)."""
    from registry import Registry

    problems: list[str] = []
    try:
        Registry(db)  # opens, checks the schema version
    except Exception as error:  # noqa: BLE001 - any failure to open is the finding
        return "unopenable", [f"the registry does not open: {error!r}"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        version = study_version(con)
        problems += integrity_problems(con)
    finally:
        con.close()
    # a writer opening it next (the next import) sees the same, and can write
    con = duckdb.connect(str(db))
    try:
        if study_version(con) != version:
            problems.append("a writable connection sees other rows than a read-only one")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    names = [name for name, v in allowed.items() if v == version]
    if not names:
        counts = dict(version.counts)
        problems.append(f"the study is neither whole nor absent: {counts}")
        return "mixed", problems
    return names[0], problems


def copy_registry(source: Path, target: Path) -> Path:
    for stale in (target, Path(f"{target}.wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    if Path(f"{source}.wal").exists():
        shutil.copyfile(f"{source}.wal", f"{target}.wal")
    return target


def other_study(target: Path) -> Path:
    """The demo package under another study id: a study no import here may touch."""
    shutil.copytree(DEMO, target)
    study = target / "study.yaml"
    study.write_text(study.read_text(encoding="utf-8").replace("study_id: demo-2024", "study_id: other-2024"), encoding="utf-8")
    return target


def versions_of(db: Path) -> dict[str, Version]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {s: study_version(con, s) for (s,) in con.execute("SELECT study_id FROM studies").fetchall()}
    finally:
        con.close()


def stratified_delays(count: int, low: float, high: float, rng) -> list[float]:
    """`count` random delays, one in each of `count` equal slices of low..high."""
    width = (high - low) / count
    return [low + width * (i + rng.random()) for i in range(count)]


def study_version_of(db: Path, study_id: str = STUDY) -> Version:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return study_version(con, study_id)
    finally:
        con.close()
