"""The schema, views and queries in another SQL dialect: sqlglot plus a few tree rewrites.

The SQL is written once, in DuckDB's dialect. sqlglot carries most of it; what it does not carry
faithfully is either kept out of the views (see docs/views.md, "Portable SQL") or rewritten here,
on a tree that sqlglot's `qualify` has expanded (stars, lateral column aliases) and
`annotate_types` has typed against the registry's own catalog (read from DuckDB):

- `ORDER BY ALL` / `GROUP BY ALL` become explicit lists (PostgreSQL 15 rejects them);
- `round(double, n)` becomes half-away-from-zero arithmetic (PostgreSQL's round(double) rounds
  half to even; it has no round(double, n));
- `CAST(double AS VARCHAR)` prints integral values as DuckDB does ('4.0', not PostgreSQL's '4'
  or Spark's '1.0E8');
- `CAST(double AS INTEGER)` rounds half to even on Spark too (Spark truncates);
- a division with a DECIMAL operand (a literal such as 100.0) divides doubles, as DuckDB does;
- `log10(x)` stays base-10 exact (sqlglot writes LOG(10, x): invalid on PostgreSQL for a double,
  ln(x)/ln(10) on Spark);
- `quantile_cont(x, q)` becomes Spark's exact `percentile(x, q)` (and a list of fractions gives a
  list, indexed from 1 in DuckDB and PostgreSQL, from 0 in Spark);
- `error(msg)` becomes Spark's `raise_error` and, on PostgreSQL, `registry_error` (a function
  `registry push` creates);
- text sort keys get `COLLATE "C"` on PostgreSQL (DuckDB and Spark compare bytes);
- `$name` parameters are bound as literals, and the schema qualifier `main.` is dropped.

The engines tests (tests/test_engines.py) run every view and named query on each engine and
compare the rows: they are the real check.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from . import resources, sqlfiles

DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}

Schema = Mapping[str, Mapping[str, str]]
"""relation name -> {column name -> DuckDB type}, as `catalog_schema` reads it."""


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(
            f"unknown dialect {dialect!r}: choose one of {', '.join(DIALECTS)}"
        )


# ---- the catalog ---------------------------------------------------------------------------------


def catalog_schema(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Every table and view of the connection's schema `main` with its columns' DuckDB types."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal "
        "ORDER BY table_name, column_index"
    ).fetchall()
    schema: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        schema.setdefault(table, {})[column] = data_type
    return schema


@functools.lru_cache(maxsize=1)
def _project_catalog() -> tuple[dict[str, dict[str, str]], tuple[str, ...]]:
    """The schema of an empty registry built from schema/ and sql/views (in memory)."""
    from .core import create_views

    con = duckdb.connect()
    try:
        for path in resources.schema_files():
            con.execute(path.read_text(encoding="utf-8"))
        create_views(con)
        schema = catalog_schema(con)
        tables = tuple(
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name"
            ).fetchall()
        )
    finally:
        con.close()
    return schema, tables


def project_schema() -> dict[str, dict[str, str]]:
    """Column types of every table and view the project defines (a copy)."""
    schema, _ = _project_catalog()
    return {name: dict(columns) for name, columns in schema.items()}


def base_tables() -> tuple[str, ...]:
    """The base tables of a registry, in name order."""
    return _project_catalog()[1]


# ---- parameters ----------------------------------------------------------------------------------


def literal(value: Any) -> exp.Expression:
    """A Python value as a SQL literal node."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.Cast(
            this=exp.Literal.number(repr(value)), to=exp.DataType.build("DOUBLE")
        )
    return exp.Literal.string(str(value))


def bind(tree: exp.Expression, params: Mapping[str, Any]) -> exp.Expression:
    """Replace every `$name` with its value as a literal (the values are not SQL: they are quoted)."""

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            name = node.name
            if name not in params:
                raise KeyError(f"no value for parameter ${name}")
            return literal(params[name])
        return node

    return tree.transform(replace)


# ---- rewrites ------------------------------------------------------------------------------------


def _is(node: exp.Expression, *types: str) -> bool:
    return node.type is not None and node.type.is_type(*types)


def _is_float(node: exp.Expression) -> bool:
    if isinstance(
        node, exp.Round
    ):  # round() of anything not an integer is a double here
        return not _is(node.this, *exp.DataType.INTEGER_TYPES) and not _is_decimal(
            node.this
        )
    return _is(node, "double", "float")


def _is_decimal(node: exp.Expression) -> bool:
    return node.type is not None and node.type.this in {
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.BIGDECIMAL,
    }


def _template(sql: str, **nodes: exp.Expression) -> exp.Expression:
    """Parse a DuckDB-dialect template; each column named like a keyword argument becomes that node."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in nodes:
            return nodes[node.name].copy()
        return node

    return tree.transform(fill)


def _double(node: exp.Expression) -> exp.Expression:
    return exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))


def _round(node: exp.Round) -> exp.Expression:
    """round(x, n) for a double x, half away from zero on every engine (as DuckDB rounds)."""
    decimals = node.args.get("decimals")
    n = (
        int(decimals.this)
        if isinstance(decimals, exp.Literal) and decimals.is_int
        else 0
    )
    if decimals is not None and not (
        isinstance(decimals, exp.Literal) and decimals.is_int
    ):
        return node
    scale = exp.Literal.number(repr(float(10**n)))
    if n == 0:
        return _template(
            "sign(__x) * floor(abs(__x) + CAST(0.5 AS DOUBLE))", __x=node.this
        )
    return _template(
        "sign(__x) * floor(abs(__x) * CAST(__m AS DOUBLE) + CAST(0.5 AS DOUBLE)) / CAST(__m AS DOUBLE)",
        __x=node.this,
        __m=scale,
    )


def _float_text(value: exp.Expression, to: exp.DataType) -> exp.Expression:
    """CAST(double AS VARCHAR) printed as DuckDB prints it: integral values below 1e16 as 'N.0'."""
    return _template(
        "CASE WHEN floor(__x) = __x AND abs(__x) < CAST(1e16 AS DOUBLE) "
        "THEN CAST(CAST(__x AS BIGINT) AS VARCHAR) || '.0' ELSE CAST(__x AS VARCHAR) END",
        __x=value,
    )


def _rewrite(dialect: str):
    def rewrite(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Table)
            and node.db.lower() == "main"
            and not node.catalog
        ):
            node.set("db", None)
            return node
        if isinstance(node, exp.Round) and _is_float(node):
            return _round(node)
        if (
            isinstance(node, exp.Bracket)
            and node.this.type is not None
            and node.this.type.this in exp.DataType.NUMERIC_TYPES
        ):
            # sqlglot types quantile_cont(x, [fractions]) as a number, not a list, and then
            # leaves a list index unshifted: DuckDB's q[2] came out as PostgreSQL's q[1]. A number
            # cannot be indexed, so the value is a list.
            node.this.type = exp.DataType.build("ARRAY<DOUBLE>")
            return node
        if (
            isinstance(node, exp.Cast)
            and not isinstance(node, exp.TryCast)
            and _is_float(node.this)
        ):
            if node.to.is_type(*exp.DataType.TEXT_TYPES):
                # rewrite inside first: the template's copies are not visited again
                return _float_text(node.this.transform(rewrite), node.to)
            if dialect == "spark" and node.to.is_type(*exp.DataType.INTEGER_TYPES):
                node.set("this", exp.Anonymous(this="RINT", expressions=[node.this]))
                return node
        if isinstance(node, exp.Div) and (
            _is_decimal(node.this) or _is_decimal(node.expression)
        ):
            node.set("this", _double(node.this))
            node.set("expression", _double(node.expression))
            return node
        if isinstance(node, exp.Log) and node.expression is not None:
            base = node.this
            if isinstance(base, exp.Literal) and base.this == "10":
                if dialect == "postgres":
                    return exp.Anonymous(
                        this="LOG", expressions=[_double(node.expression)]
                    )
                return exp.Anonymous(this="LOG10", expressions=[node.expression])
        if (
            dialect == "spark"
            and isinstance(node, (exp.PercentileCont, exp.Quantile))
            and node.expression
        ):
            return exp.Anonymous(
                this="PERCENTILE", expressions=[node.this, node.expression]
            )
        if isinstance(node, exp.Anonymous) and node.name.lower() == "error":
            name = "RAISE_ERROR" if dialect == "spark" else "registry_error"
            return exp.Anonymous(this=name, expressions=node.expressions)
        if (
            dialect == "postgres"
            and isinstance(node, exp.Ordered)
            and _is(node.this, *exp.DataType.TEXT_TYPES)
        ):
            if not isinstance(node.this, exp.Collate):
                node.set(
                    "this",
                    exp.Collate(
                        this=node.this, expression=exp.Identifier(this="C", quoted=True)
                    ),
                )
            return node
        return node

    return rewrite


_ORDER_BY_ALL = "__registry_order_by_all__"

# SQL reserved words (PostgreSQL's and Spark's ANSI list, in part): an identifier spelt like one is quoted.
_RESERVED = frozenset(
    [
        "ALL",
        "ANALYSE",
        "ANALYZE",
        "AND",
        "ANY",
        "ARRAY",
        "AS",
        "ASC",
        "ASYMMETRIC",
        "BOTH",
        "BY",
        "CASE",
        "CAST",
        "CHECK",
        "COLLATE",
        "COLUMN",
        "CONSTRAINT",
        "CREATE",
        "CROSS",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_USER",
        "DEFAULT",
        "DESC",
        "DISTINCT",
        "DO",
        "ELSE",
        "END",
        "EXCEPT",
        "FALSE",
        "FETCH",
        "FOR",
        "FOREIGN",
        "FROM",
        "FULL",
        "GRANT",
        "GROUP",
        "HAVING",
        "IN",
        "INITIALLY",
        "INNER",
        "INTERSECT",
        "INTO",
        "IS",
        "JOIN",
        "LATERAL",
        "LEADING",
        "LEFT",
        "LIMIT",
        "LOCALTIME",
        "NATURAL",
        "NOT",
        "NULL",
        "OFFSET",
        "ON",
        "ONLY",
        "OR",
        "ORDER",
        "OUTER",
        "PLACING",
        "PRIMARY",
        "REFERENCES",
        "RETURNING",
        "RIGHT",
        "SELECT",
        "SOME",
        "SYMMETRIC",
        "TABLE",
        "THEN",
        "TO",
        "TRAILING",
        "TRUE",
        "UNION",
        "UNIQUE",
        "USER",
        "USING",
        "VARIADIC",
        "WHEN",
        "WHERE",
        "WINDOW",
        "WITH",
    ]
)


def _expand_all(select: exp.Select) -> None:
    """GROUP BY ALL / ORDER BY ALL as explicit lists (after stars are expanded)."""
    group = select.args.get("group")
    if group is not None and group.args.get("all"):
        keys = [
            e.unalias().copy()
            for e in select.expressions
            if not e.find(exp.AggFunc) and not isinstance(e.unalias(), exp.Literal)
        ]
        select.set("group", exp.Group(expressions=keys))
    order = select.args.get("order")
    if (
        order is not None
        and len(order.expressions) == 1
        and order.expressions[0].find(exp.Column)
        and order.expressions[0].find(exp.Column).name == _ORDER_BY_ALL
    ):
        only = order.expressions[0]
        if True:
            descending = bool(only.args.get("desc"))
            select.set(
                "order",
                exp.Order(
                    expressions=[
                        exp.Ordered(
                            this=exp.Literal.number(i + 1),
                            desc=descending,
                            nulls_first=False,
                        )
                        for i in range(len(select.expressions))
                    ]
                ),
            )


def convert(
    tree: exp.Expression, dialect: str, schema: Schema | None = None
) -> exp.Expression:
    """Rewrite a parsed DuckDB statement (a query or CREATE VIEW … AS query) for `dialect`."""
    _check_dialect(dialect)
    if dialect == "duckdb":
        return tree
    schema = project_schema() if schema is None else schema
    is_view = isinstance(tree, exp.Create)
    query = tree.expression if is_view else tree
    for table in query.find_all(exp.Table):
        if table.db.lower() == "main" and not table.catalog:
            table.set("db", None)
    for order in query.find_all(
        exp.Order
    ):  # marked before qualify, which would resolve ALL as a column
        keys = order.expressions
        if (
            len(keys) == 1
            and (
                isinstance(keys[0].this, exp.Var)
                or (
                    isinstance(keys[0].this, exp.Column)
                    and not keys[0].this.table
                    and not keys[0].this.this.quoted
                )
            )
            and keys[0].this.name.upper() == "ALL"
        ):
            keys[0].set("this", exp.column(_ORDER_BY_ALL))
    query = qualify(
        query,
        dialect="duckdb",
        schema={name: dict(columns) for name, columns in schema.items()},
        quote_identifiers=True,
        identify=False,
        validate_qualify_columns=False,
    )
    query = annotate_types(
        query, schema={n: dict(c) for n, c in schema.items()}, dialect="duckdb"
    )
    for select in list(query.find_all(exp.Select)):
        _expand_all(select)
    query = query.transform(_rewrite(dialect))
    keywords = _RESERVED | {
        k.upper()
        for k in sqlglot.Dialect.get_or_raise(
            DIALECTS[dialect]
        ).tokenizer_class.KEYWORDS
    }
    for identifier in query.find_all(exp.Identifier):
        # a column named like a keyword ("group") must be quoted; qualify does not always do it
        if not identifier.quoted and identifier.name.upper() in keywords:
            identifier.set("quoted", True)
    if isinstance(query, exp.SetOperation) and query.args.get("order") is not None:
        # PostgreSQL orders a UNION only by bare output columns: order a subquery of it instead
        # (so that sort keys can carry COLLATE).
        order, limit = query.args.get("order"), query.args.get("limit")
        query.set("order", None)
        query.set("limit", None)
        wrapped = exp.select("*").from_(query.subquery("_ordered"))
        wrapped.set("order", order)
        if limit is not None:
            wrapped.set("limit", limit)
        query = wrapped
    if is_view:
        tree.set("expression", query)
        return tree
    return query


def transpile_query(
    sql: str,
    dialect: str,
    schema: Schema | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """One DuckDB-dialect statement (a query or a CREATE VIEW) as SQL for `dialect`."""
    _check_dialect(dialect)
    tree = sqlglot.parse_one(sql, read="duckdb")
    if params is not None:
        tree = bind(tree, params)
    if dialect == "duckdb":
        return tree.sql(dialect="duckdb", pretty=True)
    return convert(tree, dialect, schema).sql(dialect=DIALECTS[dialect], pretty=True)


def _spark_table(tree: exp.Create) -> exp.Create:
    """A Parquet data-source table: Spark rejects key, foreign-key and check constraints (the
    importer enforces them in DuckDB; a Spark copy is read, not written to)."""
    tree = tree.copy()
    columns = tree.this
    columns.set(
        "expressions", [e for e in columns.expressions if isinstance(e, exp.ColumnDef)]
    )
    for column in columns.expressions:
        column.set("constraints", [])
    tree.set(
        "properties",
        exp.Properties(
            expressions=[exp.FileFormatProperty(this=exp.Var(this="PARQUET"))]
        ),
    )
    return tree


def _ddl(tree: exp.Expression, dialect: str) -> str:
    if dialect == "spark" and isinstance(tree, exp.Create) and tree.kind == "TABLE":
        tree = _spark_table(tree)
    return tree.sql(dialect=DIALECTS[dialect], pretty=True)


def _transpile_ddl(sql: str, dialect: str) -> list[str]:
    return [
        statement
        for statement in (
            _ddl(tree, dialect)
            for tree in sqlglot.parse(sql, read="duckdb")
            if tree is not None
        )
        if statement.strip()
    ]


def table_ddl(dialect: str) -> list[str]:
    """The CREATE TABLE statements only (no catalog rows), for `dialect`."""
    statements = []
    for path in resources.schema_files():
        for tree in sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb"):
            if isinstance(tree, exp.Create) and tree.kind == "TABLE":
                statements.append(_ddl(tree, dialect))
    return statements


def view_sql(dialect: str, schema: Schema | None = None) -> list[tuple[str, str]]:
    """(view name, CREATE VIEW statement) for every view, in dependency order, for `dialect`."""
    _check_dialect(dialect)
    views = []
    for view in sqlfiles.load_views():
        tree = sqlglot.parse_one(view.body, read="duckdb")
        views.append(
            (
                view.name,
                convert(tree, dialect, schema).sql(
                    dialect=DIALECTS[dialect], pretty=True
                ),
            )
        )
    return views


# PostgreSQL has no error(): `registry push` creates this function in the registry's schema.
PG_ERROR_FUNCTION = (
    "CREATE OR REPLACE FUNCTION registry_error(message TEXT) RETURNS TEXT LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION '%', message; END $$"
)


def schema_statements(dialect: str) -> list[str]:
    """`schema_sql`'s statements one by one, without the trailing `;` (Spark's `sql()` runs one
    statement at a time): tables, catalog rows, then views in dependency order."""
    _check_dialect(dialect)
    statements = []
    for path in resources.schema_files():
        statements.extend(_transpile_ddl(path.read_text(encoding="utf-8"), dialect))
    if dialect == "postgres":
        statements.append(PG_ERROR_FUNCTION)
    statements.extend(statement for _, statement in view_sql(dialect))
    return statements


def schema_sql(dialect: str = "duckdb") -> str:
    """Every table (with the catalog rows) and every view, in load order, as one SQL script."""
    _check_dialect(dialect)
    parts = [
        f"-- caseregistry schema and views, {dialect} dialect (generated by `registry schema`)"
    ]
    for path in resources.schema_files():
        parts.append(f"\n-- from schema/{path.name}")
        if dialect == "duckdb":
            parts.append(path.read_text(encoding="utf-8").strip())
        else:
            parts.extend(
                s + ";"
                for s in _transpile_ddl(path.read_text(encoding="utf-8"), dialect)
            )
    if dialect == "postgres":
        parts.append("\n-- error() for the named queries that raise one")
        parts.append(PG_ERROR_FUNCTION + ";")
    descriptions = {view.name: view.description for view in sqlfiles.load_views()}
    if dialect == "duckdb":
        for view in sqlfiles.load_views():
            parts.append(f"\n-- {view.name}: {view.description}")
            parts.append(view.body.rstrip().rstrip(";") + ";")
    else:
        for name, statement in view_sql(dialect):
            parts.append(f"\n-- {name}: {descriptions[name]}")
            parts.append(statement + ";")
    return "\n".join(parts) + "\n"
