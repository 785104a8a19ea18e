"""Generated broken packages: random mutations of the demo package, each with the problem it must cause.

Used by tests/test_fuzz_import.py (hypothesis drives the `random.Random` every mutator takes, so
failures shrink and replay) and by scripts/fuzz_imports.py (plain seeds, thousands of cases).

A mutator changes a copy of tests/data/packages/demo-2024 held in memory ({file name: bytes};
None = delete the file) and returns a `Mutation`: what it did and the problems it expects. An
import of a mutated package must end in a `PackageError` with at least one problem matching an
expectation (same file; same row, column and rule text where the expectation gives them), and
every problem must name a package file and a rule. A mutation with no expectations keeps the
package valid (a control: the BOM, a header-only file, negative days, CRLF, column order).
"""

from __future__ import annotations

import csv
import io
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "data" / "packages" / "demo-2024"
STUDY_FILES = ("study.yaml", "study.yml", "study.json", "study.toml")
DAY_COLUMNS = ("day", "day_min", "day_max", "onset_day", "start_day", "end_day")
REFERENCE_COLUMNS = ("patient_id", "source_id", "product_id", "arm_id", "document_id")
# CSV files whose rows other files refer to: emptying them is not a valid control
REFERENCED_FILES = ("sources.csv", "patients.csv")
NON_ASCII = "éñüçøµ°±ßàÉÖ"
NON_FINITE = ("nan", "NaN", "NAN", "inf", "-inf", "Infinity", "-Infinity", "1e309", "-1e309", "1e999")

Files = dict[str, bytes | None]


@dataclass(frozen=True)
class Expect:
    file: str
    row: int | None = None  # None: not checked
    column: str | None = None
    rule: str | None = None  # text the rule must contain

    def matches(self, problem) -> bool:
        return (
            problem.file == self.file
            and (self.row is None or problem.row == self.row)
            and (self.column is None or problem.column == self.column)
            and (self.rule is None or self.rule in problem.rule)
        )


@dataclass
class Mutation:
    kind: str
    description: str
    expect: list[Expect] = field(default_factory=list)  # empty: the package stays valid

    @property
    def valid(self) -> bool:
        return not self.expect


# ---- the demo package as data ------------------------------------------------------------------


def demo_files() -> Files:
    return {p.name: p.read_bytes() for p in sorted(DEMO.iterdir()) if p.is_file()}


@cache
def _columns() -> dict[str, dict[str, tuple[str, bool]]]:
    """{file: {column: (type, required)}} for every package CSV file, from the schema itself."""
    from registry.importer import scratch_connection
    from registry.schema import CSV_TABLES, package_columns, table_columns

    con = scratch_connection()
    try:
        tables = table_columns(con)
    finally:
        con.close()
    return {f"{t}.csv": {c.name: (c.type, c.required) for c in package_columns(t, tables[t])} for t in CSV_TABLES}


def columns_of(file: str) -> dict[str, tuple[str, bool]]:
    return _columns()[file]


def parse(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return rows[0], [r for r in rows[1:] if r]


def unparse(header: list[str], rows: list[list[str]], newline: str = "\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def line(cells: list[str]) -> bytes:
    """One CSV row as bytes, without its line break (a value holding a line break is quoted)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().removesuffix("\r\n").encode("utf-8")


def csv_with_rows(files: Files) -> list[str]:
    return sorted(n for n, d in files.items() if n.endswith(".csv") and d is not None and parse(d)[1])


def _cells(files: Files, rng: random.Random, want: Callable[[str, str, str], bool]) -> list[tuple[str, int, str]]:
    """(file, row index, column) of every cell where want(file, column, value) holds."""
    found = []
    for name in csv_with_rows(files):
        header, rows = parse(files[name])
        for index, row in enumerate(rows):
            for column, value in zip(header, row):
                if want(name, column, value):
                    found.append((name, index, column))
    return found


def _set_cell(files: Files, name: str, index: int, column: str, value: str) -> int:
    """Set one cell; return the row's line in the file (header = 1)."""
    header, rows = parse(files[name])
    rows[index][header.index(column)] = value
    files[name] = unparse(header, rows)
    return index + 2


def _token(rng: random.Random, alphabet: str = string.ascii_letters + string.digits + "-_.", low: int = 1, high: int = 12) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


# ---- mutators: broken packages -----------------------------------------------------------------


def bad_quote(files: Files, rng: random.Random) -> Mutation:
    """An opening quote that is never closed, or a closed quote followed by more text."""
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    index = rng.randrange(len(rows))
    position = rng.randrange(len(header))
    cells = [line([c]).decode() for c in rows[index]]  # each cell as written (quoted where needed)
    raw = rows[index][position].replace('"', "")
    variant = rng.choice(["open", "open-last", "junk-after"])
    if variant == "open-last":
        position = len(header) - 1
        raw = rows[index][position].replace('"', "")
    if variant == "junk-after":
        cells[position] = f'"{raw}"{_token(rng, string.ascii_letters)}'
    else:
        cells[position] = '"' + raw.replace(",", "")
    body = files[name].decode("utf-8").splitlines(keepends=True)
    body[index + 1] = ",".join(cells) + "\n"
    files[name] = "".join(body).encode("utf-8")
    return Mutation("bad_quote", f"{name} line {index + 2}: {variant} quote in {header[position]}",
                    [Expect(name, index + 2, rule="quote")])


def ragged_row(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    index = rng.randrange(len(rows))
    row = list(rows[index])
    if rng.random() < 0.5 and len(row) > 1:
        for _ in range(rng.randint(1, len(row) - 1)):
            row.pop(rng.randrange(len(row)))
        if not "".join(row).strip():
            row = [_token(rng)]  # a row of empty cells would be a blank line, which is skipped
        what = f"{len(row)} of {len(header)} cells"
    else:
        # every added cell non-empty: one trailing empty cell is read as a trailing comma
        row += [_token(rng) for _ in range(rng.randint(1, 5))]
        what = f"{len(row)} cells for {len(header)} columns"
    rows[index] = row
    files[name] = unparse(header, rows)
    return Mutation("ragged_row", f"{name} line {index + 2}: {what}",
                    [Expect(name, index + 2, rule="does not have the header's")])


def latin1_row(files: Files, rng: random.Random) -> Mutation:
    cells = _cells(files, rng, lambda f, c, v: columns_of(f)[c][0] == "VARCHAR")
    name, index, column = rng.choice(cells)
    header, rows = parse(files[name])
    value = rows[index][header.index(column)]
    cut = rng.randint(0, len(value))
    rows[index][header.index(column)] = value[:cut] + rng.choice(NON_ASCII) + value[cut:]
    encoding = rng.choice(["latin-1", "cp1252"])
    files[name] = unparse(header, rows).decode("utf-8").encode(encoding)
    return Mutation("latin1_row", f"{name} line {index + 2}, {column}: {encoding}",
                    [Expect(name, index + 2, rule="not UTF-8")])


def latin1_header(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    position = rng.randrange(len(header))
    header[position] = header[position] + rng.choice(NON_ASCII)
    files[name] = unparse(header, rows).decode("utf-8").encode("latin-1")
    return Mutation("latin1_header", f"{name}: Latin-1 header", [Expect(name, 1, rule="not UTF-8")])


def utf16(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice([n for n, d in files.items() if n.endswith(".csv") and d is not None])
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
    files[name] = files[name].decode("utf-8").encode(encoding)
    return Mutation("utf16", f"{name}: {encoding}", [Expect(name)])


def non_finite(files: Files, rng: random.Random) -> Mutation:
    numeric = lambda f, c, v: columns_of(f)[c][0] in ("DOUBLE", "INTEGER") or (f, c) == ("reported_aggregates.csv", "value")  # noqa: E731
    name, index, column = rng.choice(_cells(files, rng, numeric))
    value = rng.choice(NON_FINITE)
    row = _set_cell(files, name, index, column, value)
    return Mutation("non_finite", f"{name} line {row}, {column} = {value}", [Expect(name, row, column)])


def day_outside(files: Files, rng: random.Random) -> Mutation:
    name, index, column = rng.choice(_cells(files, rng, lambda f, c, v: c in DAY_COLUMNS))
    value = rng.choice([
        -366 - rng.randrange(10**rng.randint(0, 6)),
        3651 + rng.randrange(10**rng.randint(0, 6)),
        rng.choice([-1, 1]) * rng.randint(2**31, 2**40),  # beyond a whole number's range
    ])
    text = str(value) if rng.random() < 0.8 else f"{value}.0"
    row = _set_cell(files, name, index, column, text)
    return Mutation("day_outside", f"{name} line {row}, {column} = {text}", [Expect(name, row, column)])


def unknown_column(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    known = set(columns_of(name))
    alphabet = rng.choice([string.ascii_lowercase + "_", string.printable.strip() + " ", "αβγ_xyz ", "\"',; "])
    new = _token(rng, alphabet, 1, 20)
    while new.strip() in known or not new.strip() or new.strip() in header:
        new = _token(rng, alphabet, 1, 20) + "x"
    position = rng.randint(0, len(header))
    header.insert(position, new)
    for row in rows:
        row.insert(position, _token(rng))
    files[name] = unparse(header, rows)
    return Mutation("unknown_column", f"{name}: column {new!r}", [Expect(name, 1, new.strip(), "unknown column")])


def missing_column(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    required = [c for c in header if columns_of(name)[c][1]]
    column = rng.choice(required)
    position = header.index(column)
    files[name] = unparse(header[:position] + header[position + 1:], [r[:position] + r[position + 1:] for r in rows])
    return Mutation("missing_column", f"{name}: no {column}", [Expect(name, 1, column, "required column is missing")])


def missing_file(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(["study.yaml", "sources.csv", "patients.csv"])
    files[name] = None
    return Mutation("missing_file", f"{name} removed", [Expect(name, rule="missing required file")])


def empty_file(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice([n for n, d in files.items() if n.endswith(".csv") and d is not None])
    files[name] = rng.choice([b"", b"\n", b"\r\n\r\n", b"   \n", b"\xef\xbb\xbf"])
    return Mutation("empty_file", f"{name} emptied", [Expect(name, rule="empty")])


def no_header(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    files[name] = files[name].split(b"\n", 1)[1]
    return Mutation("no_header", f"{name}: header line removed", [Expect(name, 1)])


def _garbage(rng: random.Random, size: int) -> bytes:
    data = bytearray(rng.randrange(256) for _ in range(size))
    data[rng.randrange(size)] = rng.choice([0x00, 0x01, 0x1B, 0x7F, 0x0C])  # always some binary
    return bytes(data)


def binary_file(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice([n for n, d in files.items() if d is not None])
    files[name] = _garbage(rng, rng.randint(1, 4096))
    return Mutation("binary_file", f"{name} replaced by random bytes", [Expect(name)])


def binary_in_row(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    data = files[name]
    start = data.index(b"\n") + 1
    at = rng.randint(start, len(data))
    garbage = _garbage(rng, rng.randint(1, 64))
    files[name] = new = data[:at] + garbage + data[at:]
    first = min(new.find(bytes([b]), start) for b in range(256) if bytes([b]) in garbage and _is_control(b))
    row = new.count(b"\n", 0, first) + 1
    return Mutation("binary_in_row", f"{name}: {len(garbage)} random bytes at byte {at}", [Expect(name, row, rule="binary")])


def _is_control(byte: int) -> bool:
    return byte < 0x20 and byte not in (0x09, 0x0A, 0x0D) or byte == 0x7F


def duplicate_row(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    index = rng.randrange(len(rows))
    rows.append(list(rows[index]))
    files[name] = unparse(header, rows)
    return Mutation("duplicate_row", f"{name}: line {index + 2} repeated as line {len(rows) + 1}",
                    [Expect(name, len(rows) + 1, rule="duplicate row")])


def duplicate_id(files: Files, rng: random.Random) -> Mutation:
    options = [(n, c) for n, c in [("patients.csv", "patient_id"), ("sources.csv", "source_id"), ("study_facts.csv", "fact_id"),
                                   ("reported_aggregates.csv", "reported_id"), ("missing_content.csv", "item_id")]
               if files.get(n) is not None and len(parse(files[n])[1]) > 1]
    name, column = rng.choice(options)
    header, rows = parse(files[name])
    first, second = rng.sample(range(len(rows)), 2)
    rows[second][header.index(column)] = rows[first][header.index(column)]
    files[name] = unparse(header, rows)
    return Mutation("duplicate_id", f"{name}: line {second + 2} takes the {column} of line {first + 2}",
                    [Expect(name, max(first, second) + 2, rule="duplicate row")])


def unknown_reference(files: Files, rng: random.Random) -> Mutation:
    name, index, column = rng.choice(_cells(files, rng, lambda f, c, v: c in REFERENCE_COLUMNS and f != f"{c[:-3]}s.csv"))
    existing: set[str] = set()
    for n in csv_with_rows(files):
        header, rows = parse(files[n])
        if column in header:
            existing |= {r[header.index(column)] for r in rows}
    value = _token(rng, rng.choice([string.ascii_letters + string.digits, string.digits, "-_.pP0123456789"]))
    while value in existing or value in ("paper", "msc"):
        value += rng.choice(string.ascii_letters)
    row = _set_cell(files, name, index, column, value)
    return Mutation("unknown_reference", f"{name} line {row}: {column} = {value!r}", [Expect(name, row, column)])


def extubation_before_intubation(files: Files, rng: random.Random) -> Mutation:
    header, rows = parse(files["events.csv"])
    if rng.random() < 0.5:
        patient, first = rng.choice([("1", -2), ("3", 0)])
        day = rng.randint(-365, first - 1)
        rows.append([{"patient_id": patient, "event": "extubation", "day": str(day), "source_id": "s-table"}.get(c, "") for c in header])
        files["events.csv"] = unparse(header, rows)
        return Mutation("extubation_before_intubation", f"patient {patient} extubated on day {day}",
                        [Expect("events.csv", len(rows) + 1, "day", "extubation before")])
    # move patient 1's intubation (day -2) after the extubation (day 5, line 4)
    day = rng.randint(6, 28)
    for row in rows:
        if row[:2] == ["1", "intubation"]:
            row[header.index("day")] = str(day)
    files["events.csv"] = unparse(header, rows)
    return Mutation("extubation_before_intubation", f"patient 1 intubated on day {day}, extubated on day 5",
                    [Expect("events.csv", 4, "day", "extubation before")])


LONG_LINE_BYTES = 3_000_000  # over DuckDB's 2,000,000-byte line limit; scripts/fuzz_imports.py can raise it


def long_line(files: Files, rng: random.Random, size: int | None = None) -> Mutation:
    size = size or rng.randint(LONG_LINE_BYTES, LONG_LINE_BYTES + LONG_LINE_BYTES // 2)
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    variant = rng.choice(["text-cell", "quoted-cell", "no-newline", "whole-file", "quoted-multiline"])
    if variant == "whole-file":  # one line and nothing else: no header
        files[name] = b"x" * size
        return Mutation("long_line", f"{name}: a single line of {size:,} bytes", [Expect(name, 1)])
    cells = list(rows[rng.randrange(len(rows))])
    position = rng.randrange(len(cells))
    big = "y" * size
    if variant == "quoted-multiline":  # no long line, one long record: a value quoted over many lines
        big = "\n".join("y" * 99_999 for _ in range(size // 100_000 + 1))
    cells[position] = big
    text = line(cells) if variant != "quoted-cell" else b",".join(b'"' + c.encode() + b'"' for c in cells)
    data = files[name] if files[name].endswith(b"\n") else files[name] + b"\n"
    files[name] = data + text + (b"" if variant == "no-newline" else b"\n")
    return Mutation("long_line", f"{name} line {len(rows) + 2}: {variant}, {size:,} bytes",
                    [Expect(name, len(rows) + 2, rule="too long")])


# ---- controls: changes that keep the package valid ---------------------------------------------


def utf8_bom(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    files[name] = b"\xef\xbb\xbf" + files[name]
    return Mutation("utf8_bom", f"{name}: UTF-8 with a byte-order mark")


def header_only(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice([n for n in csv_with_rows(files) if n not in REFERENCED_FILES])
    first = files[name].split(b"\n", 1)[0].rstrip(b"\r")
    files[name] = first + rng.choice([b"\n", b"\r\n", b"", b"\n\n"])
    return Mutation("header_only", f"{name}: header only")


def negative_day(files: Files, rng: random.Random) -> Mutation:
    cells = _cells(files, rng, lambda f, c, v: f in ("measurements.csv", "findings.csv") and c == "day" and v != "")
    name, index, column = rng.choice(cells)
    value = -rng.randint(1, 365)
    _set_cell(files, name, index, column, str(value))
    return Mutation("negative_day", f"{name} row {index + 2}: day {value}")


def crlf(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    files[name] = files[name].replace(b"\n", b"\r\n")
    return Mutation("crlf", f"{name}: CRLF line endings")


def column_order(files: Files, rng: random.Random) -> Mutation:
    name = rng.choice(csv_with_rows(files))
    header, rows = parse(files[name])
    order = list(range(len(header)))
    rng.shuffle(order)
    files[name] = unparse([header[i] for i in order], [[r[i] for i in order] for r in rows])
    return Mutation("column_order", f"{name}: columns reordered")


BAD = {
    f.__name__: f
    for f in (bad_quote, ragged_row, latin1_row, latin1_header, utf16, non_finite, day_outside, unknown_column,
              missing_column, missing_file, empty_file, no_header, binary_file, binary_in_row, duplicate_row,
              duplicate_id, unknown_reference, extubation_before_intubation, long_line)
}
VALID = {f.__name__: f for f in (utf8_bom, header_only, negative_day, crlf, column_order)}
# refused while the package is read (headers, encodings, study.yaml): no rows are loaded
FAST = ("latin1_header", "utf16", "unknown_column", "missing_column", "missing_file", "empty_file", "no_header",
        "binary_file", "binary_in_row")
SLOW = tuple(k for k in BAD if k not in FAST)


def mutate(kind: str, rng: random.Random, files: Files | None = None) -> tuple[Files, Mutation]:
    files = dict(files or demo_files())
    mutator = BAD.get(kind) or VALID[kind]
    return files, mutator(files, rng)


def write(files: Files, target: Path, study_id: str | None = None) -> Path:
    """Write the package to `target`; `study_id` renames the study (a fresh import, not a replace)."""
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if data is None:
            continue
        if name == "study.yaml" and study_id and b"study_id: demo-2024" in data:
            data = data.replace(b"study_id: demo-2024", f"study_id: {study_id}".encode())
        (target / name).write_bytes(data)
    return target


def well_formed(problem, package: Path) -> str | None:
    """Why `problem` is not a clear problem (None when it is): it must name a file of the package
    (or a required file that is missing) and a rule; a row is a line of that file."""
    names = {p.name for p in package.iterdir()} | {"study.yaml", "sources.csv", "patients.csv"}
    if problem.file not in names or not (problem.file.endswith(".csv") or problem.file in STUDY_FILES):
        return f"does not name a package file: {problem.file!r}"
    if not problem.rule or not problem.rule.strip():
        return "has no rule"
    if "engine error" in problem.rule or "Traceback" in problem.rule:
        return f"is an engine error, not a rule: {problem.rule!r}"
    if problem.row is not None:
        path = package / problem.file
        if not isinstance(problem.row, int) or problem.row < 1:
            return f"row {problem.row!r} is not a line number"
        if path.is_file():
            with path.open("rb") as handle:
                lines = sum(1 for _ in handle)
            if problem.row > max(lines, 1):
                return f"row {problem.row} is past the end of {problem.file} ({lines} lines)"
    if problem.column is not None and not str(problem.column).strip():
        return "names an empty column"
    return None


# ---- running a case ----------------------------------------------------------------------------


def snapshot(db: Path) -> tuple[bytes, dict[str, list[tuple]]]:
    """The registry file's bytes and every row of every table, sorted (as conftest.table_snapshot)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        rows = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        con.close()
    return db.read_bytes(), rows


def unchanged(db: Path, before: tuple[bytes, dict[str, list[tuple]]]) -> bool:
    """Every table holds what it held. Equal file bytes prove it at once; otherwise (DuckDB may
    rewrite a file it opened for writing) every row of every table is compared."""
    if db.read_bytes() == before[0] and not Path(f"{db}.wal").exists():
        return True
    return snapshot(db)[1] == before[1]


def import_with_cli(db: Path, package: Path, replace: bool = False):
    """`registry import` in-process (click's runner); also returns what the library raised under
    the CLI. An exception that is not a RegistryError escapes, as it would as a traceback."""
    from unittest import mock

    from click.testing import CliRunner

    from registry import Registry
    from registry.cli import cli

    raised: list[BaseException] = []
    original = Registry.import_package

    def spy(self, path, **options):
        try:
            return original(self, path, **options)
        except BaseException as error:
            raised.append(error)
            raise

    args = ["--db", str(db), "import", str(package)] + (["--replace"] if replace else [])
    with mock.patch.object(Registry, "import_package", spy):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result, raised


def verdict(mutations: list[Mutation], package: Path, result, raised) -> str | None:
    """None when a refused import ended cleanly; otherwise what was wrong."""
    from registry import PackageError

    if result.exit_code != 1:
        return f"exit code {result.exit_code}: {result.output[:500]!r}"
    if result.stdout:
        return f"wrote to stdout: {result.stdout[:300]!r}"
    if "Traceback" in result.output or not result.stderr.startswith("Error: "):
        return f"not a clean error message: {result.stderr[:500]!r}"
    if len(raised) != 1 or not isinstance(raised[0], PackageError):
        return f"raised {raised!r}, not one PackageError"
    problems = raised[0].problems
    if not problems:
        return "a PackageError with no problems"
    for problem in problems:
        why = well_formed(problem, package)
        if why:
            return f"problem {problem} {why}"
    expected = [e for m in mutations for e in m.expect]
    if not any(e.matches(p) for e in expected for p in problems):
        return f"no problem names the break {expected}: {[str(p)[:200] for p in problems[:8]]}"
    return None
