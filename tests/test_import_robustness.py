"""Bugs the import fuzzing found (tests/test_fuzz_import.py, scripts/fuzz_imports.py), one test each.

Each was a crash, a wrong row number, a misleading rule, a problem naming the wrong file, or a
package that should have been refused and was imported.
"""

from __future__ import annotations

import pytest

from bad_packages import append, replace, write_bytes
from registry import PackageError, Registry


def problems_of(package) -> list[str]:
    with pytest.raises(PackageError) as raised:
        Registry.validate(package)
    return [str(p) for p in raised.value.problems]


def edit(package, file: str, change) -> None:
    path = package / file
    path.write_bytes(change(path.read_bytes()))


# ---- binary data in a row ------------------------------------------------------------------------


def test_nul_byte_in_a_text_cell_is_refused(demo_package):
    """Was imported: DuckDB stores a NUL inside a string."""
    edit(demo_package, "findings.csv", lambda b: b.replace(b"hypotension", b"hypo\x00tension"))
    assert problems_of(demo_package) == [
        "findings.csv, row 2: binary data, not CSV text: control character 0x00 (only tab, line breaks and printable "
        "text may appear)"
    ]


def test_control_character_is_refused_with_its_line(demo_package):
    append("events.csv", "4,known_alive,9,,,\x1b[31mred,s-table")(demo_package)
    assert problems_of(demo_package) == [
        "events.csv, row 10: binary data, not CSV text: control character 0x1b (only tab, line breaks and printable "
        "text may appear)"
    ]


# ---- row numbers are lines of the file -----------------------------------------------------------


def test_row_is_the_line_after_a_value_quoted_over_two_lines(demo_package):
    """Was the record number (7): DuckDB counts a multi-line value as one row."""
    edit(demo_package, "sources.csv", lambda b: b.replace(b'"1 | F | 50"', b'"1 |\nF | 50"') + b"s-x,nodoc,Foo,,\n")
    assert problems_of(demo_package) == [
        "sources.csv, row 8, column document_id: document_id does not name a row of study.yaml (value: 'nodoc')"
    ]


def test_row_is_the_line_after_blank_lines(demo_package):
    """Was 3: the staged rows skip blank lines."""
    edit(demo_package, "patients.csv", lambda b: b.replace(b"2,msc,M,60", b"\n\n2,msc,Q,60"))
    assert problems_of(demo_package) == [
        "patients.csv, row 5, column sex: sex must be F or M (leave it empty when the paper does not report it) (value: 'Q')"
    ]


def test_csv_error_row_is_the_line_after_a_multi_line_value(demo_package):
    edit(demo_package, "sources.csv", lambda b: b.replace(b'"1 | F | 50"', b'"1 |\nF | 50"') + b"s-x,paper\n")
    assert problems_of(demo_package) == ["sources.csv, row 8: row does not have the header's 5 columns (value: 's-x,paper')"]


# ---- the rule named is the rule broken -----------------------------------------------------------


def test_a_record_over_the_readers_limit_is_called_too_long(demo_package):
    """Was "unterminated or misplaced quote": the reader's options (quote = ...) matched first.
    (A value quoted over many short lines: no line is long, the record is.)"""
    edit(demo_package, "findings.csv", lambda b: b + b'3,5,,,sign,"' + b"x" * 99_999 + (b"\n" + b"x" * 99_999) * 25 + b'",s-table\n')
    (problem,) = problems_of(demo_package)
    assert problem.startswith("findings.csv, row 3: line is too long to be a row (longer than 2,000,000 bytes) (value: '3,5,,,sign,\"xxx")


@pytest.mark.parametrize("after", [b"", b"3,6,,,sign,fever,s-table\n"], ids=["last-row", "row-after"])
def test_a_line_over_the_readers_buffer_is_refused(demo_package, after):
    """Was imported without that row: DuckDB drops a last line longer than its 32 MB buffer
    without a word (and fails with "Not implemented Error" when a row follows)."""
    edit(demo_package, "findings.csv", lambda b: b + b"3,5,,,sign," + b"x" * 40_000_000 + b",s-table\n" + after)
    assert problems_of(demo_package) == ["findings.csv, row 3: line is too long to be a row (longer than 2,000,000 bytes)"]


def test_a_cell_that_is_not_a_number_is_one_problem(demo_package):
    """Was two: "must be a number" and "required value is empty" for the same cell."""
    replace("measurements.csv", "1,0,,spo2,90,", "1,0,,spo2,ninety,")(demo_package)
    assert problems_of(demo_package) == ["measurements.csv, row 2, column value: must be a number (value: 'ninety')"]


def test_nan_is_reported_on_the_column_of_the_file(demo_package):
    """Was also reported on value_canonical, a column the file does not have."""
    replace("measurements.csv", "1,0,,spo2,90,", "1,0,,spo2,NaN,")(demo_package)
    assert problems_of(demo_package) == [
        "measurements.csv, row 2, column value: must be a finite number (no NaN or infinity) (value: 'nan')",
        "measurements.csv, row 2, column value: value outside the analyte's plausible range (spo2 must lie within "
        "0.0-100.0 %) (value: 'nan %')",
    ]


def test_a_file_that_cannot_be_read_does_not_flood_the_report(demo_package):
    """Was 50+ problems: every reference to sources.csv reported as unknown once it failed to load."""
    append("sources.csv", "s-x,paper")(demo_package)
    assert problems_of(demo_package) == ["sources.csv, row 7: row does not have the header's 5 columns (value: 's-x,paper')"]


def test_a_file_holding_only_a_byte_order_mark_is_empty(demo_package):
    write_bytes("events.csv", b"\xef\xbb\xbf")(demo_package)
    assert problems_of(demo_package) == ["events.csv: file is empty: it needs at least a header row with the column names"]


def test_empty_header_names_are_not_duplicates(demo_package):
    """Was "column appears twice in the header" with no column named."""
    write_bytes("treatments.csv", b"patient_id,drug,code,drug_class,phase,,,,source_id\n")(demo_package)
    assert problems_of(demo_package) == [
        f"treatments.csv, row 1, column #{n}: unknown column; treatments.csv has: patient_id, drug, code, drug_class, "
        "phase, start_day, end_day, detail, source_id"
        for n in (6, 7, 8)
    ]


# ---- study.yaml ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field_sources_csv", [False, True])
def test_unknown_source_in_study_yaml_field_sources_names_study_yaml(demo_package, field_sources_csv):
    """Was "field_sources.csv" with no row (a file that need not exist), or, beside a
    field_sources.csv, "could not be loaded (engine error)"."""
    if field_sources_csv:
        write_bytes("field_sources.csv", b"table_name,row_key,field,source_id\npatients,1,sex,s-table\n")(demo_package)
    replace("study.yaml", "followup_days: s-methods", "followup_days: s-nowhere")(demo_package)
    assert problems_of(demo_package) == [
        "study.yaml, column field_sources.source_id: source_id does not name a row of sources.csv (value: 's-nowhere')"
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("source_id: s-title", "source_id: s-nope",
         "study.yaml, column source_id: source_id does not name a row of sources.csv (value: 's-nope')"),
        ("    source_id: s-methods\narms", "    source_id: s-nope\narms",
         "study.yaml, column products.source_id: source_id does not name a row of sources.csv (value: 's-nope')"),
        ("    name: MSC\n    source_id: s-methods", "    name: MSC\n    source_id: s-nope",
         "study.yaml, column arms.source_id: source_id does not name a row of sources.csv (value: 's-nope')"),
    ],
    ids=["study", "product", "arm"],
)
def test_unknown_source_of_study_metadata_is_refused(demo_package, old, new, expected):
    """Was imported: the metadata's own source_id was never checked."""
    replace("study.yaml", old, new)(demo_package)
    assert problems_of(demo_package) == [expected]


def test_year_beyond_a_whole_number_is_a_type_problem(demo_package):
    """Was "cannot be stored: Conversion Error: ... INT64 ... INT32"."""
    replace("study.yaml", "year: 2024", "year: 99999999999999")(demo_package)
    assert problems_of(demo_package) == ["study.yaml, column year: must be of type INTEGER (value: '99999999999999')"]


@pytest.mark.parametrize("name, data", [("study.yaml", b"[" * 100_000), ("study.json", b"[" * 100_000)])
def test_deeply_nested_study_file_is_refused(demo_package, name, data):
    """Was a RecursionError traceback."""
    (demo_package / "study.yaml").unlink()
    (demo_package / name).write_bytes(data)
    assert problems_of(demo_package)[0] == f"{name}: cannot be parsed: nested too deeply"


def test_alias_bomb_is_refused_quickly(demo_package):
    """Was a hang: the refused value was turned into text in full (10^8 elements)."""
    levels = ["a: &a [x,x,x,x,x,x,x,x,x,x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]" for i in range(7)
    ]
    text = (demo_package / "study.yaml").read_text()
    (demo_package / "study.yaml").write_text("\n".join(levels) + "\n" + text.replace("title: A hand-made series of four patients", "title: *h"))
    problems = problems_of(demo_package)
    assert any(p.startswith("study.yaml, column title: must be of type VARCHAR (value: '[[[...], [...]") for p in problems)


def test_study_file_over_1_mib_is_refused(demo_package):
    replace("study.yaml", "country: Nowhere", "country: " + "x" * 1_100_000)(demo_package)
    assert problems_of(demo_package) == ["study.yaml: file is larger than 1 MiB: it holds the study metadata only"]
