"""Read a case-series package from disk: its study metadata and the headers of its CSV files.

Only the small parts are read in Python (study.yaml and each CSV's header line). The rows
themselves are read by DuckDB's CSV reader inside the import (see importer.py): moving rows
through Python costs ~1,700x per row.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tomllib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem
from .schema import CSV_TABLES, Column, package_columns

STUDY_FILES = ("study.yaml", "study.yml", "study.json", "study.toml")
STUDY_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_HEADER_LIMIT = 1 << 16  # a header line longer than 64 KiB is not a header
_STUDY_FILE_LIMIT = 1 << 20  # study metadata is a few KiB; a larger file is not a study file
# Bytes that never occur in CSV text: C0 control characters other than tab, LF and CR, and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_CONTROL = re.compile(b"[" + re.escape(_CONTROL_BYTES) + b"]")
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
# DuckDB's CSV reader refuses a line over 2,000,000 bytes, but drops a last line longer than its
# 32 MB buffer without a word (and fails on one earlier in the file with "not implemented"): long
# lines are refused by this module's scan, which the import waits for before it commits or reports
# anything. With 1 MiB blocks, a line over the limit always crosses a block boundary, so following
# the bytes since the last line break suffices.
LINE_LIMIT = 2_000_000
_BLOCK = 1 << 20
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="package-bytes")


@dataclass
class CsvFile:
    table: str
    path: Path
    header: list[str]  # column names in file order
    columns: list[Column]  # the package columns for this table (all, in table order)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Package:
    path: Path
    study_file: str
    study: dict[str, Any] = field(default_factory=dict)  # the studies row
    documents: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    arms: list[dict[str, Any]] = field(default_factory=list)
    field_sources: dict[str, str] = field(default_factory=dict)  # study field -> source_id
    csv_files: dict[str, CsvFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # SHA-256 of the files, or the thread still computing it (see start_background)
    _digest: Future | str = field(default="", repr=False, compare=False)
    # the CSV files' text problems (binary data, over-long lines), or the thread finding them
    _text: Future | None = field(default=None, repr=False, compare=False)

    @property
    def sha256(self) -> str:
        if isinstance(self._digest, Future):
            self._digest = self._digest.result()
        return self._digest

    @sha256.setter
    def sha256(self, value: str) -> None:
        self._digest = value

    def text_problems(self) -> list[Problem]:
        """Binary data and over-long lines in the CSV files (waits for the background scan).

        The import asks before it commits or reports anything, so these problems always win over
        what DuckDB's reader made of such a file."""
        return self._text.result() if self._text is not None else []

    def csv_paths(self) -> list[Path]:
        """The package's CSV files, in name order."""
        return sorted(csv_file.path for csv_file in self.csv_files.values())

    def start_background(self) -> None:
        """Scan the CSV files' text, then compute the SHA-256, in a background thread while the
        import runs: both only read bytes (hashlib releases the GIL) and overlap with DuckDB's
        work. At 100k patients (509 MB) this took about 0.5 s off a 7.9 s import."""
        self._text = _BACKGROUND.submit(_scan_text, self.csv_paths())
        self._digest = _BACKGROUND.submit(_package_digest, self.path)

    @property
    def study_id(self) -> str:
        return str(self.study.get("study_id", ""))

    def metadata_json(self) -> str:
        """The study metadata in a canonical form: equal content gives equal text."""
        return json.dumps(
            {
                "study": self.study,
                "documents": sorted(self.documents, key=lambda d: str(d.get("document_id"))),
                "products": sorted(self.products, key=lambda d: str(d.get("product_id"))),
                "arms": sorted(self.arms, key=lambda d: str(d.get("arm_id"))),
                "field_sources": self.field_sources,
            },
            sort_keys=True,
            default=str,
        )


def read_package(path: Path, table_columns: dict[str, list[Column]]) -> Package:
    """Read `path`; every problem found is collected in `Package.problems`, nothing is raised."""
    path = Path(path)
    if not path.is_dir():
        problem = Problem(str(path), "a package is a directory holding study.yaml and CSV files")
        return Package(path=path, study_file="", problems=[problem])
    study_path = next((path / n for n in STUDY_FILES if (path / n).is_file()), None)
    package = Package(path=path, study_file=study_path.name if study_path else "study.yaml")
    if study_path is None:
        package.problems.append(
            Problem("study.yaml", "missing required file: every package needs study.yaml (or .json/.toml)")
        )
    else:
        _read_study(package, study_path, table_columns)
    for table in CSV_TABLES:
        _read_header(package, path / f"{table}.csv", table, table_columns[table])
    known = {f"{t}.csv" for t in CSV_TABLES} | set(STUDY_FILES)
    for extra in sorted(p.name for p in path.iterdir() if p.is_file()):
        if extra.endswith(".csv") and extra not in known:
            package.problems.append(
                Problem(extra, f"unknown file: a package holds {', '.join(sorted(known - set(STUDY_FILES)))}")
            )
    if package.study.get("level") == "patient" and "patients" not in package.csv_files:
        package.problems.append(Problem("patients.csv", "missing required file: a level: patient study needs patients.csv"))
    if "sources" not in package.csv_files and not any(p.file == "sources.csv" for p in package.problems):
        package.problems.append(Problem("sources.csv", "missing required file: every row names its source in sources.csv"))
    if package.problems:  # refused already: report the files' text problems with the rest
        package.problems.extend(_scan_text(package.csv_paths()))
    else:
        package.start_background()
    return package


def _package_digest(path: Path) -> str:
    """SHA-256 of the package's files (names and bytes, in name order)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                digest.update(block)
    return digest.hexdigest()


def _scan_text(files: list[Path]) -> list[Problem]:
    """Check `files` for bytes that are never CSV text (NUL and other control characters: binary
    data) and for a line longer than the CSV reader takes. Line numbers are counted only for a
    problem found (counting every block's line breaks cost a third of the scan at 500 MB)."""
    problems: list[Problem] = []
    for file in files:
        name = file.name
        binary_at = long_at = None  # byte offset of the first control character / over-long line
        offset = 0  # bytes before this block
        line_start = 0  # byte offset where the current line began
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                if binary_at is None and block.translate(None, _TEXT_BYTES):  # what is left is control bytes
                    binary_at = offset + _CONTROL.search(block).start()
                last = block.rfind(b"\n")
                if last < 0:
                    if long_at is None and offset + len(block) - line_start > LINE_LIMIT:
                        long_at = line_start
                else:
                    if long_at is None and offset + block.find(b"\n") - line_start > LINE_LIMIT:
                        long_at = line_start
                    line_start = offset + last + 1
                offset += len(block)
        if binary_at is not None:
            with file.open("rb") as handle:
                handle.seek(binary_at)
                byte = handle.read(1)[0]
            problems.append(
                Problem(name, f"binary data, not CSV text: control character 0x{byte:02x} "
                        "(only tab, line breaks and printable text may appear)", row=_line_at(file, binary_at))
            )
        if long_at is not None:
            problems.append(_too_long(name, _line_at(file, long_at)))
    return problems


def _line_at(file: Path, position: int) -> int:
    """The line (1 = first) holding the byte at `position`."""
    lines = 1
    with file.open("rb") as handle:
        while position > 0:
            block = handle.read(min(_BLOCK, position))
            if not block:
                break
            lines += block.count(b"\n")
            position -= len(block)
    return lines


def _too_long(name: str, row: int) -> Problem:
    return Problem(name, f"line is too long to be a row (longer than {LINE_LIMIT:,} bytes)", row=row)


# ---- study.yaml -------------------------------------------------------------------------------

_LISTS = {"documents": "document_id", "products": "product_id", "arms": "arm_id"}


def _load_study_file(path: Path) -> Any:
    if path.stat().st_size > _STUDY_FILE_LIMIT:
        raise _TooLarge
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    return yaml.safe_load(text)


def _read_study(package: Package, path: Path, table_columns: dict[str, list[Column]]) -> None:
    name = path.name
    try:
        data = _load_study_file(path)
    except _TooLarge:
        package.problems.append(Problem(name, "file is larger than 1 MiB: it holds the study metadata only"))
        return
    except UnicodeDecodeError:
        package.problems.append(Problem(name, "file is not UTF-8 text: save it as UTF-8"))
        return
    except RecursionError:
        package.problems.append(Problem(name, "cannot be parsed: nested too deeply"))
        return
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        package.problems.append(Problem(name, f"cannot be parsed: {first_line}"))
        return
    if not isinstance(data, dict):
        package.problems.append(Problem(name, "must be a mapping of study fields (study_id: ..., title: ...)"))
        return
    data = dict(data)
    authors = data.get("authors")
    if isinstance(authors, list) and all(_is_scalar(a) for a in authors):
        data["authors"] = "; ".join(str(a) for a in authors)
    lists = {key: data.pop(key, None) for key in _LISTS}
    field_sources = data.pop("field_sources", None)
    package.study = _record(package, name, "", data, table_columns["studies"], defaults={"secondary": False})
    study_columns = {c.name for c in table_columns["studies"]}
    if field_sources is not None:
        if not isinstance(field_sources, dict):
            package.problems.append(Problem(name, "must map study fields to source ids", column="field_sources"))
        else:
            for key, source in field_sources.items():
                if key not in study_columns:
                    package.problems.append(
                        Problem(name, "field_sources names a study field that does not exist", column=f"field_sources.{key}", value=str(key))
                    )
                if not _is_scalar(source) or source is None:
                    package.problems.append(
                        Problem(name, "must name one source id", column=f"field_sources.{key}", value=_shown(source))
                    )
                    continue
                package.field_sources[str(key)] = str(source)
    for key, id_column in _LISTS.items():
        items = lists[key]
        if items is None:
            if key == "documents":
                package.problems.append(Problem(name, "at least one document is required (the paper)", column="documents"))
            continue
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            package.problems.append(Problem(name, f"{key} must be a list of mappings", column=key))
            continue
        rows = [
            _record(package, name, f"{key}[{index}].", item, table_columns[key])
            for index, item in enumerate(items)
        ]
        setattr(package, key, rows)
        ids = [r.get(id_column) for r in rows]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1 and i is not None}):
            package.problems.append(Problem(name, f"duplicate {id_column}: each must be unique", column=key, value=str(duplicate)))
    study_id = package.study.get("study_id")
    if isinstance(study_id, str) and not STUDY_ID.match(study_id):
        package.problems.append(
            Problem(name, "study_id must be lower-case letters, digits and . _ - (at most 63)", column="study_id", value=study_id)
        )
    level = package.study.get("level")
    if level is not None and level not in ("patient", "aggregate"):
        package.problems.append(Problem(name, "level must be patient or aggregate", column="level", value=str(level)))


def _record(
    package: Package,
    file: str,
    prefix: str,
    data: dict[str, Any],
    columns: list[Column],
    defaults: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check one mapping against a table's columns; return the row with typed values."""
    by_name = {c.name: c for c in columns if c.name != "study_id" or not prefix}
    row: dict[str, Any] = dict(defaults or {})
    for key, value in data.items():
        column = by_name.get(str(key))
        if column is None:
            known = ", ".join(sorted(by_name))
            package.problems.append(Problem(file, f"unknown field (known: {known})", column=f"{prefix}{key}"))
            continue
        converted = _convert(value, column.type)
        if converted is _INVALID:
            package.problems.append(
                Problem(file, f"must be of type {column.type}", column=f"{prefix}{key}", value=_shown(value))
            )
            continue
        row[column.name] = converted
    for column in by_name.values():
        if column.required and row.get(column.name) is None:
            package.problems.append(Problem(file, "required field is missing or empty", column=f"{prefix}{column.name}"))
    return row


_INVALID = object()
_INT32 = (-(1 << 31), (1 << 31) - 1)


class _TooLarge(Exception):
    pass


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple, set))


def _shown(value: Any) -> str:
    """A value as shown in a problem: bounded, even for a nested (or alias-bomb) YAML structure."""
    if _is_scalar(value):
        return str(value)
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxlevel, shortener.maxlist, shortener.maxdict, shortener.maxstring = 2, 4, 4, 40
    return shortener.repr(value)


def _convert(value: Any, type_: str) -> Any:
    if value is None or value == "":
        return None
    if type_ == "INTEGER":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return _INVALID
        try:
            number = int(value)
        except ValueError:
            return _INVALID
        return number if _INT32[0] <= number <= _INT32[1] else _INVALID
    if type_ == "DOUBLE":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return _INVALID
        return number if number == number and abs(number) != float("inf") else _INVALID
    if type_ == "BOOLEAN":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        return {"true": True, "false": False}.get(lowered, _INVALID)
    if isinstance(value, (dict, list)):
        return _INVALID
    return str(value)


# ---- CSV headers ------------------------------------------------------------------------------


def _read_header(package: Package, path: Path, table: str, table_columns: list[Column]) -> None:
    name = path.name
    if not path.exists():
        return
    if not path.is_file():
        package.problems.append(Problem(name, "must be a file"))
        return
    with path.open("rb") as handle:
        head = handle.read(_HEADER_LIMIT + 1)
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        package.problems.append(Problem(name, "file is empty: it needs at least a header row with the column names"))
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        package.problems.append(Problem(name, "file is UTF-16 text: save it as UTF-8 (in Excel: CSV UTF-8)"))
        return
    end = head.find(b"\n")
    if end < 0:
        if len(head) > _HEADER_LIMIT:
            package.problems.append(Problem(name, "the first line is longer than 64 KiB: the file has no header row", row=1))
            return
        end = len(head)
    line = head[:end]
    if b"\0" in line:
        package.problems.append(Problem(name, "file is binary, not CSV text", row=1))
        return
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        package.problems.append(
            Problem(name, "file is not UTF-8 text (Latin-1?): save it as UTF-8 (in Excel: CSV UTF-8)", row=1)
        )
        return
    try:
        header = [h.strip() for h in next(csv.reader([text]))]
    except (csv.Error, StopIteration):
        package.problems.append(Problem(name, "the header row is not valid CSV", row=1, value=text))
        return
    columns = package_columns(table, table_columns)
    known = {c.name for c in columns}
    bad = False
    for position, column in enumerate(header, start=1):
        if column not in known:
            suggestion = _closest(column, known)
            rule = "unknown column" + (f" (did you mean {suggestion}?)" if suggestion else "")
            rule += f"; {name} has: {', '.join(c.name for c in columns)}"
            package.problems.append(Problem(name, rule, row=1, column=column or f"#{position}"))
            bad = True
    for duplicate in sorted({h for h in header if header.count(h) > 1 and h}):  # empty names: unknown above
        package.problems.append(Problem(name, "column appears twice in the header", row=1, column=duplicate))
        bad = True
    for column in columns:
        if column.required and column.name not in header:
            package.problems.append(Problem(name, "required column is missing from the header", row=1, column=column.name))
            bad = True
    if not bad:
        package.csv_files[table] = CsvFile(table=table, path=path, header=header, columns=columns)


def _closest(word: str, candidates: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, sorted(candidates), n=1)
    return matches[0] if matches else None
