"""Compare the rows of one relation or query across engines (used by the engines tests).

Rows are compared as multisets when the SQL has no ORDER BY (a view has no order of its own) and
in order when it has one. Values are normalised only where the Python drivers differ, never where
the engines do: a PostgreSQL NUMERIC becomes int or float, a Spark Row a tuple. Floats must agree
to a relative 1e-9 (absolute 1e-12 near zero): the engines compute in IEEE doubles, but sum order,
libm (exp, ln, asin, sqrt) and the double -> numeric conversions may move the last bits.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

REL_TOL = 1e-9
ABS_TOL = 1e-12


def normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return value  # keep floats floats; equality with ints works
    return value


def _sort_key(row: tuple) -> tuple:
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, bool):
            key.append((1, str(value)))
        elif isinstance(value, (int, float)):
            key.append((2, float(f"{float(value):.9g}")))
        else:
            key.append((3, str(value)))
    return tuple(key)


def same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            if math.isnan(float(a)) or math.isnan(float(b)):
                return math.isnan(float(a)) and math.isnan(float(b))
            return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
        return a == b
    return a == b


def differences(
    expected: list[tuple], actual: list[tuple], *, ordered: bool, limit: int = 5
) -> list[str]:
    """Human-readable differences between two row lists (empty when they agree)."""
    expected = [tuple(normalise(v) for v in row) for row in expected]
    actual = [tuple(normalise(v) for v in row) for row in actual]
    if len(expected) != len(actual):
        return [f"{len(expected)} rows expected, {len(actual)} found"]
    if not ordered:
        expected = sorted(expected, key=_sort_key)
        actual = sorted(actual, key=_sort_key)
    found = []
    for index, (want, got) in enumerate(zip(expected, actual)):
        if len(want) != len(got) or not all(
            same_value(a, b) for a, b in zip(want, got)
        ):
            found.append(f"row {index}: expected {want!r}\n        found    {got!r}")
            if len(found) >= limit:
                break
    return found


def order_columns(sql: str, columns: list[str]) -> list[int] | None:
    """Indexes of the output columns a query's top-level ORDER BY sorts on, as far as they are
    plain output columns (the prefix up to the first key that is not); None without ORDER BY.

    Rows that tie on every ORDER BY key come in any order on any engine, DuckDB included, so the
    tests compare the full rows as a multiset and the sequence of these key columns in order."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    order = tree.args.get("order")
    if order is None:
        return None
    names = [c.lower() for c in columns]
    indexes: list[int] = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Column) and key.name.lower() in names:
            indexes.append(names.index(key.name.lower()))
        elif isinstance(key, exp.Literal) and key.is_int:
            indexes.append(int(key.this) - 1)
        else:
            break
    return indexes


def ordered_differences(
    expected: list[tuple], actual: list[tuple], key_columns: list[int] | None
) -> list[str]:
    """Differences for a query with an ORDER BY: the rows as a multiset, the keys in order."""
    found = differences(expected, actual, ordered=False)
    if found or not key_columns:
        return found
    project = lambda rows: [tuple(row[i] for i in key_columns) for row in rows]
    return [
        f"order: {d}"
        for d in differences(project(expected), project(actual), ordered=True)
    ]
