"""The registry's own integrity check (`registry check`, `Registry.check()`).

Three kinds of rule, each problem one line of text:
1. sql/integrity/*.sql, one rule per file: references across tables (every row names a study,
   patient-level rows a patient of their study, provenance a source), and import_log against
   what is there (a study present was imported and not removed since; archived versions were
   logged and still match their SHA-256).
2. Each study's latest import_log entry states its current row counts and content hash
   (computed in Python by the importer's own functions).
3. Every import rule (sql/checks/*.sql and the rules that follow from the schema: required
   values, day window and order, duplicate keys, value ranges, de-identification) still holds for
   each study's stored rows. References are left to the rules of (1), which word them for a
   registry rather than for a package's files.
Before any of these, every table is read through once, so storage that cannot be read back is
named first.
"""

from __future__ import annotations

import json

import duckdb

from . import importer, resources, sqlfiles
from .schema import STUDY_TABLES

_PER_RULE = 5  # rows of one import rule reported per study


def rules() -> list[sqlfiles.SqlFile]:
    return [sqlfiles.read_sql_file(p) for p in sorted((resources.data_dir("sql") / "integrity").glob("*.sql"))]


def check(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every problem found, one line each (empty: the registry is whole)."""
    problems = _unreadable(con)
    if problems:  # the other rules would fail on the same storage
        return problems
    for rule in rules():
        problems += [row[0] for row in con.execute(rule.body).fetchall()]
    problems += _log_against_content(con)
    problems += _import_rules(con)
    return problems


def _unreadable(con: duckdb.DuckDBPyConnection) -> list[str]:
    problems = []
    for table in ("registry_meta", *STUDY_TABLES, "import_log", "study_versions"):
        try:
            con.execute(f"SELECT count(*), sum(hash(x)) FROM {table} x").fetchall()
        except duckdb.Error as error:
            problems.append(f"{table}: cannot be read back ({str(error).strip().splitlines()[0]})")
    return problems


def _log_against_content(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Each present study's latest import_log entry states its row counts and content hash."""
    problems = []
    latest = con.execute(
        "SELECT l.study_id, l.import_id, l.row_counts, l.content_hash FROM import_log l "
        "JOIN studies s ON s.study_id = l.study_id "
        "QUALIFY row_number() OVER (PARTITION BY l.study_id ORDER BY l.import_id DESC) = 1 "
        "AND l.action <> 'remove' ORDER BY l.study_id"
    ).fetchall()
    for study_id, import_id, logged_counts, logged_hash in latest:
        logged = json.loads(logged_counts)
        found = importer.row_counts(con, study_id)
        differ = [
            f"{table} logged {logged.get(table, 0)}, found {found.get(table, 0)}"
            for table in sorted(set(logged) | set(found))
            if logged.get(table, 0) != found.get(table, 0)
        ]
        if differ:
            problems.append(
                f"{study_id}: import_log (import_id {import_id}) row counts differ from the rows: " + "; ".join(differ)
            )
        elif logged_hash != importer.content_hash(con, study_id):
            # equal counts, other values: a row was changed outside an import
            problems.append(
                f"{study_id}: import_log (import_id {import_id}) content hash differs from the rows: "
                "a row was changed outside `registry import`"
            )
    return problems


def _import_rules(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Run the importer's checks over each study's stored rows, as one query per study."""
    from .schema import table_columns

    checks = [c for c in importer.all_checks(table_columns(con)) if "does not name a row of" not in c.rule]
    branches = []
    for number, rule in enumerate(checks):
        outputs = importer.output_columns(rule.sql)
        detail = "CAST(detail AS VARCHAR)" if "detail" in outputs else "CAST(NULL AS VARCHAR)"
        column = "CAST(column_name AS VARCHAR)" if "column_name" in outputs else "CAST(NULL AS VARCHAR)"
        branches.append(
            f"(SELECT {number} AS check_no, CAST(value AS VARCHAR) AS value, {detail} AS detail, "
            f"{column} AS column_name FROM ({rule.sql}) LIMIT {_PER_RULE})"
        )
    body = "SELECT * FROM (" + "\nUNION ALL\n".join(branches) + ") ORDER BY check_no, value"
    problems = []
    for (study_id,) in con.execute("SELECT study_id FROM studies ORDER BY study_id").fetchall():
        for number, value, detail, column_name in con.execute(importer.study_ctes(study_id, {}) + body).fetchall():
            rule = checks[number]
            column = column_name or rule.column
            where = rule.table + (f".{column}" if column and "." not in column else (f" {column}" if column else ""))
            text = f"{study_id}: {where}: {rule.rule}" + (f" ({detail})" if detail else "")
            if value is not None:
                text += f" (value: {value if len(value) <= 80 else value[:77] + '...'!r})"
            problems.append(text)
    return problems
