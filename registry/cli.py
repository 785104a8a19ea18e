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


class RegistryCommand(click.Group):
    """Turns library errors into one clear message and exit code 1, with no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RegistryError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(1)

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
@click.version_option(__version__, prog_name="caseregistry")
@click.pass_context
def cli(ctx: click.Context, db: Path) -> None:
    """caseregistry: published clinical case series as a queryable DuckDB registry.

    \b
    Start with:
      registry init                       # a registry with the bundled case series
      registry query study_overview       # one row per study
      registry query survival_at -p day 28
      registry list                       # every table, view and named query
    """
    ctx.obj = db


def _open(ctx: click.Context) -> Registry:
    return Registry(ctx.obj)


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
    write_result(result.arrow(), fmt, out, sys.stdout)


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
        click.echo(result.summary())
    click.echo(f"registry ready: {ctx.obj}" + (" (empty)" if empty else f" ({len(results)} studies)"))


@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@click.option("--replace", is_flag=True, help="Swap in this version of a study already in the registry (one transaction).")
@click.pass_context
def import_(ctx: click.Context, path: Path, dry_run: bool, replace: bool) -> None:
    """Import one case-series package (a directory), all or nothing.

    Re-importing a package whose content is already there changes nothing and says so.

    \b
    Example:
      registry import packages/perez-2023 --dry-run
      registry import my-series/ --replace
    """
    result = _open(ctx).import_package(path, replace=replace, dry_run=dry_run)
    click.echo(result.summary())


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def validate(path: Path) -> None:
    """Check a package with the same rules as import; never writes anything.

    \b
    Example:
      registry validate my-series/
    """
    click.echo(Registry.validate(path).summary())


@cli.command("list")
@_format_option
@click.pass_context
def list_(ctx: click.Context, fmt: str | None) -> None:
    """List tables, views and named queries with their descriptions.

    \b
    Example:
      registry list --format markdown
    """
    import pyarrow as pa

    rows = _open(ctx).catalog()
    table = pa.table({"kind": [r[0] for r in rows], "name": [r[1] for r in rows], "description": [r[2] for r in rows]})
    write_result(table, fmt or default_format(sys.stdout), None, sys.stdout)


@cli.command()
@click.argument("name")
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE", help="A query parameter (repeatable).")
@_format_option
@_out_option
@click.pass_context
def query(ctx: click.Context, name: str, params: tuple[tuple[str, str], ...], fmt: str | None, out: Path | None) -> None:
    """Run a named query (see `registry list`), or show any view by its name.

    \b
    Example:
      registry query survival_at -p day 28
      registry query study_overview --format json
    """
    reg = _open(ctx)
    if name not in reg.queries() and name in reg.relations():
        if params:
            raise click.UsageError(f"{name} is a view or table: it takes no parameters")
        result = reg.sql(f"SELECT * FROM {name} ORDER BY ALL")  # views have no order of their own
    else:
        result = reg.query(name, **dict(params))
    _emit(result, fmt, out)


@cli.command()
@click.argument("text", metavar="SQL")
@_format_option
@_out_option
@click.pass_context
def sql(ctx: click.Context, text: str, fmt: str | None, out: Path | None) -> None:
    """Run one read-only query in DuckDB's SQL dialect.

    Only a single SELECT (or WITH ... SELECT) over the registry's tables and views is allowed; the
    connection is read-only with file and network access switched off.

    \b
    Example:
      registry sql "SELECT study_id, n_patients FROM study_overview"
      registry sql "SELECT * FROM provenance WHERE patient_id = '004'"
    """
    _emit(_open(ctx).sql(text), fmt, out)


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
    manifest = _open(ctx).export(out, list(names) or None, tables=tables, fmt=fmt)
    for file_name, entry in manifest["files"].items():
        click.echo(f"{out / file_name}  {entry['rows']} rows")
    click.echo(f"{out / 'manifest.json'}")


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
@click.argument("study_id")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def export_package(ctx: click.Context, study_id: str, path: Path) -> None:
    """Write one study back out as a case-series package directory.

    \b
    Example:
      registry export-package perez-2023 perez-copy/
    """
    written = _open(ctx).export_package(study_id, path)
    click.echo(f"{study_id}: written to {written}")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
def template(path: Path) -> None:
    """Write an empty, commented case-series package to start from.

    \b
    Example:
      registry template my-series/
    """
    from .package_writer import write_template

    write_template(path)
    click.echo(f"template written to {path}: fill in study.yaml and the CSV files, then `registry validate {path}`")


@cli.command()
@click.argument("study_id")
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
@click.argument("study_id")
@click.argument("analyte")
@click.argument("day", type=int)
@click.option("--context", default=None, help="Measurement context (e.g. 'room air') when the analyte was measured in several.")
@_format_option
@click.pass_context
def change_test(ctx: click.Context, study_id: str, analyte: str, day: int, context: str | None, fmt: str | None) -> None:
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
    write_result(table, fmt or default_format(sys.stdout), None, sys.stdout)


@cli.command()
@click.argument("study_id", required=False)
@_format_option
@click.pass_context
def history(ctx: click.Context, study_id: str | None, fmt: str | None) -> None:
    """Show the audit trail: every import, replace, restore and removal, with time, OS user,
    package checksum, rows added and removed, and whether the version is kept for restore.

    \b
    Example:
      registry history
      registry history perez-2023 --format json
    """
    _emit(_open(ctx).history(study_id), fmt, None)


@cli.command()
@click.argument("study_id")
@click.pass_context
def remove(ctx: click.Context, study_id: str) -> None:
    """Remove a study; its last version stays recoverable with `registry restore`.

    \b
    Example:
      registry remove demo-2024
    """
    removed = _open(ctx).remove(study_id)
    click.echo(f"{study_id}: removed ({sum(removed.values())} rows); `registry history {study_id}` lists versions to restore")


@cli.command()
@click.argument("study_id")
@click.option("--version", "version", type=int, required=True, help="The version to bring back (see `registry history`).")
@click.pass_context
def restore(ctx: click.Context, study_id: str, version: int) -> None:
    """Bring back a replaced or removed version of a study; the current one is kept in turn.

    \b
    Example:
      registry restore perez-2023 --version 1
    """
    click.echo(_open(ctx).restore(study_id, version).summary())


def main() -> None:
    cli(prog_name="registry")


if __name__ == "__main__":
    main()
