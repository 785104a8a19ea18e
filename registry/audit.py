"""Nothing lost: every write to a study is logged, and every version it replaces is kept.

A superseded version is stored as the package it was (registry export-package, zipped), so a
restore is an ordinary import of that package, checked by the same rules.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import __version__


def current_version(con: duckdb.DuckDBPyConnection, study_id: str) -> int | None:
    row = con.execute(
        "SELECT max(version) FROM import_log WHERE study_id = ? AND action <> 'remove'", [study_id]
    ).fetchone()
    return row[0] if row else None


def archive(con: duckdb.DuckDBPyConnection, study_id: str, reason: str) -> None:
    """Store the study's current rows as a zipped package under its current version number."""
    from .package_writer import write_package

    version = current_version(con, study_id)
    if version is None:
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_package(con, study_id, Path(scratch) / study_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
            for file in sorted(folder.iterdir()):
                bundle.write(file, file.name)
    data = buffer.getvalue()
    con.execute(
        "INSERT INTO study_versions VALUES (?, ?, ?, ?, ?, ?)",
        [study_id, version, _now(), reason, data, hashlib.sha256(data).hexdigest()],
    )


def unpack(con: duckdb.DuckDBPyConnection, study_id: str, version: int, target: Path) -> Path | None:
    """Write archived version `version` of `study_id` as a package folder; None when not kept."""
    row = con.execute(
        "SELECT package_zip FROM study_versions WHERE study_id = ? AND version = ?", [study_id, version]
    ).fetchone()
    if row is None:
        return None
    with zipfile.ZipFile(io.BytesIO(row[0])) as bundle:
        bundle.extractall(target)
    return target


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    study_id: str,
    action: str,
    package: str,
    package_sha256: str,
    content_hash: str,
    row_counts: dict[str, int],
    rows_removed: dict[str, int] | None,
) -> None:
    """Append one entry to import_log; imports, replaces and restores create a new version."""
    next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM import_log").fetchone()[0]
    version = None
    if action != "remove":
        latest = con.execute("SELECT max(version) FROM import_log WHERE study_id = ?", [study_id]).fetchone()[0]
        version = (latest or 0) + 1
    con.execute(
        "INSERT INTO import_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            next_id, study_id, action, package, package_sha256, content_hash,
            json.dumps(row_counts, sort_keys=True), _now(), __version__, version, _user(),
            json.dumps(rows_removed, sort_keys=True) if rows_removed is not None else None,
        ],
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"
