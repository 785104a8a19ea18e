"""Write case-series packages: a stored study back out, or an empty template to start from."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import yaml

from .importer import sql_string
from .schema import CSV_TABLES, package_columns, table_columns, table_keys

_YAML_LISTS = {"documents": "document_id", "products": "product_id", "arms": "arm_id"}


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _clean(record: dict) -> dict:
    return {k: v for k, v in record.items() if v is not None and k != "study_id"}


def write_package(con: duckdb.DuckDBPyConnection, study_id: str, out: Path) -> Path:
    """Write `study_id` as a package directory at `out` (built beside it, then renamed in)."""
    if out.exists() and any(out.iterdir()):
        from .errors import RegistryError

        raise RegistryError(f"{out} exists and is not empty: choose a new directory")
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    study = _records(con, "SELECT * FROM studies WHERE study_id = ?", [study_id])[0]
    document = {"study_id": study_id, **_clean(study)}
    field_sources = _records(
        con,
        "SELECT field, source_id FROM field_sources WHERE study_id = ? AND table_name = 'studies' ORDER BY field",
        [study_id],
    )
    if field_sources:
        document["field_sources"] = {r["field"]: r["source_id"] for r in field_sources}
    for table, key in _YAML_LISTS.items():
        rows = _records(con, f"SELECT * FROM {table} WHERE study_id = ? ORDER BY {key}", [study_id])
        if rows:
            document[table] = [_clean(r) for r in rows]
    (partial / "study.yaml").write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    columns = table_columns(con)
    keys = table_keys()
    for table in CSV_TABLES:
        names = [c.name for c in package_columns(table, columns[table])]
        select = ", ".join("value_text AS value" if (table, n) == ("reported_aggregates", "value") else f'"{n}"' for n in names)
        where = f"study_id = {sql_string(study_id)}"
        if table == "field_sources":
            where += " AND table_name <> 'studies'"
        order = ", ".join(f'"{k}" NULLS FIRST' for k in keys[table] if k != "study_id")
        target = partial / f"{table}.csv"
        con.execute(
            f"COPY (SELECT {select} FROM {table} WHERE {where} ORDER BY {order}) "
            f"TO {sql_string(str(target))} (FORMAT csv, HEADER true, DELIMITER ',')"
        )
    if out.exists():
        out.rmdir()
    os.replace(partial, out)
    return out


TEMPLATE_STUDY = """\
# study.yaml: the study's metadata. Every field is described in docs/package-format.md.
# Leave a field empty (null) when the paper does not state it; never guess.
study_id: my-study-2024          # lower-case letters, digits and - _ . ; becomes the id in the registry
title: null                      # required: the paper's title
authors: []                      # e.g. [Perez JA, Parceros Valdes JJ]
journal: null
year: null
citation: null                   # volume(issue): pages as printed
doi: null
registration: null               # trial registration, e.g. NCT04416139
design: null                     # as the paper names it: case series, pilot open-label study...
country: null
setting: null                    # hospital or centre
recruitment_period: null         # as stated, e.g. April 2020 to July 2020
ethics_approval: null
condition: null                  # e.g. COVID-19 ARDS
index_day: day of the first infusion   # what day 0 is; every day in the CSV files counts from it
followup_days: null              # the stated follow-up from day 0
level: patient                   # patient: rows per patient; aggregate: only reported figures
secondary: false                 # true: figures another paper quotes (then set reported_in)
reported_in: null
notes: null
source_id: s-title               # required: the sources.csv row for the title page / abstract
# field_sources:                 # optional: the source of single fields
#   ethics_approval: s-ethics
documents:                       # required: at least the paper itself
  - document_id: paper
    kind: article                # article | press_release | supplement | registry_entry | other
    citation: null               # required
    doi: null
    url: null
    licence: null                # e.g. CC-BY-4.0, where the paper states one
products: []
#  - product_id: msc
#    name: null                  # required: as the paper names it
#    cell_type: MSC
#    tissue_source: null         # umbilical cord | umbilical cord lining | adipose | bone marrow | placenta
#    donor_type: null            # allogeneic | autologous
#    culture: null               # e.g. hypoxic (5% O2)
#    manufacturer: null
#    source_id: s-methods
arms: []
"""

TEMPLATE_README = """\
# A case-series package

Fill in `study.yaml` and the CSV files (one header row each; add rows below it), then run
`registry validate .` and `registry import .`. Every column is described in the project's
docs/package-format.md. In short:

- every row names its `source_id`, a row of `sources.csv` (document, locator, verbatim quote);
- time is in whole days from the index day (day 0 = the first infusion; negative = before);
- patient ids are the paper's own numbers, never names, initials, dates or record numbers;
- an empty cell means "not reported"; codes `none` / `not_reported` in comorbidities and
  treatments say "the paper says none" / "the paper says NA";
- a file you do not need may stay header-only (or be deleted); study.yaml and sources.csv are required.
"""


def write_template(out: Path) -> None:
    """An empty package: commented study.yaml, header-only CSVs, a README."""
    if out.exists() and any(out.iterdir()):
        from .errors import RegistryError

        raise RegistryError(f"{out} exists and is not empty: choose a new directory")
    con = duckdb.connect()
    try:
        from . import resources

        for schema_file in resources.schema_files():
            con.execute(schema_file.read_text(encoding="utf-8"))
        columns = table_columns(con)
    finally:
        con.close()
    out.mkdir(parents=True, exist_ok=True)
    (out / "study.yaml").write_text(TEMPLATE_STUDY, encoding="utf-8")
    (out / "README.md").write_text(TEMPLATE_README, encoding="utf-8")
    for table in CSV_TABLES:
        header = ",".join(c.name for c in package_columns(table, columns[table]))
        (out / f"{table}.csv").write_text(header + "\n", encoding="utf-8")
