#!/usr/bin/env python
"""Benchmark the registry (import with validation, views, Parquet export) on synthetic packages.

    .venv/bin/python benchmarks/run.py --sizes 10000 100000 --rounds 3 --json bench.json
    .venv/bin/python benchmarks/run.py --sizes 100000 --only registry --profile   # where the import's time goes
    .venv/bin/python benchmarks/run.py --sizes --million --json million.json      # 1M: registry and raw DuckDB, once

What is measured, on the same files (written once per size by registry.synth.write_synthetic):
- registry import: `Registry.import_package` for every package into an empty registry file
  (validation included; the connection is closed, so the final checkpoint is counted too);
- raw DuckDB: `CREATE TABLE t AS SELECT * FROM read_csv(files)` per CSV table into a new file
  database, no types given, no validation, then close;
- each view, fully materialised with `CREATE TEMP TABLE x AS SELECT * FROM view` (every column of
  every row is computed and stored; `SELECT count(*)` could let the optimiser drop columns);
- export: `Registry.export` (every view to Parquet with manifest.json) against raw
  `COPY (SELECT * FROM view) TO 'view.parquet' (FORMAT parquet, COMPRESSION zstd)` of the same views;
- pandas: read the CSVs with typed columns (pyarrow engine), run the importer's main checks, then
  compute the summaries of the COMPARED_VIEWS;
- SQLite (same schema, transpiled by sqlglot): load with the csv module and executemany in one
  transaction per package, run the registry's own check queries (transpiled), then materialise
  the COMPARED_VIEWS (transpiled where sqlglot's output runs on SQLite, hand-written where it
  cannot: medians and quartiles become window-function SQL).

Every measured step runs in its own child process; its time is taken inside the child around the
work only (interpreter start and imports excluded), and its peak RSS is the child's ru_maxrss read
with os.wait4, so steps do not share memory or caches other than the OS page cache.

Ratios are paired: computed per round, and the median over rounds is reported. See
benchmarks/README.md for the comparators' differences from the registry.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "SQLite does not support IGNORE NULLS" for any_value: harmless here
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Views the pandas and SQLite pipelines compute too (the others are timed for the registry only).
COMPARED_VIEWS = (
    "measurement_trajectory",
    "biomarker_change",
    "biomarker_change_summary",
    "patient_outcomes",
    "patient_status_on_day",
    "survival_at_day",
    "km_survival",
    "stay_outcomes",
    "ventilation_outcomes",
    "adverse_event_summary",
    "dose_labels",
    "dose_normalized",
    "study_overview",
)
TARGETS = {
    "import_vs_ctas": 1.5,
    "view_seconds": 3.0,
    "export_vs_copy": 1.2,
    "pandas_speedup": 2.0,
    "sqlite_speedup": 5.0,
    "peak_rss_gb": 2.0,
}
STEPS = {}
# Memory limits, as the registry sets them: the raw CTAS runs under the import's limit
# (importer.MEMORY_LIMIT), the raw COPY without one, like Registry.export. A view's materialised
# copy is a TEMP table, which would stay in RAM (provenance held 3 GB at 100k patients): the view
# steps run under the import's limit too, except at 1M patients, where exact medians need more
# (DuckDB cannot spill the values an exact quantile holds per group: 1 GB failed there).
MEMORY_LIMIT = "1GB"
VIEW_LIMIT_FROM = 1_000_000  # patients from which view steps run without MEMORY_LIMIT


def step(function):
    STEPS[function.__name__] = function
    return function


def _timer():
    return time.perf_counter()


# =================================================================================================
# Child steps: each runs in its own process and returns a JSON-able dict ("seconds" = measured time)
# =================================================================================================


@step
def synth(out: str, patients: int, studies: int, seed: int) -> dict:
    from registry.synth import write_synthetic

    start = _timer()
    paths = write_synthetic(Path(out), patients, studies=studies, seed=seed)
    seconds = _timer() - start
    return {"seconds": seconds, "packages": [str(p) for p in paths]}


@step
def registry_import(packages: list[str], db: str) -> dict:
    from registry import Registry

    Path(db).unlink(missing_ok=True)
    registry, _ = Registry.create(db, empty=True)
    start = _timer()
    results = [registry.import_package(p) for p in packages]
    seconds = _timer() - start
    rows = sum(sum(r.row_counts.values()) for r in results)
    return {"seconds": seconds, "rows": rows, "actions": [r.action for r in results],
            "db_mb": Path(db).stat().st_size / 1e6}


def _csv_groups(packages: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for package in packages:
        for path in sorted(Path(package).glob("*.csv")):
            groups.setdefault(path.stem, []).append(str(path))
    return groups


@step
def raw_ctas(packages: list[str], db: str) -> dict:
    import duckdb

    Path(db).unlink(missing_ok=True)
    start = _timer()
    con = duckdb.connect(db)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    per_table = {}
    for table, files in _csv_groups(packages).items():
        t0 = _timer()
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv({files!r})")
        per_table[table] = _timer() - t0
    con.close()
    seconds = _timer() - start
    return {"seconds": seconds, "per_table": per_table, "db_mb": Path(db).stat().st_size / 1e6}


@step
def registry_view(db: str, view: str, memory_limit: str | None = MEMORY_LIMIT) -> dict:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    start = _timer()
    con.execute(f"CREATE TEMP TABLE bench_x AS SELECT * FROM {view}")
    seconds = _timer() - start
    rows = con.execute("SELECT count(*) FROM bench_x").fetchone()[0]
    con.close()
    return {"seconds": seconds, "rows": rows}


@step
def registry_export(db: str, out: str) -> dict:
    from registry import Registry

    shutil.rmtree(out, ignore_errors=True)
    registry = Registry(db)
    start = _timer()
    manifest = registry.export(out)
    seconds = _timer() - start
    return {"seconds": seconds, "files": len(manifest["files"]), "mb": _dir_mb(out)}


@step
def raw_copy(db: str, out: str) -> dict:
    import duckdb

    shutil.rmtree(out, ignore_errors=True)
    Path(out).mkdir(parents=True)
    con = duckdb.connect(db, read_only=True)
    views = [r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal ORDER BY 1").fetchall()]
    start = _timer()
    for view in views:
        con.execute(f"COPY (SELECT * FROM {view}) TO '{out}/{view}.parquet' (FORMAT parquet, COMPRESSION zstd)")
    seconds = _timer() - start
    con.close()
    return {"seconds": seconds, "files": len(views), "mb": _dir_mb(out)}


def _dir_mb(path: str) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


# ---- profile of one registry import ------------------------------------------------------------


@step
def profile_import(packages: list[str], db: str) -> dict:
    """Where the time of one real `Registry.import_package` goes.

    The import runs unchanged; only its connection is wrapped, so that every statement it sends is
    timed and named after what it does (insert per table, the checks query, row counts, content
    hash...). Python-side work is the rest of the wall time. Afterwards, each check query is run
    alone over the imported rows (a diagnostic, not part of an import) to find the expensive ones."""
    import duckdb

    from registry import Registry, core, importer
    from registry import package as package_module
    from registry.schema import table_columns

    Path(db).unlink(missing_ok=True)
    Registry.create(db, empty=True)
    registry = Registry(db)
    timings: dict[str, float] = {}

    def add(name: str, seconds: float) -> None:
        timings[name] = timings.get(name, 0.0) + seconds

    def classify(sql: str) -> str:
        text = " ".join(sql.split())
        match = re.match(r"INSERT INTO (\w+) SELECT", text)
        if match:
            return f"insert {match.group(1)}.csv (typed read_csv + INSERT)"
        if re.match(r"INSERT INTO (studies|documents|products|arms|field_sources)\b", text):
            return "insert study.yaml rows"
        if "check_no" in text:
            return "checks (one UNION ALL query)"
        if text.startswith(("SELECT 1 FROM main.", "SELECT 1 FROM (SELECT * FROM", "SELECT 1 FROM (SELECT h,")) or re.search(r"\) ?SELECT 1 FROM \(", text):
            return "checks (fast path: the rule queries, a few per statement)"
        if "sum(hash(" in text:
            return "content_hash"
        if re.search(r"SELECT '\w+', count\(\*\) FROM", text):
            return "row_counts"
        if text.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            return f"{text.split()[0].lower()}"
        if "import_log" in text or "audit" in text or "archive" in text:
            return "import_log / audit"
        return "other: " + " ".join(text.split()[:4])[:50]

    class Timed:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args, **kwargs):
            t0 = _timer()
            try:
                return self._con.execute(sql, *args, **kwargs)
            finally:
                add(classify(sql), _timer() - t0)

        def executemany(self, sql, *args, **kwargs):
            t0 = _timer()
            try:
                return self._con.executemany(sql, *args, **kwargs)
            finally:
                add(classify(sql), _timer() - t0)

        def close(self):
            t0 = _timer()
            self._con.close()
            add("close (final checkpoint)", _timer() - t0)

        def __getattr__(self, name):
            return getattr(self._con, name)

    real_connect, real_read, real_scan = core._connect, core.read_package, package_module._scan_text
    core._connect = lambda path, read_only: Timed(real_connect(path, read_only))

    def read_timed(*args, **kwargs):
        t0 = _timer()
        try:
            return real_read(*args, **kwargs)
        finally:
            add("read_package (study.yaml, headers)", _timer() - t0)

    def scan_timed(*args, **kwargs):
        t0 = _timer()
        try:
            return real_scan(*args, **kwargs)
        finally:
            add("  in a background thread, overlapping the above: scan for binary data and over-long lines", _timer() - t0)

    core.read_package = read_timed
    package_module._scan_text = scan_timed
    start = _timer()
    try:
        for path in packages:
            registry.import_package(path)
    finally:
        core._connect, core.read_package, package_module._scan_text = real_connect, real_read, real_scan
    total = _timer() - start
    measured = sum(v for k, v in timings.items() if not k.startswith("  ") and k != "read_package (study.yaml, headers)")
    timings["python-side rest (check SQL generation, open/lock, version check...)"] = (
        total - measured - timings.get("read_package (study.yaml, headers)", 0.0))
    timings["total import"] = total

    per_check: dict[str, float] = {}
    try:  # diagnostic: each check alone over the imported rows
        con = duckdb.connect(db, read_only=True)
        checks = importer.all_checks(table_columns(con))
        for path in packages:
            study_id = _read_study(Path(path))["study_id"]
            prefix = importer.study_ctes(study_id, {})
            for check in checks:
                t0 = _timer()
                con.execute(prefix + f"SELECT count(*) FROM (SELECT 1 FROM ({check.sql}) LIMIT 1)").fetchone()
                key = f"{check.table}: {check.rule}"
                per_check[key] = per_check.get(key, 0.0) + _timer() - t0
        con.close()
    except Exception as error:  # noqa: BLE001
        per_check = {f"(not measured: {type(error).__name__}: {error})": 0.0}
    slowest = dict(sorted(per_check.items(), key=lambda kv: -kv[1])[:12])
    ordered = dict(sorted(timings.items(), key=lambda kv: (kv[0] == "total import", -kv[1])))
    return {"seconds": total, "timings": ordered, "slowest_checks_alone": slowest, "sum_checks_alone": sum(per_check.values()),
            "n_checks": len(per_check)}


# ---- the pandas pipeline -----------------------------------------------------------------------


def _schema_info():
    """Columns, keys and catalogs of the registry schema (read before any timer starts)."""
    from registry import importer
    from registry.schema import CSV_TABLES, package_columns, table_columns, table_keys

    con = importer.scratch_connection()
    columns = table_columns(con)
    catalogs = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in ("analytes", "unit_conversions", "event_types", "drug_classes")}
    info = {
        "columns": {t: [(c.name, c.type, c.required) for c in columns[t]] for t in columns},
        "package_columns": {t: [(c.name, c.type, c.required) for c in package_columns(t, columns[t])] for t in CSV_TABLES},
        "keys": table_keys(),
        "catalogs": catalogs,
        "checks": importer.all_checks(columns),
    }
    con.close()
    return info


def _read_study(package: Path) -> dict:
    import yaml

    return yaml.safe_load((package / "study.yaml").read_text(encoding="utf-8"))


def _parsed_checks():
    """(check, sqlglot tree) for each rule of sql/checks/ that sqlglot parses."""
    import sqlglot

    from registry import sqlfiles

    for check in sqlfiles.load_checks():
        try:
            yield check, sqlglot.parse_one(check.body, read="duckdb")
        except sqlglot.errors.ParseError:
            continue


def _regex_rules() -> list[tuple[str, str, list[tuple[bool, str, str]]]]:
    """Checks of sql/checks/ whose WHERE is only regexp_matches() terms (the de-identification
    guards): (check name, table, [(negated, column, RE2 pattern)]), so pandas can run the same."""
    from sqlglot import exp

    rules = []
    for check, tree in _parsed_checks():
        where = tree.args.get("where")
        if where is None or not isinstance(tree.args.get("from_") or tree.args.get("from"), exp.From):
            continue
        terms, todo = [], [where.this]
        while todo:
            node = todo.pop()
            if isinstance(node, exp.And):
                todo += [node.this, node.expression]
            else:
                terms.append(node)
        parsed = []
        for term in terms:
            negated = isinstance(term, exp.Not)
            inner = term.this if negated else term
            if not (isinstance(inner, exp.RegexpLike) and isinstance(inner.this, exp.Column)
                    and isinstance(inner.expression, exp.Literal)):
                break
            parsed.append((negated, inner.this.name, inner.expression.this))
        else:
            table = check.fields["file"].removesuffix(".csv")
            rules.append((check.name, table, parsed))
    return rules


def _text_rules() -> list[tuple[str, list[tuple[str, str]], str]]:
    """Checks of sql/checks/ that search every free-text column for one pattern (the
    de-identification guards for dates and contact details): (check name, [(table, column)], RE2
    pattern), read from the check's `texts` CTE and its regexp_extract(), so pandas runs the same."""
    from sqlglot import exp

    rules = []
    for check, tree in _parsed_checks():
        texts = next((cte for cte in tree.find_all(exp.CTE) if cte.alias == "texts"), None)
        extract = tree.find(exp.RegexpExtract)
        if texts is None or extract is None or not isinstance(extract.expression, exp.Literal):
            continue
        columns = []
        for select in texts.this.find_all(exp.Select):
            text = next(e for e in select.expressions if e.alias_or_name == "text")
            source = select.args.get("from_") or select.args.get("from")
            columns.append((source.this.name, text.this.name))
        rules.append((check.name, columns, extract.expression.this))
    return rules


def _python_regex(pattern: str) -> str:
    """An RE2 pattern for Python's re: \\p{L} (any letter) becomes a letter class."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        if pattern.startswith("\\p{L}", i):
            out.append("A-Za-z\u00C0-\u024F" if in_class else "[A-Za-z\u00C0-\u024F]")
            i += 5
            continue
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


_CATEGORY_COLUMNS = {("measurements", "analyte"), ("measurements", "unit"), ("measurements", "context"),
                     ("measurements", "source_id"), ("events", "event"), ("events", "source_id")}


@step
def pandas_pipeline(packages: list[str]) -> dict:
    import numpy as np
    import pandas as pd

    from registry.importer import DAY_COLUMNS, DAY_WINDOW
    from registry.schema import DERIVED_COLUMNS, REFERENCES

    info = _schema_info()
    analytes = pd.DataFrame(info["catalogs"]["analytes"], columns=["analyte", "name", "loinc", "canonical_unit", "plausible_min", "plausible_max"])
    conversions = pd.DataFrame(info["catalogs"]["unit_conversions"], columns=["analyte", "unit", "factor", "offset"])
    import warnings

    warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression")
    regex_rules = _regex_rules()
    text_rules = [(name, columns, re.compile(_python_regex(pattern))) for name, columns, pattern in _text_rules()]
    implemented = set(_PANDAS_RULES) | {name for name, _, _ in regex_rules} | {name for name, _, _ in text_rules}
    event_types = {r[0] for r in info["catalogs"]["event_types"]}
    drug_classes = {r[0] for r in info["catalogs"]["drug_classes"]}
    timings: dict[str, float] = {}
    start = _timer()
    violations: dict[str, int] = {}

    def flag(name: str, mask) -> None:
        count = int(np.asarray(mask).sum())
        if count:
            violations[name] = violations.get(name, 0) + count

    frames: dict[str, list] = {}
    meta = {"studies": [], "products": []}
    for package in map(Path, packages):
        study = _read_study(package)
        sid = study["study_id"]
        meta["studies"].append({"study_id": sid, "followup_days": study.get("followup_days"), "title": study.get("title"),
                                "year": study.get("year"), "level": study.get("level"), "secondary": bool(study.get("secondary"))})
        for product in study.get("products") or []:
            meta["products"].append({"study_id": sid, **{k: product.get(k) for k in ("product_id", "tissue_source", "culture")}})
        ids = {"arms": {a["arm_id"] for a in study.get("arms") or []}, "products": {p["product_id"] for p in study.get("products") or []},
               "documents": {d["document_id"] for d in study.get("documents") or []}}
        tables: dict[str, pd.DataFrame] = {}
        # ---- read with the schema's types (INTEGER read as float, then checked whole)
        for table, cols in info["package_columns"].items():
            path = package / f"{table}.csv"
            if not path.exists():
                continue
            dtype = {}
            for name, type_, _ in cols:
                if (table, name) in _CATEGORY_COLUMNS:
                    dtype[name] = "category"
                else:
                    dtype[name] = {"VARCHAR": "str", "DOUBLE": "float64", "INTEGER": "float64", "BOOLEAN": "boolean"}[type_]
            # only an empty cell is NULL (pandas would also read "None", "NA", "null"... as missing)
            df = pd.read_csv(path, engine="pyarrow", dtype=dtype, keep_default_na=False, na_values=[""])
            for name, type_, required in cols:
                if name not in df.columns:
                    df[name] = pd.Series(pd.NA if type_ in ("BOOLEAN",) else np.nan, index=df.index,
                                         dtype=dtype[name] if dtype[name] != "category" else "str")
                    continue
                if type_ == "INTEGER":
                    values = df[name].to_numpy()
                    flag(f"{table}.{name}: not a whole number", ~np.isnan(values) & (values != np.floor(values)))
            tables[table] = df
        # ---- derived columns
        if "reported_aggregates" in tables:
            r = tables["reported_aggregates"]
            r["value_text"] = r["value"]
            r["value"] = pd.to_numeric(r["value_text"], errors="coerce")
            flag("reported_value", r["value"].isna() & r["value_text"].notna())
        if "measurements" in tables:
            m = tables["measurements"]
            lookup = {(a, u): (f, o) for a, u, f, o in conversions.itertuples(index=False)}
            a_cats, u_cats = m["analyte"].cat.categories, m["unit"].cat.categories
            factor = np.full((len(a_cats), len(u_cats)), np.nan)
            offset = np.full((len(a_cats), len(u_cats)), np.nan)
            for i, a in enumerate(a_cats):
                for j, u in enumerate(u_cats):
                    if (a, u) in lookup:
                        factor[i, j], offset[i, j] = lookup[(a, u)]
            ai, ui = m["analyte"].cat.codes.to_numpy(), m["unit"].cat.codes.to_numpy()
            valid = (ai >= 0) & (ui >= 0)
            f = np.where(valid, factor[np.maximum(ai, 0), np.maximum(ui, 0)], np.nan)
            o = np.where(valid, offset[np.maximum(ai, 0), np.maximum(ui, 0)], np.nan)
            m["value_canonical"] = m["value"].to_numpy() * f + o
            flag("measurements_analyte", ~m["analyte"].isin(list(analytes["analyte"])))
            flag("measurements_unit", np.isnan(f) & m["analyte"].isin(list(analytes["analyte"])).to_numpy())
            bounds = analytes.set_index("analyte")
            lo = m["analyte"].map(bounds["plausible_min"]).astype("float64").to_numpy()
            hi = m["analyte"].map(bounds["plausible_max"]).astype("float64").to_numpy()
            vc = m["value_canonical"].to_numpy()
            flag("measurements_range", (vc < lo) | (vc > hi))
            flag("measurements_seq", m["seq"].to_numpy() < 1)
        # ---- generic checks: required, finite, day window, references, day order, duplicate keys
        for table, df in tables.items():
            for name, type_, required in info["columns"][table]:
                if name == "study_id" or name not in df.columns:
                    continue
                if required and name not in DERIVED_COLUMNS.get(table, ()):
                    flag(f"{table}.{name}: required", df[name].isna())
                if type_ == "DOUBLE":
                    flag(f"{table}.{name}: not finite", np.isinf(df[name].to_numpy(dtype="float64", na_value=np.nan)))
                if name in DAY_COLUMNS:
                    values = df[name].to_numpy()
                    flag(f"{table}.{name}: day window", (values < DAY_WINDOW[0]) | (values > DAY_WINDOW[1]))
                target = REFERENCES.get(name)
                if target and target != table:
                    if target in ids:
                        known = ids[target]
                    else:
                        known = set(tables[target][name].dropna()) if target in tables else set()
                    column = df[name]
                    flag(f"{table}.{name}: reference to {target}", column.notna() & ~column.isin(list(known)))
            if {"day_min", "day_max"} <= set(df.columns):
                flag(f"{table}: day_min after day_max", df["day_min"].to_numpy() > df["day_max"].to_numpy())
                if "day" in df.columns:
                    d = df["day"].to_numpy()
                    flag(f"{table}: day outside day_min..day_max", (d < df["day_min"].to_numpy()) | (d > df["day_max"].to_numpy()))
            key = [k for k in info["keys"].get(table, ()) if k != "study_id"]
            if key:
                flag(f"{table}: duplicate key", df.duplicated(subset=key))
        # ---- the rules of sql/checks/
        _pandas_rules(tables, flag, event_types, drug_classes, info)
        for name, table, terms in regex_rules:
            if table not in tables:
                continue
            df = tables[table]
            mask = np.ones(len(df), bool)
            for negated, column, pattern in terms:
                if column not in df.columns:
                    mask[:] = False
                    break
                found = df[column].astype("str").str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
                mask &= ~found if negated else found
            flag(name, mask)
        for name, columns, pattern in text_rules:
            for table, column in columns:
                if table in tables and column in tables[table].columns:
                    text = tables[table][column]
                    if isinstance(text.dtype, pd.CategoricalDtype):  # search each distinct value once
                        hits = text.cat.categories.str.contains(pattern, regex=True)
                        flag(name, np.append(hits, False)[text.cat.codes.to_numpy()])  # code -1 (missing): no hit
                    else:
                        flag(name, text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool))
        for table, df in tables.items():
            df.insert(0, "study_id", sid)
            frames.setdefault(table, []).append(df)
    data = {t: (pd.concat(fs, ignore_index=True) if len(fs) > 1 else fs[0]) for t, fs in frames.items()}
    data["studies"] = pd.DataFrame(meta["studies"])
    data["products"] = pd.DataFrame(meta["products"])
    data["analytes"] = analytes
    timings["load+checks"] = _timer() - start
    from registry import sqlfiles

    not_implemented = sorted(c.name for c in sqlfiles.load_checks() if c.name not in implemented)
    if violations:
        return {"seconds": _timer() - start, "timings": timings, "violations": violations, "valid": False,
                "checks_not_implemented": not_implemented}
    rows: dict[str, int] = {}
    summary_start = _timer()
    for name, result in _pandas_summaries(data, timings):
        rows[name] = len(result)
    timings["summaries"] = _timer() - summary_start
    return {"seconds": _timer() - start, "timings": timings, "rows": rows, "valid": True,
            "checks_not_implemented": not_implemented}


# sql/checks/ rules written by hand in _pandas_rules (the regexp_matches ones are derived, see _regex_rules)
_PANDAS_RULES = (
    "adverse_events_grade", "adverse_events_times", "after_death", "appraisal_answer", "appraisal_complete",
    "appraisal_item", "codes_format", "doses_amount", "doses_duration", "doses_infusion", "doses_unit",
    "durations_counted_from", "durations_days", "durations_kind", "events_extubation_order", "events_type",
    "field_sources_target", "measurements_after_death", "measurements_analyte", "measurements_range",
    "measurements_seq", "measurements_unit", "patients_age", "patients_care_setting", "patients_severity",
    "patients_sex", "patients_weight", "reported_statistic", "reported_value", "sources_quote_length",
    "treatments_class", "treatments_code", "treatments_order", "treatments_phase", "deid_patients_age_90_plus",
    "patients_age_90_plus",
)


def _pandas_rules(t, flag, event_types, drug_classes, info) -> None:
    """sql/checks/*.sql, one by one, in pandas (appraisal rules apply only when appraisal.csv exists)."""
    import numpy as np

    code_re = r"[a-z0-9_]+"
    if "adverse_events" in t:
        a = t["adverse_events"]
        flag("adverse_events_grade", (a["grade"] < 1) | (a["grade"] > 5))
        flag("adverse_events_times", (a["onset_hours"] < 0) | (a["duration_days"] < 0))
    if "comorbidities" in t:
        flag("codes_format", ~t["comorbidities"]["code"].str.fullmatch(code_re).fillna(True))
    if "doses" in t:
        d = t["doses"]
        flag("doses_amount", d["amount"] <= 0)
        flag("doses_duration", d["duration_min"] < 0)
        flag("doses_infusion", d["infusion"] < 1)
        flag("doses_unit", d["unit"].notna() & ~d["unit"].isin(["cells/kg", "cells"]))
    if "durations" in t:
        d = t["durations"]
        flag("durations_counted_from", d["counted_from"].notna() & ~d["counted_from"].isin(["admission", "index"]))
        flag("durations_days", (d["days"] < 0) | (d["days"] > 3650))
        flag("durations_kind", d["kind"].notna() & ~d["kind"].isin(["hospital", "icu", "ventilation"]))
    if "events" in t:
        e = t["events"]
        flag("events_type", ~e["event"].isin(list(event_types)))
        start_day = e["day"].fillna(e["day_min"])
        end_day = e["day"].fillna(e["day_max"])
        death = e[e["event"] == "death"]
        death_day = end_day[death.index].groupby(death["patient_id"]).min()
        event_death = e["patient_id"].map(death_day)
        flag("after_death", (e["event"] != "death") & (start_day > event_death))
        intubation = e[e["event"] == "intubation"]
        first = start_day[intubation.index].groupby(intubation["patient_id"]).min()
        flag("events_extubation_order", (e["event"] == "extubation") & (end_day < e["patient_id"].map(first)))
        if "measurements" in t:
            m = t["measurements"]
            flag("measurements_after_death", m["day"].to_numpy() > m["patient_id"].map(death_day).to_numpy(dtype="float64", na_value=np.nan))
    if "field_sources" in t:
        f = t["field_sources"]
        known = {(table, name) for table, cols in info["columns"].items() for name, _, _ in cols}
        flag("field_sources_target", [(a, b) not in known for a, b in zip(f["table_name"], f["field"])])
    if "patients" in t:
        p = t["patients"]
        flag("patients_age", (p["age_years"] < 0) | (p["age_years"] > 120))
        flag("patients_care_setting", p["care_setting"].notna() & ~p["care_setting"].isin(["icu", "ward"]))
        flag("patients_severity", p["severity"].notna() & ~p["severity"].isin(["mild", "moderate", "severe", "critical"]))
        flag("patients_sex", p["sex"].notna() & ~p["sex"].isin(["F", "M"]))
        flag("patients_weight", (p["weight_kg"] < 0.5) | (p["weight_kg"] > 400))
        flag("deid_patients_age_90_plus", (p["age_years"] > 89) & (p["age_years"] <= 120))
        flag("patients_age_90_plus", p["age_90_plus"].fillna(False).to_numpy(dtype=bool) & p["age_years"].notna().to_numpy())
    if "reported_aggregates" in t:
        r = t["reported_aggregates"]
        flag("reported_statistic", r["statistic"].notna() & ~r["statistic"].isin(
            ["n", "percent", "value", "median", "mean", "min", "max", "sd", "q1", "q3"]))
    if "sources" in t:
        flag("sources_quote_length", t["sources"]["quote"].str.len() > 2000)
    if "treatments" in t:
        tr = t["treatments"]
        flag("treatments_class", tr["drug_class"].notna() & ~tr["drug_class"].isin(list(drug_classes)))
        flag("treatments_code", ~tr["code"].str.fullmatch(code_re).fillna(True))
        flag("treatments_order", tr["start_day"] > tr["end_day"])
        flag("treatments_phase", tr["phase"].notna() & ~tr["phase"].isin(["hospital", "after_discharge"]))
    if "appraisal" in t:
        ap = t["appraisal"]
        flag("appraisal_answer", ap["answer"].notna() & ~ap["answer"].isin(["yes", "no", "unclear", "not applicable"]))
        flag("appraisal_item", ap["item"].notna() & ~ap["item"].isin(range(1, 11)))
        flag("appraisal_complete", len(ap) > 0 and set(range(1, 11)) - set(ap["item"].dropna().astype(int)) != set())


def _pandas_summaries(t, timings):
    """The COMPARED_VIEWS in pandas, with the views' definitions (sql/views/*.sql)."""
    import numpy as np
    import pandas as pd

    keys = ["study_id", "patient_id"]
    m, ev, p, d = t["measurements"], t["events"], t["patients"], t["durations"]
    doses = t.get("doses", pd.DataFrame(columns=keys + ["infusion", "day", "amount", "unit", "route", "duration_min", "product_id"]))
    findings = t.get("findings", pd.DataFrame(columns=keys + ["day", "day_min"]))
    ae = t.get("adverse_events")
    units = t["analytes"].set_index("analyte")["canonical_unit"]

    def clock(name, function):
        t0 = _timer()
        result = function()
        timings[f"summary {name}"] = _timer() - t0
        return result

    # measurement_trajectory
    def trajectory():
        g = m.groupby(["study_id", "analyte", "context", "day", "seq"], dropna=False, observed=True, sort=False)["value_canonical"]
        out = pd.DataFrame({"n_values": g.size(), "median": g.median(), "q1": g.quantile(0.25), "q3": g.quantile(0.75)})
        out["n"] = m.groupby(["study_id", "analyte", "context", "day", "seq"], dropna=False, observed=True, sort=False)["patient_id"].nunique()
        out = out.reset_index()
        out["unit"] = out["analyte"].map(units)
        return out

    yield "measurement_trajectory", clock("measurement_trajectory", trajectory)

    # biomarker_change and its summary
    def change():
        dated = m.loc[m["day"].notna(), ["study_id", "patient_id", "analyte", "context", "day", "value_canonical"]]
        context_key = dated["context"].astype("str").fillna("")
        dated = dated.assign(context_key=context_key)
        k4 = ["study_id", "patient_id", "analyte", "context_key"]
        base = dated[dated["day"] <= 0].sort_values("day", kind="stable").drop_duplicates(k4, keep="last")
        base = base.rename(columns={"day": "baseline_day", "value_canonical": "baseline"})[k4 + ["baseline_day", "baseline"]]
        later = dated[dated["day"] > 0]
        out = later.merge(base, on=k4, how="inner")
        out["change"] = out["value_canonical"] - out["baseline"]
        out["relative_change"] = out["change"] / out["baseline"].replace(0, np.nan)
        out["unit"] = out["analyte"].map(units)
        return out.rename(columns={"value_canonical": "value"}).drop(columns="context_key")

    changes = clock("biomarker_change", change)
    yield "biomarker_change", changes

    def change_summary():
        g = changes.groupby(["study_id", "analyte", "context", "day", "unit"], dropna=False, observed=True, sort=False)
        out = pd.DataFrame({"n": g.size(), "median_change": g["change"].median(), "q1_change": g["change"].quantile(0.25),
                            "q3_change": g["change"].quantile(0.75), "median_relative_change": g["relative_change"].median()})
        return out.reset_index()

    yield "biomarker_change_summary", clock("biomarker_change_summary", change_summary)

    # patient_outcomes
    def outcomes():
        start = ev["day"].fillna(ev["day_min"])
        end = ev["day"].fillna(ev["day_max"])
        e = ev.assign(start=start, end=end)
        death = e[e["event"] == "death"].groupby(keys, sort=False).agg(death_day=("day", "min"), death_day_min=("start", "min"),
                                                                          death_day_max=("end", "min"))
        admission = e[e["event"] == "hospital_admission"].groupby(keys, sort=False)["start"].min().rename("earliest_day")
        stay = d.merge(admission, left_on=keys, right_index=True, how="left")
        stay_end = np.where(stay["counted_from"] == "index", stay["days"], stay["earliest_day"] + stay["days"])
        evidence = pd.concat([
            e.loc[e["event"] != "death", keys + ["start"]].rename(columns={"start": "day"}).groupby(keys, sort=False)["day"].max(),
            m.groupby(keys, sort=False)["day"].max(),
            doses.groupby(keys, sort=False)["day"].max(),
            findings.assign(day=findings["day"].fillna(findings["day_min"])).groupby(keys, sort=False)["day"].max(),
            stay.assign(day=np.floor(stay_end)).groupby(keys, sort=False)["day"].max(),
        ]).dropna()
        last_alive = evidence.groupby(level=[0, 1], sort=False).max().rename("last_alive")
        alive_end = pd.concat([e.loc[e["event"].isin(["hospital_discharge", "known_alive"]), keys], d.loc[d["ongoing"].fillna(False), keys]])
        alive_end = alive_end.drop_duplicates().assign(alive_at_end=True).set_index(keys)["alive_at_end"]
        kinds = {}
        for kind in ("hospital", "icu", "ventilation"):
            sub = d[d["kind"] == kind].groupby(keys, sort=False)
            kinds[f"{kind}_days"] = sub["days"].max()
            kinds[f"{kind}_ongoing"] = sub["ongoing"].any()
        kinds["hospital_days_counted_from"] = d[d["kind"] == "hospital"].groupby(keys, sort=False)["counted_from"].max()
        stays = pd.DataFrame(kinds)
        airway = e.assign(intubation=e["event"] == "intubation", icu_admission=e["event"] == "icu_admission",
                          intubation_day=e["day"].where(e["event"] == "intubation"),
                          extubation_day=e["day"].where(e["event"] == "extubation"))
        airway = airway.groupby(keys, sort=False).agg(intubated=("intubation", "any"), icu_admitted=("icu_admission", "any"),
                                                      intubation_day=("intubation_day", "min"), extubation_day=("extubation_day", "min"))
        o = p[keys + ["sex", "age_years", "care_setting"]].set_index(keys)
        o = o.join([death, alive_end, last_alive, stays, airway], how="left")
        dead = o["death_day_min"].notna() | o["death_day_max"].notna() | o.index.isin(death.index)
        o["vital_status"] = np.where(dead, "dead", np.where(o["alive_at_end"].fillna(False).astype(bool), "alive", "unknown"))
        o["last_followup_day"] = np.where(dead, o["death_day"], o["last_alive"])
        for kind in ("hospital", "icu", "ventilation"):
            o[f"{kind}_ongoing"] = o[f"{kind}_ongoing"].fillna(False).astype(bool)
        o["ventilated"] = o["intubated"].fillna(False).astype(bool) | (o["ventilation_days"] > 0)
        o["icu"] = (o["care_setting"] == "icu").fillna(False).astype(bool) | o["icu_admitted"].fillna(False).astype(bool) | (o["icu_days"] > 0)
        return o.drop(columns=["alive_at_end", "last_alive", "intubated", "icu_admitted"]).reset_index()

    po = clock("patient_outcomes", outcomes)
    yield "patient_outcomes", po

    def status():
        days = sorted({7, 14, 21, 28, 30} | set(t["reported_aggregates"]["day"].dropna().astype(int)) if "reported_aggregates" in t else {7, 14, 21, 28, 30})
        s = po[["study_id", "patient_id", "death_day_min", "death_day_max", "last_followup_day"]].merge(pd.DataFrame({"day": days}), how="cross")
        s["status"] = np.select(
            [s["death_day_max"] <= s["day"], s["death_day_min"] > s["day"],
             s["death_day_min"].isna() & (s["last_followup_day"] >= s["day"])],
            ["dead", "alive", "alive"], "unknown")
        return s[["study_id", "patient_id", "day", "status"]]

    st = clock("patient_status_on_day", status)
    yield "patient_status_on_day", st

    def survival():
        g = st.assign(known=st["status"] != "unknown", alive=st["status"] == "alive", dead=st["status"] == "dead",
                      unknown=st["status"] == "unknown").groupby(["study_id", "day"], sort=False)
        out = g.agg(n_patients=("status", "size"), n_known=("known", "sum"), n_alive=("alive", "sum"), n_dead=("dead", "sum"),
                    n_unknown=("unknown", "sum")).reset_index()
        out["survival"] = out["n_alive"] / out["n_known"].replace(0, np.nan)
        return out

    yield "survival_at_day", clock("survival_at_day", survival)

    def km():
        dead = po["vital_status"] == "dead"
        death_time = po["death_day"].fillna(po["death_day_max"])
        event = dead & death_time.notna()
        day = np.where(event, death_time, np.where(dead, np.maximum((po["death_day_min"] - 1).fillna(0), 0),
                                                  np.maximum(po["last_followup_day"].fillna(0), 0)))
        times = pd.DataFrame({"study_id": po["study_id"], "day": day, "event": event.astype(int)})
        grouped = pd.concat([times, times.assign(study_id="__all__")])
        per_day = grouped.groupby(["study_id", "day"], sort=True).agg(n_events=("event", "sum"), n=("event", "size")).reset_index()
        per_day["n_censored"] = per_day["n"] - per_day["n_events"]
        per_day = per_day.sort_values(["study_id", "day"], ascending=[True, False])
        per_day["n_at_risk"] = per_day.groupby("study_id")["n"].cumsum()
        per_day["n_patients"] = per_day.groupby("study_id")["n"].transform("sum")
        per_day = per_day.sort_values(["study_id", "day"])
        at = per_day["n_at_risk"].astype(float)
        ne = per_day["n_events"].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_day["log_factor"] = np.where(ne < at, np.log1p(-ne / at), 0.0)
            per_day["zero"] = ((ne > 0) & (ne >= at)).astype(int)
            per_day["gw"] = np.where(ne < at, ne / (at * (at - ne)), 0.0)
        g = per_day.groupby("study_id")
        log_s, is_zero = g["log_factor"].cumsum(), g["zero"].cummax()
        so_far, greenwood = g["n_events"].cumsum(), g["gw"].cumsum()
        with np.errstate(divide="ignore", invalid="ignore"):
            z_se = np.where((is_zero == 0) & (so_far > 0), 1.959963984540054 * np.sqrt(greenwood) / np.abs(log_s), np.nan)
            surv = np.exp(log_s)
            per_day["survival"] = np.where(is_zero == 1, 0.0, surv)
            per_day["ci_low"] = np.where(is_zero == 1, np.nan, np.where(so_far == 0, 1.0, np.exp(-np.exp(np.log(-log_s) + z_se))))
            per_day["ci_high"] = np.where(is_zero == 1, np.nan, np.where(so_far == 0, 1.0, np.exp(-np.exp(np.log(-log_s) - z_se))))
            per_day["std_err"] = np.where(is_zero == 1, np.nan, surv * np.sqrt(greenwood))
        per_day["study_id"] = per_day["study_id"].replace("__all__", None)
        return per_day[["study_id", "day", "n_at_risk", "n_events", "n_censored", "survival", "ci_low", "ci_high", "std_err", "n_patients"]]

    yield "km_survival", clock("km_survival", km)

    def stays():
        x = d.assign(pos=d["days"] > 0, complete=(d["days"] > 0) & ~d["ongoing"].fillna(False).astype(bool),
                     ongoing_pos=(d["days"] > 0) & d["ongoing"].fillna(False).astype(bool), none=d["days"] == 0)
        g = x.groupby(["study_id", "kind"], sort=False)
        out = g.agg(n=("pos", "sum"), n_ongoing=("ongoing_pos", "sum"), n_complete=("complete", "sum"), n_none=("none", "sum"),
                    cf_min=("counted_from", "min"), cf_max=("counted_from", "max"))
        c = x[x["complete"]].groupby(["study_id", "kind"], sort=False)["days"]
        out = out.join(pd.DataFrame({"median": c.median(), "q1": c.quantile(0.25), "q3": c.quantile(0.75), "min": c.min(), "max": c.max()}))
        out["counted_from"] = np.where(out["cf_min"] == out["cf_max"], out["cf_min"], "both")
        return out.drop(columns=["cf_min", "cf_max"]).reset_index().rename(columns={"kind": "stay"})

    yield "stay_outcomes", clock("stay_outcomes", stays)

    def ventilation():
        a = ev[ev["event"].isin(["intubation", "extubation"])]
        end = a["day"].fillna(a["day_max"])
        a = a.assign(ext=a["event"] == "extubation", ext_day=a["day"].where(a["event"] == "extubation"),
                     int_latest=end.where(a["event"] == "intubation"),
                     int_by_index=(a["event"] == "intubation") & (end <= 0), ext_by_index=(a["event"] == "extubation") & (end <= 0))
        airway = a.groupby(keys, sort=False).agg(extubated=("ext", "any"), extubation_day=("ext_day", "min"),
                                                 intubation_latest=("int_latest", "min"), ibi=("int_by_index", "any"),
                                                 ebi=("ext_by_index", "any"))
        x = po[keys + ["ventilated", "death_day_min", "death_day_max", "last_followup_day", "ventilation_ongoing"]].merge(
            airway, left_on=keys, right_index=True, how="left")
        x["extubated"] = x["extubated"].fillna(False).astype(bool)
        x["at_index"] = (x["ibi"].fillna(False).astype(bool) & ~x["ebi"].fillna(False).astype(bool))
        known28 = (x["death_day_min"] > 28) | (x["death_day_min"].isna() & (x["last_followup_day"] >= 28))
        ext = x["extubation_day"]
        x["vfd28"] = np.select(
            [x["death_day_max"] <= 28, ~known28, x["ventilation_ongoing"], ext.notna() & (x["intubation_latest"] <= 0),
             ext.notna() & (x["intubation_latest"] > 0)],
            [0, np.nan, 0, 28 - np.minimum(ext, 28), 28 - (np.minimum(ext, 28) - x["intubation_latest"])], np.nan)
        v = x[x["ventilated"]]
        g = v.groupby("study_id", sort=False)
        out = pd.DataFrame({"n_ventilated": g.size(), "n_extubated": g["extubated"].sum(), "extubation_day_median": g["extubation_day"].median(),
                            "vfd28_median": g["vfd28"].median(), "n_vfd28_known": g["vfd28"].count()})
        out = out.reindex(po["study_id"].unique())
        out["n_ventilated_at_index"] = x.groupby("study_id", sort=False)["at_index"].sum()
        return out.reset_index()

    yield "ventilation_outcomes", clock("ventilation_outcomes", ventilation)

    def adverse():
        g = ae.assign(on_day0=ae["onset_day"] == 0, related=ae["infusion_related"].fillna(False).astype(bool),
                      unrelated=ae["infusion_related"] == False).groupby(["study_id", "term", "grade"], dropna=False, sort=False)
        out = g.agg(n_events=("term", "size"), n_patients=("patient_id", "nunique"), any_related=("related", "any"),
                    any_day0=("on_day0", "any"), all_unrelated=("unrelated", "all"), n_serious=("serious", "sum"),
                    onset_days=("onset_day", lambda s: ", ".join(str(int(v)) for v in s.dropna().unique())))
        out["infusion_related"] = np.where(out["any_related"] | out["any_day0"], True, np.where(out["all_unrelated"], False, None))
        out["infusion_related_basis"] = np.where(out["any_related"], "stated", np.where(out["any_day0"], "onset on day 0", None))
        return out.reset_index().rename(columns={"grade": "severity"})

    yield "adverse_event_summary", clock("adverse_event_summary", adverse)

    def labels():
        exponent = np.floor(np.log10(doses["amount"].to_numpy()))
        mantissa = doses["amount"].to_numpy() / np.power(10.0, exponent)
        whole = mantissa == np.round(mantissa)
        text = pd.Series(np.where(whole, mantissa.astype(np.int64).astype(str), np.round(mantissa, 2).astype(str)), index=doses.index)
        amount_text = text + "x10^" + exponent.astype(np.int64).astype(str) + " " + doses["unit"]
        route = (" " + doses["route"]).fillna("")
        over = (" over " + doses["duration_min"].astype("Int64").astype("str") + " min").fillna("")
        return pd.DataFrame({"study_id": doses["study_id"], "patient_id": doses["patient_id"], "infusion": doses["infusion"],
                             "amount_text": amount_text, "dose_text": amount_text + route + over})

    dl = clock("dose_labels", labels)
    yield "dose_labels", dl

    def normalized():
        w = m[(m["analyte"] == "weight") & (m["day"] <= 0)].sort_values("day", kind="stable").drop_duplicates(keys, keep="last")
        w = w.set_index(keys)["value_canonical"].rename("w_measured")
        x = doses.merge(dl[keys + ["infusion", "amount_text"]], on=keys + ["infusion"]).sort_values(keys + ["infusion"])
        x["per_kg"] = np.where(x["unit"] == "cells/kg", x["amount"], 0.0)
        x["total"] = np.where(x["unit"] == "cells", x["amount"], 0.0)
        g = x.groupby(keys, sort=False)
        by_patient = [x["study_id"], x["patient_id"]]
        pp = pd.DataFrame({"n_infusions": g.size(),
                           "n_per_kg": (x["unit"] == "cells/kg").groupby(by_patient, sort=False).sum(),
                           "n_total": (x["unit"] == "cells").groupby(by_patient, sort=False).sum(),
                           "per_kg_sum": g["per_kg"].sum(), "total_sum": g["total"].sum(), "product_id": g["product_id"].min(),
                           "dose_as_reported": g["amount_text"].agg(" + ".join)})
        pp = pp.join(p.set_index(keys)["weight_kg"]).join(w)
        pp["weight_kg"] = pp["weight_kg"].fillna(pp["w_measured"])
        pp["cells_per_kg"] = np.where(pp["n_total"] == 0, pp["per_kg_sum"], pp["per_kg_sum"] + pp["total_sum"] / pp["weight_kg"])
        pp["total_cells"] = np.where(pp["n_per_kg"] == 0, pp["total_sum"], pp["total_sum"] + pp["per_kg_sum"] * pp["weight_kg"])
        pp = pp.reset_index().merge(t["products"], on=["study_id", "product_id"], how="left")
        return pp[["study_id", "patient_id", "cells_per_kg", "total_cells", "n_infusions", "tissue_source", "culture", "weight_kg",
                   "product_id", "dose_as_reported"]]

    yield "dose_normalized", clock("dose_normalized", normalized)

    def overview():
        g = po.assign(f=po["sex"] == "F", dead=po["vital_status"] == "dead").groupby("study_id", sort=False)
        o = g.agg(n_patients=("patient_id", "size"), n_female=("f", "sum"), n_sex_known=("sex", "count"),
                  n_mechanical_ventilation=("ventilated", "sum"), n_icu=("icu", "sum"), n_deaths=("dead", "sum"))
        # a patient aged 90 or older (no exact age stored) counts as 90
        old = p["age_90_plus"].fillna(False).astype(bool)
        a = p.assign(age=p["age_years"].where(p["age_years"].notna() | ~old, 90.0), old=old).groupby("study_id", sort=False)
        o = o.join(a.agg(age_median=("age", "median"), age_min=("age", "min"), age_max=("age", "max"), n_age_90_plus=("old", "sum")))
        groups = dl.groupby(["study_id", "dose_text"], sort=True)["patient_id"].nunique().reset_index(name="n")
        groups["part"] = groups["dose_text"] + " (" + groups["n"].astype(str) + " patient" + np.where(groups["n"] == 1, "", "s") + ")"
        summary = groups.groupby("study_id", sort=False)["part"].agg("; ".join).rename("dose_summary")
        r = t["reported_aggregates"]
        reported = r[(r["variable"] == "n_patients") & (r["statistic"] == "n")].groupby("study_id")["value"].max().rename("n_patients_reported")
        s = t["studies"].set_index("study_id").join([o, summary, reported])
        for c in ("n_patients", "n_female", "n_mechanical_ventilation", "n_icu", "n_deaths", "n_sex_known", "n_age_90_plus"):
            s[c] = s[c].fillna(0).astype(int)
        return s.reset_index()

    yield "study_overview", clock("study_overview", overview)


# ---- the SQLite pipeline -----------------------------------------------------------------------


def _sqlite_quantile(value: str, rn: str, cnt: str, p: float, cond: str = "1") -> str:
    """quantile_cont(value, p) over the rows where `cond`, ranked by `rn` (1..cnt) in SQLite SQL."""
    lo = f"CAST(({cnt} - 1) * {p} AS INTEGER)"
    low = f"max(CASE WHEN {cond} AND {rn} = {lo} + 1 THEN {value} END)"
    high = f"max(CASE WHEN {cond} AND {rn} = {lo} + 2 THEN {value} END)"
    frac = f"((max({cnt}) - 1) * {p} - CAST((max({cnt}) - 1) * {p} AS INTEGER))"
    return f"({low} + {frac} * (coalesce({high}, {low}) - {low}))"


def _sqlite_views() -> dict[str, str]:
    """SQLite versions of COMPARED_VIEWS: transpiled by sqlglot where that runs, else hand-written."""

    from registry import sqlfiles

    bodies = {v.name: v.body for v in sqlfiles.load_views()}
    out: dict[str, str] = {}
    for name in ("biomarker_change", "patient_outcomes", "survival_at_day", "km_survival", "dose_labels",
                 "dose_normalized", "adverse_event_summary"):
        out[name] = _to_sqlite(bodies[name])
    q = _sqlite_quantile
    out["measurement_trajectory"] = f"""
CREATE VIEW measurement_trajectory AS
WITH ranked AS (
    SELECT study_id, analyte, context, day, seq, patient_id, value_canonical AS v,
           row_number() OVER w AS rn,
           count(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS cnt
    FROM measurements
    WINDOW w AS (PARTITION BY study_id, analyte, context, day, seq ORDER BY value_canonical)
)
SELECT r.study_id, r.analyte, r.context, r.day, count(DISTINCT r.patient_id) AS n,
       {q('v', 'rn', 'cnt', 0.5)} AS median, {q('v', 'rn', 'cnt', 0.25)} AS q1, {q('v', 'rn', 'cnt', 0.75)} AS q3,
       a.canonical_unit AS unit, r.seq, count(*) AS n_values
FROM ranked r JOIN analytes a ON a.analyte = r.analyte
GROUP BY r.study_id, r.analyte, r.context, r.day, r.seq, a.canonical_unit"""
    out["biomarker_change_summary"] = f"""
CREATE VIEW biomarker_change_summary AS
WITH ranked AS (
    SELECT study_id, analyte, context, day, unit, change, relative_change,
           row_number() OVER w AS rn,
           count(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS cnt,
           row_number() OVER (PARTITION BY study_id, analyte, context, day, unit, relative_change IS NULL ORDER BY relative_change) AS rrn,
           count(relative_change) OVER (PARTITION BY study_id, analyte, context, day, unit) AS rcnt
    FROM biomarker_change
    WINDOW w AS (PARTITION BY study_id, analyte, context, day, unit ORDER BY change)
)
SELECT study_id, analyte, context, day, count(*) AS n,
       {q('change', 'rn', 'cnt', 0.5)} AS median_change, {q('change', 'rn', 'cnt', 0.25)} AS q1_change,
       {q('change', 'rn', 'cnt', 0.75)} AS q3_change,
       {q('relative_change', 'rrn', 'rcnt', 0.5, 'relative_change IS NOT NULL')} AS median_relative_change, unit
FROM ranked GROUP BY study_id, analyte, context, day, unit"""
    out["patient_status_on_day"] = """
CREATE VIEW patient_status_on_day AS
WITH days AS (
    SELECT 7 AS day UNION SELECT 14 UNION SELECT 21 UNION SELECT 28 UNION SELECT 30
    UNION SELECT DISTINCT day FROM reported_aggregates WHERE day IS NOT NULL
)
SELECT o.study_id, o.patient_id, days.day,
       CASE WHEN o.death_day_max <= days.day THEN 'dead'
            WHEN o.death_day_min > days.day THEN 'alive'
            WHEN o.death_day_min IS NULL AND o.last_followup_day >= days.day THEN 'alive'
            ELSE 'unknown' END AS status
FROM patient_outcomes o CROSS JOIN days"""
    complete = "(days > 0 AND NOT ongoing)"
    out["stay_outcomes"] = f"""
CREATE VIEW stay_outcomes AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY study_id, kind, {complete} ORDER BY days) AS rn,
           sum(CASE WHEN {complete} THEN 1 ELSE 0 END) OVER (PARTITION BY study_id, kind) AS cnt
    FROM durations
)
SELECT study_id, kind AS stay,
       count(*) FILTER (WHERE days > 0) AS n,
       {q('days', 'rn', 'cnt', 0.5, complete)} AS median,
       {q('days', 'rn', 'cnt', 0.25, complete)} AS q1,
       {q('days', 'rn', 'cnt', 0.75, complete)} AS q3,
       min(days) FILTER (WHERE {complete}) AS min, max(days) FILTER (WHERE {complete}) AS max,
       count(*) FILTER (WHERE days > 0 AND ongoing) AS n_ongoing,
       count(*) FILTER (WHERE {complete}) AS n_complete,
       count(*) FILTER (WHERE days = 0) AS n_none,
       CASE WHEN min(counted_from) = max(counted_from) THEN min(counted_from) ELSE 'both' END AS counted_from
FROM ranked GROUP BY study_id, kind"""
    ve = "(ventilated AND extubation_day IS NOT NULL)"
    vv = "(ventilated AND vfd28 IS NOT NULL)"
    out["ventilation_outcomes"] = f"""
CREATE VIEW ventilation_outcomes AS
WITH airway AS (
    SELECT study_id, patient_id,
           min(CASE WHEN event = 'extubation' THEN day END) AS extubation_day,
           max(event = 'extubation') AS extubated,
           min(CASE WHEN event = 'intubation' THEN coalesce(day, day_max) END) AS intubation_latest,
           max(event = 'intubation' AND coalesce(day, day_max) <= 0) AS intubated_by_index,
           max(event = 'extubation' AND coalesce(day, day_max) <= 0) AS extubated_by_index
    FROM events WHERE event IN ('intubation', 'extubation')
    GROUP BY study_id, patient_id
),
per_patient AS (
    SELECT o.study_id, o.patient_id, o.ventilated,
           coalesce(a.extubated, 0) AS extubated,
           a.extubation_day,
           coalesce(a.intubated_by_index AND NOT a.extubated_by_index, 0) AS ventilated_at_index,
           CASE
               WHEN o.death_day_max <= 28 THEN 0
               WHEN NOT (coalesce(o.death_day_min > 28, 0)
                         OR (o.death_day_min IS NULL AND o.last_followup_day >= 28)) THEN NULL
               WHEN o.ventilation_ongoing THEN 0
               WHEN a.extubation_day IS NOT NULL AND a.intubation_latest <= 0 THEN 28 - min(a.extubation_day, 28)
               WHEN a.extubation_day IS NOT NULL AND a.intubation_latest > 0
                   THEN 28 - (min(a.extubation_day, 28) - a.intubation_latest)
               ELSE NULL
           END AS vfd28
    FROM patient_outcomes o
    LEFT JOIN airway a ON a.study_id = o.study_id AND a.patient_id = o.patient_id
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY study_id, {ve} ORDER BY extubation_day) AS rn_e,
           sum(CASE WHEN {ve} THEN 1 ELSE 0 END) OVER (PARTITION BY study_id) AS cnt_e,
           row_number() OVER (PARTITION BY study_id, {vv} ORDER BY vfd28) AS rn_v,
           sum(CASE WHEN {vv} THEN 1 ELSE 0 END) OVER (PARTITION BY study_id) AS cnt_v
    FROM per_patient
)
SELECT study_id,
       count(*) FILTER (WHERE ventilated) AS n_ventilated,
       count(*) FILTER (WHERE ventilated AND extubated) AS n_extubated,
       {q('extubation_day', 'rn_e', 'cnt_e', 0.5, ve)} AS extubation_day_median,
       {q('vfd28', 'rn_v', 'cnt_v', 0.5, vv)} AS vfd28_median,
       count(vfd28) FILTER (WHERE ventilated) AS n_vfd28_known,
       count(*) FILTER (WHERE ventilated_at_index) AS n_ventilated_at_index
FROM ranked GROUP BY study_id"""
    age = "(age IS NOT NULL)"
    out["study_overview"] = f"""
CREATE VIEW study_overview AS
WITH outcomes AS (
    SELECT study_id, count(*) AS n_patients, count(*) FILTER (WHERE sex = 'F') AS n_female, count(sex) AS n_sex_known,
           count(*) FILTER (WHERE ventilated) AS n_mechanical_ventilation, count(*) FILTER (WHERE icu) AS n_icu,
           count(*) FILTER (WHERE vital_status = 'dead') AS n_deaths
    FROM patient_outcomes GROUP BY study_id
),
ages AS (  -- a patient aged 90 or older (no exact age stored) counts as 90
    SELECT study_id, age_90_plus, coalesce(age_years, CASE WHEN age_90_plus THEN 90 END) AS age FROM patients
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY study_id, {age} ORDER BY age) AS rn,
           count(age) OVER (PARTITION BY study_id) AS cnt
    FROM ages
),
age_stats AS (
    SELECT study_id, {q('age', 'rn', 'cnt', 0.5, age)} AS age_median, min(age) AS age_min, max(age) AS age_max,
           count(*) FILTER (WHERE age_90_plus) AS n_age_90_plus
    FROM ranked GROUP BY study_id
),
dose_groups AS (
    SELECT study_id, dose_text AS dose, count(DISTINCT patient_id) AS n FROM dose_labels GROUP BY study_id, dose_text
),
doses_by_study AS (
    SELECT study_id, group_concat(dose || ' (' || n || ' patient' || CASE WHEN n = 1 THEN '' ELSE 's' END || ')', '; ') AS dose_summary
    FROM (SELECT * FROM dose_groups ORDER BY study_id, dose) GROUP BY study_id
),
reported_n AS (
    SELECT study_id, max(value) AS n_patients_reported FROM reported_aggregates
    WHERE variable = 'n_patients' AND statistic = 'n' GROUP BY study_id
)
SELECT s.study_id, coalesce(o.n_patients, 0) AS n_patients, coalesce(o.n_female, 0) AS n_female, a.age_median, a.age_min, a.age_max,
       coalesce(o.n_mechanical_ventilation, 0) AS n_mechanical_ventilation, coalesce(o.n_icu, 0) AS n_icu,
       coalesce(o.n_deaths, 0) AS n_deaths, s.followup_days, d.dose_summary, s.title, s.year, s.level, s.secondary,
       CAST(r.n_patients_reported AS INTEGER) AS n_patients_reported, coalesce(o.n_sex_known, 0) AS n_sex_known,
       coalesce(a.n_age_90_plus, 0) AS n_age_90_plus
FROM studies s
LEFT JOIN outcomes o ON o.study_id = s.study_id
LEFT JOIN age_stats a ON a.study_id = s.study_id
LEFT JOIN doses_by_study d ON d.study_id = s.study_id
LEFT JOIN reported_n r ON r.study_id = s.study_id"""
    return out


def _to_sqlite(sql: str) -> str:
    """DuckDB SQL to SQLite 3.40 with sqlglot, then what 3.40 lacks: an ORDER BY inside an aggregate
    call is dropped (only the order of a joined list changes), a DISTINCT group_concat keeps the
    default separator (',' for ', '), and CREATE OR REPLACE VIEW becomes CREATE VIEW."""
    import sqlglot
    from sqlglot import exp

    def adapt(node):
        if isinstance(node, exp.GroupConcat):
            if isinstance(node.this, exp.Order):
                node.set("this", node.this.this)
            if isinstance(node.this, exp.Distinct):
                node.set("separator", None)
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(adapt)
    return tree.sql(dialect="sqlite").replace("CREATE OR REPLACE VIEW", "CREATE VIEW", 1)


def _sqlite_check_sql(check, study_id: str, tables: list[str]) -> str | None:
    """The registry's check query for SQLite, reading this study's rows (rowid stands for the line)."""

    body = check.sql
    if "isnan(" in body:  # SQLite stores no NaN (it becomes NULL); infinity is the only non-finite value
        column = re.search(r"isnan\((\"?\w+\"?)\)", body).group(1)
        body = f"SELECT _line, CAST({column} AS VARCHAR) AS value FROM {check.table} WHERE {column} IN (9e999, -9e999)"
    if "duckdb_columns()" in body:  # SQLite's catalog: pragma_table_info
        return ("WITH field_sources AS (SELECT rowid AS _line, * FROM main.field_sources WHERE study_id = "
                f"'{study_id}') SELECT f._line FROM field_sources f WHERE NOT EXISTS ("
                "SELECT 1 FROM pragma_table_info(f.table_name) c WHERE c.name = f.field)")
    sql = _to_sqlite(body)
    ctes = ", ".join(f"{t} AS (SELECT rowid AS _line, * FROM main.{t} WHERE study_id = '{study_id}')" for t in tables
                     if re.search(rf"\b{t}\b", sql))
    return (f"WITH {ctes} " if ctes else "") + f"SELECT 1 FROM ({sql}) LIMIT 1"


_BOOLEAN_TEXT = {"true": 1, "false": 0, "yes": 1, "no": 0, "1": 1, "0": 0}


def _sqlite_rows(reader, index, booleans, derived, study_id, conversions):
    """Rows for executemany: '' becomes NULL, booleans 0/1, and the derived columns are filled in."""
    from operator import itemgetter

    pick = itemgetter(*index)
    for raw in reader:
        values = [v if v != "" else None for v in raw]
        values.append(None)
        values.append(study_id)
        for i in booleans:
            if values[i] is not None:
                values[i] = _BOOLEAN_TEXT.get(values[i].lower(), values[i])
        out = list(pick(values))
        if derived is not None:
            if derived[0] == "canonical":  # value * factor + offset of the unit (NULL: unknown unit, refused by NOT NULL)
                _, at, value, analyte, unit = derived
                conversion = conversions.get((values[analyte], values[unit]))
                out[at] = float(values[value]) * conversion[0] + conversion[1] if conversion and values[value] is not None else None
            else:  # the reported value as printed, and as a number where it is one
                _, at, text_at, value = derived
                out[text_at] = values[value]
                try:
                    out[at] = float(values[value])
                except (TypeError, ValueError):
                    out[at] = None
        yield out


@step
def sqlite_pipeline(packages: list[str], db: str) -> dict:
    import sqlite3

    import sqlglot

    from registry import resources
    from registry.schema import CSV_TABLES, STUDY_TABLES, YAML_TABLES

    info = _schema_info()
    Path(db).unlink(missing_ok=True)
    conversions = {(a, u): (f, o) for a, u, f, o in info["catalogs"]["unit_conversions"]}
    views = _sqlite_views()
    timings: dict[str, float] = {}
    start = _timer()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA cache_size = -262144")  # 256 MiB page cache
    from functools import lru_cache

    @lru_cache(maxsize=1 << 16)
    def compiled(pattern):
        return re.compile(_python_regex(pattern))

    @lru_cache(maxsize=1 << 16)  # repeated values (codes, contexts) are matched once
    def matches(text, pattern):
        return None if text is None else compiled(pattern).search(text) is not None

    @lru_cache(maxsize=1 << 16)
    def extract(text, pattern):
        found = None if text is None else compiled(pattern).search(text)
        return "" if found is None else found.group(0)

    @lru_cache(maxsize=1 << 16)
    def full_match(text, pattern):
        return None if text is None else compiled(pattern).fullmatch(text) is not None

    for name, function in (("regexp_full_match", full_match), ("regexp_matches", matches), ("regexp_extract", extract)):
        con.create_function(name, 2, function, deterministic=True)
    # sqlglot writes regexp_matches(x, p) as `x REGEXP p`, which SQLite runs as regexp(p, x)
    con.create_function("regexp", 2, lambda pattern, text: matches(text, pattern), deterministic=True)
    def extract_group(text, pattern, group):
        if group == 0:
            return extract(text, pattern)
        found = None if text is None else compiled(pattern).search(text)
        return "" if found is None else (found.group(group) or "")

    con.create_function("regexp_extract", 3, extract_group, deterministic=True)
    for path in resources.schema_files():
        for tree in sqlglot.parse(path.read_text(encoding="utf-8"), dialect="duckdb"):
            if tree is not None and tree.key != "comment":
                con.execute(tree.sql(dialect="sqlite"))
    failed: list[str] = []
    per_check: dict[str, float] = {}
    for package in map(Path, packages):
        load_start = _timer()
        study = _read_study(package)
        sid = study["study_id"]
        con.execute("BEGIN")
        # study.yaml rows
        for table in YAML_TABLES:
            names = [n for n, _, _ in info["columns"][table]]
            items = [study] if table == "studies" else (study.get(table) or [])
            for item in items:
                item = dict(item)
                if table == "studies" and isinstance(item.get("authors"), list):
                    item["authors"] = "; ".join(item["authors"])
                row = [sid if n == "study_id" else item.get(n) for n in names]
                con.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", row)
        # CSV rows: csv module + executemany; '' is NULL; booleans become 0/1; derived columns computed
        for table in CSV_TABLES:
            path = package / f"{table}.csv"
            if not path.exists():
                continue
            table_cols = info["columns"][table]
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                position = {name: i for i, name in enumerate(header)}
                booleans = [position[n] for n, t, _ in table_cols if t == "BOOLEAN" and n in position]
                names = [n for n, _, _ in table_cols]
                # each output column: a CSV position, len(header) for an absent column (None), or len+1 (the study id)
                index = [len(header) + 1 if n == "study_id" else position.get(n, len(header)) for n in names]
                derived = None
                if table == "measurements":
                    derived = ("canonical", names.index("value_canonical"), position["value"], position["analyte"], position["unit"])
                elif table == "reported_aggregates":
                    derived = ("reported", names.index("value"), names.index("value_text"), position["value"])
                rows = _sqlite_rows(reader, index, booleans, derived, sid, conversions)
                try:
                    con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)
                except sqlite3.IntegrityError as error:  # a NOT NULL column left empty, or an unknown unit
                    failed.append(f"{table}: {error}")
        timings["load"] = timings.get("load", 0.0) + _timer() - load_start
        # types: SQLite stores what it is given; a column's values must have its type
        t0 = _timer()
        # Not in the registry's schema: an index on each referenced key (small tables). Without it
        # every reference check is a nested loop (36 s for 2,000 patients; 100k would not finish).
        for table, key in (("patients", "patient_id"), ("sources", "source_id"), ("products", "product_id"),
                           ("arms", "arm_id"), ("documents", "document_id")):
            con.execute(f"CREATE INDEX IF NOT EXISTS bench_{table}_key ON {table} (study_id, {key})")
        for table in CSV_TABLES:
            for name, type_, _ in info["columns"][table]:
                allowed = {"INTEGER": "'integer'", "DOUBLE": "'integer', 'real'", "BOOLEAN": "'integer'"}.get(type_)
                if allowed and con.execute(f"SELECT 1 FROM {table} WHERE study_id = ? AND typeof({name}) NOT IN ({allowed}, 'null') LIMIT 1",
                                           [sid]).fetchone():
                    failed.append(f"{table}.{name}: type")
        for check in info["checks"]:
            sql = _sqlite_check_sql(check, sid, list(STUDY_TABLES))
            t1 = _timer()
            if con.execute(sql).fetchone():
                failed.append(f"{check.table}: {check.rule}")
            key = f"{check.table}: {check.rule}"
            per_check[key] = per_check.get(key, 0.0) + _timer() - t1
        timings["checks"] = timings.get("checks", 0.0) + _timer() - t0
        con.execute("ROLLBACK" if failed else "COMMIT")
    timings["load+checks"] = _timer() - start
    timings["slowest checks"] = dict(sorted(per_check.items(), key=lambda kv: -kv[1])[:8])
    if failed:
        con.close()
        return {"seconds": _timer() - start, "timings": timings, "valid": False, "violations": failed}
    for name in COMPARED_VIEWS:
        con.execute(views[name])
    rows: dict[str, int] = {}
    summary_start = _timer()
    for name in COMPARED_VIEWS:
        t0 = _timer()
        con.execute(f"CREATE TEMP TABLE bench_{name} AS SELECT * FROM {name}")
        timings[f"view {name}"] = _timer() - t0
        rows[name] = con.execute(f"SELECT count(*) FROM bench_{name}").fetchone()[0]
        con.execute(f"DROP TABLE bench_{name}")
    timings["summaries"] = _timer() - summary_start
    con.close()
    return {"seconds": _timer() - start, "timings": timings, "rows": rows, "valid": True, "db_mb": Path(db).stat().st_size / 1e6}


@step
def verify_equivalence(packages: list[str], workdir: str) -> dict:
    """Compare the three engines' results for COMPARED_VIEWS: row counts and the sum of every
    numeric column (a cheap fingerprint). Run at a small size with --verify."""
    import duckdb
    import pandas as pd

    from registry import Registry

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "verify.duckdb").unlink(missing_ok=True)
    Registry.create(work / "verify.duckdb", packages=[Path(p) for p in packages])
    frames: dict = {}
    original = _pandas_summaries

    def capture(t, timings):
        for name, frame in original(t, timings):
            frames[name] = frame
            yield name, frame

    globals()["_pandas_summaries"] = capture
    try:
        pandas_pipeline(packages)
    finally:
        globals()["_pandas_summaries"] = original
    sqlite_result = sqlite_pipeline(packages, str(work / "verify.sqlite"))
    assert sqlite_result["valid"], sqlite_result
    # the SQLite pipeline drops its temp tables; materialise again to read the results
    import sqlite3

    lite = sqlite3.connect(work / "verify.sqlite")
    duck = duckdb.connect(str(work / "verify.duckdb"), read_only=True)
    report = {}
    for view in COMPARED_VIEWS:
        reference = duck.execute(f"SELECT * FROM {view}").df()
        others = {"sqlite": pd.read_sql_query(f"SELECT * FROM {view}", lite), "pandas": frames[view]}
        numeric = [c for c in reference.columns if pd.api.types.is_numeric_dtype(reference[c])
                   and not pd.api.types.is_bool_dtype(reference[c])]
        entry = {"rows": len(reference)}
        for engine, frame in others.items():
            differences = {}
            if len(frame) != len(reference):
                differences["rows"] = [len(reference), len(frame)]
            for column in numeric:
                if column not in frame.columns:
                    differences[column] = "missing"
                    continue
                a = float(reference[column].astype("float64").sum())
                b = float(pd.to_numeric(frame[column], errors="coerce").astype("float64").sum())
                if abs(a - b) > 1e-6 * max(1.0, abs(a)):
                    differences[column] = [a, b]
            entry[engine] = differences or "same"
        report[view] = entry
    lite.close()
    duck.close()
    return {"seconds": 0.0, "views": report}


# =================================================================================================
# The parent: runs children, pairs rounds, prints and writes the results
# =================================================================================================


def run_child(name: str, log: Path | None = None, **kwargs) -> dict:
    """Run STEPS[name](**kwargs) in a new interpreter; add its wall time and peak RSS (MB)."""
    load_before, busy_before = os.getloadavg()[0], bool(_pytest_pids())
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", name, json.dumps(kwargs)],
                                   stdout=out, stderr=err, cwd=str(ROOT))
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"step {name} failed (exit {process.returncode}):\n{errors[-3000:]}")
    result = json.loads(text.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: kilobytes
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    # how busy the machine was: 1-minute load average before and after, and whether a test run was seen
    result["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["pytest_seen"] = busy_before or bool(_pytest_pids())
    return result


def _pytest_pids() -> list[str]:
    found = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True, text=True, check=False).stdout.split()
    return [pid for pid in found if int(pid) != os.getpid()]


MAX_WAIT = [300.0]  # seconds to wait for a test run to end before a step (--max-wait)


def _wait_for_tests(max_wait: float | None = None) -> None:
    """Timings are only meaningful without the test suite running beside them (2 cores).

    On a shared machine the wait is bounded; each step records whether a test run was seen."""
    max_wait = MAX_WAIT[0] if max_wait is None else max_wait
    waited = 0.0
    while waited < max_wait:
        found = _pytest_pids()
        if not found:
            return
        if waited == 0:
            print(f"  (waiting for pytest to finish: pids {' '.join(found)})", flush=True)
        time.sleep(10)
        waited += 10


def _views_of(db: str) -> list[str]:
    import duckdb

    con = duckdb.connect(db, read_only=True)
    try:
        return [r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal ORDER BY 1").fetchall()]
    finally:
        con.close()


def ensure_data(workdir: Path, patients: int, studies: int, seed: int) -> dict:
    """Write the packages once per (patients, studies, seed); reuse them when already there."""
    import hashlib

    target = workdir / f"data-{patients}-s{studies}-seed{seed}"
    stamp = target / "done.json"
    version = hashlib.sha256((ROOT / "registry" / "synth.py").read_bytes()).hexdigest()[:16]
    if stamp.exists():
        data = json.loads(stamp.read_text())
        if data.get("synth_version") == version:
            return data
    shutil.rmtree(target, ignore_errors=True)
    result = run_child("synth", out=str(target / "packages"), patients=patients, studies=studies, seed=seed)
    sizes = {p.name: p.stat().st_size for p in (target / "packages").rglob("*.csv")}
    import duckdb

    files = [str(p) for p in sorted((target / "packages").glob("*/measurements.csv"))]
    measurement_rows = duckdb.connect().execute(f"SELECT count(*) FROM read_csv({files!r})").fetchone()[0]
    data = {"packages": result["packages"], "synth_seconds": result["seconds"], "synth_peak_rss_mb": result["peak_rss_mb"],
            "csv_mb": sum(sizes.values()) / 1e6, "measurement_rows": measurement_rows, "patients": patients, "studies": studies,
            "seed": seed, "synth_version": version}
    stamp.write_text(json.dumps(data, indent=2))
    return data


def run_round(data: dict, scratch: Path, comparators: set[str], round_no: int, views: list[str] | None, say) -> dict:
    packages = data["packages"]
    result: dict = {}
    db = str(scratch / "registry.duckdb")
    order = ["registry", "raw", "pandas", "sqlite"]
    if round_no % 2 == 1:  # alternate who goes first
        order = order[::-1]
    for who in order:
        if who not in comparators and who != "registry":
            continue
        _wait_for_tests()
        if who == "registry":
            say("    registry import")
            result["registry_import"] = run_child("registry_import", packages=packages, db=db)
            views = views or _views_of(db)
            result["views"] = {}
            for view in views:
                limit = MEMORY_LIMIT if data["patients"] < VIEW_LIMIT_FROM else None
                result["views"][view] = run_child("registry_view", db=db, view=view, memory_limit=limit)
            say(f"    {len(views)} views, export")
            result["registry_export"] = run_child("registry_export", db=db, out=str(scratch / "export"))
            result["raw_copy"] = run_child("raw_copy", db=db, out=str(scratch / "copy"))
            shutil.rmtree(scratch / "export", ignore_errors=True)
            shutil.rmtree(scratch / "copy", ignore_errors=True)
        elif who == "raw":
            say("    raw DuckDB CTAS")
            result["raw_ctas"] = run_child("raw_ctas", packages=packages, db=str(scratch / "raw.duckdb"))
            Path(scratch / "raw.duckdb").unlink(missing_ok=True)
        elif who == "pandas":
            say("    pandas")
            result["pandas"] = run_child("pandas_pipeline", packages=packages)
        elif who == "sqlite":
            say("    SQLite")
            result["sqlite"] = run_child("sqlite_pipeline", packages=packages, db=str(scratch / "sqlite.db"))
            Path(scratch / "sqlite.db").unlink(missing_ok=True)
    for leftover in ("registry.duckdb", "registry.duckdb.wal"):
        Path(scratch / leftover).unlink(missing_ok=True)
    return result


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(rounds: list[dict]) -> dict:
    """Medians over rounds, and paired ratios (per round, then the median)."""
    s: dict = {"rounds": len(rounds)}

    def med(path):
        values = []
        for r in rounds:
            node = r
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
            values.append(node)
        return _median(values)

    s["registry_import_s"] = med(["registry_import", "seconds"])
    s["registry_import_rss_mb"] = med(["registry_import", "peak_rss_mb"])
    s["raw_ctas_s"] = med(["raw_ctas", "seconds"])
    s["raw_ctas_rss_mb"] = med(["raw_ctas", "peak_rss_mb"])
    s["export_s"] = med(["registry_export", "seconds"])
    s["export_rss_mb"] = med(["registry_export", "peak_rss_mb"])
    s["raw_copy_s"] = med(["raw_copy", "seconds"])
    s["raw_copy_rss_mb"] = med(["raw_copy", "peak_rss_mb"])
    views = sorted(rounds[0].get("views", {}))
    s["views"] = {v: {"s": med(["views", v, "seconds"]), "rss_mb": med(["views", v, "peak_rss_mb"]),
                      "rows": rounds[0]["views"][v]["rows"]} for v in views}
    if rounds[0].get("raw_ctas"):
        s["import_vs_ctas"] = _median([r["registry_import"]["seconds"] / r["raw_ctas"]["seconds"] for r in rounds])
    s["export_vs_copy"] = _median([r["registry_export"]["seconds"] / r["raw_copy"]["seconds"] for r in rounds])
    compared = lambda r: r["registry_import"]["seconds"] + sum(r["views"][v]["seconds"] for v in COMPARED_VIEWS if v in r["views"])
    s["registry_import_plus_compared_views_s"] = _median([compared(r) for r in rounds])
    s["registry_import_plus_all_views_s"] = _median(
        [r["registry_import"]["seconds"] + sum(v["seconds"] for v in r["views"].values()) for r in rounds])
    for other in ("pandas", "sqlite"):
        if not rounds[0].get(other):
            continue
        s[f"{other}_s"] = med([other, "seconds"])
        s[f"{other}_load_checks_s"] = med([other, "timings", "load+checks"])
        s[f"{other}_summaries_s"] = med([other, "timings", "summaries"])
        s[f"{other}_rss_mb"] = med([other, "peak_rss_mb"])
        s[f"{other}_speedup"] = _median([r[other]["seconds"] / compared(r) for r in rounds])
        s[f"{other}_load_checks_vs_import"] = _median([r[other]["timings"]["load+checks"] / r["registry_import"]["seconds"] for r in rounds])
        s[f"{other}_rows"] = rounds[0][other].get("rows")
        s[f"{other}_valid"] = all(r[other].get("valid") for r in rounds)
        s[f"{other}_timings"] = {k: med([other, "timings", k]) for k, v in rounds[0][other]["timings"].items() if not isinstance(v, dict)}
    steps = []
    for r in rounds:
        for key, value in r.items():
            steps += list(value.values()) if key == "views" else [value]
    s["steps"] = len(steps)
    s["steps_with_tests_running"] = sum(1 for v in steps if v.get("pytest_seen"))
    s["median_load_before_step"] = _median([v.get("load", [None])[0] for v in steps])
    peak = [s.get("registry_import_rss_mb"), s.get("export_rss_mb")] + [v["rss_mb"] for v in s["views"].values()]
    s["registry_peak_rss_mb"] = max(p for p in peak if p is not None)
    return s


def _fmt_s(value):
    return "" if value is None else f"{value:8.2f}"


def _fmt_mb(value):
    return "" if value is None else f"{value:8.0f}"


def print_size(size: int, data: dict, s: dict) -> None:
    line = "-" * 104
    print(f"\n{size:,} patients: {data['measurement_rows']:,} measurement rows, {data['csv_mb']:.0f} MB of CSV in "
          f"{data['studies']} package(s); medians of {s['rounds']} round(s); ratios are medians of per-round ratios")
    print(line)
    print(f"{'step':46} {'seconds':>8} {'peak MB':>8}  {'ratio / target':40}")
    print(line)

    def row(label, seconds, rss, note=""):
        print(f"{label:46} {_fmt_s(seconds)} {_fmt_mb(rss)}  {note}")

    def verdict(ok):
        return "met" if ok else "MISSED"

    if s.get("import_vs_ctas") is not None:
        ok = s["import_vs_ctas"] <= TARGETS["import_vs_ctas"]
        row("registry import (validation included)", s["registry_import_s"], s["registry_import_rss_mb"],
            f"{s['import_vs_ctas']:.2f}x raw CTAS (target <= 1.5x: {verdict(ok)})")
        row("raw DuckDB CTAS from read_csv (no checks)", s["raw_ctas_s"], s["raw_ctas_rss_mb"])
    else:
        row("registry import (validation included)", s["registry_import_s"], s["registry_import_rss_mb"])
    slowest = max(s["views"].items(), key=lambda kv: kv[1]["s"]) if s["views"] else None
    for view, v in s["views"].items():
        mark = "" if v["s"] < TARGETS["view_seconds"] else "over 3 s: MISSED"
        row(f"  view {view} ({v['rows']:,} rows)", v["s"], v["rss_mb"], mark)
    if slowest:
        row("views: slowest", slowest[1]["s"], None,
            f"{slowest[0]} (target each < 3 s: {verdict(slowest[1]['s'] < TARGETS['view_seconds'])})")
    row("views: sum of all", sum(v["s"] for v in s["views"].values()), None)
    ok = s["export_vs_copy"] <= TARGETS["export_vs_copy"]
    row("registry export (all views to Parquet)", s["export_s"], s["export_rss_mb"],
        f"{s['export_vs_copy']:.2f}x raw COPY (target <= 1.2x: {verdict(ok)})")
    row("raw COPY (SELECT * FROM view) TO parquet", s["raw_copy_s"], s["raw_copy_rss_mb"])
    row(f"registry import + the {len(COMPARED_VIEWS)} compared views", s["registry_import_plus_compared_views_s"], None)
    for other, label, target in (("pandas", "pandas", "pandas_speedup"), ("sqlite", "SQLite", "sqlite_speedup")):
        if s.get(f"{other}_s") is None:
            continue
        ok = s[f"{other}_speedup"] >= TARGETS[target]
        row(f"{label}: load + checks", s[f"{other}_load_checks_s"], None,
            f"{s[f'{other}_load_checks_vs_import']:.2f}x the registry import")
        row(f"{label}: the {len(COMPARED_VIEWS)} summaries", s[f"{other}_summaries_s"], None)
        row(f"{label}: total", s[f"{other}_s"], s[f"{other}_rss_mb"],
            f"registry {s[f'{other}_speedup']:.2f}x faster (target >= {TARGETS[target]:.0f}x: {verdict(ok)})")
        if not s[f"{other}_valid"]:
            row(f"{label}: FOUND VIOLATIONS (see JSON)", None, None)
    ok = s["registry_peak_rss_mb"] < TARGETS["peak_rss_gb"] * 1024
    row("registry peak RSS over its steps", None, s["registry_peak_rss_mb"], f"target < 2 GB: {verdict(ok)}")
    print(line)
    print(f"machine load: median 1-minute load average {s['median_load_before_step']} before a step (2 cores); "
          f"a test run was seen during {s['steps_with_tests_running']} of {s['steps']} steps")
    mismatches = []
    for other in ("pandas", "sqlite"):
        for view, n in (s.get(f"{other}_rows") or {}).items():
            if view in s["views"] and s["views"][view]["rows"] != n:
                mismatches.append(f"{other} {view}: {n} rows, registry {s['views'][view]['rows']}")
    if mismatches:
        print("row counts that differ from the registry's views: " + "; ".join(mismatches))
    elif any(s.get(f"{o}_rows") for o in ("pandas", "sqlite")):
        print("row counts of every compared summary equal the registry's views")


def print_profile(size: int, profile: dict) -> None:
    print(f"\nWhere a registry import's time goes at {size:,} patients (one run of Registry.import_package; every statement "
          "it sends timed through a wrapped connection)")
    total = profile["seconds"]
    for name, seconds in profile["timings"].items():
        share = "" if name.startswith("total") else f"{100 * seconds / total:5.1f} %"
        print(f"  {name:60} {seconds:8.3f} s {share}")
    print(f"  each of the {profile['n_checks']} checks run alone (a diagnostic, not part of the import; "
          f"sum {profile['sum_checks_alone']:.2f} s), slowest:")
    for name, seconds in profile["slowest_checks_alone"].items():
        print(f"    {seconds:7.3f} s  {name[:90]}")


def growth(sizes: dict) -> dict:
    """How each registry step's time grows with the number of patients: the exponent k of
    time ~ patients^k, fitted by least squares on log-log over the sizes run (1 = linear)."""
    import math

    series = {
        "registry import": lambda s: s["registry_import_s"],
        "raw DuckDB CTAS": lambda s: s.get("raw_ctas_s"),
        "all views (sum)": lambda s: sum(v["s"] for v in s["views"].values()),
        "registry export": lambda s: s["export_s"],
        "raw COPY": lambda s: s["raw_copy_s"],
    }
    fitted = {}
    for name, get in series.items():
        points = [(int(size), get(entry["summary"])) for size, entry in sizes.items() if entry.get("summary")]
        points = [(math.log(n), math.log(t)) for n, t in points if t]
        if len(points) < 2:
            continue
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
        fitted[name] = round(slope, 3)
    return fitted


def print_growth(sizes: dict, fitted: dict) -> None:
    print(f"\nGrowth with size ({', '.join(f'{int(n):,}' for n in sizes)} patients): exponent k in time ~ patients^k "
          "(least squares on log-log; 1 = linear)")
    for name, k in fitted.items():
        times = "  ".join(
            f"{_fmt_s(get).strip()} s" for get in (
                {"registry import": e["summary"]["registry_import_s"], "raw DuckDB CTAS": e["summary"].get("raw_ctas_s"),
                 "all views (sum)": sum(v["s"] for v in e["summary"]["views"].values()),
                 "registry export": e["summary"]["export_s"], "raw COPY": e["summary"]["raw_copy_s"]}[name]
                for e in sizes.values()) if get is not None)
        print(f"  {name:20} k = {k:5.2f}   ({times})")


def from_steps(path: Path, workdir_of: dict[str, Path]) -> dict[str, tuple[dict, dict]]:
    """Rebuild one round per size from the per-step log (caseregistry-bench-steps.jsonl) of a run
    that was stopped early: {size: (data, round)}, latest entry per step. Times and peak RSS are the
    children's own (measured inside the child; the parent's wall time and os.wait4 are not there)."""
    rounds: dict[str, dict] = {}
    data: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        args = entry["args"]
        packages = args.get("packages") or []
        where = packages[0] if packages else args.get("db", "")
        match = re.search(r"(?:data|scratch)-(\d+)", where)
        if not match or entry["step"] in ("synth", "profile_import", "verify_equivalence"):
            continue
        size = match.group(1)
        if packages:
            stamp = Path(packages[0]).parent.parent / "done.json"
            if stamp.exists():
                data[size] = json.loads(stamp.read_text())
        r = rounds.setdefault(size, {})
        entry.setdefault("load", None)
        entry["load"] = [entry["load"], entry["load"]]
        if entry["step"] == "registry_view":
            r.setdefault("views", {})[args["view"]] = entry
        else:
            name = {"pandas_pipeline": "pandas", "sqlite_pipeline": "sqlite"}.get(entry["step"], entry["step"])
            r[name] = entry
    return {size: (data[size], r) for size, r in rounds.items() if size in data}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="patients per run (default 10000 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (default 3)")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 patients: registry and raw DuckDB only, once")
    parser.add_argument("--studies", type=int, default=1, help="packages the patients are split into (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=["registry", "raw", "pandas", "sqlite"],
                        default=["registry", "raw", "pandas", "sqlite"], help="comparators to run (registry always runs)")
    parser.add_argument("--rounds-for", nargs="*", default=[], metavar="SIZE=ROUNDS", help="override rounds for one size, e.g. 100000=2")
    parser.add_argument("--profile", action="store_true", help="also profile one registry import per size")
    parser.add_argument("--verify", action="store_true",
                        help="first check, on 2,000 patients, that pandas and SQLite compute what the registry's views do")
    parser.add_argument("--json", type=Path, help="write every measurement and the summaries here")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "caseregistry-bench",
                        help="data and scratch databases (default: $TMPDIR/caseregistry-bench); generated data is kept and reused")
    parser.add_argument("--max-wait", type=float, default=300.0,
                        help="seconds to wait for a running pytest before each step (default 300; 0: do not wait)")
    parser.add_argument("--growth-from", type=Path, nargs="*", default=[], metavar="JSON",
                        help="also fit the growth exponent over the sizes of these earlier --json results")
    parser.add_argument("--from-steps", type=Path, metavar="JSONL",
                        help="print the tables from a per-step log ($TMPDIR/caseregistry-bench-steps.jsonl) of a run stopped early")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    MAX_WAIT[0] = args.max_wait
    if args.child:
        import resource

        name, payload = args.child
        result = STEPS[name](**json.loads(payload))
        print(json.dumps(result))
        # also kept as each step ends, so that a run stopped early leaves what it measured
        usage = resource.getrusage(resource.RUSAGE_SELF)
        entry = {"step": name, "args": json.loads(payload), "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                 "load": os.getloadavg()[0], **result}
        with open(Path(tempfile.gettempdir()) / "caseregistry-bench-steps.jsonl", "a") as log:
            log.write(json.dumps(entry, default=str) + "\n")
        return 0

    def say(text):
        print(text, flush=True)

    if args.from_steps:
        for size, (data, one_round) in sorted(from_steps(args.from_steps, {}).items(), key=lambda kv: int(kv[0])):
            missing = [k for k in ("registry_import", "views", "registry_export", "raw_copy") if k not in one_round]
            if missing:
                print(f"\n{int(size):,} patients: steps logged: {sorted(one_round)}; not logged: {missing}")
                for key, entry in one_round.items():
                    if key != "views":
                        print(f"  {key:20} {entry['seconds']:8.2f} s  peak {entry['peak_rss_mb']:6.0f} MB")
                for view, entry in sorted(one_round.get("views", {}).items()):
                    print(f"  view {view:28} {entry['seconds']:8.2f} s  peak {entry['peak_rss_mb']:6.0f} MB  {entry['rows']:,} rows")
                continue
            print_size(int(size), data, summarise([one_round]))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    rounds_for = {int(k): int(v) for k, v in (item.split("=") for item in args.rounds_for)}
    plan = [(size, rounds_for.get(size, args.rounds), set(args.only)) for size in args.sizes]
    if args.million:
        plan.append((1_000_000, 1, {"registry", "raw"}))
    report: dict = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "targets": TARGETS, "compared_views": COMPARED_VIEWS, "view_method": "CREATE TEMP TABLE x AS SELECT * FROM view",
        "sizes": {},
    }
    try:
        import duckdb
        import pandas

        report["machine"].update({"duckdb": duckdb.__version__, "pandas": pandas.__version__, "sqlite": __import__("sqlite3").sqlite_version})
    except ImportError:
        pass

    if args.verify:
        say("verifying that the comparators compute the same summaries (2,000 patients)")
        data = ensure_data(args.workdir, 2000, args.studies, args.seed)
        verified = run_child("verify_equivalence", packages=data["packages"], workdir=str(args.workdir / "verify"))
        shutil.rmtree(args.workdir / "verify", ignore_errors=True)
        report["verify"] = verified["views"]
        for view, entry in verified["views"].items():
            say(f"  {view:26} {entry['rows']:>7} rows   sqlite: {entry['sqlite']}   pandas: {entry['pandas']}")
    for size, rounds, comparators in plan:
        say(f"{size:,} patients: writing or reusing the packages")
        data = ensure_data(args.workdir, size, args.studies, args.seed)
        say(f"  {data['measurement_rows']:,} measurement rows, {data['csv_mb']:.0f} MB CSV (synth took {data['synth_seconds']:.1f} s)")
        scratch = args.workdir / f"scratch-{size}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        results = []
        views = None
        for number in range(rounds):
            say(f"  round {number + 1} of {rounds}")
            results.append(run_round(data, scratch, comparators, number, views, say))
            views = sorted(results[-1]["views"])
        entry = {"data": data, "comparators": sorted(comparators), "rounds": results,
                 "summary": summarise(results) if results else None}
        if args.profile:
            _wait_for_tests()
            say("  profiling one import")
            entry["profile"] = run_child("profile_import", packages=data["packages"], db=str(scratch / "profile.duckdb"))
            Path(scratch / "profile.duckdb").unlink(missing_ok=True)
        report["sizes"][str(size)] = entry
        shutil.rmtree(scratch, ignore_errors=True)
        if results:
            print_size(size, data, entry["summary"])
        if "profile" in entry:
            print_profile(size, entry["profile"])
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
    fitted_sizes = {}
    for earlier in args.growth_from:
        fitted_sizes.update(json.loads(earlier.read_text())["sizes"])
    fitted_sizes.update(report["sizes"])
    fitted_sizes = {k: fitted_sizes[k] for k in sorted(fitted_sizes, key=int)}
    if len([e for e in fitted_sizes.values() if e.get("summary")]) >= 2:
        report["growth_exponent"] = growth(fitted_sizes)
        report["growth_sizes"] = list(fitted_sizes)
        print_growth(fitted_sizes, report["growth_exponent"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
