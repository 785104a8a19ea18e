"""Fuzzed bad input: generated broken packages are refused cleanly, and the registry is unchanged.

Each example mutates the demo package (tests/fuzz_packages.py: bad quoting, ragged rows, Latin-1,
UTF-16, NaN/inf/1e309, days outside -365..3650, unknown and missing columns, missing files, no
header, binary garbage, duplicate ids, unknown references, extubation before intubation, a line of
several MB) and imports it with `registry import` into a registry that already holds the demo
study (under its own id: a failed replace; or under a new id: a failed fresh import). Every case
must end in exit 1 with no traceback, a PackageError whose problems each name a package file and
a rule (and the row, column and rule the mutation broke), and every table exactly as before.

The counts here are modest for CI (102 examples, every kind drawn; under a minute on a 2-core machine);
scripts/fuzz_imports.py runs the same generators for 10,000+ cases. Valid variants (BOM, header-only files, negative days, CRLF,
column order) must stay valid.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

try:
    from hypothesis import HealthCheck, given, note, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis belongs in the [test] extra
    message = "hypothesis is not installed (pip install hypothesis; it belongs in pyproject's [test] extra)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)

import fuzz_packages as fp
from registry import Registry

# Examples per kind; CASEREGISTRY_FUZZ_SCALE=10 runs ten times as many (a row-level case costs ~1 s).
SCALE = float(os.environ.get("CASEREGISTRY_FUZZ_SCALE", "1"))


def examples(count: int) -> int:
    return max(1, round(count * SCALE))


FUZZ = dict(
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout; a failure prints its reproduction
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


def check_bad(kind: str, rnd: random.Random, same_id: bool, replace: bool, db: Path, before) -> None:
    files, mutation = fp.mutate(kind, rnd)
    note(f"{mutation.kind}: {mutation.description}")
    with tempfile.TemporaryDirectory() as tmp:
        package = fp.write(files, Path(tmp) / "demo-2024", study_id=None if same_id else "fuzz-2024")
        result, raised = fp.import_with_cli(db, package, replace)
        note(result.stderr[:2000])
        problem = fp.verdict([mutation], package, result, raised)
        assert problem is None, problem
    assert fp.unchanged(db, before), "a refused import changed the registry"


@pytest.fixture
def registry_and_snapshot(demo_registry):
    return demo_registry.path, fp.snapshot(demo_registry.path)


@pytest.mark.parametrize("kind", fp.FAST)
@settings(max_examples=examples(8), **FUZZ)
@given(rnd=st.randoms(use_true_random=False), same_id=st.booleans(), replace=st.booleans())
def test_broken_files_are_refused_cleanly(registry_and_snapshot, kind, rnd, same_id, replace):
    """Broken files, headers, encodings, binary garbage, missing files: refused while reading."""
    check_bad(kind, rnd, same_id, replace, *registry_and_snapshot)


@pytest.mark.parametrize("kind", fp.SLOW)
@settings(max_examples=examples(2), **FUZZ)
@given(rnd=st.randoms(use_true_random=False), same_id=st.booleans(), replace=st.booleans())
def test_broken_rows_are_refused_cleanly(registry_and_snapshot, kind, rnd, same_id, replace):
    """Broken rows (quoting, ragged, Latin-1, non-finite, days, duplicates, references, order,
    very long lines): loaded inside the import's transaction, then rolled back."""
    check_bad(kind, rnd, same_id, replace, *registry_and_snapshot)


@pytest.mark.parametrize("kind", sorted(fp.VALID))
@settings(max_examples=examples(2), **FUZZ)
@given(rnd=st.randoms(use_true_random=False))
def test_valid_variants_stay_valid(kind, rnd):
    """UTF-8 with a BOM, a header-only file, negative days within the window, CRLF, any column order."""
    files, mutation = fp.mutate(kind, rnd)
    note(mutation.description)
    with tempfile.TemporaryDirectory() as tmp:
        package = fp.write(files, Path(tmp) / "demo-2024")
        assert Registry.validate(package).action == "valid"


@pytest.mark.parametrize("kind", ["binary_file", "long_line"])
def test_real_process_exits_1_without_traceback(kind, demo_registry, tmp_path):
    """The same through a real `registry` process: exit status 1, an Error: line, no traceback."""
    files, mutation = fp.mutate(kind, random.Random(f"process-{kind}"))
    package = fp.write(files, tmp_path / "demo-2024")
    before = fp.snapshot(demo_registry.path)
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli", "--db", str(demo_registry.path), "import", str(package)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"Error: {package}: ") and "Traceback" not in done.stderr
    assert fp.unchanged(demo_registry.path, before)
