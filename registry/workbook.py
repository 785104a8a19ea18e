"""Case-series packages as one Excel workbook (.xlsx): template, import and export.

A workbook holds the same content as a package directory: a `study` sheet of key/value rows (the
study.yaml fields, with an optional source per field), one sheet each for documents, products and
arms, and one sheet per CSV file with the same name and columns. A `README` sheet (rules and
every column, generated from the schema) and a `codes` sheet (the lists behind the dropdowns,
read from the catalog tables and the import checks) are there to help and are not read back.

Importing converts the workbook into a package directory in a scratch folder and hands it to the
ordinary reader and importer, so every rule and the all-or-nothing transaction are the same as
for a directory; problems are then renamed to the sheet, the Excel row and the column (letter
and name). Rows go through Python here (unlike the CSV importer) because openpyxl reads cells
one at a time anyway; a sheet holds at most 1,048,575 rows.

Excel changes what people type: `001` becomes the number 1 and `1-2` a date. The template and
exports format every text column as Text (so typed ids stay as typed), and on import a number in
a text column is read back as its digits, a whole number in a whole-number column as an integer,
and a date anywhere is refused with a message saying why.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from .errors import PackageError, Problem, RegistryError
from .importer import DAY_COLUMNS, DAY_WINDOW, sql_string
from .package import Package, read_package
from .schema import (
    CSV_TABLES,
    REFERENCES,
    YAML_TABLES,
    Column,
    package_columns,
    table_columns,
    table_keys,
)

SUFFIXES = (".xlsx", ".xlsm")
STUDY_SHEET = "study"
LIST_SHEETS = ("documents", "products", "arms")  # the lists of study.yaml, a sheet each
DATA_SHEETS = LIST_SHEETS + CSV_TABLES
HELP_SHEETS = ("README", "codes")  # written for people, ignored on import
STUDY_HEADER = ("field", "value", "source_id", "description")
MAX_ROWS = 1_048_575  # Excel's last row, less the header
_STUDY_JSON = "study.json"
# Lists the checks hold in Python rather than SQL (package.py checks `level`).
_EXTRA_CODES = {("studies", "level"): ["patient", "aggregate"]}
_TYPE_WORDS = {"INTEGER": "whole number", "DOUBLE": "number", "BOOLEAN": "true / false", "VARCHAR": "text"}


def is_workbook(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


# ---- what the schema says ---------------------------------------------------------------------


@dataclass(frozen=True)
class CodeList:
    table: str
    column: str
    codes: tuple[Any, ...]
    meanings: tuple[str, ...]
    source: str  # where the list comes from, e.g. "catalog event_types" or "check patients_sex"


@dataclass
class _Schema:
    columns: dict[str, list[Column]]  # table -> all columns (study_id included)
    codes: dict[tuple[str, str], CodeList]
    notes: dict[tuple[str, str], str]  # (table, column) -> the schema's comment
    table_notes: dict[str, str]


@cache
def schema() -> _Schema:
    """Columns, code lists and descriptions, read from schema/*.sql and sql/checks once."""
    from . import resources

    con = duckdb.connect()
    try:
        for schema_file in resources.schema_files():
            con.execute(schema_file.read_text(encoding="utf-8"))
        columns = table_columns(con)
        table_notes = dict(con.execute(
            "SELECT table_name, coalesce(comment, '') FROM duckdb_tables() WHERE schema_name = 'main'"
        ).fetchall())
        codes = _code_lists(con, columns)
    finally:
        con.close()
    notes: dict[tuple[str, str], str] = {}
    block = re.compile(r"CREATE TABLE (\w+) \((.*?)\n\);", re.DOTALL)
    line = re.compile(r'^\s+"?(\w+)"?\s+[A-Z]+[^-\n]*--\s*(.+)$', re.MULTILINE)
    for path in resources.schema_files():
        for table, body in block.findall(path.read_text(encoding="utf-8")):
            for column, note in line.findall(body):
                notes[(table, column)] = note.strip()
    return _Schema(columns, codes, notes, table_notes)


def _code_lists(con: duckdb.DuckDBPyConnection, columns: dict[str, list[Column]]) -> dict[tuple[str, str], CodeList]:
    """The allowed values of coded columns, found in the import checks themselves: a
    `column NOT IN ('a', 'b')` gives its literals, a `NOT EXISTS (SELECT 1 FROM catalog ...)`
    names the catalog column whose values are allowed."""
    import sqlglot
    from sqlglot import exp

    from . import sqlfiles

    catalogs = set(columns) - set(YAML_TABLES + CSV_TABLES) - {"registry_meta", "import_log", "study_versions"}
    found: dict[tuple[str, str], CodeList] = {}
    for check in sqlfiles.load_checks():
        table, column = check.fields["file"].removesuffix(".csv"), check.fields.get("column")
        if not column or (table, column) in found:
            continue
        tree = sqlglot.parse_one(check.body, dialect="duckdb")
        for node in tree.find_all(exp.In):
            if isinstance(node.this, exp.Column) and node.this.name == column and node.expressions \
                    and all(isinstance(e, exp.Literal) for e in node.expressions):
                values = tuple(int(e.this) if not e.is_string else e.this for e in node.expressions)
                found[(table, column)] = CodeList(table, column, values, ("",) * len(values), f"check {check.name}")
        for exists in tree.find_all(exp.Exists):
            inner = exists.this
            tables = {t.alias_or_name: t.name for t in inner.find_all(exp.Table) if t.name in catalogs}
            for eq in inner.find_all(exp.EQ):
                sides = [s for s in (eq.left, eq.right) if isinstance(s, exp.Column)]
                if len(sides) != 2:
                    continue
                catalog_side = next((s for s in sides if s.table in tables), None)
                outer_side = next((s for s in sides if s.table not in tables), None)
                if catalog_side is None or outer_side is None or outer_side.name != column:
                    continue
                catalog, key = tables[catalog_side.table], catalog_side.name
                label = next((c.name for c in columns[catalog] if c.name != key and c.type == "VARCHAR"), None)
                meaning = f"string_agg(DISTINCT {label}, '; ' ORDER BY {label})" if label else "''"
                rows = con.execute(f"SELECT {key}, {meaning} FROM {catalog} GROUP BY {key} ORDER BY {key}").fetchall()
                found[(table, column)] = CodeList(
                    table, column, tuple(r[0] for r in rows), tuple(r[1] or "" for r in rows), f"catalog {catalog}"
                )
    for (table, column), values in _EXTRA_CODES.items():
        found[(table, column)] = CodeList(table, column, tuple(values), ("",) * len(values), "study rules")
    return found


def sheet_columns(sheet: str) -> list[Column]:
    """The columns of a data sheet, in order (the package file's columns)."""
    return package_columns(sheet, schema().columns[sheet])


# ---- writing ----------------------------------------------------------------------------------


@dataclass
class _Content:
    """What a workbook holds: the study's fields and the rows of every data sheet."""

    study: dict[str, Any] = field(default_factory=dict)
    field_sources: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[list[Any]]] = field(default_factory=dict)


_TEMPLATE = _Content(
    study={"study_id": "my-study-2024", "index_day": "day of the first infusion", "level": "patient",
           "secondary": False, "source_id": "s-title"},
    rows={"documents": [["paper", "article", None, None, None, None]]},
)


def write_template(out: str | os.PathLike[str]) -> Path:
    """An empty workbook to fill in: headers, dropdowns, a README sheet with the rules."""
    return _save(_build(_TEMPLATE), Path(out))


def write_workbook(con: duckdb.DuckDBPyConnection, study_id: str, out: str | os.PathLike[str]) -> Path:
    """Write stored study `study_id` as a workbook at `out` (a new file)."""
    return _save(_build(_read_study(con, study_id)), Path(out))


def _read_study(con: duckdb.DuckDBPyConnection, study_id: str) -> _Content:
    """The study's rows with their types, ordered as `registry export-package` orders them."""
    content = _Content()
    cursor = con.execute("SELECT * FROM studies WHERE study_id = ?", [study_id])
    names = [d[0] for d in cursor.description]
    content.study = dict(zip(names, cursor.fetchone()))
    content.field_sources = dict(con.execute(
        "SELECT field, source_id FROM field_sources WHERE study_id = ? AND table_name = 'studies'", [study_id]
    ).fetchall())
    keys = table_keys()
    for sheet in DATA_SHEETS:
        names = [c.name for c in sheet_columns(sheet)]
        select = ", ".join("value_text" if (sheet, n) == ("reported_aggregates", "value") else f'"{n}"' for n in names)
        where = f"study_id = {sql_string(study_id)}"
        if sheet == "field_sources":
            where += " AND table_name <> 'studies'"  # those are the study sheet's source_id column
        order = ", ".join(f'"{k}" NULLS FIRST' for k in keys[sheet] if k != "study_id")
        rows = con.execute(f"SELECT {select} FROM {sheet} WHERE {where} ORDER BY {order}").fetchall()
        if len(rows) > MAX_ROWS:
            raise RegistryError(
                f"{study_id} has {len(rows):,} {sheet} rows, more than an Excel sheet holds; "
                "export it as a package directory instead"
            )
        content.rows[sheet] = [list(r) for r in rows]
    return content


def _save(book, out: Path) -> Path:
    if out.exists():
        raise RegistryError(f"{out} exists: choose a new file name (nothing was written)")
    if not is_workbook(out):
        raise RegistryError(f"{out}: a workbook's name ends in .xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    book.save(partial)
    os.replace(partial, out)
    return out


def _build(content: _Content):
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    info = schema()
    book = Workbook()
    readme = book.active
    readme.title = "README"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    code_ranges = _write_codes(book.create_sheet("codes"), info, bold)

    def header(ws, names: list[str], notes: list[str]) -> None:
        for index, (name, note) in enumerate(zip(names, notes), start=1):
            cell = ws.cell(row=1, column=index, value=name)
            cell.font, cell.fill = bold, fill
            if note:
                cell.comment = Comment(note, "caseregistry", width=320, height=120)
            ws.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(name) + 4))
        ws.freeze_panes = "A2"

    def validation(ws, column: Column, table: str, cells: str) -> None:
        rule = _validation(column, table, code_ranges)
        if rule is None:
            return
        kind, formula1, formula2, message = rule
        dv = DataValidation(type=kind, formula1=formula1, formula2=formula2, allow_blank=True,
                            operator="between" if formula2 is not None else None)
        # Excel's limits: a title of 32 characters, a message of 255
        dv.error, dv.errorTitle, dv.showErrorMessage = message[:255], f"{table}.{column.name}"[:32], True
        dv.prompt, dv.showInputMessage = message[:255], False
        dv.add(cells)
        ws.add_data_validation(dv)

    # the study sheet: one row per field
    study = book.create_sheet(STUDY_SHEET)
    header(study, list(STUDY_HEADER), [
        "the study field (do not rename)", "its value; empty = not reported",
        "optional: the sources row this field comes from, when not the study's source_id",
        "what the field holds (not read back)",
    ])
    study.column_dimensions["B"].width, study.column_dimensions["D"].width = 50, 70
    for row, column in enumerate(info.columns["studies"], start=2):
        study.cell(row=row, column=1, value=column.name)
        _put(study.cell(row=row, column=2), content.study.get(column.name), column.type)
        _put(study.cell(row=row, column=3), content.field_sources.get(column.name), "VARCHAR")
        study.cell(row=row, column=4, value=_describe("studies", column, info))
        validation(study, column, "studies", f"B{row}")
    # one sheet per entity
    for sheet in DATA_SHEETS:
        ws = book.create_sheet(sheet)
        columns = sheet_columns(sheet)
        header(ws, [c.name for c in columns], [_describe(sheet, c, info) for c in columns])
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            # new cells typed in a text column stay text (001 stays 001)
            ws.column_dimensions[letter].number_format = "@" if column.type == "VARCHAR" else "General"
            validation(ws, column, sheet, f"{letter}2:{letter}{MAX_ROWS + 1}")
        for row_number, values in enumerate(content.rows.get(sheet, []), start=2):
            for index, (column, value) in enumerate(zip(columns, values), start=1):
                _put(ws.cell(row=row_number, column=index), value, column.type)
    _write_readme(readme, info, bold)
    readme.column_dimensions["A"].width, readme.column_dimensions["B"].width = 22, 12
    readme.column_dimensions["C"].width, readme.column_dimensions["D"].width = 16, 40
    readme.column_dimensions["E"].width = 90
    for row in readme.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=False, vertical="top")
    book.move_sheet("codes", offset=len(book.sheetnames))
    return book


def _put(cell, value: Any, type_: str) -> None:
    """Write a value with the cell type its column needs: text stays text, numbers are numbers."""
    if type_ == "VARCHAR":
        cell.number_format = "@"
    if value is None:
        return
    if isinstance(value, bool):
        cell.value = "true" if value else "false"
        return
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # a text that starts with "=" is not a formula


def _meaning(table: str, column: Column, info: _Schema) -> str:
    """What a column holds, from the schema's comment and the rules that apply to it."""
    note = info.notes.get((table, column.name), "")
    if table == "reported_aggregates" and column.name == "value":
        note = "the value as printed (keeps its decimals)"
    parts = [note] if note else []
    if column.name in DAY_COLUMNS:
        parts.append(f"whole days from the index day (day 0; {DAY_WINDOW[0]} to {DAY_WINDOW[1]})")
    codes = info.codes.get((table, column.name))
    if codes:
        parts.append(f"a code from the codes sheet ({codes.source})")
    target = REFERENCES.get(column.name)
    if target and target != table:
        parts.append(f"names a row of the {target} sheet")
    return "; ".join(parts)


def _describe(table: str, column: Column, info: _Schema) -> str:
    head = f"{'required' if column.required else 'optional'} {_TYPE_WORDS.get(column.type, column.type)}"
    meaning = _meaning(table, column, info)
    return f"{head}: {meaning}" if meaning else head


def _validation(column: Column, table: str, code_ranges: dict[tuple[str, str], str]):
    """(type, formula1, formula2, message) of the cell rule for a column, or None."""
    if (table, column.name) in code_ranges:
        return "list", code_ranges[(table, column.name)], None, f"pick a code from the list (codes sheet: {table}.{column.name})"
    if column.type == "BOOLEAN":
        return "list", '"true,false"', None, "true or false"
    if column.type == "INTEGER":
        low, high = DAY_WINDOW if column.name in DAY_COLUMNS else (-(1 << 31), (1 << 31) - 1)
        what = "days from the index day" if column.name in DAY_COLUMNS else "a whole number"
        return "whole", str(low), str(high), f"{what} ({low} to {high})"
    if column.type == "DOUBLE" and not (table == "reported_aggregates" and column.name == "value"):
        return "decimal", "-1E+300", "1E+300", "a number"
    return None


def _write_codes(ws, info: _Schema, bold) -> dict[tuple[str, str], str]:
    """The codes sheet: a code column and a meaning column per list; returns the dropdown ranges."""
    from openpyxl.utils import get_column_letter

    ranges: dict[tuple[str, str], str] = {}
    column = 1
    for key in sorted(info.codes):
        codes = info.codes[key]
        letter, meaning = get_column_letter(column), get_column_letter(column + 1)
        ws.cell(row=1, column=column, value=f"{key[0]}.{key[1]}").font = bold
        ws.cell(row=1, column=column + 1, value=f"meaning ({codes.source})").font = bold
        for row, (code, text) in enumerate(zip(codes.codes, codes.meanings), start=2):
            ws.cell(row=row, column=column, value=code)
            ws.cell(row=row, column=column + 1, value=text or None)
        ranges[key] = f"codes!${letter}$2:${letter}${len(codes.codes) + 1}"  # no "=": as Excel writes it
        ws.column_dimensions[letter].width = max(14, len(f"{key[0]}.{key[1]}") + 2)
        ws.column_dimensions[meaning].width = 30
        column += 3
    ws.freeze_panes = "A2"
    return ranges


_RULES = (
    "How to fill in this workbook",
    "- One row per item, below the header row. Do not rename, move or delete the header row or the sheets.",
    ("- The study sheet holds the study's fields, one per row (field, value); {required} are required. "
     "The optional source_id column names the sources row a single field comes from."),
    "- documents needs at least one row (the paper). Every other sheet may stay empty (header only).",
    "- Every row names its source_id: a row of the sources sheet (document, locator, verbatim quote).",
    ("- Time is in whole days from the index day (day 0 = the first infusion; negative = before it). "
     "Never type calendar dates: a date anywhere is refused."),
    ("- Patient ids are the paper's own numbers (001, 1), never names, initials, dates or record numbers. "
     "Text columns are formatted as Text so that 001 stays 001."),
    ("- An empty cell means not reported. In comorbidities and treatments, code none = the paper says "
     "none, not_reported = the paper says NA."),
    "- Coded columns offer a dropdown; the lists are on the codes sheet. Type values, not formulas.",
    ("- Then run: registry validate FILE.xlsx, and registry import FILE.xlsx. Problems name the sheet, "
     "the row and the column. The full rules: docs/package-format.md."),
)


def _write_readme(ws, info: _Schema, bold) -> None:
    """The README sheet: the rules, then every sheet and column with its meaning (from the schema)."""
    row = 1
    required = ", ".join(c.name for c in info.columns["studies"] if c.required)
    for index, text in enumerate(_RULES):
        cell = ws.cell(row=row, column=1, value=text.replace("{required}", required))
        if index == 0:
            cell.font = bold
        row += 1
    row += 1
    sheets = [("studies", STUDY_SHEET, info.columns["studies"])] + [(s, s, sheet_columns(s)) for s in DATA_SHEETS]
    for table, sheet, columns in sheets:
        ws.cell(row=row, column=1, value=f"sheet {sheet}").font = bold
        ws.cell(row=row, column=2, value=info.table_notes.get(table, ""))
        row += 1
        for title, column_number in zip(("column", "required", "type", "codes", "meaning"), range(1, 6)):
            ws.cell(row=row, column=column_number, value=title).font = bold
        row += 1
        for column in columns:
            codes = info.codes.get((table, column.name))
            shown = ", ".join(map(str, codes.codes)) if codes else ""
            if len(shown) > 60:
                shown = f"see codes sheet ({len(codes.codes)} codes)"
            ws.cell(row=row, column=1, value=column.name)
            ws.cell(row=row, column=2, value="required" if column.required else "")
            ws.cell(row=row, column=3, value=_TYPE_WORDS.get(column.type, column.type))
            ws.cell(row=row, column=4, value=shown or None)
            ws.cell(row=row, column=5, value=_meaning(table, column, info) or None)
            row += 1
        row += 1


# ---- reading ----------------------------------------------------------------------------------


@dataclass
class _SheetMap:
    """Where each row and column of a generated file came from in the workbook."""

    sheet: str
    letters: dict[str, str] = field(default_factory=dict)  # column name -> Excel letter
    starts: list[tuple[int, int]] = field(default_factory=list)  # (file line a record starts on, Excel row)
    items: list[int] = field(default_factory=list)  # list sheets: item index -> Excel row
    values: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # column -> (Excel row, text)


@dataclass
class _Unpacked:
    problems: list[Problem] = field(default_factory=list)
    maps: dict[str, _SheetMap] = field(default_factory=dict)  # file name or list name -> map
    study_rows: dict[str, int] = field(default_factory=dict)  # study field -> Excel row


class _Bad(Exception):
    def __init__(self, rule: str):
        super().__init__(rule)
        self.rule = rule


def _text(cell, type_: str) -> str | None:
    """A cell as package text for a column of `type_`; None when empty; _Bad when unusable."""
    value = cell.value
    if cell.data_type == "f":
        raise _Bad("a formula: type the value itself (copy, then Paste Special > Values)")
    if cell.data_type == "e":
        raise _Bad("an Excel error value")
    if value is None or value == "":
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        if type_ == "VARCHAR":
            raise _Bad("Excel turned this into a date: format the column as Text and type the value again")
        raise _Bad("a date: give whole days from the index day (day 0), never calendar dates")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and type_ != "DOUBLE":
            return str(int(value))  # Excel stores every number as a double: 3.0 is the 3 typed
        return repr(value)
    return str(value)


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, (dt.date, dt.time)) else str(value)


def _json_value(cell, type_: str) -> Any:
    """A cell as a study.json value (typed the way study.yaml types it)."""
    text = _text(cell, type_)
    value = cell.value
    if text is None:
        return None
    if type_ == "INTEGER" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    if type_ == "BOOLEAN" and isinstance(value, bool):
        return value
    return text


def _unpack(path: Path, folder: Path) -> _Unpacked:
    """Write the workbook at `path` as a package directory in `folder`; problems found on the way
    (and where everything came from) are returned."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    result = _Unpacked()
    try:
        book = load_workbook(path, data_only=False)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as error:  # not an .xlsx
        result.problems.append(Problem(path.name, f"cannot be read as an Excel workbook (.xlsx): {type(error).__name__}: {error}"))
        return result
    known = (STUDY_SHEET, *DATA_SHEETS, *HELP_SHEETS)
    for name in book.sheetnames:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            result.problems.append(Problem(
                f"sheet {name}", f"unknown sheet{hint}; a workbook holds {', '.join((STUDY_SHEET, *DATA_SHEETS))}"
            ))
    info = schema()
    study: dict[str, Any] = {}
    field_sources: dict[str, str] = {}
    if STUDY_SHEET not in book.sheetnames:
        result.problems.append(Problem(f"sheet {STUDY_SHEET}", "missing required sheet: the study's fields (field, value)"))
    else:
        _read_study_sheet(book[STUDY_SHEET], info, study, field_sources, result)
    for sheet in DATA_SHEETS:
        if sheet not in book.sheetnames:
            continue
        ws = book[sheet]
        columns = {c.name: c for c in (info.columns[sheet] if sheet in LIST_SHEETS else sheet_columns(sheet))}
        names = _header(ws)
        while names and not names[-1]:
            names.pop()
        sheet_map = _SheetMap(sheet, letters={n: get_column_letter(i) for i, n in enumerate(names, start=1) if n})
        width = len(names)
        records: list[tuple[int, list[str | None]]] = []
        for row in ws.iter_rows(min_row=2):
            cells = list(row)
            excel_row = cells[0].row if cells else 0
            texts: list[str | None] = []
            blank = True
            for index, cell in enumerate(cells):
                if cell.value is None or cell.value == "":
                    if index < width:
                        texts.append(None)
                    continue
                blank = False
                letter = get_column_letter(index + 1)
                if index >= width:
                    result.problems.append(Problem(f"sheet {sheet}", "a value in a column without a header", excel_row, letter, str(cell.value)))
                    continue
                name = names[index]
                column = columns.get(name)
                type_ = column.type if column else "VARCHAR"
                try:
                    texts.append(_json_value(cell, type_) if sheet in LIST_SHEETS else _text(cell, type_))
                except _Bad as bad:
                    result.problems.append(Problem(f"sheet {sheet}", bad.rule, excel_row, f"{letter} ({name})", _shown(cell.value)))
                    texts.append(None)
            if not blank:
                texts += [None] * (width - len(texts))
                records.append((excel_row, texts))
                for name, text in zip(names, texts):
                    if text is not None:
                        sheet_map.values.setdefault(name, []).append((excel_row, str(text)))
        if sheet in LIST_SHEETS:
            unknown = [n for n in names if n and n not in columns]
            for name in unknown:
                close = difflib.get_close_matches(name, list(columns), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                result.problems.append(Problem(f"sheet {sheet}", f"unknown column{hint}; {sheet} has: {', '.join(c for c in columns if c != 'study_id')}",
                                               1, f"{sheet_map.letters[name]} ({name})"))
            study[sheet] = [{n: v for n, v in zip(names, texts) if n in columns and n != "study_id"} for _, texts in records]
            sheet_map.items = [r for r, _ in records]
            result.maps[sheet] = sheet_map
            continue
        if len(records) > MAX_ROWS:  # cannot happen in a real .xlsx; keeps the mapping honest
            raise RegistryError(f"sheet {sheet} has more rows than Excel allows")
        target = folder / f"{sheet}.csv"
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([n if n else "" for n in names])
            writer.writerows([["" if t is None else t for t in texts] for _, texts in records])
        sheet_map.starts = _record_starts(target, [r for r, _ in records])
        result.maps[target.name] = sheet_map
    study["field_sources"] = field_sources
    (folder / _STUDY_JSON).write_text(json.dumps(study, default=str), encoding="utf-8")
    return result


def _header(ws) -> list[str]:
    first = next(ws.iter_rows(min_row=1, max_row=1), ())
    return ["" if c.value is None else str(c.value).strip() for c in first]


def _record_starts(path: Path, excel_rows: list[int]) -> list[tuple[int, int]]:
    """(line a record starts on, its Excel row), counting lines as the importer counts them (a
    value with a line break spans lines of the file but is one row of the sheet)."""
    starts = [(1, 1)]
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        start = 1
        for number, _ in enumerate(reader):
            if number:
                starts.append((start, excel_rows[number - 1]))
            start = reader.line_num + 1
    return starts


def _read_study_sheet(ws, info: _Schema, study: dict[str, Any], field_sources: dict[str, str], result: _Unpacked) -> None:
    names = _header(ws)
    position = {n: i for i, n in enumerate(names) if n}
    for needed in ("field", "value"):
        if needed not in position:
            result.problems.append(Problem(f"sheet {STUDY_SHEET}", f"the header row needs a {needed!r} column ({', '.join(STUDY_HEADER)})", 1))
    if result.problems and any(p.file == f"sheet {STUDY_SHEET}" for p in result.problems):
        return
    types = {c.name: c.type for c in info.columns["studies"]}
    for row in ws.iter_rows(min_row=2):
        cells = list(row)
        field_cell = cells[position["field"]] if position["field"] < len(cells) else None
        if field_cell is None or field_cell.value in (None, ""):
            if any(c.value not in (None, "") for c in cells[:3]):
                result.problems.append(Problem(f"sheet {STUDY_SHEET}", "a value without a field name", cells[0].row, "A (field)"))
            continue
        name = str(field_cell.value).strip()
        excel_row = field_cell.row
        if name in result.study_rows:
            result.problems.append(Problem(f"sheet {STUDY_SHEET}", f"field appears twice (also row {result.study_rows[name]})", excel_row, "A (field)", name))
            continue
        result.study_rows[name] = excel_row
        value_cell = cells[position["value"]] if position["value"] < len(cells) else None
        try:
            value = _json_value(value_cell, types.get(name, "VARCHAR")) if value_cell is not None else None
        except _Bad as bad:
            result.problems.append(Problem(f"sheet {STUDY_SHEET}", bad.rule, excel_row, f"B (value of {name})", _shown(value_cell.value)))
            continue
        study[name] = value
        if "source_id" in position and position["source_id"] < len(cells):
            try:
                source = _text(cells[position["source_id"]], "VARCHAR")
            except _Bad as bad:
                result.problems.append(Problem(f"sheet {STUDY_SHEET}", bad.rule, excel_row, "C (source_id)"))
                continue
            if source is not None:
                field_sources[name] = source


# ---- problems, renamed to the workbook --------------------------------------------------------

_LIST_ITEM = re.compile(r"^(documents|products|arms)\[(\d+)\]\.(\w+)$")


def _rename(problems: list[Problem], unpacked: _Unpacked) -> list[Problem]:
    return [_rename_one(p, unpacked) for p in problems]


def _rename_rule(rule: str, column: str | None) -> str:
    rule = rule.replace("missing required file", "missing required sheet")
    if column and column.split(".")[-1] in REFERENCES:
        target = REFERENCES[column.split(".")[-1]]
        rule = rule.replace(f"a row of {_STUDY_JSON}", f"a row of sheet {target}")
    rule = re.sub(r"\b(\w+)\.csv\b", lambda m: f"sheet {m.group(1)}" if m.group(1) in CSV_TABLES else m.group(0), rule)
    return rule.replace(_STUDY_JSON, f"sheet {STUDY_SHEET}").replace("(in Excel: CSV UTF-8)", "")


def _rename_one(problem: Problem, unpacked: _Unpacked) -> Problem:
    rule = _rename_rule(problem.rule, problem.column)
    sheet_map = unpacked.maps.get(problem.file)
    if sheet_map is not None:  # a CSV file written from a sheet
        row = problem.row
        if row is not None:
            row = max((excel for line, excel in sheet_map.starts if line <= row), default=row)
        return replace(problem, file=f"sheet {sheet_map.sheet}", rule=rule, row=row,
                       column=_column(sheet_map, problem.column))
    if problem.file in (f"{t}.csv" for t in CSV_TABLES):  # a sheet that is not there
        return replace(problem, file=f"sheet {problem.file.removesuffix('.csv')}", rule=rule)
    if problem.file != _STUDY_JSON:
        return replace(problem, rule=rule)
    column = problem.column or ""
    if item := _LIST_ITEM.match(column):
        sheet, index, name = item.group(1), int(item.group(2)), item.group(3)
        sheet_map = unpacked.maps[sheet]
        row = sheet_map.items[index] if index < len(sheet_map.items) else None
        return replace(problem, file=f"sheet {sheet}", rule=rule, row=row, column=_column(sheet_map, name))
    head, _, rest = column.partition(".")
    if head in LIST_SHEETS and head in unpacked.maps:  # a check over a list sheet's column, or a duplicate id
        sheet_map = unpacked.maps[head]
        name = rest or {"documents": "document_id", "products": "product_id", "arms": "arm_id"}[head]
        rows = [r for r, text in sheet_map.values.get(name, []) if text == problem.value]
        row = rows[-1] if rows else None
        return replace(problem, file=f"sheet {head}", rule=rule, row=row, column=_column(sheet_map, name))
    if head in LIST_SHEETS:
        return replace(problem, file=f"sheet {head}", rule=rule, column=None)
    if head == "field_sources":
        row = unpacked.study_rows.get(rest)
        if row is None and problem.value is not None:
            row = next((r for f, r in unpacked.study_rows.items() if f == problem.value), None)
        return replace(problem, file=f"sheet {STUDY_SHEET}", rule=rule, row=row, column="C (source_id)")
    row = unpacked.study_rows.get(column)
    if "unknown field" in rule:
        return replace(problem, file=f"sheet {STUDY_SHEET}", rule=rule, row=row, column="A (field)", value=column)
    return replace(problem, file=f"sheet {STUDY_SHEET}", rule=rule, row=row,
                   column=f"B (value of {column})" if column else None)


def _diagnose(package: Package, unpacked: _Unpacked) -> list[Problem]:
    """The importer's row checks (on a scratch database), less "empty" for the cells refused
    while reading (they were left empty in the files)."""
    from .importer import diagnose

    refused = {(p.file, p.row, p.column) for p in unpacked.problems}
    saved, package.problems = package.problems, []
    try:
        found = _rename(diagnose(package), unpacked)
    finally:
        package.problems = saved
    return [p for p in found if not (p.rule == "required value is empty" and (p.file, p.row, p.column) in refused)]


def _column(sheet_map: _SheetMap, name: str | None) -> str | None:
    if not name:
        return name
    letter = sheet_map.letters.get(name)
    if letter is None and name.startswith("#"):  # an empty header cell, by position
        from openpyxl.utils import get_column_letter

        return get_column_letter(int(name[1:]))
    return f"{letter} ({name})" if letter else name


# ---- the entry point the registry uses ----------------------------------------------------------


@contextmanager
def open_package(path: str | os.PathLike[str], columns: dict[str, list[Column]]) -> Iterator[Package]:
    """The package at `path`, a directory or a workbook. For a workbook, every problem (found
    while reading, or raised as PackageError inside the block) names its sheet, row and column."""
    path = Path(path)
    if not is_workbook(path):
        yield read_package(path, columns)
        return
    if not path.is_file():
        raise PackageError(str(path), [Problem(str(path), "no such workbook")])
    with tempfile.TemporaryDirectory(prefix="caseregistry-xlsx-") as scratch:
        folder = Path(scratch) / "package"
        folder.mkdir()
        unpacked = _unpack(path, folder)
        if any(p.file == path.name for p in unpacked.problems):
            raise PackageError(str(path), unpacked.problems)
        package = read_package(folder, columns)
        if unpacked.problems and not package.problems:
            # only cells were refused (left empty in the files): check the other rows too, as an
            # import of the files would
            package.problems = unpacked.problems + _diagnose(package, unpacked)
        else:
            package.problems = unpacked.problems + _rename(package.problems, unpacked)
        package.path = path
        package.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            yield package
        except PackageError as error:
            raise PackageError(str(path), _rename(error.problems, unpacked)) from None


__all__ = ["is_workbook", "open_package", "write_template", "write_workbook"]
