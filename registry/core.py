"""The library API: a registry is one DuckDB file. The CLI (cli.py) is a thin layer over this.

    reg = Registry("registry.duckdb")          # an existing registry
    Registry.create("new.duckdb", empty=True)  # a new one
    reg.import_package("packages/perez-2023")
    reg.query("survival_at", day=28).df()
    reg.sql("SELECT * FROM study_overview").arrow()
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from . import guard, importer, resources, sqlfiles
from . import upgrade as schema_upgrade
from .errors import (
    NoRegistry,
    QueryError,
    RegistryError,
    RegistryExists,
    RegistryLocked,
    UnknownName,
)
from .importer import ImportResult, sql_string
from .package import read_package
from .progress import Progress
from .schema import SCHEMA_VERSION, table_columns

DEFAULT_DB = "registry.duckdb"
LOCK_WAIT_SECONDS = float(os.environ.get("REGISTRY_LOCK_WAIT", "5"))


@dataclass
class QueryResult:
    """Rows of a query, as an Arrow table; `.df()` gives pandas, `.rows()` plain tuples."""

    table: pa.Table

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def arrow(self) -> pa.Table:
        return self.table

    def df(self):  # -> pandas.DataFrame (pandas is imported lazily: it costs ~0.5 s)
        return self.table.to_pandas()

    def rows(self) -> list[tuple[Any, ...]]:
        columns = [self.table.column(i).to_pylist() for i in range(self.table.num_columns)]
        return list(zip(*columns)) if columns else []

    def __len__(self) -> int:
        return self.table.num_rows


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting a bounded time while another process holds it."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            # the registry reports its own progress (registry.progress); DuckDB's bar would also be
            # written to stderr when that is not a terminal
            con.execute("SET enable_progress_bar = false")
            return con
        except duckdb.IOException as error:
            text = str(error)
            if "lock" not in text.lower():
                raise RegistryError(f"cannot open {path}: {text.splitlines()[0]}") from None
            if time.monotonic() >= deadline:
                raise RegistryLocked(
                    f"the registry is being written by another process; try again ({path})"
                ) from None
            time.sleep(0.1)


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view of sql/views, in dependency order, with its header as comments."""
    for view in sqlfiles.load_views():
        con.execute(view.body)
        con.execute(f"COMMENT ON VIEW {view.name} IS {sql_string(view.description)}")
        for column, meaning in view.columns.items():
            con.execute(f"COMMENT ON COLUMN {view.name}.{column} IS {sql_string(meaning)}")


class Registry:
    """A registry file. Reading methods open read-only connections; writers take the file's lock."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DB, *, notify: Callable[[str], None] | None = None):
        self.path = Path(path)
        # told when a writing method upgrades an older registry (the CLI prints it to stderr)
        self.notify = notify
        self.upgraded: schema_upgrade.Upgraded | None = None
        if not self.path.exists():
            raise NoRegistry(f"no registry at {self.path}: create one with `registry init`")
        with self._read(check=False) as con:
            self._check_version(con, writing=True)  # an older one is upgraded by the first write

    # ---- creating ------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] = DEFAULT_DB,
        *,
        empty: bool = False,
        force: bool = False,
        packages: list[Path] | None = None,
    ) -> tuple[Registry, list[ImportResult]]:
        """Build a registry from schema/ and sql/ (and the bundled packages unless `empty`).

        The new file is written beside the target and renamed into place when complete, so an
        interrupted init never leaves a half-built registry (or destroys the old one).
        """
        path = Path(path)
        if path.exists() and not force:
            raise RegistryExists(
                f"{path} already exists; nothing was changed (use --force to rebuild it)"
            )
        temporary = path.with_name(path.name + ".init-tmp")
        for stale in (temporary, Path(str(temporary) + ".wal")):
            stale.unlink(missing_ok=True)
        results: list[ImportResult] = []
        con = duckdb.connect(str(temporary))
        try:
            for schema_file in resources.schema_files():
                con.execute(schema_file.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO registry_meta VALUES ('schema_version', ?), ('created_by', ?)",
                [str(SCHEMA_VERSION), f"caseregistry {_version()}"],
            )
            create_views(con)
            todo = [] if empty else (packages if packages is not None else resources.bundled_packages())
            columns = table_columns(con)
            for package_path in todo:
                results.append(importer.import_package(con, read_package(package_path, columns)))
            con.execute("CHECKPOINT")
        except BaseException:
            con.close()
            temporary.unlink(missing_ok=True)
            raise
        con.close()
        os.replace(temporary, path)
        Path(str(path) + ".wal").unlink(missing_ok=True)
        return cls(path), results

    # ---- connections ---------------------------------------------------------------------------

    @contextmanager
    def _read(self, check: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        con = _connect(self.path, read_only=True)
        try:
            if check:
                self._check_version(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = _connect(self.path, read_only=False)
        try:
            self._upgrade(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def _user(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for SQL we did not write: read-only, no file or network access."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                con = guard.connect_readonly(self.path)
                break
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                    raise RegistryLocked(
                        f"the registry is being written by another process; try again ({self.path})"
                    ) from None
                time.sleep(0.1)
        try:
            self._check_version(con)
            yield con
        finally:
            con.close()

    def _check_version(self, con: duckdb.DuckDBPyConnection, *, writing: bool = False) -> int:
        """Refuse a newer schema version; refuse an older one too unless about to write (upgrade)."""
        version = schema_upgrade.schema_version(con, self.path)
        schema_upgrade.refuse_newer(version, self.path)
        if not writing:
            schema_upgrade.refuse_older(version, self.path)
        return version

    def _upgrade(self, con: duckdb.DuckDBPyConnection) -> None:
        """A writing command on an older registry upgrades it first (backup, one transaction)."""
        done = schema_upgrade.upgrade(con, self.path)
        if done is not None:
            self.upgraded = done
            if self.notify is not None:
                self.notify(done.summary())

    def upgrade(self) -> schema_upgrade.Upgraded | None:
        """Bring an older registry to this schema version (a backup copy is written first);
        None when it is at this version already."""
        con = _connect(self.path, read_only=False)
        try:
            self._upgrade(con)
        finally:
            con.close()
        return self.upgraded

    # ---- importing -----------------------------------------------------------------------------

    def import_package(
        self, path: str | os.PathLike[str], *, replace: bool = False, dry_run: bool = False, progress: Progress | None = None
    ) -> ImportResult:
        """`progress(done, total, what)` is called before each step (see registry.progress)."""
        from . import workbook  # a directory, or an Excel workbook (.xlsx)

        with self._write() as con, workbook.open_package(path, table_columns(con)) as package:
            return importer.import_package(con, package, replace=replace, dry_run=dry_run, progress=progress)

    def remove(self, study_id: str) -> dict[str, int]:
        """Delete a study; its last version stays recoverable with restore(). Returns rows removed."""
        from . import audit

        with self._write() as con:
            self._require_study(con, study_id)
            con.execute("BEGIN TRANSACTION")
            try:
                removed = importer.row_counts(con, study_id)
                audit.archive(con, study_id, "removed")
                importer.delete_study(con, study_id)
                audit.record(con, study_id=study_id, action="remove", package="", package_sha256="",
                             content_hash="", row_counts={}, rows_removed=removed)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return removed

    def restore(self, study_id: str, version: int) -> ImportResult:
        """Bring back a replaced or removed version of a study (the current one is kept in turn)."""
        import tempfile

        from . import audit

        with self._write() as con:
            with tempfile.TemporaryDirectory() as scratch:
                folder = audit.unpack(con, study_id, version, Path(scratch) / study_id)
                if folder is None:
                    kept = [r[0] for r in con.execute(
                        "SELECT version FROM study_versions WHERE study_id = ? ORDER BY 1", [study_id]).fetchall()]
                    listed = ", ".join(map(str, kept)) or "none"
                    raise UnknownName(
                        f"no stored version {version} of {study_id} (kept versions: {listed}; see `registry history`)"
                    )
                package = read_package(folder, table_columns(con))
                package.path = Path(f"{study_id}@version{version}")
                return importer.import_package(con, package, replace=True, log_action="restore")

    def history(self, study_id: str | None = None) -> QueryResult:
        """The audit trail: every import, replace, restore and removal, and which versions are kept."""
        with self._read() as con:
            if study_id is not None:
                known = [r[0] for r in con.execute("SELECT DISTINCT study_id FROM import_log").fetchall()]
                if study_id not in known:
                    raise UnknownName(_unknown("study", study_id, known))
            return QueryResult(
                con.sql(
                    "SELECT l.import_id, l.study_id, l.action, l.version, l.imported_at, l.os_user, "
                    "l.package_sha256, l.row_counts, l.rows_removed, "
                    "v.version IS NOT NULL AS version_kept "
                    "FROM import_log l LEFT JOIN study_versions v "
                    "ON v.study_id = l.study_id AND v.version = l.version "
                    "WHERE $study IS NULL OR l.study_id = $study ORDER BY l.import_id",
                    params={"study": study_id},
                ).to_arrow_table()
            )

    @staticmethod
    def _require_study(con: duckdb.DuckDBPyConnection, study_id: str) -> None:
        known = [r[0] for r in con.execute("SELECT study_id FROM studies").fetchall()]
        if study_id not in known:
            raise UnknownName(_unknown("study", study_id, known))

    @staticmethod
    def validate(path: str | os.PathLike[str]) -> ImportResult:
        """Check a package against a scratch in-memory registry: never touches any file."""
        con = duckdb.connect()
        try:
            for schema_file in resources.schema_files():
                con.execute(schema_file.read_text(encoding="utf-8"))
            from . import workbook  # a directory, or an Excel workbook (.xlsx)

            with workbook.open_package(path, table_columns(con)) as package:
                result = importer.import_package(con, package, dry_run=True)
            return ImportResult(result.study_id, "valid", result.row_counts)
        finally:
            con.close()

    # ---- reading -------------------------------------------------------------------------------

    def relations(self) -> dict[str, str]:
        """Every table and view the registry offers, with its kind."""
        with self._read() as con:
            return dict(
                con.execute(
                    "SELECT table_name, 'table' FROM duckdb_tables() WHERE schema_name = 'main' "
                    "UNION ALL SELECT view_name, 'view' FROM duckdb_views() "
                    "WHERE schema_name = 'main' AND NOT internal"
                ).fetchall()
            )

    def catalog(self) -> list[tuple[str, str, str]]:
        """(kind, name, description) for every table, view and named query."""
        with self._read() as con:
            objects = con.execute(
                "SELECT 'table', table_name, coalesce(comment, '') FROM duckdb_tables() "
                "WHERE schema_name = 'main' UNION ALL "
                "SELECT 'view', view_name, coalesce(comment, '') FROM duckdb_views() "
                "WHERE schema_name = 'main' AND NOT internal ORDER BY 1, 2"
            ).fetchall()
        queries = [("query", q.name, q.description) for q in sorted(sqlfiles.load_queries().values(), key=lambda q: q.name)]
        return [tuple(o) for o in objects] + queries

    def queries(self) -> dict[str, sqlfiles.SqlFile]:
        return sqlfiles.load_queries()

    def query(self, name: str, **params: Any) -> QueryResult:
        """Run the named query `name` (sql/queries/NAME.sql) with its parameters bound."""
        queries = sqlfiles.load_queries()
        if name not in queries:
            raise UnknownName(_unknown("named query", name, queries))
        query = queries[name]
        values = _bind(query, params)
        if "study" in values and values["study"] not in (known := self.studies()):
            raise UnknownName(_unknown("study", values["study"], known))
        with self._user() as con:
            try:
                return QueryResult(con.sql(query.body, params=values).to_arrow_table())
            except duckdb.Error as error:
                raise QueryError(f"query {name} failed: {str(error).splitlines()[0]}") from None

    def sql(self, text: str) -> QueryResult:
        """Run ad-hoc SQL (DuckDB dialect) through both layers of the SQL guard."""
        relations = set(self.relations())
        safe = guard.check_query(text, relations)
        with self._user() as con:
            try:
                return QueryResult(con.sql(safe).to_arrow_table())
            except duckdb.Error as error:
                raise QueryError(f"query failed: {str(error).strip().splitlines()[0]}") from None

    def table_one(self, study_id: str) -> QueryResult:
        """A study's Table 1 recomputed from its rows (view table_one), in reading order."""
        if study_id not in (known := self.studies()):
            raise UnknownName(_unknown("study", study_id, known))
        with self._user() as con:
            return QueryResult(
                con.sql(
                    "SELECT characteristic, level, value_text AS value, statistic, note FROM table_one "
                    "WHERE study_id = $study ORDER BY sort_order",
                    params={"study": study_id},
                ).to_arrow_table()
            )

    def studies(self) -> list[str]:
        with self._read() as con:
            return [r[0] for r in con.execute("SELECT study_id FROM studies ORDER BY study_id").fetchall()]

    def check(self) -> list[str]:
        """The registry's integrity check (registry/integrity.py): one line per problem, [] when whole."""
        from . import integrity

        with self._read() as con:
            return integrity.check(con)

    # ---- exporting -----------------------------------------------------------------------------

    def export(
        self,
        out: str | os.PathLike[str],
        names: list[str] | None = None,
        *,
        tables: bool = False,
        fmt: str = "parquet",
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Write views (default), the named relations, or every base table to `out`, one file each,
        plus manifest.json (rows, column types, SHA-256 per file). Each file is written under a
        temporary name and renamed when complete, so a crash never leaves a file that looks whole."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        kinds = self.relations()
        if names:
            for name in names:
                if name not in kinds:
                    raise UnknownName(_unknown("table or view", name, kinds))
            chosen = list(names)
        else:
            wanted = "table" if tables else "view"
            chosen = sorted(n for n, k in kinds.items() if k == wanted)
        options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
        manifest: dict[str, Any] = {"format": fmt, "registry": str(self.path), "files": {}}
        with self._read() as con:
            # No memory limit here, unlike imports: COPY streams, and what needs memory is exact medians,
            # whose per-group values DuckDB cannot spill (a 1 GB limit made measurement_trajectory fail at
            # 1M patients). At 100k patients the whole export peaked at 0.9 GB.
            for number, name in enumerate(chosen):
                if progress:
                    progress(number, len(chosen), name)
                target = out / f"{name}.{fmt}"
                partial = out / f".{name}.{fmt}.partial"
                # COPY returns the rows it wrote: counting the view again would compute it twice
                rows = con.execute(f"COPY (SELECT * FROM {name}) TO {sql_string(str(partial))} ({options})").fetchone()[0]
                os.replace(partial, target)
                described = con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()
                manifest["files"][target.name] = {
                    "relation": name,
                    "kind": kinds[name],
                    "rows": rows,
                    "columns": {c[0]: c[1] for c in described},
                    "sha256": _sha256(target),
                }
        partial_manifest = out / ".manifest.json.partial"
        partial_manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(partial_manifest, out / "manifest.json")
        return manifest

    def export_package(self, study_id: str, out: str | os.PathLike[str]) -> Path:
        """Write one study back out as a case-series package directory (or a .xlsx workbook)."""
        from . import package_writer

        with self._read() as con:
            known = [r[0] for r in con.execute("SELECT study_id FROM studies").fetchall()]
            if study_id not in known:
                raise UnknownName(_unknown("study", study_id, known))
            if Path(out).suffix.lower() == ".xlsx":  # one Excel workbook instead of a directory
                from . import workbook

                return workbook.write_workbook(con, study_id, Path(out))
            return package_writer.write_package(con, study_id, Path(out))

    def schema_sql(self, dialect: str = "duckdb") -> str:
        from . import transpile

        return transpile.schema_sql(dialect)


def _version() -> str:
    from . import __version__

    return __version__


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unknown(kind: str, name: str, known) -> str:
    suggestion = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {suggestion[0]}?" if suggestion else ""
    return f"no {kind} named {name!r}{hint} (`registry list` shows them all)"


_CASTS = {"INTEGER": int, "BIGINT": int, "DOUBLE": float, "VARCHAR": str, "TEXT": str}


def _bind(query: sqlfiles.SqlFile, params: dict[str, Any]) -> dict[str, Any]:
    declared = {p.name: p for p in query.parameters}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        listed = ", ".join(declared) or "none"
        raise QueryError(f"query {query.name} has no parameter {unknown[0]!r} (its parameters: {listed})")
    values: dict[str, Any] = {}
    for name, parameter in declared.items():
        raw = params.get(name, parameter.default)
        if raw is None:
            raise QueryError(f"query {query.name} needs parameter {name} ({parameter.type}): {parameter.description}")
        if parameter.type == "BOOLEAN":
            value: Any = raw if isinstance(raw, bool) else {"true": True, "false": False}.get(str(raw).lower())
            if value is None:
                raise QueryError(f"parameter {name} must be true or false, not {raw!r}")
        else:
            cast = _CASTS.get(parameter.type, str)
            try:
                value = cast(raw)
            except (TypeError, ValueError):
                raise QueryError(f"parameter {name} must be {parameter.type}, not {raw!r}") from None
        values[name] = value
    return values


__all__ = ["DEFAULT_DB", "QueryResult", "Registry"]
