"""The `registry` command: a thin click layer over the library (registry.core).

Exit codes: 0 ok (a no-op that says so included), 1 a refused operation (bad package, bad query,
registry locked...), 2 bad usage. Results go to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .core import DEFAULT_DB, Registry
from .errors import RegistryError
from .output import FORMATS, default_format, write_result


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        level = -1 if param.name == "quiet" else 1
        if ctx.meta.get("registry.verbosity", 0) == -level:
            raise click.UsageError("--quiet and --verbose exclude each other", ctx)
        ctx.meta["registry.verbosity"] = level


class _Command(click.Command):
    """Every command also takes --quiet and --verbose after its name (`registry init -q`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        taken = {opt for p in self.params for opt in getattr(p, "opts", [])}
        for name, short, text in (("quiet", "-q", "Print only results and errors."),
                                  ("verbose", "-v", "Also say on stderr what is done.")):
            if f"--{name}" not in taken:
                flags = [f"--{name}"] + ([short] if short not in taken else [])
                self.params.append(click.Option(flags, name, is_flag=True, expose_value=False, is_eager=True,
                                                callback=_set_verbosity, help=text))


class RegistryCommand(click.Group):
    """Turns library errors into one clear message and exit code 1, with no traceback."""

    command_class = _Command

    def invoke(self, ctx: click.Context):
        import time

        started = time.perf_counter()
        try:
            result = super().invoke(ctx)
        except RegistryError as error:
            click.echo(f"Error: {_full_message(error) if _verbosity() > 0 else error}", err=True)
            ctx.exit(1)
        _detail(f"done in {time.perf_counter() - started:.2f} s")
        return result

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and name not in self.commands and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, list(self.commands), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=RegistryCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    envvar="REGISTRY_DB",
    show_default=True,
    help="The registry file (env REGISTRY_DB).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only results and errors (no status lines).")
@click.option("-v", "--verbose", is_flag=True, help="Also say on stderr what is done: the registry file, rows, timing, every problem.")
@click.version_option(__version__, prog_name="caseregistry")
@click.pass_context
def cli(ctx: click.Context, db: Path, quiet: bool, verbose: bool) -> None:
    """caseregistry: published clinical case series as a queryable DuckDB registry.

    \b
    Start with:
      registry init                       # a registry with the bundled case series
      registry query study_overview       # one row per study
      registry query survival_at -p day 28
      registry list                       # every table, view and named query
    \b
    Shell completion (bash; zsh and fish likewise):
      eval "$(_REGISTRY_COMPLETE=bash_source registry)"
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    ctx.obj = db
    ctx.meta["registry.verbosity"] = -1 if quiet else 1 if verbose else 0  # a command's own -q/-v may change it
    _detail(f"registry file: {db}")


# ---- --quiet / --verbose: status lines on stdout unless quiet, details on stderr when verbose ----


def _verbosity() -> int:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("registry.verbosity", 0) if ctx is not None else 0


def _say(message: str) -> None:
    """A status line (what a command did): on stdout, left out under --quiet."""
    if _verbosity() >= 0:
        click.echo(message)


def _bar_stream():
    """Where progress bars go: stderr (None), or nowhere under --quiet (a stream that is no terminal)."""
    import io

    return io.StringIO() if _verbosity() < 0 else None


def _detail(message: str) -> None:
    """A diagnostic detail: on stderr, only under --verbose."""
    if _verbosity() > 0:
        click.echo(f"registry: {message}", err=True)


def _full_message(error: RegistryError) -> str:
    """--verbose lists every problem of a refused package, not only the first 50."""
    from .errors import PackageError

    if isinstance(error, PackageError) and len(error.problems) > 50:
        head = f"{error.package}: {len(error.problems)} problems; nothing was imported"
        return "\n".join([head] + [f"  {p}" for p in error.problems])
    return str(error)


def _unknown_relation(runner, name: str) -> None:
    """A name that is neither a view, a table nor a named query: say which one was meant."""
    import difflib

    from . import sqlfiles, transpile
    from .errors import UnknownName

    queries = set(sqlfiles.load_queries())
    if name in queries or runner.is_relation(name):
        return
    relations = set(_open(runner.ctx).relations()) if runner.engine == "duckdb" else set(transpile.project_schema())
    close = difflib.get_close_matches(name, sorted(queries | relations), n=1)
    if close and close[0] in relations and close[0] not in queries:  # else the library's own message says it
        raise UnknownName(f"no view, table or named query named {name!r}; did you mean {close[0]}? "
                          "(`registry list` shows them all)")


def _complete_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion of view, table and named-query names (from the registry, when there is one)."""
    import contextlib

    from . import sqlfiles

    names = set(sqlfiles.load_queries())
    with contextlib.suppress(RegistryError):  # no registry yet, or locked: the named queries only
        names |= set(Registry(ctx.find_root().params.get("db") or DEFAULT_DB).relations())
    return sorted(n for n in names if n.startswith(incomplete))


def _complete_studies(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    try:
        studies = Registry(ctx.find_root().params.get("db") or DEFAULT_DB).studies()
    except RegistryError:  # no registry yet, or locked
        return []
    return [s for s in studies if s.startswith(incomplete)]


def _open(ctx: click.Context) -> Registry:
    # a writing command on an older registry upgrades it first: say so, and where the backup is
    return Registry(ctx.obj, notify=lambda message: click.echo(message, err=True))


def _format_option(f):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format. Default: a table on a terminal, CSV when piped. parquet needs --out.",
    )(f)


def _out_option(f):
    return click.option(
        "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file instead of stdout."
    )(f)


def _emit(result, fmt: str | None, out: Path | None) -> None:
    fmt = fmt or ("csv" if out else default_format(sys.stdout))
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet needs --out FILE")
    table = result.arrow() if hasattr(result, "arrow") else result  # a QueryResult or an Arrow table
    _detail(f"{table.num_rows} rows, {table.num_columns} columns, as {fmt}" + (f" to {out}" if out else ""))
    write_result(table, fmt, out, sys.stdout)


def _engine_options(f):
    """--engine and what each engine needs: the SQL is DuckDB's dialect on every engine."""
    f = click.option("--master", default="local[*]", show_default=True, help="Spark master URL (--engine spark).")(f)
    f = click.option(
        "--parquet",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Directory of a `registry export --tables` (--engine spark).",
    )(f)
    f = click.option("--pg-schema", default="caseregistry", show_default=True, help="Schema the registry was pushed to (--engine postgres).")(f)
    f = click.option("--url", envvar="REGISTRY_PG_URL", default=None, help="postgresql://… URL (--engine postgres; env REGISTRY_PG_URL).")(f)
    f = click.option(
        "--engine",
        type=click.Choice(["duckdb", "postgres", "spark"]),
        default="duckdb",
        show_default=True,
        help="Where to run: the DuckDB file, a PostgreSQL copy (`registry push`), or Spark over Parquet.",
    )(f)
    return f


class _Engine:
    """Runs named queries and ad-hoc SQL on the engine the options chose."""

    def __init__(self, ctx: click.Context, engine: str, url: str | None, pg_schema: str, parquet: Path | None, master: str):
        self.ctx, self.engine, self.url, self.pg_schema = ctx, engine, url, pg_schema
        self.parquet, self.master = parquet, master
        if engine == "postgres" and not url:
            raise click.UsageError("--engine postgres needs --url postgresql://…")
        if engine == "spark" and parquet is None:
            raise click.UsageError("--engine spark needs --parquet DIR (from `registry export --tables --out DIR`)")
        self._spark = None

    def _spark_registry(self):
        if self._spark is None:
            from .engines.spark import SparkRegistry

            self._spark = SparkRegistry.local(self.parquet, master=self.master)
        return self._spark

    def sql(self, text: str):
        if self.engine == "postgres":
            from .engines import postgres

            return postgres.run_sql(self.url, text, schema=self.pg_schema)
        if self.engine == "spark":
            return self._spark_registry().sql(text)
        return _open(self.ctx).sql(text)

    def query(self, name: str, params: dict[str, str]):
        if self.engine == "postgres":
            from .engines import postgres

            return postgres.run_query(self.url, name, schema=self.pg_schema, **params)
        if self.engine == "spark":
            return self._spark_registry().query(name, **params)
        return _open(self.ctx).query(name, **params)

    def is_relation(self, name: str) -> bool:
        from . import sqlfiles, transpile

        if name in sqlfiles.load_queries():
            return False
        if self.engine == "duckdb":
            return name in _open(self.ctx).relations()
        return name in transpile.project_schema()


@cli.command()
@click.option("--empty", is_flag=True, help="Only the schema and views; no bundled case series.")
@click.option("--force", is_flag=True, help="Rebuild the file if it exists (the old one is replaced only when the new one is complete).")
@click.pass_context
def init(ctx: click.Context, empty: bool, force: bool) -> None:
    """Create the registry from schema/ and sql/, loaded with the bundled case series.

    \b
    Example:
      registry --db my.duckdb init
      registry init --empty --force
    """
    _, results = Registry.create(ctx.obj, empty=empty, force=force)
    for result in results:
        _say(result.summary())
    _say(f"registry ready: {ctx.obj}" + (" (empty)" if empty else f" ({len(results)} studies)"))


@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@click.option("--replace", is_flag=True, help="Swap in this version of a study already in the registry (one transaction).")
@click.pass_context
def import_(ctx: click.Context, path: Path, dry_run: bool, replace: bool) -> None:
    """Import one case-series package (a directory or an .xlsx workbook), all or nothing.

    Re-importing a package whose content is already there changes nothing and says so.

    \b
    Example:
      registry import packages/perez-2023 --dry-run
      registry import my-series/ --replace
      registry import my-series.xlsx
    """
    from . import progress

    registry = _open(ctx)
    with progress.bar(f"importing {path.name}", _bar_stream()) as step:  # drawn only on a terminal, after a moment
        result = registry.import_package(path, replace=replace, dry_run=dry_run, progress=step)
    _say(result.summary())
    _detail(", ".join(f"{table} {rows}" for table, rows in result.row_counts.items() if rows))


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def validate(path: Path) -> None:
    """Check a package (a directory or an .xlsx workbook) with the same rules as import; never
    writes anything.

    \b
    Example:
      registry validate my-series/
      registry validate my-series.xlsx
    """
    result = Registry.validate(path)
    _say(result.summary())
    _detail(", ".join(f"{table} {rows}" for table, rows in result.row_counts.items() if rows))


@cli.command("list")
@_format_option
@_out_option
@click.pass_context
def list_(ctx: click.Context, fmt: str | None, out: Path | None) -> None:
    """List tables, views and named queries with their descriptions.

    \b
    Example:
      registry list --format markdown
    """
    import pyarrow as pa

    rows = _open(ctx).catalog()
    table = pa.table({"kind": [r[0] for r in rows], "name": [r[1] for r in rows], "description": [r[2] for r in rows]})
    _emit(table, fmt, out)


@cli.command()
@click.argument("name", shell_complete=_complete_names)
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE", help="A query parameter (repeatable).")
@_format_option
@_out_option
@_engine_options
@click.pass_context
def query(ctx: click.Context, name: str, params: tuple[tuple[str, str], ...], fmt: str | None, out: Path | None,
          engine: str, url: str | None, pg_schema: str, parquet: Path | None, master: str) -> None:
    """Run a named query (see `registry list`), or show any view by its name.

    \b
    Example:
      registry query survival_at -p day 28
      registry query study_overview --format json
      registry query survival_at -p day 28 --engine postgres --url postgresql://localhost/reg
      registry query km_survival --engine spark --parquet base/
    """
    runner = _Engine(ctx, engine, url, pg_schema, parquet, master)
    _unknown_relation(runner, name)
    if runner.is_relation(name):
        if params:
            raise click.UsageError(f"{name} is a view or table: it takes no parameters")
        result = runner.sql(f"SELECT * FROM {name} ORDER BY ALL")  # views have no order of their own
    else:
        result = runner.query(name, dict(params))
    _emit(result, fmt, out)


@cli.command()
@click.argument("text", metavar="SQL")
@_format_option
@_out_option
@_engine_options
@click.pass_context
def sql(ctx: click.Context, text: str, fmt: str | None, out: Path | None,
        engine: str, url: str | None, pg_schema: str, parquet: Path | None, master: str) -> None:
    """Run one read-only query in DuckDB's SQL dialect.

    Only a single SELECT (or WITH ... SELECT) over the registry's tables and views is allowed; the
    connection is read-only with file and network access switched off. On --engine postgres or
    spark the same check applies, then the SQL is transpiled; PostgreSQL runs it in a read-only
    transaction under the registry's SELECT-only role.

    \b
    Example:
      registry sql "SELECT study_id, n_patients FROM study_overview"
      registry sql "SELECT * FROM provenance WHERE patient_id = '004'"
      registry sql "FROM km_survival" --engine postgres --url postgresql://localhost/reg
    """
    _emit(_Engine(ctx, engine, url, pg_schema, parquet, master).sql(text), fmt, out)


@cli.command()
@click.argument("url", envvar="REGISTRY_PG_URL")
@click.option("--schema", "pg_schema", default="caseregistry", show_default=True, help="PostgreSQL schema to create.")
@click.option("--replace", is_flag=True, help="Drop and rebuild the schema if it exists (in the same transaction).")
@click.pass_context
def push(ctx: click.Context, url: str, pg_schema: str, replace: bool) -> None:
    """Copy the registry (tables, data, views) into a PostgreSQL database, in one transaction.

    Creates the schema, the tables, the views (transpiled), and a SELECT-only role
    <schema>_reader that `--engine postgres` runs queries under.

    \b
    Example:
      registry push postgresql://me@localhost/registry
      registry push postgresql://me@localhost/registry --schema cr --replace
      registry query survival_at -p day 28 --engine postgres --url postgresql://me@localhost/registry
    """
    from .engines import postgres

    counts = postgres.push(_open(ctx), url, schema=pg_schema, replace=replace)
    _say(f"pushed {len(counts)} tables ({sum(counts.values())} rows) and the views to schema {pg_schema}")


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--tables", is_flag=True, help="Export every base table instead of every view.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write to.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.pass_context
def export(ctx: click.Context, names: tuple[str, ...], tables: bool, out: Path, fmt: str) -> None:
    """Export views (default), the named views/tables, or all base tables: one file each plus manifest.json.

    \b
    Example:
      registry export --out exports/
      registry export --tables --out base/ --format csv
      registry export survival_at_day patient_outcomes --out some/
    """
    from . import progress

    registry = _open(ctx)
    with progress.bar("exporting", _bar_stream()) as step:  # drawn only on a terminal, after a moment
        manifest = registry.export(out, list(names) or None, tables=tables, fmt=fmt, progress=step)
    for file_name, entry in manifest["files"].items():
        _say(f"{out / file_name}  {entry['rows']} rows")
    _say(f"{out / 'manifest.json'}")


@cli.command()
@click.option("--dialect", type=click.Choice(["duckdb", "postgres", "spark"]), default="duckdb", show_default=True)
def schema(dialect: str) -> None:
    """Print the schema DDL and the views, transpiled to another engine with sqlglot.

    \b
    Example:
      registry schema --dialect postgres > registry_pg.sql
    """
    from .transpile import schema_sql

    click.echo(schema_sql(dialect))


@cli.command("export-package")
@click.argument("study_id", shell_complete=_complete_studies)
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def export_package(ctx: click.Context, study_id: str, path: Path) -> None:
    """Write one study back out as a case-series package directory, or as one Excel workbook
    when PATH ends in .xlsx.

    \b
    Example:
      registry export-package perez-2023 perez-copy/
      registry export-package perez-2023 perez-2023.xlsx
    """
    written = _open(ctx).export_package(study_id, path)
    _say(f"{study_id}: written to {written}")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def template(path: Path) -> None:
    """Write an empty, commented case-series package to start from: a directory, or one Excel
    workbook when PATH ends in .xlsx (a sheet per file, dropdowns for codes, a README sheet).

    \b
    Example:
      registry template my-series/
      registry template my-series.xlsx
    """
    if path.suffix.lower() == ".xlsx":
        from .workbook import write_template as write_workbook_template

        write_workbook_template(path)
        _say(f"template written to {path}: fill in the study sheet and the other sheets, then `registry validate {path}`")
        return
    from .package_writer import write_template

    write_template(path)
    _say(f"template written to {path}: fill in study.yaml and the CSV files, then `registry validate {path}`")


@cli.command()
@click.argument("study_id", shell_complete=_complete_studies)
@_format_option
@_out_option
@click.pass_context
def table1(ctx: click.Context, study_id: str, fmt: str | None, out: Path | None) -> None:
    """Print a study's "Table 1" (patients, age, sex, comorbidities, treatments...) recomputed from its rows.

    \b
    Example:
      registry table1 perez-2023
      registry table1 perez-2023 --format markdown > table1.md
    """
    _emit(_open(ctx).table_one(study_id), fmt, out)


@cli.command("change-test")
@click.argument("study_id", shell_complete=_complete_studies)
@click.argument("analyte")
@click.argument("day", type=int)
@click.option("--context", default=None, help="Measurement context (e.g. 'room air') when the analyte was measured in several.")
@_format_option
@_out_option
@click.pass_context
def change_test(ctx: click.Context, study_id: str, analyte: str, day: int, context: str | None, fmt: str | None,
                out: Path | None) -> None:
    """Paired Wilcoxon signed-rank test of an analyte's change from baseline to DAY.

    Exact for small n (every sign pattern, ties included); says when n is too small to test.

    \b
    Example:
      registry change-test perez-2023 resp_rate 4
      registry change-test perez-2023 spo2 4 --context "room air"
    """
    import pyarrow as pa

    from .stats import change_test as run_test

    result = run_test(_open(ctx), study_id, analyte, day, context)
    table = pa.table({"field": [r[0] for r in result.rows()], "value": ["" if r[1] is None else str(r[1]) for r in result.rows()]})
    _emit(table, fmt, out)


@cli.command()
@click.argument("study_id", required=False, shell_complete=_complete_studies)
@_format_option
@_out_option
@click.pass_context
def history(ctx: click.Context, study_id: str | None, fmt: str | None, out: Path | None) -> None:
    """Show the audit trail: every import, replace, restore and removal, with time, OS user,
    package checksum, rows added and removed, and whether the version is kept for restore.

    \b
    Example:
      registry history
      registry history perez-2023 --format json
    """
    _emit(_open(ctx).history(study_id), fmt, out)


@cli.command()
@click.argument("study_id", shell_complete=_complete_studies)
@click.pass_context
def remove(ctx: click.Context, study_id: str) -> None:
    """Remove a study; its last version stays recoverable with `registry restore`.

    \b
    Example:
      registry remove demo-2024
    """
    removed = _open(ctx).remove(study_id)
    _say(f"{study_id}: removed ({sum(removed.values())} rows); `registry history {study_id}` lists versions to restore")


@cli.command()
@click.argument("study_id", shell_complete=_complete_studies)
@click.option("--version", "version", type=int, required=True, help="The version to bring back (see `registry history`).")
@click.pass_context
def restore(ctx: click.Context, study_id: str, version: int) -> None:
    """Bring back a replaced or removed version of a study; the current one is kept in turn.

    \b
    Example:
      registry restore perez-2023 --version 1
    """
    _say(_open(ctx).restore(study_id, version).summary())


@cli.command()
@click.option("--patients", type=click.IntRange(min=1), required=True, help="Patients in all, split evenly over the studies.")
@click.option("--studies", type=click.IntRange(min=1), default=1, show_default=True, help="Packages to write (synth-001, ...).")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives byte-identical files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write the packages to.")
def synth(patients: int, studies: int, seed: int, out: Path) -> None:
    """Write synthetic (not real) case-series packages at any scale, for trials and benchmarks.

    About 100 measurements per patient, three arms with different dose schedules, deaths,
    censoring and missing values; every package passes `registry validate`.

    \b
    Example:
      registry synth --patients 1000 --studies 2 --seed 1 --out synth/
      registry import synth/synth-001
    """
    from .synth import write_synthetic

    if patients < studies:
        raise click.BadParameter(f"{patients} patients cannot fill {studies} studies (at least one each)", param_hint="--patients")
    for path in write_synthetic(out, patients, studies=studies, seed=seed):
        click.echo(str(path))


# ---- reports and figures (registry/report.py, registry/plots.py) ---------------------------------


@cli.command()
@click.argument("study_ids", nargs=-1, metavar="[STUDY_ID]...")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory to write the HTML files to.")
@click.pass_context
def report(ctx: click.Context, study_ids: tuple[str, ...], out: Path) -> None:
    """Write self-contained HTML reports: OUT/STUDY_ID.html per study and OUT/index.html across them.

    Each study's page has its study card, Table 1, outcomes, a Kaplan-Meier curve, biomarker
    trajectories, adverse events and the paper's figures against its rows (disagreements
    highlighted). No study named: every study. Figures are embedded; no network needed to view.

    \b
    Example:
      registry report --out report/
      registry report perez-2023 iglesias-2021 --out report/
    """
    from .report import write_reports

    for path in write_reports(_open(ctx), study_ids, out):
        click.echo(str(path))


def _figure_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    from .plots import figure_format

    if value is not None:
        try:
            figure_format(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return value


class _PlotGroup(click.Group):
    """`registry plot NAME`: a misspelt figure name gets the nearest one."""

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and name not in self.commands and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, list(self.commands), n=1, cutoff=0.4)  # names are short
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"No such plot {name!r}.{hint} Plots: {', '.join(sorted(self.commands))}.", ctx)
        return super().resolve_command(ctx, args)


@cli.group(cls=_PlotGroup)
def plot() -> None:
    """Draw one figure to a file (.png, .svg or .pdf, from --out's suffix).

    \b
    Example:
      registry plot km perez-2023 iglesias-2021 --out km.png
      registry plot trajectory resp_rate perez-2023 --out resp_rate.svg
    """


@plot.command("km", short_help="Kaplan-Meier survival curves with their 95 % band.")
@click.argument("study_ids", nargs=-1, metavar="[STUDY_ID]...")
@click.option("--pooled", is_flag=True, help="Add the curve pooled over every patient row of every study.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("km.png"), show_default=True,
              callback=_figure_path, help="Image file; its suffix picks the format.")
@click.pass_context
def plot_km(ctx: click.Context, study_ids: tuple[str, ...], pooled: bool, out: Path) -> None:
    """Kaplan-Meier survival (view km_survival) with its 95 % band; every patient-level study when none is named.

    \b
    Example:
      registry plot km --pooled --out km.svg
    """
    from .report import plot_km as draw

    click.echo(str(draw(_open(ctx.find_root()), study_ids, out, pooled=pooled)))


@plot.command("trajectory", short_help="An analyte's median and IQR per day, with each patient's line.")
@click.argument("analyte")
@click.argument("study_ids", nargs=-1, metavar="[STUDY_ID]...")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=_figure_path,
              help="Image file; its suffix picks the format.  [default: trajectory-ANALYTE.png]")
@click.pass_context
def plot_trajectory(ctx: click.Context, analyte: str, study_ids: tuple[str, ...], out: Path | None) -> None:
    """An analyte's median and IQR per day (view measurement_trajectory) with each patient's line.

    \b
    Example:
      registry plot trajectory spo2 perez-2023 --out spo2.png
    """
    from .report import plot_trajectory as draw

    click.echo(str(draw(_open(ctx.find_root()), analyte, study_ids, out or Path(f"trajectory-{analyte}.png"))))


# ---- integrity and schema versions (registry/integrity.py, registry/upgrade.py) ----------------


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check the registry's integrity: references, day order, import log against content.

    Exit 0 with "registry ok: ..."; exit 1 with one line per problem on stderr.

    \b
    Example:
      registry check
    """
    registry = _open(ctx)
    problems = registry.check()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        ctx.exit(1)
    count = len(registry.studies())
    _say(f"registry ok: {registry.path} ({count} stud{'y' if count == 1 else 'ies'}; "
         "references, day order, import log and archived versions checked)")


@cli.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Bring a registry made by an older schema version up to this one.

    A copy of the old file is written beside it first (registry.duckdb.v1.bak); the upgrade
    runs in one transaction. Writing commands (import, remove, restore) do this by themselves.

    \b
    Example:
      registry upgrade
    """
    from .schema import SCHEMA_VERSION

    done = Registry(ctx.obj).upgrade()
    _say(done.summary() if done else f"{ctx.obj}: already at schema version {SCHEMA_VERSION}; nothing to do")


def main() -> None:
    cli(prog_name="registry")


if __name__ == "__main__":
    main()
