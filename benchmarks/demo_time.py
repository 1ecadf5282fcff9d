"""The first README command end to end, as a new user runs it: ``scripts/demo.sh`` (set-up check,
validate, demo data for 1,000 customers over two days, ``lakehouse run``), in this checkout and in
a git worktree of b5a7b04 (the baseline the performance work is measured against), alternating,
in the same command.

Each checkout runs the demo once first, untimed: it creates that checkout's ``.venv`` and warms the
caches. Then ``--runs`` timed runs of each.

    .venv/bin/python benchmarks/demo_time.py [--runs 3] [--baseline b5a7b04]

Goals: at least 3x faster than the baseline, and at most 120 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S, GOAL_RATIO = 120.0, 3.0


def _demo(checkout: Path, log: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE", "AIRFLOW", "VIRTUAL_ENV"))}
    started = time.monotonic()
    with log.open("w") as out:
        finished = subprocess.run(["bash", "scripts/demo.sh"], cwd=checkout, env=env, stdout=out, stderr=out)
    elapsed = time.monotonic() - started
    if finished.returncode != 0:
        raise SystemExit(f"the demo failed in {checkout} (exit {finished.returncode}); its output: {log}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", default="b5a7b04", help="the commit to compare with")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-bench-demo-"))
    baseline = scratch / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=ROOT, check=True)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    checkouts = {f"this checkout ({head.stdout.strip()})": ROOT, f"baseline ({args.baseline})": baseline}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"logs under {scratch}", flush=True)
    seconds: dict[str, list[float]] = {name: [] for name in checkouts}
    try:
        for name, checkout in checkouts.items():
            warm_up = _demo(checkout, scratch / f"warm-up-{name.split()[0]}.log")
            print(f"  {name}: warm-up (set-up) {warm_up:.0f}s", flush=True)
        for run in range(args.runs):
            order = list(checkouts) if run % 2 == 0 else list(reversed(checkouts))
            for name in order:
                seconds[name].append(_demo(checkouts[name], scratch / f"run-{run}-{name.split()[0]}.log"))
                print(f"  run {run + 1} {name}: {seconds[name][-1]:.1f}s", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False)

    medians = {name: statistics.median(values) for name, values in seconds.items()}
    new, old = medians.values()
    print(f"\nmedian of {args.runs} runs, 1,000 customers, two days:")
    for name, median in medians.items():
        print(f"  {name:<28} {median:6.1f}s")
    print(f"ratio: {old / new:.2f}x faster than the baseline")
    goals = [
        (f"at least {GOAL_RATIO:.0f}x faster", old / new >= GOAL_RATIO),
        (f"at most {GOAL_S:.0f} s", new <= GOAL_S),
    ]
    for goal, met in goals:
        print(f"goal {goal}: {'met' if met else 'MISSED'}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
