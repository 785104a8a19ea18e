"""The registry's schema as data: tables, their columns and keys, and the DDL in other dialects.

Keys are read from the `-- key:` comment above each CREATE TABLE in schema/*.sql (see the note at
the top of schema/001_tables.sql on why they are checked rather than declared).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import duckdb

from . import resources

SCHEMA_VERSION = 2  # schema/upgrades/NNN_*.sql brings version NNN-1 to NNN (registry/upgrade.py)
# Columns added after version 1. The content hash counts them only where a row sets them, so that
# an upgrade leaves every study's content hash (and a no-op re-import) as it was.
ADDED_COLUMNS = {"patients": ("age_90_plus",)}

_KEY_THEN_TABLE = re.compile(
    r"^--\s*key:\s*([\w ,]+)\n(?:--.*\n)*CREATE TABLE (\w+)", re.MULTILINE
)

# Tables filled from a package (in the order rows are loaded) and the file each comes from.
YAML_TABLES = ("studies", "documents", "products", "arms")
CSV_TABLES = (
    "sources",
    "field_sources",
    "patients",
    "doses",
    "measurements",
    "events",
    "durations",
    "adverse_events",
    "comorbidities",
    "treatments",
    "findings",
    "study_facts",
    "reported_aggregates",
    "missing_content",
    "appraisal",
)
STUDY_TABLES = YAML_TABLES + CSV_TABLES

# Columns the importer derives instead of reading them from the package.
DERIVED_COLUMNS = {"measurements": ("value_canonical",), "reported_aggregates": ("value_text",)}
# Package columns read with another type than the table's (the verbatim text is kept too).
READ_AS = {("reported_aggregates", "value"): "VARCHAR"}
# Columns that refer to another entity of the same study.
REFERENCES = {
    "patient_id": "patients",
    "source_id": "sources",
    "product_id": "products",
    "arm_id": "arms",
    "document_id": "documents",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool


@cache
def table_keys() -> dict[str, tuple[str, ...]]:
    keys: dict[str, tuple[str, ...]] = {}
    for path in resources.schema_files():
        for key, table in _KEY_THEN_TABLE.findall(path.read_text(encoding="utf-8")):
            keys[table] = tuple(k.strip() for k in key.split(","))
    return keys


def table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[Column]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type, NOT is_nullable "
        "FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
        "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main') "
        "ORDER BY table_name, column_index"
    ).fetchall()
    columns: dict[str, list[Column]] = {}
    for table, name, type_, required in rows:
        columns.setdefault(table, []).append(Column(name, type_, bool(required)))
    return columns


def package_columns(table: str, columns: list[Column]) -> list[Column]:
    """The columns a package file for `table` has: the table's, less study_id and derived ones."""
    skip = {"study_id", *DERIVED_COLUMNS.get(table, ())}
    return [
        Column(c.name, READ_AS.get((table, c.name), c.type), c.required)
        for c in columns
        if c.name not in skip
    ]


def ddl_statements() -> list[str]:
    """Every statement of schema/*.sql, in file order."""
    import sqlglot

    statements: list[str] = []
    for path in resources.schema_files():
        for tree in sqlglot.parse(path.read_text(encoding="utf-8"), dialect="duckdb"):
            if tree is not None:
                statements.append(tree.sql(dialect="duckdb"))
    return statements
