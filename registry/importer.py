"""Import a case-series package: all or nothing, validated set-wise in SQL.

The fast path writes each CSV once, straight from DuckDB's typed CSV reader into the registry's
tables inside the import's transaction, then asks whether any check (sql/checks/*.sql and the
generic ones below) fails on the rows just written, with set queries (`_any_violation`). Only when
something fails does the slow, diagnostic path run: it re-reads the files as text with line
numbers and runs every check as written, so that every problem can be reported with its file,
row, column and value. Either way a failure rolls everything back.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import duckdb
import sqlglot

from . import audit, sqlfiles
from .errors import PackageError, Problem, StudyExists
from .package import CsvFile, Package
from .progress import Progress
from .schema import (
    ADDED_COLUMNS,
    CSV_TABLES,
    DERIVED_COLUMNS,
    REFERENCES,
    STUDY_TABLES,
    YAML_TABLES,
    Column,
    table_columns,
    table_keys,
)

# DuckDB's buffer limit for imports: beyond it sorts, hash tables and uncommitted rows spill to
# disk, so memory stays bounded at any size (DuckDB's default is 80% of RAM; a 1M-patient import
# without a limit had reached 5.7 GB and was still growing). Exports have none (see Registry.export).
MEMORY_LIMIT = "1GB"
DAY_COLUMNS = ("day", "day_min", "day_max", "onset_day", "start_day", "end_day")
DAY_WINDOW = (-365, 3650)

# How the importer fills derived columns, as SQL over the package's rows (aliased `src`).
DERIVED_SQL = {
    "measurements": {"value_canonical": "src.value * conv.factor + conv.\"offset\""},
    "reported_aggregates": {"value": "TRY_CAST(src.value AS DOUBLE)", "value_text": "src.value"},
}
# Catalog rows a derived column reads, joined to the file's rows `src`. A join, not a correlated
# subquery: at 10M measurement rows the subquery made the insert 1.5x slower. (analyte, unit) is
# unique in unit_conversions (tests/test_import.py), so the join keeps one row per CSV row; an
# unknown unit leaves value_canonical NULL, which its NOT NULL constraint refuses.
DERIVED_JOINS = {
    "measurements": "LEFT JOIN unit_conversions conv ON conv.analyte = src.analyte AND conv.unit = src.unit",
}
# The text a converted column was read from, for the required check.
DERIVED_TEXT = {("reported_aggregates", "value"): "value_text"}
# How to write what a user put in a number column instead: "90+" or ">89" as an age.
_TYPE_HINTS = {
    ("patients", "age_years"): "; for a patient aged 90 or older leave age_years empty and set age_90_plus to true",
}
_TYPE_WORDS = {"INTEGER": "a whole number", "DOUBLE": "a number", "BOOLEAN": "true or false (or yes/no, 1/0)"}


@dataclass
class ImportResult:
    study_id: str
    action: str  # imported | replaced | restored | unchanged | would import | would replace | valid
    row_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rows = sum(self.row_counts.values())
        verbs = {
            "imported": "imported",
            "replaced": "replaced with the new package",
            "restored": "restored",
            "unchanged": "already holds this content: nothing changed",
            "would import": "is valid and would be imported (dry run: nothing written)",
            "would replace": "is valid and would replace the stored version (dry run: nothing written)",
            "valid": "is valid",
        }
        detail = f" ({rows} rows in {len([n for n in self.row_counts.values() if n])} tables)" if rows else ""
        return f"{self.study_id}: {verbs[self.action]}{detail}"


class _Rollback(Exception):
    """Ends the import transaction without committing (dry run, no-op)."""

    def __init__(self, result: ImportResult):
        self.result = result


class _FastPathFailed(Exception):
    def __init__(self, message: str, file: str | None = None):
        super().__init__(message)
        self.file = file


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def import_package(
    con: duckdb.DuckDBPyConnection,
    package: Package,
    *,
    replace: bool = False,
    dry_run: bool = False,
    log_action: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import `package` in one transaction on `con` (a writable connection).

    `progress(done, total, what)` is called before each step (see registry.progress)."""
    if package.problems:
        raise PackageError(str(package.path), package.problems)
    steps = len(package.csv_files) + 3  # study.yaml, each file, checks, commit
    report = progress or (lambda done, total, what: None)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            result = _import_in_transaction(con, package, replace=replace, dry_run=dry_run, log_action=log_action,
                                            report=report)
            _refuse_text_problems(package)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        report(steps - 1, steps, "commit")
        con.execute("COMMIT")
        report(steps, steps, "done")
        return result
    except _Rollback as stop:
        _refuse_text_problems(package)
        return stop.result
    except _FastPathFailed as failed:
        _refuse_text_problems(package)  # DuckDB's reader may have failed on such a file
        report(steps - 1, steps, "a check failed: finding every problem")
        problems = diagnose(package)
        if not problems:  # the fast path failed on something the diagnosis does not name
            problems = [
                Problem(failed.file or package.study_file, f"could not be loaded (engine error: {_first_line(failed)})")
            ]
        raise PackageError(str(package.path), problems) from None


def _refuse_text_problems(package: Package) -> None:
    """Binary data or an over-long line (found by the package's background scan) refuse the
    package, whatever DuckDB's reader made of the file: it drops an over-long last line silently."""
    problems = package.text_problems()
    if problems:
        raise PackageError(str(package.path), problems)


def _import_in_transaction(
    con: duckdb.DuckDBPyConnection, package: Package, *, replace: bool, dry_run: bool, log_action: str | None,
    report: Progress,
) -> ImportResult:
    study_id = package.study_id
    existed = con.execute("SELECT count(*) FROM studies WHERE study_id = ?", [study_id]).fetchone()[0] > 0
    removed = None
    if existed:
        removed = row_counts(con, study_id)
        if replace and not dry_run:
            audit.archive(con, study_id, "replaced")  # rolled back with the rest if nothing changes
        delete_study(con, study_id)
    columns = table_columns(con)
    loading = package.study_file
    steps = len(package.csv_files) + 3
    try:
        report(0, steps, package.study_file)
        _insert_metadata(con, package)
        for number, (table, csv_file) in enumerate(package.csv_files.items(), start=1):
            loading = csv_file.name
            report(number, steps, csv_file.name)
            con.execute(_insert_sql(csv_file, columns[table], study_id))
    except duckdb.Error as error:
        raise _FastPathFailed(str(error), loading) from None
    report(steps - 2, steps, "checks")
    if _any_violation(con, study_id):
        raise _FastPathFailed("a check failed")
    counts = row_counts(con, study_id)
    digest = content_hash(con, study_id)
    action = "imported"
    if existed:
        previous = con.execute(
            "SELECT content_hash FROM import_log WHERE study_id = ? ORDER BY import_id DESC LIMIT 1", [study_id]
        ).fetchone()
        if previous and previous[0] == digest:
            raise _Rollback(ImportResult(study_id, "unchanged", counts))
        if not replace:
            raise StudyExists(
                f"{study_id} is already in the registry with different content; "
                f"use --replace to swap in this version of {package.path}"
            )
        action = "replaced"
    if dry_run:
        raise _Rollback(ImportResult(study_id, "would replace" if existed else "would import", counts))
    if log_action == "restore":
        action = "restored"
    audit.record(
        con,
        study_id=study_id,
        action=log_action or ("replace" if existed else "import"),
        package=str(package.path),
        package_sha256=package.sha256,
        content_hash=digest,
        row_counts=counts,
        rows_removed=removed,
    )
    return ImportResult(study_id, action, counts)


def delete_study(con: duckdb.DuckDBPyConnection, study_id: str) -> None:
    for table in STUDY_TABLES:
        con.execute(f"DELETE FROM {table} WHERE study_id = ?", [study_id])


def row_counts(con: duckdb.DuckDBPyConnection, study_id: str) -> dict[str, int]:
    union = " UNION ALL ".join(
        f"SELECT '{t}', count(*) FROM {t} WHERE study_id = {sql_string(study_id)}" for t in STUDY_TABLES
    )
    return {table: count for table, count in con.execute(union).fetchall()}


def content_hash(con: duckdb.DuckDBPyConnection, study_id: str) -> str:
    """A digest of a study's rows that ignores row order and file formatting."""
    columns = table_columns(con)
    parts = []
    for table in STUDY_TABLES:
        added = ADDED_COLUMNS.get(table, ())
        names = ", ".join(f'"{c.name}"' for c in columns[table] if c.name != "study_id" and c.name not in added)
        parts.append(
            f"SELECT '{table}', count(*), coalesce(sum(hash({names})), 0)::VARCHAR "
            f"FROM {table} WHERE study_id = {sql_string(study_id)}"
        )
        for column in added:  # a part of its own, and none while no row sets it (see schema.py)
            parts.append(
                f"SELECT '{table}.{column}', count(\"{column}\"), coalesce(sum(hash(\"{column}\")), 0)::VARCHAR "
                f"FROM {table} WHERE study_id = {sql_string(study_id)} HAVING count(\"{column}\") > 0"
            )
    rows = sorted(con.execute(" UNION ALL ".join(parts)).fetchall())
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


# ---- writing rows -----------------------------------------------------------------------------


def _insert_metadata(con: duckdb.DuckDBPyConnection, package: Package) -> None:
    study_id = package.study_id
    rows_by_table = {
        "studies": [package.study],
        "documents": package.documents,
        "products": package.products,
        "arms": package.arms,
    }
    columns = table_columns(con)
    for table in YAML_TABLES:
        names = [c.name for c in columns[table]]
        rows = [[study_id if n == "study_id" else row.get(n) for n in names] for row in rows_by_table[table]]
        if rows:
            placeholders = ", ".join("?" for _ in names)
            con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", rows)
    if package.field_sources:
        con.executemany(
            "INSERT INTO field_sources VALUES (?, 'studies', ?, ?, ?)",
            [[study_id, study_id, f, s] for f, s in package.field_sources.items()],
        )


def _reader(csv_file: CsvFile, all_varchar: bool) -> str:
    # INTEGER columns are read as DOUBLE: DuckDB's reader would round "10.5" to 11 silently.
    types = {c.name: "DOUBLE" if c.type == "INTEGER" else c.type for c in csv_file.columns}
    spec = ", ".join(
        f"{sql_string(name)}: {sql_string('VARCHAR' if all_varchar else types[name])}" for name in csv_file.header
    )
    return (
        f"read_csv({sql_string(str(csv_file.path))}, columns = {{{spec}}}, header = true, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        "null_padding = false)"
    )


def _select_list(csv_file: CsvFile, table_columns: list[Column], study_id: str) -> str:
    derived = DERIVED_SQL.get(csv_file.table, {})
    present = set(csv_file.header)
    items = []
    for column in table_columns:
        quoted = f'"{column.name}"'
        if column.name == "study_id":
            items.append(f"{sql_string(study_id)} AS study_id")
        elif column.name in derived:
            items.append(f"{derived[column.name]} AS {quoted}")
        elif column.name in present and column.type == "INTEGER":
            items.append(
                f"CASE WHEN src.{quoted} <> trunc(src.{quoted}) THEN error('not a whole number') "
                f"ELSE CAST(src.{quoted} AS INTEGER) END AS {quoted}"
            )
        elif column.name in present:
            items.append(f"src.{quoted}")
        else:
            items.append(f'CAST(NULL AS {column.type}) AS "{column.name}"')
    return ", ".join(items)


def _insert_sql(csv_file: CsvFile, table_columns: list[Column], study_id: str) -> str:
    return (
        f"INSERT INTO {csv_file.table} SELECT {_select_list(csv_file, table_columns, study_id)} "
        f"FROM {_reader(csv_file, all_varchar=False)} AS src {DERIVED_JOINS.get(csv_file.table, '')}"
    )


# ---- checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    table: str  # the table whose rows are checked
    column: str | None
    rule: str
    sql: str  # returns _line, value and optionally detail
    # For the fast path, which only asks whether anything fails: a predicate over one row of
    # `table` (a row fails when it is true), or "key" for a duplicate-key check.
    where: str | None = None
    key: tuple[str, ...] = ()


def _generic_checks(columns: dict[str, list[Column]]) -> Iterator[Check]:
    """Rules that follow from the schema itself: required, finite, day window, references, keys."""
    keys = table_keys()
    for table in CSV_TABLES:
        table_cols = columns[table]
        names = {c.name for c in table_cols}
        for column in table_cols:
            if column.name == "study_id":
                continue
            quoted = f'"{column.name}"'
            if column.required and column.name not in DERIVED_COLUMNS.get(table, ()):
                # a column read as text and converted (reported value) is empty when its text is
                present = DERIVED_TEXT.get((table, column.name), quoted)
                yield Check(table, column.name, "required value is empty",
                            f"SELECT _line, NULL AS value FROM {table} WHERE {present} IS NULL",
                            where=f"{present} IS NULL")
            if column.type == "DOUBLE" and column.name not in DERIVED_COLUMNS.get(table, ()):
                yield Check(table, column.name, "must be a finite number (no NaN or infinity)",
                            f"SELECT _line, CAST({quoted} AS VARCHAR) AS value FROM {table} "
                            f"WHERE isnan({quoted}) OR isinf({quoted})",
                            where=f"isnan({quoted}) OR isinf({quoted})")
            if column.name in DAY_COLUMNS:
                low, high = DAY_WINDOW
                yield Check(table, column.name,
                            f"day outside the plausible window {low} to {high} (days from the index day)",
                            f"SELECT _line, CAST({quoted} AS VARCHAR) AS value FROM {table} "
                            f"WHERE {quoted} < {low} OR {quoted} > {high}",
                            where=f"{quoted} < {low} OR {quoted} > {high}")
            target = REFERENCES.get(column.name)
            if target and target != table:
                where = "study.yaml" if target in YAML_TABLES else f"{target}.csv"
                yield Check(table, column.name, f"{column.name} does not name a row of {where}",
                            f"SELECT x._line, x.{quoted} AS value FROM {table} x WHERE x.{quoted} IS NOT NULL "
                            f"AND NOT EXISTS (SELECT 1 FROM {target} y WHERE y.{quoted} = x.{quoted})")
        if {"day_min", "day_max"} <= names:
            yield Check(table, "day_min", "day_min is after day_max",
                        f"SELECT _line, day_min || ' > ' || day_max AS value FROM {table} WHERE day_min > day_max",
                        where="day_min > day_max")
        if {"day", "day_min", "day_max"} <= names:
            yield Check(table, "day", "day lies outside day_min..day_max",
                        f"SELECT _line, CAST(day AS VARCHAR) AS value FROM {table} "
                        "WHERE day < day_min OR day > day_max",
                        where="day < day_min OR day > day_max")
        key = [k for k in keys.get(table, ()) if k != "study_id"]
        if key:
            key_sql = ", ".join(f'"{k}"' for k in key)
            shown = " || ' / ' || ".join(f"coalesce(CAST(\"{k}\" AS VARCHAR), '')" for k in key)
            yield Check(table, None, f"duplicate row: another row has the same {', '.join(key)}",
                        f"SELECT max(_line) AS _line, any_value({shown}) AS value, "
                        f"'same as row ' || min(_line) AS detail FROM {table} GROUP BY {key_sql} HAVING count(*) > 1",
                        key=tuple(key))


    for table in YAML_TABLES:  # study.yaml's rows: its studies, products and arms name sources too
        for column in columns[table]:
            target = REFERENCES.get(column.name)
            if target and target != table and column.name != "study_id":
                quoted = f'"{column.name}"'
                where = "study.yaml" if target in YAML_TABLES else f"{target}.csv"
                yield Check(table, column.name if table == "studies" else f"{table}.{column.name}",
                            f"{column.name} does not name a row of {where}",
                            f"SELECT x._line, x.{quoted} AS value FROM {table} x WHERE x.{quoted} IS NOT NULL "
                            f"AND NOT EXISTS (SELECT 1 FROM {target} y WHERE y.{quoted} = x.{quoted})")


def all_checks(columns: dict[str, list[Column]]) -> list[Check]:
    """Every rule an import applies: the generic ones the schema implies, then sql/checks/.
    `registry check` runs the same list over stored rows (integrity.py)."""
    checks = list(_generic_checks(columns))
    for sql_file in sqlfiles.load_checks():
        checks.append(
            Check(sql_file.fields["file"].removesuffix(".csv"), sql_file.fields.get("column"), sql_file.description,
                  sql_file.body, where=sql_file.fields.get("fast"))
        )
    return checks


def study_ctes(study_id: str, staged: dict[str, str], only: frozenset[str] | None = None) -> str:
    """CTEs named after the tables, so that each check reads this study's rows only (`staged`:
    a table's rows not yet written, as a query).

    `only`: the tables a query reads (binding unused CTEs costs planning time)."""
    ctes = []
    for table in STUDY_TABLES:
        if only is not None and table not in only:
            continue
        if table in staged:
            ctes.append(f"{table} AS ({staged[table]})")
        else:
            ctes.append(
                f"{table} AS (SELECT CAST(NULL AS BIGINT) AS _line, * EXCLUDE (study_id) "
                f"FROM main.{table} WHERE study_id = {sql_string(study_id)})"
            )
    return "WITH " + ",\n".join(ctes) + "\n" if ctes else ""


@cache
def _words(sql: str) -> frozenset[str]:
    """The study tables a query may read: every table name that occurs in it as a word (a superset
    of what it reads, found without parsing; an extra CTE costs only a little binding)."""
    return frozenset(re.findall(r"\w+", sql)) & frozenset(STUDY_TABLES)


_CHECKS_PER_QUERY = 8


def _any_violation(con: duckdb.DuckDBPyConnection, study_id: str) -> bool:
    """Whether any check fails on the rows just written (the fast path; the diagnosis names them).

    Cheaper than running every check as written, with the same answer: a table's row predicates
    are one scan (their OR), a duplicate key is looked for among sorted hashes of the key (and
    confirmed with the exact check only when two hashes meet), and each query binds only the
    tables it reads. The queries are sent a few at a time as one UNION ALL (each query's own
    overhead was a quarter of the checks' time at 100k patients); not all at once: planning one
    UNION of them all grows faster than linearly with the number of checks. A batch that finds
    something is asked again query by query."""
    study = sql_string(study_id)
    predicates: dict[str, list[str]] = {}
    queries: list[tuple[str, Check | None]] = []
    for check in all_checks(table_columns(con)):
        if check.where:
            predicates.setdefault(check.table, []).append(check.where)
        elif check.key:
            # sorting the hashes and comparing neighbours: 0.75x the time of GROUP BY hash at 10M rows
            key = ", ".join(f'"{k}"' for k in check.key)
            hashes = f"SELECT hash({key}) AS h FROM main.{check.table} WHERE study_id = {study}"
            neighbours = f"SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM ({hashes})"
            queries.append((f"SELECT 1 FROM ({neighbours}) WHERE h = previous LIMIT 1", check))
        else:
            queries.append((study_ctes(study_id, {}, _words(check.sql) | {check.table})
                            + f"SELECT 1 FROM ({check.sql}) LIMIT 1", check))
    for table, wheres in predicates.items():
        where = " OR ".join(f"({w})" for w in wheres)
        queries.insert(0, (f"SELECT 1 FROM main.{table} WHERE study_id = {study} AND ({where}) LIMIT 1", None))
    for start in range(0, len(queries), _CHECKS_PER_QUERY):
        batch = queries[start:start + _CHECKS_PER_QUERY]
        union = " UNION ALL ".join(f"SELECT * FROM ({sql}) AS check_{n}" for n, (sql, _) in enumerate(batch))
        if con.execute(f"SELECT 1 FROM ({union}) LIMIT 1").fetchone() is None:
            continue  # the usual case: nothing in this batch fails
        for sql, check in batch:
            if con.execute(sql).fetchone() is None:
                continue
            if check is not None and check.key:  # the same hash: the same key, or a collision
                exact = study_ctes(study_id, {}, frozenset({check.table})) + f"SELECT 1 FROM ({check.sql}) LIMIT 1"
                if con.execute(exact).fetchone() is None:
                    continue
            return True
    return False


@cache
def _reads(sql: str) -> frozenset[str]:
    """The tables a check's query reads."""
    return frozenset(sqlfiles.referenced_tables(sql))


# Columns a check may return besides _line and value: a detail for the message, and the file and
# column a row comes from when one check scans several tables (e.g. every free-text column).
_OPTIONAL_OUTPUTS = ("detail", "file_name", "column_name")


@cache
def output_columns(sql: str) -> frozenset[str]:
    """The names of a check query's output columns."""
    return frozenset(e.alias_or_name for e in sqlglot.parse_one(sql, dialect="duckdb").selects)


def _violations(
    con: duckdb.DuckDBPyConnection,
    package: Package,
    staged: dict[str, str] | None = None,
    limit: int = 1,
    unreadable: frozenset[str] = frozenset(),
) -> list[Problem]:
    """Run every check as one query (one plan, shared scans); at most `limit` rows per check.

    Checks that read a table in `unreadable` (a file that could not be read) are left out: they
    would report every reference to its rows as a problem of its own."""
    checks = [c for c in all_checks(table_columns(con)) if not (_reads(c.sql) | {c.table}) & unreadable]
    if not checks:
        return []
    branches = []
    for number, check in enumerate(checks):
        outputs = output_columns(check.sql)
        optional = ", ".join(
            f"CAST({name} AS VARCHAR) AS {name}" if name in outputs else f"CAST(NULL AS VARCHAR) AS {name}"
            for name in _OPTIONAL_OUTPUTS
        )
        branches.append(
            f"(SELECT {number} AS check_no, CAST(_line AS BIGINT) AS line, CAST(value AS VARCHAR) AS value, "
            f"{optional} FROM ({check.sql}) LIMIT {limit})"
        )
    sql = study_ctes(package.study_id, staged or {}) + "SELECT * FROM (" + "\nUNION ALL\n".join(branches) + ") ORDER BY check_no, line"
    problems = []
    for number, line, value, detail, file_name, column_name in con.execute(sql).fetchall():
        check = checks[number]
        column = column_name or check.column
        file = file_name or _file_name(package, check.table)
        if check.table == "field_sources" and line is None:
            # a row without a line is one of study.yaml's field_sources, not a row of field_sources.csv
            file, column = package.study_file, "field_sources" + (f".{column}" if column else "")
        problems.append(
            Problem(
                file=file,
                rule=check.rule + (f" ({detail})" if detail else ""),
                row=line,
                column=column,
                value=value,
            )
        )
    return problems


def _file_name(package: Package, table: str) -> str:
    return package.study_file if table in YAML_TABLES else f"{table}.csv"


# ---- the diagnostic path ----------------------------------------------------------------------


def scratch_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory database with the registry schema (tables and catalogs, no data)."""
    from . import resources

    con = duckdb.connect()
    for schema_file in resources.schema_files():
        con.execute(schema_file.read_text(encoding="utf-8"))
    return con


def diagnose(package: Package, limit: int = 20) -> list[Problem]:
    """List every problem of a package whose fast import failed.

    Runs on a scratch in-memory database, so the registry file is never touched and a file that
    cannot be read does not stop the other files from being checked."""
    problems: list[Problem] = []
    con = scratch_connection()
    try:
        try:
            _insert_metadata(con, package)
        except duckdb.Error as error:
            problems.append(Problem(package.study_file, f"cannot be stored: {_first_line(error)}"))
            return problems
        staged: dict[str, str] = {}
        records: dict[str, int] = {}  # rows per file, header included
        unreadable: set[str] = set()
        read_errors: list[Problem] = []  # lines as DuckDB's CSV reader counts them
        unparsed: set[tuple[str, int, str]] = set()  # cells that are not a value of their type
        for table, csv_file in package.csv_files.items():
            stage = f"stage_{table}"
            try:
                con.execute(
                    f"CREATE TABLE {stage} AS SELECT CAST(row_number() OVER () + 1 AS BIGINT) AS _line, * "
                    f"FROM {_reader(csv_file, all_varchar=True)}"
                )
            except duckdb.Error as error:
                read_errors.append(_csv_error(csv_file, error))
                unreadable.add(table)
                continue
            records[csv_file.name] = con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0] + 1
            typed = []
            for column in csv_file.columns:
                quoted = f'"{column.name}"'
                if column.name not in csv_file.header:
                    typed.append(f"CAST(NULL AS {column.type}) AS {quoted}")
                    continue
                expression = _typed(quoted, column.type)
                if column.type != "VARCHAR":
                    word = _TYPE_WORDS.get(column.type, column.type)
                    for line, value in con.execute(
                        f"SELECT _line, {quoted} FROM {stage} WHERE {quoted} IS NOT NULL "
                        f"AND ({expression}) IS NULL ORDER BY _line LIMIT {limit}"
                    ).fetchall():
                        hint = _TYPE_HINTS.get((table, column.name), "") if re.fullmatch(r"\s*(\d+\s*\+|>=?\s*\d+)\s*", value) else ""
                        problems.append(Problem(csv_file.name, f"must be {word}{hint}", line, column.name, value))
                        unparsed.add((csv_file.name, line, column.name))
                typed.append(f"{expression} AS {quoted}")
            derived = DERIVED_SQL.get(table, {})
            inner = f"SELECT _line, {', '.join(typed)} FROM {stage}"
            if derived:
                extra = ", ".join(f"{expr} AS \"{name}\"" for name, expr in derived.items() if name not in csv_file.header)
                replaced = ", ".join(
                    f"{expr} AS \"{name}\"" for name, expr in derived.items() if name in csv_file.header
                )
                exclude = [n for n in derived if n in csv_file.header]
                select = "src.*" + (f" EXCLUDE ({', '.join(exclude)})" if exclude else "")
                parts = [select] + [p for p in (replaced, extra) if p]
                staged[table] = f"SELECT {', '.join(parts)} FROM ({inner}) AS src {DERIVED_JOINS.get(table, '')}"
            else:
                staged[table] = inner
            if con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]:
                # rows study.yaml gave (its field_sources) are checked beside the file's rows
                staged[table] = (
                    f"SELECT * FROM ({staged[table]}) UNION ALL BY NAME "
                    f"SELECT CAST(NULL AS BIGINT) AS _line, * EXCLUDE (study_id) FROM main.{table}"
                )
        for problem in _violations(con, package, staged=staged, limit=limit, unreadable=frozenset(unreadable)):
            # a cell that is not a number is also NULL once typed: it is not "empty"
            if problem.rule == "required value is empty" and (problem.file, problem.row, problem.column) in unparsed:
                continue
            problems.append(problem)
    finally:
        con.close()
    problems = _file_lines(package, problems, blank_lines_count=False, records=records)
    read_errors = _file_lines(package, read_errors, blank_lines_count=True)
    return _dedupe(read_errors + problems)


def _file_lines(
    package: Package, problems: list[Problem], *, blank_lines_count: bool, records: dict[str, int] | None = None
) -> list[Problem]:
    """Turn record numbers (header = 1) into the file's line numbers.

    DuckDB numbers records, not lines: a value quoted over several lines is one record, and the
    staged rows skip blank lines (DuckDB's own error lines count them). `records` holds each
    file's record count (header included) where known: a file with as many lines as records
    needs no mapping."""
    from dataclasses import replace

    wanted: dict[str, set[int]] = {}
    paths = {f.name: f.path for f in package.csv_files.values()}
    for problem in problems:
        if problem.row is not None and problem.row > 1 and problem.file in paths:
            wanted.setdefault(problem.file, set()).add(problem.row)
    mapping = {
        name: _record_lines(paths[name], rows, blank_lines_count, (records or {}).get(name))
        for name, rows in wanted.items()
    }
    return [
        replace(p, row=mapping[p.file][p.row]) if p.row in mapping.get(p.file, {}) else p
        for p in problems
    ]


def _record_lines(path, records: set[int], blank_lines_count: bool, record_count: int | None) -> dict[int, int]:
    """{record number: the line it starts on} for `records` ({} where they are the same).

    Read with Python's CSV reader (which splits records as DuckDB's strict reader does for any
    file DuckDB read), only up to the last record named; only on the diagnostic path."""
    import csv
    import sys

    if record_count is not None:
        lines, last = 0, b"\n"
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                lines += block.count(b"\n")
                last = block[-1:]
        if lines + (last != b"\n") == record_count:
            return {}
    mapping: dict[int, int] = {}
    top = max(records)
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            reader = csv.reader(handle)
            record, start = 0, 1
            for fields in reader:
                if fields or blank_lines_count:
                    record += 1
                    if record in records:
                        mapping[record] = start
                    if record >= top:
                        break
                start = reader.line_num + 1
    except csv.Error:
        pass  # a line Python's reader refuses: the lines found so far stand
    finally:
        csv.field_size_limit(limit)
    return mapping


def _typed(raw: str, type_: str) -> str:
    """SQL turning a text cell into `type_`, NULL where it is not a valid value of that type."""
    if type_ == "INTEGER":
        number = f"TRY_CAST({raw} AS DOUBLE)"
        return f"CASE WHEN {number} = trunc({number}) THEN TRY_CAST({number} AS INTEGER) END"
    if type_ == "VARCHAR":
        return raw
    return f"TRY_CAST({raw} AS {type_})"


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _csv_error(csv_file: CsvFile, error: duckdb.Error) -> Problem:
    """Turn DuckDB's CSV reader error into one problem with its line."""

    text = str(error)
    match = re.search(r"CSV Error on Line: (\d+)", text)
    line = int(match.group(1)) if match else None
    # DuckDB's message: the line, the original line (the user's text), the reason, then the
    # reader's options ("quote = ..."); classify on the reason alone
    reason = text.split("\n\n  file = ")[0]
    if "Original Line:" in reason:
        reason = reason.split("Original Line:", 1)[1]
    lowered = reason.lower()
    if "maximum line size" in lowered:
        size = re.search(r"maximum line size of (\d+) bytes", lowered)
        limit = f"{int(size.group(1)):,} bytes" if size else "the CSV reader's maximum line size"
        rule = f"line is too long to be a row (longer than {limit})"
    elif "invalid unicode" in lowered or "not utf-8" in lowered:
        rule = "file is not UTF-8 text: save it as UTF-8 (in Excel: CSV UTF-8)"
    elif "expected number of columns" in lowered or "too many columns" in lowered:
        rule = f"row does not have the header's {len(csv_file.header)} columns"
    elif "unterminated quote" in lowered or "quote" in lowered:
        rule = "unterminated or misplaced quote (quote a value that holds a comma with \"...\")"
    else:
        rule = "not valid CSV: " + _first_line(error)
    original = re.search(r"Original Line: (.*)", text)
    return Problem(csv_file.name, rule, line, None, original.group(1) if original else None)
