"""Progress bars: drawn on stderr only when it is a terminal, never into a pipe or a file."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

from terminal import read_until_closed

from registry import progress

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "data" / "packages" / "demo-2024"
REGISTRY = Path(sys.executable).parent / "registry"


def test_bar_is_silent_on_a_stream_that_is_not_a_terminal():
    stream = io.StringIO()
    with progress.bar("importing", stream=stream, delay=0) as step:
        step(1, 3, "measurements.csv")
        time.sleep(0.2)
    assert stream.getvalue() == ""


def test_bar_draws_on_a_terminal_and_only_after_its_delay():
    master, slave = pty.openpty()
    with os.fdopen(slave, "w", closefd=True) as terminal:
        assert terminal.isatty()
        with progress.bar("importing", stream=terminal, delay=0) as step:
            step(2, 5, "measurements.csv")
            time.sleep(0.3)  # the bar refreshes from its own thread
        with progress.bar("quick", stream=terminal, delay=30) as step:
            step(1, 1, "over before the delay")  # ends long before the delay: nothing drawn
    text = read_until_closed(master, timeout=10).decode("utf-8", "replace")
    os.close(master)
    assert "importing: measurements.csv" in text
    assert "2/5" in text
    assert "quick" not in text


def _cli(db: Path, *args: str, stderr) -> subprocess.CompletedProcess:
    env = dict(os.environ, REGISTRY_PROGRESS_DELAY="0")  # draw at once, however fast the work is
    return subprocess.run([str(REGISTRY), "--db", str(db), *args], stdout=subprocess.PIPE, stderr=stderr,
                          env=env, check=False, timeout=120)


def test_cli_import_and_export_print_nothing_to_a_piped_stderr(_templates, tmp_path: Path):
    db = tmp_path / "r.duckdb"
    shutil.copyfile(_templates["empty"], db)
    imported = _cli(db, "import", str(DEMO), stderr=subprocess.PIPE)
    assert imported.returncode == 0
    assert imported.stderr == b""
    assert imported.stdout.decode().startswith("demo-2024: imported")
    exported = _cli(db, "export", "study_overview", "--out", str(tmp_path / "out"), stderr=subprocess.PIPE)
    assert exported.returncode == 0
    assert exported.stderr == b""


def test_cli_import_draws_a_bar_on_a_terminal_stderr_and_keeps_stdout_clean(_templates, tmp_path: Path):
    db = tmp_path / "r.duckdb"
    shutil.copyfile(_templates["empty"], db)
    master, slave = pty.openpty()
    try:
        result = _cli(db, "import", str(DEMO), stderr=slave)
    finally:
        os.close(slave)
    drawn = read_until_closed(master, timeout=10).decode("utf-8", "replace")
    os.close(master)
    assert result.returncode == 0
    assert "importing demo-2024" in drawn
    out = result.stdout.decode()
    assert out.startswith("demo-2024: imported (") and out.count("\n") == 1  # the summary line alone
    assert "\x1b" not in out  # no terminal control codes in the data stream
