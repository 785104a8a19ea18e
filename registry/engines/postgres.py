"""A registry in PostgreSQL: `push` copies one there; `run_sql` / `run_query` read it.

    from registry.engines import postgres
    postgres.push(Registry("registry.duckdb"), "postgresql://me@host/db")            # schema caseregistry
    postgres.run_sql("postgresql://me@host/db", "SELECT * FROM study_overview").df()
    postgres.run_query("postgresql://me@host/db", "survival_at", day=28)

`push` works in one transaction: the schema (tables transpiled from schema/), the data (DuckDB
writes each table as CSV, psycopg streams it to COPY … FROM STDIN: no row passes through Python),
the views (transpiled, see registry.transpile), comments, and a SELECT-only role
(`<schema>_reader`, NOLOGIN) granted to the pushing user. Readers run every statement in a
READ ONLY transaction under that role (SET LOCAL ROLE), with a statement timeout; ad-hoc SQL
first passes the parser layer of the SQL guard, in DuckDB's dialect.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .. import guard, sqlfiles, transpile
from ..errors import QueryError, RegistryError, UnknownName

DEFAULT_SCHEMA = "caseregistry"
STATEMENT_TIMEOUT_MS = int(os.environ.get("REGISTRY_PG_TIMEOUT_MS", "300000"))


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the install
        raise RegistryError(
            "PostgreSQL support needs psycopg: pip install 'caseregistry[postgres]'"
        ) from None
    return psycopg


def reader_role(schema: str) -> str:
    return f"{schema}_reader"


def connect(url: str):
    psycopg = _psycopg()
    try:
        return psycopg.connect(url)
    except psycopg.Error as error:
        raise RegistryError(
            f"cannot connect to PostgreSQL: {str(error).strip().splitlines()[0]}"
        ) from None


def push(
    registry, url: str, *, schema: str = DEFAULT_SCHEMA, replace: bool = False
) -> dict[str, int]:
    """Copy `registry` (a core.Registry) into schema `schema` of the database at `url`.

    Refuses when the schema exists unless `replace` (then it is dropped and rebuilt, in the same
    transaction: a failed push leaves the old copy). Returns {table: rows copied}.
    """
    psycopg = _psycopg()
    from psycopg import sql as pgsql

    ident = pgsql.Identifier
    role = reader_role(schema)
    counts: dict[str, int] = {}
    tables = transpile.base_tables()
    descriptions = {v.name: v for v in sqlfiles.load_views()}
    with (
        connect(url) as con,
        tempfile.TemporaryDirectory(prefix="caseregistry-push-") as scratch,
    ):
        try:
            exists = con.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
                [schema],
            ).fetchone()
            if exists and not replace:
                raise RegistryError(
                    f"schema {schema!r} already exists in the database; nothing was changed "
                    "(use --replace to rebuild it)"
                )
            if exists:
                con.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(ident(schema)))
            con.execute(pgsql.SQL("CREATE SCHEMA {}").format(ident(schema)))
            con.execute(pgsql.SQL("SET LOCAL search_path TO {}").format(ident(schema)))
            for statement in transpile.table_ddl("postgres"):
                con.execute(statement)
            con.execute(transpile.PG_ERROR_FUNCTION)
            source = duckdb.connect(str(registry.path), read_only=True)
            try:
                for table in tables:
                    csv_path = Path(scratch) / f"{table}.csv"
                    source.execute(
                        f"COPY (SELECT * FROM {table}) TO '{csv_path}' (FORMAT csv, HEADER false)"
                    )
                    counts[table] = source.execute(
                        f"SELECT count(*) FROM {table}"
                    ).fetchone()[0]
                    copy_sql = pgsql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(
                        ident(table)
                    )
                    with (
                        con.cursor() as cur,
                        cur.copy(copy_sql) as copy,
                        csv_path.open("rb") as handle,
                    ):
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            copy.write(block)
                    csv_path.unlink()
                    # statistics now: without them the planner guesses 1 row per CTE and picks
                    # nested loops (reported_vs_computed took 140 s at 2,000 patients)
                    con.execute(pgsql.SQL("ANALYZE {}").format(ident(table)))
            finally:
                source.close()
            for name, statement in transpile.view_sql("postgres"):
                con.execute(statement)
                view = descriptions[name]
                con.execute(
                    pgsql.SQL("COMMENT ON VIEW {} IS {}").format(
                        ident(name), pgsql.Literal(view.description)
                    )
                )
                for column, meaning in view.columns.items():
                    con.execute(
                        pgsql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                            ident(name), ident(column), pgsql.Literal(meaning)
                        )
                    )
            if not con.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", [role]
            ).fetchone():
                con.execute(pgsql.SQL("CREATE ROLE {} NOLOGIN").format(ident(role)))
            con.execute(
                pgsql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    ident(schema), ident(role)
                )
            )
            con.execute(
                pgsql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                    ident(schema), ident(role)
                )
            )
            con.execute(pgsql.SQL("GRANT {} TO CURRENT_USER").format(ident(role)))
            for table, expected in counts.items():
                got = con.execute(
                    pgsql.SQL("SELECT count(*) FROM {}").format(ident(table))
                ).fetchone()[0]
                if got != expected:
                    raise RegistryError(
                        f"push check failed: {table} has {got} rows in PostgreSQL, {expected} in DuckDB"
                    )
        except psycopg.Error as error:
            con.rollback()
            raise RegistryError(
                f"push to PostgreSQL failed: {str(error).strip().splitlines()[0]}"
            ) from None
        except BaseException:
            con.rollback()
            raise
        con.commit()
    return counts


def _result(cursor) -> pa.Table:
    names = [d.name for d in cursor.description]
    rows = cursor.fetchall()
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    return pa.table(
        {
            name: pa.array(list(values)) if rows else pa.array([], pa.null())
            for name, values in zip(names, columns)
        }
    )


def execute(url: str, statement: str, *, schema: str = DEFAULT_SCHEMA) -> pa.Table:
    """Run transpiled SQL read-only, under the schema's SELECT-only role; rows as Arrow."""
    psycopg = _psycopg()
    from psycopg import sql as pgsql

    with connect(url) as con:
        try:
            con.execute("SET TRANSACTION READ ONLY")
            con.execute(
                pgsql.SQL("SET LOCAL ROLE {}").format(
                    pgsql.Identifier(reader_role(schema))
                )
            )
            con.execute(
                pgsql.SQL("SET LOCAL search_path TO {}").format(
                    pgsql.Identifier(schema)
                )
            )
            con.execute(
                pgsql.SQL("SET LOCAL statement_timeout = {}").format(
                    pgsql.Literal(STATEMENT_TIMEOUT_MS)
                )
            )
            # The tables have no indexes (as in DuckDB) and the views stack CTEs whose row counts
            # the planner underestimates as 1; it then nests loops over thousands of rows
            # (reported_vs_computed: >140 s at 2,000 patients). Hash and merge joins instead.
            con.execute("SET LOCAL enable_nestloop = off")
            con.execute(
                "SET LOCAL jit = off"
            )  # compiling these large plans costs more than it saves
            with con.cursor() as cur:
                # prepared (extended protocol): exactly one statement, nothing can ride along
                cur.execute(statement, prepare=True)
                return _result(cur)
        except psycopg.Error as error:
            raise QueryError(
                f"query failed on PostgreSQL: {str(error).strip().splitlines()[0]}"
            ) from None
        finally:
            con.rollback()


def relations(url: str, *, schema: str = DEFAULT_SCHEMA) -> set[str]:
    with connect(url) as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [schema],
        ).fetchall()
    if not rows:
        raise RegistryError(
            f"no registry in schema {schema!r} of that database: `registry push` one first"
        )
    return {r[0] for r in rows}


def run_sql(url: str, text: str, *, schema: str = DEFAULT_SCHEMA):
    """Ad-hoc SQL in DuckDB's dialect: the guard's parser layer, transpiled, run read-only."""
    from ..core import QueryResult

    safe = guard.check_query(text, relations(url, schema=schema))
    return QueryResult(
        execute(url, transpile.transpile_query(safe, "postgres"), schema=schema)
    )


def run_query(url: str, name: str, *, schema: str = DEFAULT_SCHEMA, **params: Any):
    """A named query (sql/queries/NAME.sql) with its parameters bound, on PostgreSQL."""
    from ..core import QueryResult, _bind, _unknown

    queries = sqlfiles.load_queries()
    if name not in queries:
        raise UnknownName(_unknown("named query", name, queries))
    values = _bind(queries[name], params)
    statement = transpile.transpile_query(queries[name].body, "postgres", params=values)
    return QueryResult(execute(url, statement, schema=schema))
