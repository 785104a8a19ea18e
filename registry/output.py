"""Render query results: a table for people, CSV / JSON / Parquet / Markdown for programs.

`table` is drawn with rich (borders, numbers right-aligned, colour where the terminal has it)
when it goes to a terminal, and as plain aligned text when it goes to a file or a pipe, so that
the bytes a script sees never depend on terminal escape codes.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

FORMATS = ("table", "csv", "json", "parquet", "markdown")


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-like stream without isatty
        return False


def default_format(stream: IO[str]) -> str:
    """A table on a terminal, CSV when piped (so `registry query … | other-tool` just works)."""
    return "table" if _is_terminal(stream) else "csv"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) or abs(value) >= 1e15 else str(int(value))
    return str(value)


def _rows(table: pa.Table) -> list[list[str]]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [[_cell(v) for v in row] for row in zip(*columns)] if columns else []


def render_table(table: pa.Table) -> str:
    header = list(table.column_names)
    rows = _rows(table)
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type) for f in table.schema]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def render_rich(table: pa.Table, stream: IO[str]) -> None:
    """Draw `table` on a terminal with rich: column names in bold, numbers right-aligned, an
    empty cell for a missing value (as in the packages: empty = not reported)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type) for f in table.schema]
    count = table.num_rows
    shown = Table(box=box.SIMPLE_HEAD, caption=f"{count} row{'s' if count != 1 else ''}", caption_justify="left",
                  header_style="bold", show_edge=False, pad_edge=False)
    for name, right in zip(table.column_names, numeric):
        # numbers never wrap; a column is at least as wide as its name (up to 20) so names stay whole
        shown.add_column(name, justify="right" if right else "left", overflow="fold", no_wrap=right,
                         min_width=min(len(name), 20))
    for row in _rows(table):
        shown.add_row(*row)
    Console(file=stream, highlight=False, soft_wrap=False).print(shown)


def render_markdown(table: pa.Table) -> str:
    header = list(table.column_names)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in _rows(table)]
    return "\n".join(lines) + "\n"


def render_csv(table: pa.Table) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for row in zip(*columns):
        writer.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row])
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def render_json(table: pa.Table) -> str:
    records = [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]
    return json.dumps(records, indent=2, default=str) + "\n"


def write_result(table: pa.Table, fmt: str, out: Path | None, stream: IO[str]) -> None:
    """Write `table` in `fmt` to `out` (atomically: temporary name, then rename) or to `stream`."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert out is not None, "parquet needs --out"
        partial = out.with_name(f".{out.name}.partial")
        pq.write_table(table, partial, compression="zstd")
        os.replace(partial, out)
        return
    if fmt == "table" and out is None and _is_terminal(stream):
        render_rich(table, stream)
        return
    text = {
        "table": render_table,
        "csv": render_csv,
        "json": render_json,
        "markdown": render_markdown,
    }[fmt](table)
    if out is None:
        stream.write(text)
    else:
        partial = out.with_name(f".{out.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, out)
