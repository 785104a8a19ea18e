"""The CLI's finish: terminal tables, output formats, --quiet/--verbose, "did you mean",
shell completion, and an example in every command's help.

Terminal output is tested in a real subprocess whose stdout is a pseudo-terminal (pty), so the
terminal detection that runs is the real one.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys

import click
import pyarrow.parquet as pq
import pytest
from conftest import DEMO, ROOT, run
from terminal import read_until_closed

from registry.cli import cli

CLI = [sys.executable, "-c", "from registry.cli import main; main()"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", **extra)
    return env


def run_in_terminal(*args: str, columns: int = 100) -> tuple[str, str, int]:
    """Run the CLI with stdout on a pseudo-terminal of `columns` columns; (stdout, stderr, exit code)."""
    import fcntl
    import pty
    import termios

    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(CLI + list(args), stdout=secondary, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               env=_env())
    os.close(secondary)
    try:
        out = read_until_closed(main, timeout=60)
    except AssertionError:
        process.kill()
        raise
    finally:
        os.close(main)
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=60)
    return out.decode().replace("\r\n", "\n"), stderr, code


SQL = "SELECT patient_id, age_years FROM patients WHERE sex = 'F' ORDER BY 1"


def test_a_terminal_gets_a_rich_table(demo_registry):
    """Demo patients.csv: the women are patient 1 (50) and patient 3 (70)."""
    out, err, code = run_in_terminal("--db", str(demo_registry.path), "sql", SQL)
    assert code == 0 and err == ""
    assert "\x1b[1m" in out  # the header is bold: rich drew it
    lines = [line.rstrip() for line in ANSI.sub("", out).splitlines()]
    assert lines == [
        "patient_id   age_years",
        "──────────────────────",
        "1                   50",
        "3                   70",
        "2 rows",
    ]


def test_a_pipe_gets_csv(demo_registry):
    done = subprocess.run(CLI + ["--db", str(demo_registry.path), "sql", SQL], capture_output=True, text=True, check=False,
                          env=_env(), timeout=120)
    assert done.returncode == 0 and done.stdout == "patient_id,age_years\n1,50.0\n3,70.0\n"


def test_table_format_into_a_pipe_is_plain_text(demo_registry):
    """--format table without a terminal: aligned text, no escape codes, no box characters."""
    result = run("sql", SQL, "--format", "table", db=demo_registry.path)
    assert result.stdout == "patient_id  age_years\n----------  ---------\n1                  50\n3                  70\n(2 rows)\n"


def test_parquet_needs_out_on_every_result_command(demo_registry, tmp_path):
    commands = [["list"], ["query", "study_overview"], ["sql", "SELECT 1 AS x"], ["table1", "demo-2024"],
                ["history"], ["change-test", "demo-2024", "spo2", "3"]]
    for args in commands:
        refused = run(*args, "--format", "parquet", db=demo_registry.path)
        assert refused.exit_code == 2 and "--format parquet needs --out FILE" in refused.stderr, args
    out = tmp_path / "history.parquet"
    assert run("history", "--format", "parquet", "--out", str(out), db=demo_registry.path).exit_code == 0
    table = pq.read_table(out)
    # the demo registry was built by one import of demo-2024
    assert table.column("study_id").to_pylist() == ["demo-2024"] and table.column("action").to_pylist() == ["import"]


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_list_in_every_text_format(demo_registry, fmt):
    result = run("list", "--format", fmt, db=demo_registry.path)
    assert result.exit_code == 0 and "study_overview" in result.stdout
    if fmt == "json":
        names = {row["name"]: row["kind"] for row in json.loads(result.stdout)}
        assert names["patients"] == "table" and names["study_overview"] == "view" and names["survival_at"] == "query"
    if fmt == "markdown":
        assert result.stdout.startswith("| kind | name | description |\n| --- | --- | --- |\n")


def test_quiet_keeps_results_and_errors_only(empty_registry, tmp_path):
    imported = run("-q", "import", str(DEMO), db=empty_registry.path)
    assert imported.exit_code == 0 and imported.stdout == "" and imported.stderr == ""
    # after the command's name too
    again = run("import", str(DEMO), "--quiet", db=empty_registry.path)
    assert again.exit_code == 0 and again.stdout == ""
    result = run("-q", "sql", "SELECT count(*) AS n FROM patients", "--format", "csv", db=empty_registry.path)
    assert result.stdout == "n\n4\n"  # demo-2024 has four patients: results are still printed
    missing = run("-q", "table1", "nope", db=empty_registry.path)
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: no study named 'nope'")


def test_verbose_says_what_it_did(demo_registry):
    result = run("-v", "sql", "SELECT count(*) AS n FROM patients", "--format", "csv", db=demo_registry.path)
    assert result.stdout == "n\n4\n"
    lines = result.stderr.splitlines()
    assert lines[0] == f"registry: registry file: {demo_registry.path}"
    assert lines[1] == "registry: 1 rows, 1 columns, as csv"
    assert re.fullmatch(r"registry: done in \d+\.\d\d s", lines[2])
    validated = run("validate", str(DEMO), "--verbose")
    assert validated.stdout == "demo-2024: is valid (72 rows in 18 tables)\n"
    assert "patients 4" in validated.stderr  # the demo's four patients, counted per table


def test_quiet_and_verbose_exclude_each_other(demo_registry):
    result = run("-q", "-v", "list", db=demo_registry.path)
    assert result.exit_code == 2 and "--quiet and --verbose exclude each other" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["imprt", "x"], "Error: No such command 'imprt'. Did you mean 'import'?"),
        (["query", "study_overveiw"], "Error: no view, table or named query named 'study_overveiw'; did you mean study_overview? (`registry list` shows them all)"),
        (["query", "survival_att"], "Error: no named query named 'survival_att'; did you mean survival_at? (`registry list` shows them all)"),
        (["table1", "demo-2042"], "Error: no study named 'demo-2042'; did you mean demo-2024? (`registry list` shows them all)"),
        (["export", "patient_outcome", "--out", "x"], "Error: no table or view named 'patient_outcome'; did you mean patient_outcomes? (`registry list` shows them all)"),
    ],
)
def test_did_you_mean(demo_registry, args, message):
    result = run(*args, db=demo_registry.path)
    assert result.exit_code in (1, 2)
    assert result.stderr.strip().splitlines()[-1] == message


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=" ".join)
def test_every_command_help_has_an_example(path):
    result = run(*path, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout, f"`registry {' '.join(path)} --help` shows no example"
    example = result.stdout.split("Example:", 1)[1]
    assert f"registry {' '.join(path)}" in example, "the example does not show the command itself"


def test_shell_completion_script_and_names(demo_registry):
    script = subprocess.run(CLI, capture_output=True, text=True, check=False, env=_env(_REGISTRY_COMPLETE="bash_source"), timeout=120)
    assert script.returncode == 0 and "_registry_completion()" in script.stdout
    words = f"registry --db {demo_registry.path} query study_ov"
    completed = subprocess.run(CLI, capture_output=True, text=True, check=False, timeout=120,
                               env=_env(_REGISTRY_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD="4"))
    assert completed.stdout.splitlines() == ["plain,study_overview"]
    words = f"registry --db {demo_registry.path} table1 de"
    studies = subprocess.run(CLI, capture_output=True, text=True, check=False, timeout=120,
                             env=_env(_REGISTRY_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD="4"))
    assert studies.stdout.splitlines() == ["plain,demo-2024"]
    readme = (ROOT / "README.md").read_text()
    assert "_REGISTRY_COMPLETE=bash_source registry" in readme


def test_verbose_lists_every_problem(tmp_path):
    """60 dates in a day column: the message shows 50 and counts the rest; --verbose shows all 60."""
    import datetime

    import openpyxl

    from registry.workbook import write_template

    path = tmp_path / "dates.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    wb["documents"]["C2"] = "Me. My paper. 2024."
    wb["sources"].append(["s-title", "paper", "Title", None, None])
    wb["patients"].append(["1", None, None, None, None, None, None, "s-title"])
    for number in range(60):
        # a distinct day_min keeps the rows apart once the refused dates are left out
        wb["events"].append(["1", "known_alive", datetime.datetime(2020, 5, 1 + number % 28), number, None, None, "s-title"])
    wb.save(path)
    short = run("validate", str(path))
    assert short.exit_code == 1
    lines = short.stderr.splitlines()
    assert lines[0] == f"Error: {path}: 60 problems; nothing was imported" and lines[-1] == "  ... and 10 more"
    assert len(lines) == 52
    full = run("validate", str(path), "--verbose")
    lines = full.stderr.splitlines()
    assert lines[0] == f"Error: {path}: 60 problems; nothing was imported" and len(lines) == 61
    assert lines[-1].startswith("  sheet events, row 61, column C (day): a date")
