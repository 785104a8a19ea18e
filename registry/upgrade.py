"""Schema upgrades: bring a registry made by an older schema version up to this one.

Each step is a file schema/upgrades/NNN_name.sql that takes a registry from version NNN-1 to NNN;
its first line is `-- NNN_name: description`. An upgrade first writes a byte copy of the file
beside it (`registry.duckdb.v1.bak`), then runs every pending step, recreates the views and sets
the version, all in one transaction: it either happens whole or not at all.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import resources
from .errors import NoRegistry, SchemaVersionError
from .schema import SCHEMA_VERSION

_STEP = re.compile(r"^(\d{3})_(\w+)\.sql$")


@dataclass(frozen=True)
class Upgraded:
    """What an upgrade did: from and to which version, and where the old file is kept."""

    path: Path
    old: int
    new: int
    backup: Path

    def summary(self) -> str:
        return (
            f"{self.path}: upgraded from schema version {self.old} to {self.new}; "
            f"the old file is kept as {self.backup}"
        )


def steps() -> dict[int, Path]:
    """{version a step leads to: its file}, for every file of schema/upgrades/."""
    found = {}
    for path in sorted((resources.data_dir("schema") / "upgrades").glob("*.sql")):
        match = _STEP.match(path.name)
        if not match:
            raise ValueError(f"{path}: an upgrade step is named NNN_name.sql (NNN: the version it leads to)")
        found[int(match.group(1))] = path
    return found


def schema_version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The schema version a registry file was made by (0 when it does not say)."""
    try:
        # fetchall: a result left unfinished would block the next query on a guarded connection
        rows = con.execute("SELECT value FROM registry_meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:
        raise NoRegistry(f"{path} is a DuckDB file but not a registry (no registry_meta table)") from None
    return int(rows[0][0]) if rows else 0


def refuse_newer(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} was made by a newer caseregistry (schema version {version}; this one "
            f"reads version {SCHEMA_VERSION}): upgrade caseregistry to use it"
        )


def refuse_older(version: int, path: Path) -> None:
    """Reading commands do not change the file: they send the user to `registry upgrade`."""
    if version < SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} was made by schema version {version}; run `registry upgrade` "
            f"(a backup is written first) to bring it to version {SCHEMA_VERSION}"
        )


def backup_path(path: Path, version: int) -> Path:
    """`registry.duckdb.v1.bak` beside the file; never one that exists already."""
    candidate = path.with_name(f"{path.name}.v{version}.bak")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.v{version}.{number}.bak")
        number += 1
    return candidate


def upgrade(con: duckdb.DuckDBPyConnection, path: Path) -> Upgraded | None:
    """Upgrade the registry open on `con` (writable, so this process holds the file's lock).

    None when it is at this version already."""
    from .core import create_views  # core imports this module

    old = schema_version(con, path)
    refuse_newer(old, path)
    if old == SCHEMA_VERSION:
        return None
    available = steps()
    missing = [v for v in range(old + 1, SCHEMA_VERSION + 1) if v not in available]
    if old < 1 or missing:
        raise SchemaVersionError(
            f"{path} has schema version {old}, and this caseregistry has no upgrade step to "
            f"version {missing[0] if missing else old + 1}: rebuild it with `registry init --force`"
        )
    # Everything is on disk before the copy: no write-ahead log holds part of the old state.
    con.execute("CHECKPOINT")
    backup = backup_path(path, old)
    shutil.copyfile(path, backup)
    con.execute("BEGIN TRANSACTION")
    try:
        for version in range(old + 1, SCHEMA_VERSION + 1):
            con.execute(available[version].read_text(encoding="utf-8"))
        create_views(con)  # the views of this version, which may read the new columns
        con.execute(
            "UPDATE registry_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
        )
        con.execute("DELETE FROM registry_meta WHERE key = 'upgraded_from'")
        con.execute("INSERT INTO registry_meta VALUES ('upgraded_from', ?)", [f"schema version {old}"])
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return Upgraded(path, old, SCHEMA_VERSION, backup)
