"""Fuzz `registry import` with broken packages at scale; print how many cases ended cleanly.

    .venv/bin/python scripts/fuzz_imports.py                      # 10,000 cases, one worker per core
    .venv/bin/python scripts/fuzz_imports.py --cases 200 --workers 1
    .venv/bin/python scripts/fuzz_imports.py --big-line-mb 300    # also lines of hundreds of MB
    .venv/bin/python scripts/fuzz_imports.py --replay 7-1234      # one case again, verbosely
    .venv/bin/python scripts/fuzz_imports.py --log fuzz.jsonl     # resumable: run again to go on

The generators are tests/fuzz_packages.py's (the CI test, tests/test_fuzz_import.py, runs a few
of each). A case mutates the demo package once (or two or three times at once) and imports it
through the CLI (in-process; every --process-every'th case also as a real `registry` process)
into a registry that already holds the demo study, under its own id (a failed replace, with or
without --replace) or a new one. It ends cleanly when the import exits 1 with an "Error:" message
and no traceback, raises a PackageError whose problems each name a package file and a rule, one
of them the break the mutation made (file, row, column, rule), and every table is unchanged.
About one case in ten is a valid variant (BOM, header-only file, negative day, CRLF, column
order), which must validate. Reproduce a case with --replay SEED-INDEX.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzz_packages as fp  # noqa: E402

VALID_SHARE = 0.1
COMBINED_SHARE = 0.15


def plan(seed: int, index: int) -> tuple[random.Random, list[str], bool, bool]:
    """The kinds of mutation of case `index`, and whether it keeps the study id / passes --replace."""
    rng = random.Random(f"{seed}-{index}")
    if rng.random() < VALID_SHARE:
        return rng, [rng.choice(sorted(fp.VALID))], True, False
    kinds = sorted(fp.BAD)
    count = rng.choice([2, 3]) if rng.random() < COMBINED_SHARE else 1
    return rng, [rng.choice(kinds) for _ in range(count)], rng.random() < 0.5, rng.random() < 0.5


def run_case(seed: int, index: int, db: Path, before, work: Path, process: bool, verbose: bool = False) -> tuple[str, str | None, str]:
    """(category, what went wrong or None, description) for one case."""
    from registry import PackageError, Registry

    rng, kinds, same_id, replace = plan(seed, index)
    files = fp.demo_files()
    mutations = []
    for kind in kinds:
        try:
            files, mutation = fp.mutate(kind, rng, files)
        except Exception:  # a generator that cannot apply to an already-broken file (e.g. UTF-16)
            continue
        mutations.append(mutation)
    description = " + ".join(f"{m.kind}: {m.description}" for m in mutations)
    if not mutations:
        return "skipped", None, "no generator applied"
    package = fp.write(files, work / f"case-{index}" / "demo-2024", study_id=None if same_id else "fuzz-2024")
    try:
        if all(m.valid for m in mutations):
            try:
                Registry.validate(package)
            except PackageError as error:
                return "valid", f"a valid variant was refused: {[str(p) for p in error.problems[:3]]}", description
            return "valid", None, description
        result, raised = fp.import_with_cli(db, package, replace)
        if verbose:
            print(result.stderr)
        problem = fp.verdict([m for m in mutations if not m.valid], package, result, raised)
        if problem is None and not fp.unchanged(db, before):
            problem = "the registry changed"
        if problem is None and process:
            done = subprocess.run(
                [sys.executable, "-m", "registry.cli", "--db", str(db), "import", str(package)]
                + (["--replace"] if replace else []),
                capture_output=True, text=True, timeout=600,
            )
            if done.returncode != 1 or "Traceback" in done.stderr or not done.stderr.startswith("Error: "):
                problem = f"real process: exit {done.returncode}, stderr {done.stderr[-800:]!r}"
            elif not fp.unchanged(db, before):
                problem = "the registry changed (real process)"
        return "bad", problem, description
    except Exception:
        return "bad", "crashed: " + traceback.format_exc(limit=8)[-1500:], description
    finally:
        import shutil

        shutil.rmtree(package.parent, ignore_errors=True)


def worker(job: tuple[int, list[int], int, int]) -> list[tuple[int, str, str | None, str]]:
    seed, indices, process_every, big_line = job
    from registry import Registry

    if big_line:
        fp.LONG_LINE_BYTES = big_line
    results = []
    with tempfile.TemporaryDirectory(prefix="fuzz-imports-") as tmp:
        work = Path(tmp)
        registry, _ = Registry.create(work / "registry.duckdb", packages=[fp.DEMO])
        before = fp.snapshot(registry.path)
        for index in indices:
            process = bool(process_every) and index % process_every == 0
            category, problem, description = run_case(seed, index, registry.path, before, work, process)
            results.append((index, category, problem, description))
            if problem == "the registry changed":  # start the next cases from a clean registry
                registry.path.unlink()
                registry, _ = Registry.create(work / "registry.duckdb", packages=[fp.DEMO])
                before = fp.snapshot(registry.path)
    return results


def big_line_cases(size: int) -> list[tuple[str, str | None]]:
    """A line of `size` bytes in a CSV file: as the whole file, as a cell of the last row, and
    as a cell of a row with another after it."""
    from registry import Registry

    out = []
    with tempfile.TemporaryDirectory(prefix="fuzz-big-line-") as tmp:
        work = Path(tmp)
        registry, _ = Registry.create(work / "registry.duckdb", packages=[fp.DEMO])
        before = fp.snapshot(registry.path)
        for variant in ("whole-file", "last-row", "middle-row", "quoted-multiline"):
            files = fp.demo_files()
            name = "findings.csv"
            if variant == "whole-file":
                files[name] = b"x" * size
                mutation = fp.Mutation("long_line", f"{name}: one line of {size:,} bytes", [fp.Expect(name, 1)])
            elif variant == "quoted-multiline":  # short lines, one long record (DuckDB: "unterminated quote")
                files[name] = files[name] + b'3,5,,,sign,"' + b"\n".join([b"y" * 99_999] * (size // 100_000)) + b'",s-table\n'
                mutation = fp.Mutation("long_line", f"{name} line 3 ({variant}): a value of {size:,} bytes",
                                       [fp.Expect(name, 3)])
            else:  # the last row (DuckDB alone would drop it without a word) or one before another row
                files[name] = files[name] + b"3,5,,,sign," + b"y" * size + b",s-table\n"
                if variant == "middle-row":
                    files[name] += b"3,6,,,sign,fever,s-table\n"
                mutation = fp.Mutation("long_line", f"{name} line 3 ({variant}): a cell of {size:,} bytes",
                                       [fp.Expect(name, 3, rule="too long")])
            package = fp.write(files, work / variant / "demo-2024")
            del files
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "registry.cli", "--db", str(registry.path), "import", str(package)],
                capture_output=True, text=True, timeout=1800,
            )
            seconds = time.monotonic() - started
            problem = None
            if done.returncode != 1 or "Traceback" in done.stderr or not done.stderr.startswith("Error: "):
                problem = f"exit {done.returncode}: {done.stderr[-800:]!r}"
            elif not fp.unchanged(registry.path, before):
                problem = "the registry changed"
            elif not any(f"{e.file}, row {e.row}" in done.stderr and (e.rule or "") in done.stderr for e in mutation.expect):
                problem = f"the message does not name the break: {done.stderr[:500]!r}"
            out.append((f"{mutation.description} ({seconds:.1f} s): {done.stderr.splitlines()[1].strip()[:160] if len(done.stderr.splitlines()) > 1 else ''}", problem))
            import shutil

            shutil.rmtree(package.parent, ignore_errors=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--process-every", type=int, default=500, help="also run every Nth case as a real process (0: never)")
    parser.add_argument("--big-line-mb", type=int, default=0, help="also import lines of this many MB (e.g. 300)")
    parser.add_argument("--replay", help="SEED-INDEX: run one case and show its outcome")
    parser.add_argument("--log", type=Path, help="append each case's outcome to this JSON-lines file; "
                        "an interrupted run started again with the same --log and --seed resumes")
    args = parser.parse_args()

    if args.replay:
        seed, index = (int(x) for x in args.replay.split("-"))
        from registry import Registry

        with tempfile.TemporaryDirectory() as tmp:
            registry, _ = Registry.create(Path(tmp) / "registry.duckdb", packages=[fp.DEMO])
            category, problem, description = run_case(
                seed, index, registry.path, fp.snapshot(registry.path), Path(tmp), True, verbose=True
            )
        print(f"{args.replay} [{category}] {description}\n  -> {'ended cleanly' if problem is None else problem}")
        return 0 if problem is None else 1

    started = time.monotonic()
    results = []
    if args.log and args.log.exists():
        import json

        for entry in map(json.loads, args.log.read_text(encoding="utf-8").splitlines()):
            if entry["seed"] == args.seed and entry["index"] < args.cases:
                results.append((entry["index"], entry["category"], entry["problem"], entry["description"]))
        print(f"resuming: {len(results):,} cases already in {args.log}", flush=True)
    done = {r[0] for r in results}
    todo = [i for i in range(args.cases) if i not in done]
    chunks = [todo[start:start + 50] for start in range(0, len(todo), 50)]
    jobs = [(args.seed, chunk, args.process_every, 0) for chunk in chunks]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for batch in pool.imap_unordered(worker, jobs):
            results.extend(batch)
            if args.log:
                import json

                with args.log.open("a", encoding="utf-8") as log:
                    for index, category, problem, description in batch:
                        log.write(json.dumps({"seed": args.seed, "index": index, "category": category,
                                              "problem": problem, "description": description}) + "\n")
            for index, category, problem, description in batch:
                if problem is not None:
                    print(f"FAILED {args.seed}-{index} [{category}] {description}\n  -> {problem}", flush=True)
            if len(results) % 500 < 50:
                clean = sum(1 for r in results if r[2] is None)
                print(f"  {len(results):,} cases, {clean:,} clean ({time.monotonic() - started:.0f} s)", flush=True)
    failures = sorted((r for r in results if r[2] is not None), key=lambda r: r[0])
    by_kind: dict[str, list[int]] = {}
    for index, category, problem, description in results:
        for part in description.split(" + "):
            kind = part.split(":")[0]
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += 1
            by_kind[kind][1] += problem is None
    print("by kind (cases / ended cleanly):")
    for kind, (count, clean) in sorted(by_kind.items()):
        print(f"  {kind:30} {count:6,} {clean:6,}")
    if failures:
        print("failed cases (replay with --replay SEED-INDEX): " + ", ".join(f"{args.seed}-{r[0]}" for r in failures[:50]))
    bad = [r for r in results if r[1] == "bad"]
    valid = [r for r in results if r[1] == "valid"]
    skipped = sum(1 for r in results if r[1] == "skipped")
    clean = sum(1 for r in results if r[2] is None and r[1] != "skipped")
    if args.big_line_mb:
        for description, problem in big_line_cases(args.big_line_mb * 1_000_000):
            print(f"big line: {description} -> {'ended cleanly' if problem is None else problem}")
            bad.append((0, "bad", problem, description))
            clean += problem is None
    total = len(bad) + len(valid)
    print(
        f"{total:,} cases run ({len(bad):,} broken packages, {len(valid):,} valid variants, {skipped} skipped); "
        f"{clean:,} ended cleanly; {total - clean:,} did not ({time.monotonic() - started:.0f} s)"
    )
    return 0 if clean == total else 1


if __name__ == "__main__":
    sys.exit(main())
