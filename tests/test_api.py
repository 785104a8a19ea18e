"""The library API a notebook uses, and the registry file's own guards."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import registry
from registry import NoRegistry, Registry, RegistryExists, SchemaVersionError


def test_query_gives_pandas_and_arrow(demo_registry):
    result = demo_registry.query("survival_at", day=21)
    frame = result.df()
    assert isinstance(frame, pd.DataFrame) and isinstance(result.arrow(), pa.Table)
    assert frame.to_dict("records") == [
        {"study_id": "demo-2024", "day": 21, "n_patients": 4, "n_known": 3, "n_alive": 1, "survival": 0.3333}
    ]


def test_sql_returns_rows(demo_registry):
    assert demo_registry.sql("SELECT count(*) FROM measurements").rows() == [(11,)]


def test_public_names():
    assert {"Registry", "QueryResult", "RegistryError", "PackageError", "UnsafeQuery"} <= set(registry.__all__)


def test_newer_schema_is_refused(demo_registry):
    con = duckdb.connect(str(demo_registry.path))
    con.execute("UPDATE registry_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(SchemaVersionError, match="made by a newer caseregistry \\(schema version 99"):
        Registry(demo_registry.path)


def test_a_plain_duckdb_file_is_not_a_registry(tmp_path):
    path = tmp_path / "plain.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(NoRegistry, match="is a DuckDB file but not a registry"):
        Registry(path)


def test_create_refuses_existing_and_force_keeps_old_until_done(demo_registry, monkeypatch):
    with pytest.raises(RegistryExists):
        Registry.create(demo_registry.path)
    # a failing rebuild (a package that does not exist) leaves the old registry in place
    with pytest.raises(registry.PackageError):
        Registry.create(demo_registry.path, force=True, packages=[demo_registry.path.parent / "no-such-package"])
    assert Registry(demo_registry.path).studies() == ["demo-2024"]
    assert not demo_registry.path.with_name(demo_registry.path.name + ".init-tmp").exists()


def test_library_does_not_import_the_cli():
    import subprocess
    import sys

    code = "import sys, registry; registry.Registry; print('click' in sys.modules, 'registry.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_second_writer_gets_a_clear_message_within_a_bounded_wait(demo_registry, monkeypatch):
    """Another process holds the file open for writing: we wait LOCK_WAIT_SECONDS, then say so."""
    import subprocess
    import sys
    import time

    import registry.core
    from registry import RegistryLocked

    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(demo_registry.path)!r}); "
         "print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setattr(registry.core, "LOCK_WAIT_SECONDS", 1.0)
        started = time.monotonic()
        with pytest.raises(RegistryLocked, match="the registry is being written by another process; try again"):
            demo_registry.import_package(demo_registry.path.parent / "nothing")
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
