"""Kill `registry import` (and `import --replace`) with SIGKILL at many points; check every registry.

    .venv/bin/python scripts/kill_imports.py                       # 100 kill points, 200k rows
    .venv/bin/python scripts/kill_imports.py --points 400 --days 500  # 500k measurement rows

Each point copies a baseline registry, starts a real `registry` process on a generated package
(the demo plus --patients x --days measurement rows; tests/crash_packages.py), kills it after a
random delay spread over the whole run (one delay in each equal slice of 0.05 s .. 1.15 x the
time a full run takes), then opens the registry and checks that it opens, holds the study whole
(every table's rows as in one version) or absent (--replace: the old version or the new one,
never a mix), that another study is untouched, and that the integrity check passes (patient-level
rows name a patient, import_log matches the content: `registry check`). Prints "N kill points, N whole".
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import crash_packages as cp  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100, help="kill points in all (half import, half --replace)")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from registry import Registry

    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kill-imports-") as tmp:
        base = Path(tmp)
        a = cp.make_big_package(base / "a" / "demo-2024", patients=args.patients, days=args.days)
        b = cp.make_big_package(base / "b" / "demo-2024", patients=args.patients, days=args.days - 1, shift=1)
        empty, _ = Registry.create(base / "base.duckdb", packages=[cp.other_study(base / "other" / "other-2024")])
        none = cp.study_version_of(empty.path)
        other = cp.versions_of(empty.path)["other-2024"]

        with_a = cp.copy_registry(empty.path, base / "with-a.duckdb")
        killed, import_seconds = cp.run_and_kill(with_a, ["import", str(a)], 3600)
        version_a = cp.study_version_of(with_a)
        probe = cp.copy_registry(with_a, base / "probe.duckdb")
        killed, replace_seconds = cp.run_and_kill(probe, ["import", str(b), "--replace"], 3600)
        version_b = cp.study_version_of(probe)
        rows = sum(n for _, n in version_a.counts)
        print(f"package: {rows:,} rows; a full import takes {import_seconds:.1f} s, a replace {replace_seconds:.1f} s", flush=True)

        scenarios = [
            ("import", empty.path, ["import", str(a)], {"absent": none, "whole": version_a}, import_seconds),
            ("replace", with_a, ["import", str(b), "--replace"], {"old": version_a, "new": version_b}, replace_seconds),
        ]
        db = base / "registry.duckdb"
        total = whole = 0
        failures = []
        for name, baseline, command, allowed, seconds in scenarios:
            count = args.points // 2 + (args.points % 2 if name == "import" else 0)
            delays = cp.stratified_delays(count, 0.05, seconds * 1.15, rng)
            rng.shuffle(delays)
            states: Counter[str] = Counter()
            for delay in delays:
                cp.copy_registry(baseline, db)
                was_killed, _ = cp.run_and_kill(db, command, delay)
                state, problems = cp.check_after_kill(db, allowed)
                if not problems and cp.versions_of(db).get("other-2024") != other:
                    problems = ["another study changed"]
                total += 1
                whole += not problems
                states[f"{state}{'' if was_killed else ' (ran to the end)'}"] += 1
                if problems:
                    failures.append(f"{name} killed after {delay:.2f} s: {state}: {problems}")
            print(f"{name}: {count} kill points over 0.05-{seconds * 1.15:.1f} s: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())), flush=True)
        for failure in failures[:20]:
            print("FAILED", failure)
    print(f"{total} kill points, {whole} whole ({time.monotonic() - started:.0f} s)")
    return 0 if whole == total else 1


if __name__ == "__main__":
    sys.exit(main())
