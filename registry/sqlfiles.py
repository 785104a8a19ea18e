"""Read the project's `.sql` files: views, named queries and import checks.

Each file starts with a comment header that is its metadata, so the SQL and its documentation
cannot drift apart:

    -- name: One-line description.
    -- Columns:                      (views)
    --   column: meaning, unit
    -- Parameters:                   (named queries)
    --   day (INTEGER, default 28): days after the index day
    -- File: measurements.csv        (checks)
    -- Column: value                 (checks)
    -- Fast: value_canonical IS NULL (checks, optional: a condition on one stored row that holds
                                      for every row the check refuses, and only for rows that some
                                      check refuses; the import's fast path tests it in the
                                      table's single scan instead of running the query)
    CREATE OR REPLACE VIEW name AS ...

The view load order is derived from the views' own table references (sqlglot), not a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import sqlglot
from sqlglot import exp

from . import resources

_TITLE = re.compile(r"^--\s*([A-Za-z_][\w]*):\s*(.+)$")
_ITEM = re.compile(r"^--\s{2,}([A-Za-z_]\w*)(?:\s*\((\w+)(?:,\s*default\s+([^)]*))?\))?:\s*(.*)$")
_FIELD = re.compile(r"^--\s*(File|Column|Fast):\s*(.+)$")


class SqlFileError(ValueError):
    """A malformed project .sql file: a bug in the project, reported as file:line."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None
    description: str


@dataclass
class SqlFile:
    path: Path
    name: str
    description: str
    body: str  # the SQL after the header
    columns: dict[str, str] = field(default_factory=dict)
    parameters: list[Parameter] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # File:, Column:, Fast: of checks


def read_sql_file(path: Path) -> SqlFile:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not (m := _TITLE.match(lines[0])):
        raise SqlFileError(f"{path}:1: first line must be '-- name: description'")
    name, description = m.group(1), m.group(2).strip()
    if name != path.stem:
        raise SqlFileError(f"{path}:1: header names {name!r} but the file is {path.stem}.sql")
    sql_file = SqlFile(path=path, name=name, description=description, body="")
    section = None
    body_start = len(lines)
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if not stripped.startswith("--"):
            body_start = number - 1
            break
        if stripped in ("-- Columns:", "-- Parameters:", "-- Notes:"):
            section = stripped[3:-1].lower()
            continue
        if fm := _FIELD.match(stripped):
            sql_file.fields[fm.group(1).lower()] = fm.group(2).strip()
            continue
        item = _ITEM.match(line.rstrip())
        if section == "columns" and item:
            sql_file.columns[item.group(1)] = item.group(4).strip()
        elif section == "parameters" and item:
            if not item.group(2):
                raise SqlFileError(f"{path}:{number}: parameter needs a type: '--   name (TYPE): text'")
            sql_file.parameters.append(
                Parameter(item.group(1), item.group(2).upper(), item.group(3), item.group(4).strip())
            )
        elif section in ("columns", "parameters") and re.match(r"^--\s{2,}\S", line):
            # a continuation line of the previous item's description
            target = sql_file.columns if section == "columns" else None
            if target:
                last = next(reversed(target))
                target[last] += " " + stripped[2:].strip()
    sql_file.body = "\n".join(lines[body_start:]).strip()
    if not sql_file.body:
        raise SqlFileError(f"{path}: no SQL after the header")
    return sql_file


def referenced_tables(sql: str) -> set[str]:
    """Names of tables and views a statement reads, CTE names excluded."""
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes}


def load_views() -> list[SqlFile]:
    """Every view file, in an order where each view comes after the views it reads."""
    views = {f.name: f for f in map(read_sql_file, resources.view_files())}
    graph: dict[str, set[str]] = {}
    for name, view in views.items():
        if not re.search(rf"CREATE\s+OR\s+REPLACE\s+VIEW\s+{name}\s+AS", view.body, re.IGNORECASE):
            raise SqlFileError(f"{view.path}: must define 'CREATE OR REPLACE VIEW {name} AS'")
        graph[name] = {t for t in referenced_tables(view.body) if t in views and t != name}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise SqlFileError(f"views depend on each other in a cycle: {error.args[1]}") from None
    return [views[name] for name in order]


def load_queries() -> dict[str, SqlFile]:
    queries = {f.name: f for f in map(read_sql_file, resources.query_files())}
    for query in queries.values():
        used = set(re.findall(r"\$([A-Za-z_]\w*)", query.body))
        declared = {p.name for p in query.parameters}
        if used != declared:
            raise SqlFileError(
                f"{query.path}: parameters used {sorted(used)} differ from declared {sorted(declared)}"
            )
    return queries


def load_checks() -> list[SqlFile]:
    checks = list(map(read_sql_file, resources.check_files()))
    for check in checks:
        if "file" not in check.fields:
            raise SqlFileError(f"{check.path}: a check needs a '-- File: name.csv' line")
    return checks
