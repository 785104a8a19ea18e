"""Shared fixtures: real DuckDB files built from the project's own schema, views and packages."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from registry import Registry
from registry.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "data" / "packages" / "demo-2024"
BUNDLED = ROOT / "packages"
# The seed papers' texts live in the workplace's shared/ folder beside the checkout (not in the
# repository: their licences differ). CI has them; elsewhere the tests that read them skip.
SEEDS = Path(os.environ.get("CASEREGISTRY_SEEDS", ROOT.parent / "shared" / "seeds"))


def seed_paper(name: str) -> Path:
    """Path of a seed paper's text; skips the calling module when absent (fails under CI=true)."""
    path = SEEDS / name
    if not path.is_file():
        message = f"seed paper text not available: {path} (set CASEREGISTRY_SEEDS)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return path


@pytest.fixture
def demo_package(tmp_path: Path) -> Path:
    """A private copy of the hand-made demo package that a test may change."""
    target = tmp_path / "demo-2024"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Registries built once per session; tests get their own copy of the file."""
    base = tmp_path_factory.mktemp("templates")
    empty, _ = Registry.create(base / "empty.duckdb", empty=True)
    demo, _ = Registry.create(base / "demo.duckdb", packages=[DEMO])
    return {"empty": empty.path, "demo": demo.path}


def _copy(template: Path, target: Path) -> Registry:
    shutil.copyfile(template, target)
    return Registry(target)


@pytest.fixture
def empty_registry(_templates, tmp_path: Path) -> Registry:
    return _copy(_templates["empty"], tmp_path / "empty.duckdb")


@pytest.fixture
def demo_registry(_templates, tmp_path: Path) -> Registry:
    return _copy(_templates["demo"], tmp_path / "demo.duckdb")


@pytest.fixture(scope="session")
def bundled_registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The registry `registry init` builds: every bundled package. Read-only use only."""
    registry, _ = Registry.create(tmp_path_factory.mktemp("bundled") / "registry.duckdb")
    return registry


def rows(registry: Registry, sql: str) -> list[tuple]:
    return registry.sql(sql).rows()


def table_snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two equal snapshots mean equal content."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def run(*args: str, db: Path | None = None, input: str | None = None):
    """Invoke the CLI in-process; stdout and stderr are kept apart."""
    runner = CliRunner()
    full = (["--db", str(db)] if db else []) + list(args)
    return runner.invoke(cli, full, input=input, catch_exceptions=False)
