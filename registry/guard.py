"""Safety layer for ad-hoc SQL: what a user may run against a registry, and how it is run.

Two independent layers, so that a gap in one is covered by the other:

1. `check_query` (parser layer) is an allow-list over sqlglot's tree: one statement, a query at the
   root, only the registry's tables and views, only listed functions. It returns SQL regenerated
   from the checked tree, so what runs is exactly what was checked (comments and anything the
   parser did not keep are gone).
2. `connect_readonly` / `harden` (connection layer) open the database read-only and switch off
   everything outside the database file: files, network, extensions, settings.

A deny-list would not do: DuckDB keeps adding statements and functions, and sqlglot parses some
statements as something harmless-looking (`CHECKPOINT` is a bare column reference to it).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from registry.errors import NoRegistry, UnsafeQuery

__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALLOWED_TABLE_FUNCTIONS",
    "RULE",
    "check_query",
    "connect_readonly",
    "harden",
    "relations_of",
]

DIALECT = "duckdb"

RULE = (
    "only one read-only query (SELECT or WITH … SELECT) over the registry's tables and views "
    "is allowed"
)

# Function name (as a user writes it, lower case) -> the sqlglot class it parses to, or None where
# sqlglot 30.30.0 has no class and keeps it as exp.Anonymous. Every entry is exercised by
# tests/test_sql_guard.py against the parser and DuckDB: add an example there with any new name.
_FUNCTIONS: Mapping[str, type[exp.Func] | None] = {
    # aggregates
    "count": exp.Count,
    "count_if": exp.CountIf,
    "sum": exp.Sum,
    "avg": exp.Avg,
    "mean": None,
    "min": exp.Min,
    "max": exp.Max,
    "median": exp.Median,
    "quantile": exp.Quantile,
    "quantile_cont": exp.PercentileCont,
    "quantile_disc": exp.PercentileDisc,
    "percentile_cont": exp.PercentileCont,
    "percentile_disc": exp.PercentileDisc,
    "stddev": exp.Stddev,
    "stddev_samp": exp.StddevSamp,
    "stddev_pop": exp.StddevPop,
    "variance": exp.Variance,
    "var_samp": exp.Variance,
    "var_pop": exp.VariancePop,
    "corr": exp.Corr,
    "covar_samp": exp.CovarSamp,
    "covar_pop": exp.CovarPop,
    "string_agg": exp.GroupConcat,
    "listagg": exp.GroupConcat,
    "list": exp.ArrayAgg,
    "array_agg": exp.ArrayAgg,
    "bool_and": exp.LogicalAnd,
    "bool_or": exp.LogicalOr,
    "first": exp.First,
    "last": exp.Last,
    "any_value": exp.AnyValue,
    "arg_min": exp.ArgMin,
    "arg_max": exp.ArgMax,
    "min_by": exp.ArgMin,
    "max_by": exp.ArgMax,
    "mode": exp.Mode,
    # window functions
    "row_number": exp.RowNumber,
    "rank": exp.Rank,
    "dense_rank": exp.DenseRank,
    "percent_rank": exp.PercentRank,
    "cume_dist": exp.CumeDist,
    "ntile": exp.Ntile,
    "lag": exp.Lag,
    "lead": exp.Lead,
    "first_value": exp.FirstValue,
    "last_value": exp.LastValue,
    "nth_value": exp.NthValue,
    # numbers
    "abs": exp.Abs,
    "round": exp.Round,
    "floor": exp.Floor,
    "ceil": exp.Ceil,
    "ceiling": exp.Ceil,
    "trunc": exp.Trunc,
    "sign": exp.Sign,
    "ln": exp.Ln,
    "log": exp.Log,
    "log10": exp.Log,
    "log2": exp.Log,
    "exp": exp.Exp,
    "sqrt": exp.Sqrt,
    "power": exp.Pow,
    "pow": exp.Pow,
    "greatest": exp.Greatest,
    "least": exp.Least,
    "isnan": exp.IsNan,
    "isinf": exp.IsInf,
    "isfinite": None,
    # NULL handling and conditionals
    "coalesce": exp.Coalesce,
    "ifnull": exp.Coalesce,
    "nullif": exp.Nullif,
    "if": exp.If,
    "cast": exp.Cast,
    "try_cast": exp.TryCast,
    # strings
    "lower": exp.Lower,
    "upper": exp.Upper,
    "lcase": exp.Lower,
    "ucase": exp.Upper,
    "length": exp.Length,
    "len": exp.Length,
    "char_length": exp.Length,
    "substr": exp.Substring,
    "substring": exp.Substring,
    "left": exp.Left,
    "right": exp.Right,
    "trim": exp.Trim,
    "ltrim": exp.Trim,
    "rtrim": exp.Trim,
    "lpad": exp.Pad,
    "rpad": exp.Pad,
    "replace": exp.Replace,
    "reverse": exp.Reverse,
    "repeat": exp.Repeat,
    "concat": exp.Concat,
    "concat_ws": exp.ConcatWs,
    "split_part": exp.SplitPart,
    "string_split": exp.Split,
    "str_split": exp.Split,
    "string_to_array": exp.Split,
    "strpos": exp.StrPosition,
    "instr": exp.StrPosition,
    "position": exp.StrPosition,
    "contains": exp.Contains,
    "starts_with": exp.StartsWith,
    "ends_with": exp.EndsWith,
    "prefix": None,
    "suffix": None,
    "regexp_matches": exp.RegexpLike,
    "regexp_full_match": exp.RegexpFullMatch,
    "regexp_replace": exp.RegexpReplace,
    "regexp_extract": exp.RegexpExtract,
    "format": exp.Format,
    # lists
    "unnest": exp.Explode,
    "list_value": exp.Array,
    "list_sort": exp.ArraySort,
    "array_sort": exp.ArraySort,
    "list_reverse_sort": exp.ArraySort,
    "array_length": exp.ArraySize,
    "list_contains": exp.ArrayContains,
    "array_contains": exp.ArrayContains,
    "list_has": exp.ArrayContains,
    "list_distinct": exp.ArrayDistinct,
    "list_concat": exp.ArrayConcat,
    "array_cat": exp.ArrayConcat,
    "list_min": exp.ArrayMin,
    "list_max": exp.ArrayMax,
    "list_sum": None,
    "list_avg": None,
    "list_extract": None,
    "list_slice": None,
    "list_filter": exp.ArrayFilter,
    "list_transform": exp.Transform,
    "flatten": exp.Flatten,
    "array_to_string": exp.ArrayToString,
    "range": exp.GenerateSeries,
    "generate_series": exp.GenerateSeries,
    # grouping sets
    "grouping": exp.Grouping,
}

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(_FUNCTIONS)
"""Functions an ad-hoc query may call (lower case). Anything else is refused, including getenv,
current_setting, read_*/glob/query, *_scan, duckdb_*, pragma_*, which_secret, load_extension."""

ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset({"unnest", "range", "generate_series"})
"""Functions that may stand in FROM: they only generate rows, they read nothing."""

# Func subclasses that are syntax rather than a named call: AND/OR, [..] and {..} literals, CASE,
# x::type, COLUMNS(..), EXISTS (..), COLLATE, UNNEST in FROM.
_SYNTAX: frozenset[type[exp.Expression]] = frozenset(
    {
        exp.And,
        exp.Or,
        exp.Xor,
        exp.Array,
        exp.Struct,
        exp.Case,
        exp.Columns,
        exp.Exists,
        exp.Collate,
        exp.Unnest,
    }
)
_ALLOWED_CLASSES = frozenset(c for c in _FUNCTIONS.values() if c is not None) | _SYNTAX

# A query at the root; also VALUES as the body of a subquery or CTE.
_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
_BODY_TYPES = (*_QUERY_TYPES, exp.Values)

# Statements that must never appear inside a query (DuckDB accepts `FROM (DESCRIBE t)` and the
# like). The allow-lists above already refuse them; this is a second check on the tree.
_STATEMENTS = (
    exp.Command,
    exp.Pragma,
    exp.Copy,
    exp.Set,
    exp.Use,
    exp.Show,
    exp.Describe,
    exp.Summarize,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.DDL,
    exp.DML,
    exp.Drop,
    exp.Alter,
)


def _refuse(reason: str) -> UnsafeQuery:
    return UnsafeQuery(f"ad-hoc SQL refused: {reason}; {RULE}")


def check_query(sql: str, relations: Iterable[str]) -> str:
    """Check ad-hoc SQL against the allow-list and return the SQL to run, regenerated from the tree.

    `relations` are the tables and views the query may read (see `relations_of`); names match
    case-insensitively, optionally qualified with the schema `main`. Raises `UnsafeQuery`, naming
    what was refused, for anything else. Run only the returned string, never `sql` itself: the
    returned SQL has no comments and contains exactly what was checked.
    """
    try:
        tree = _parse_one(sql)
        _check_root(tree)
        _check_nested_statements(tree)
        _check_tables(tree, {name.lower(): name for name in relations})
        _check_functions(tree)
        return tree.sql(dialect=DIALECT, comments=False)
    except RecursionError:
        raise _refuse("the SQL is nested too deeply") from None


def _parse_one(sql: str) -> exp.Expression:
    """Parse exactly one statement; empty statements (`;;`, a lone comment) do not count."""
    try:
        parsed = sqlglot.parse(sql, dialect=DIALECT)
    except SqlglotError as error:
        first_line = (str(error).strip().splitlines() or ["syntax error"])[0]
        raise _refuse(f"the SQL could not be parsed ({first_line[:200]})") from None
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise _refuse("the SQL is empty (no statement to run)")
    if len(statements) > 1:
        raise _refuse(f"the SQL holds {len(statements)} statements")
    return statements[0]


def _check_root(tree: exp.Expression) -> None:
    if isinstance(tree, _QUERY_TYPES) and (
        not isinstance(tree, exp.Subquery) or isinstance(tree.unnest(), _QUERY_TYPES)
    ):
        return
    raise _refuse(f"{_statement_kind(tree)} is not a query")


def _statement_kind(node: exp.Expression) -> str:
    """Name a statement by its leading keyword(s) for a message: 'a COPY statement'."""
    words = node.sql(dialect=DIALECT, comments=False).split()
    if not words:
        return "the statement"
    head = words[0].upper()
    if head in {"FORCE", "CREATE", "EXPORT", "IMPORT"} and len(words) > 1:
        head += " " + words[1].upper()
    article = "an" if head[0] in "AEIOU" else "a"
    return f"{article} {head} statement"


def _check_nested_statements(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            raise _refuse(f"{_statement_kind(node)} inside the query")
        if isinstance(node, (exp.Subquery, exp.CTE)) and not isinstance(node.this, _BODY_TYPES):
            raise _refuse(f"{_statement_kind(node.this)} inside the query")


def _check_tables(tree: exp.Expression, relations: Mapping[str, str]) -> None:
    for table in tree.find_all(exp.Table):
        target = table.this
        if isinstance(target, exp.Func):
            name = _function_name(target)
            if isinstance(target, exp.GenerateSeries) and not (table.db or table.catalog):
                continue
            raise _refuse(
                f"table function {name}() is not allowed (only "
                f"{', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))} may stand in FROM)"
            )
        if not isinstance(target, exp.Identifier):
            raise _refuse(f"unsupported table reference {table.sql(dialect=DIALECT)}")
        name = table.name
        if any(ch in name for ch in "/\\:.") or name.startswith("~"):
            raise _refuse(f"reading files is not allowed ({name!r})")
        if table.catalog:
            where = table.sql(dialect=DIALECT)
            raise _refuse(f"database {table.catalog!r} is not allowed ({where})")
        if table.db:
            if table.db.lower() != "main":
                raise _refuse(
                    f"schema {table.db!r} is not allowed ({table.sql(dialect=DIALECT)}); "
                    "only the registry's own schema main"
                )
        elif name.lower() in _visible_ctes(table):
            continue
        if name.lower() not in relations:
            raise _refuse(f"unknown table or view {name!r}{_suggestion(name, relations)}")


def _visible_ctes(table: exp.Table) -> set[str]:
    """CTE names in scope at `table`: those of enclosing WITHs, earlier siblings in a WITH list."""
    names: set[str] = set()
    child: exp.Expression = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = [cte.alias_or_name.lower() for cte in parent.expressions]
            index = child.index if isinstance(child, exp.CTE) and child.index is not None else 0
            names.update(ctes[: index + 1] if parent.args.get("recursive") else ctes[:index])
        else:
            with_ = parent.args.get("with_")
            if isinstance(with_, exp.With) and with_ is not child:
                names.update(cte.alias_or_name.lower() for cte in with_.expressions)
        child, parent = parent, parent.parent
    return names


def _suggestion(name: str, relations: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name.lower(), list(relations), n=1, cutoff=0.6)
    return f" (did you mean {relations[close[0]]!r}?)" if close else ""


def _check_functions(tree: exp.Expression) -> None:
    for node in tree.walk():
        if not isinstance(node, exp.Func):
            continue
        name = _function_name(node)
        if isinstance(node.parent, exp.Dot) and node.arg_key == "expression":
            raise _refuse(
                f"{name}() called as a method or with a qualified name is not allowed; "
                f"write {name}(…)"
            )
        if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
            allowed = name in ALLOWED_FUNCTIONS
        else:
            allowed = type(node) in _ALLOWED_CLASSES
        if not allowed:
            raise _refuse(
                f"function {name}() is not allowed (allowed: aggregates, window, arithmetic, "
                "string and list functions; see registry.guard.ALLOWED_FUNCTIONS)"
            )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
        return node.name.lower()
    return node.sql_name().lower()


# -- connection layer --------------------------------------------------------------------------

# Order matters: the extension switches first, then external access (which cannot be turned back
# on), then the lock, after which no SET, RESET or PRAGMA changes a setting of this database
# instance (except the connection's default schema: USE / SET search_path are exempt).
_HARDENING: tuple[tuple[str, str], ...] = (
    # No extension is installed (downloaded) or loaded behind a query's back (e.g. httpfs for
    # 'https://…' paths, postgres_scanner for ATTACH … (TYPE postgres)).
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("allow_community_extensions", "false"),
    ("allow_extension_repositories", "'forbidden'"),
    # No replacement scans of Python objects (`FROM some_dataframe` in the caller's frames).
    ("python_enable_replacements", "false"),
    # No files or network: read_csv/read_text/read_blob/glob, FROM 'file', COPY, EXPORT/IMPORT
    # DATABASE, ATTACH, INSTALL/LOAD, and the secret store (CREATE SECRET fails with it).
    ("enable_external_access", "false"),
    # Nothing above can be undone, and no other setting (memory, threads, profiling output,
    # log paths, allowed_directories) can be changed.
    ("lock_configuration", "true"),
)


def harden(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Switch off everything outside the database file for `con`'s database instance; return it.

    `read_only=True` alone protects only the database file: COPY … TO, EXPORT DATABASE,
    read_csv / read_text / read_blob / glob, FROM '/path/file.csv', ATTACH, query('…') over files,
    and CREATE SECRET still work on a read-only connection. The settings applied:

    - autoinstall_known_extensions / autoload_known_extensions = false, allow_community_extensions
      = false, allow_extension_repositories = 'forbidden': no extension is fetched or loaded.
    - python_enable_replacements = false: no `FROM name` resolved to a Python object.
    - enable_external_access = false: no file system or network access at all (it cannot be
      switched back on in this instance).
    - lock_configuration = true: no SET / RESET / PRAGMA that changes a setting from now on
      (the connection's default schema is exempt: USE / SET search_path still work).

    Most settings are global to the DuckDB instance: every connection to the same database in this
    process (cursors, other `duckdb.connect` calls to the same path) is hardened too. Apply any
    other settings you need (memory_limit, threads) before calling this.
    allow_persistent_secrets is deliberately left alone: with external access off the secret
    store cannot initialise, which makes every secret statement fail; switching it off would
    instead let CREATE TEMPORARY SECRET succeed.

    What this layer does not stop (the parser layer does; tests/data/hostile_sql.txt marks each
    case): reads of the catalog (DESCRIBE, SHOW, PRAGMA show_tables, information_schema,
    duckdb_settings()), current_setting() and getvariable(), query('SELECT …'), no-op
    CHECKPOINT / VACUUM, transactions, PREPARE, SET VARIABLE, USE / SET search_path, and
    temporary tables, views, sequences and macros. Those live in memory and go with the
    connection, but until then a temporary macro can shadow a built-in (CREATE TEMP MACRO
    avg(x) AS 42): give each ad-hoc query a fresh connection if the parser layer is ever skipped.
    """
    for name, value in _HARDENING:
        con.execute(f"SET {name} = {value}")
    return con


def connect_readonly(path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """Open a registry for ad-hoc SQL: read-only, then hardened (see `harden` for what that blocks).

    Run only SQL that `check_query` returned on it: the two layers are independent, and each
    covers what the other might miss. Raises `NoRegistry` if the file does not exist (a read-only
    open must not create it).
    """
    if not os.path.isfile(path):
        raise NoRegistry(f"no registry database at {os.fspath(path)}")
    con = duckdb.connect(os.fspath(path), read_only=True)
    try:
        return harden(con)
    except BaseException:
        con.close()
        raise


def relations_of(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the base tables and views in the database's schema `main` (not system views).

    These are the relations `check_query` should accept. Works before and after `harden`: it
    reads only the catalog.
    """
    rows = con.execute(
        """
        SELECT table_name FROM duckdb_tables()
        WHERE database_name = current_database() AND schema_name = 'main'
          AND NOT internal AND NOT temporary
        UNION
        SELECT view_name FROM duckdb_views()
        WHERE database_name = current_database() AND schema_name = 'main'
          AND NOT internal AND NOT temporary
        """
    ).fetchall()
    return {name for (name,) in rows}
