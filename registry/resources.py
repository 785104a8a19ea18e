"""Where the SQL, schema and bundled packages live.

In a source checkout they are the top-level folders `schema/`, `sql/` and `packages/`; a built
wheel carries the same folders inside the package as `registry/_data/` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` (schema, sql or packages), wherever this install keeps it."""
    for base in (_PACKAGE_DIR / "_data", _PACKAGE_DIR.parent):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder of caseregistry near {_PACKAGE_DIR}")


def schema_files() -> list[Path]:
    return sorted(data_dir("schema").glob("*.sql"))


def view_files() -> list[Path]:
    return sorted((data_dir("sql") / "views").glob("*.sql"))


def query_files() -> list[Path]:
    return sorted((data_dir("sql") / "queries").glob("*.sql"))


def check_files() -> list[Path]:
    return sorted((data_dir("sql") / "checks").glob("*.sql"))


def bundled_packages() -> list[Path]:
    """The case-series packages `registry init` loads, primary studies before secondary ones."""
    return sorted(p for p in data_dir("packages").iterdir() if p.is_dir() and not p.name.startswith("."))
