"""A reader while another process writes: a clear message within a bounded wait, no traceback.

DuckDB lets one process open a file for writing and no other process open it at all meanwhile.
A second process holds the registry open for writing (as `registry import` does for the length
of an import); real `registry` processes then try to read it with REGISTRY_LOCK_WAIT=1. (The
second writer is tests/test_api.py::test_a_second_writer_gets_a_clear_message_within_a_bounded_wait.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest


def _holder(path, then: str) -> str:
    """Python code that opens `path` for writing, deletes rows in an open transaction, says ready."""
    return (
        f"import duckdb, time; c = duckdb.connect({str(path)!r}); c.execute('BEGIN TRANSACTION'); "
        f"c.execute(\"DELETE FROM measurements WHERE patient_id = '1'\"); print('ready', flush=True); {then}"
    )


@pytest.fixture
def held(demo_registry):
    """The demo registry, opened for writing by another process until the test ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _holder(demo_registry.path, "time.sleep(60)")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield demo_registry.path
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "args", [["query", "study_overview"], ["sql", "SELECT count(*) FROM measurements"], ["history"], ["check"]]
)
def test_a_reader_during_a_write_gets_a_clear_message_in_bounded_time(held, args):
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli", "--db", str(held), *args],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "REGISTRY_LOCK_WAIT": "1"},
    )
    seconds = time.monotonic() - started
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"Error: the registry is being written by another process; try again ({held})\n"
    # 1 s of waiting plus a process start (~1 s here; more on a loaded machine)
    assert 1.0 <= seconds < 15


def test_the_reader_succeeds_once_the_writer_is_gone(demo_registry):
    """After the writer ends (its transaction never committed), readers see the old rows."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _holder(demo_registry.path, "input()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    holder.kill()
    holder.wait()
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli", "--db", str(demo_registry.path), "sql",
         "SELECT count(*) AS n FROM measurements", "--format", "csv"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (done.returncode, done.stdout) == (0, "n\n11\n")
