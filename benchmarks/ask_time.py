"""Wall time of ``lakehouse ask`` on a laptop: a fresh process per question, as a user types it,
against the same question answered through Spark (a fresh process starting its JVM, reading the
index and logging the question with Spark, which is what the command did before it read the Delta
files directly).

It builds the knowledge index of the shipped ``knowledge/`` documents into a scratch warehouse with
the RAG stage, then asks each question ``--runs`` times both ways, after one warm-up of each.

    .venv/bin/python benchmarks/ask_time.py [--runs 5]

Goal: under 2 s wall per question without Spark.
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

QUESTIONS = ["How do I replay a day of Jarvis services?", "Which case statuses count as open?"]
GOAL_S = 2.0
BUILD = """
from datetime import date
from lakehouse.config import load_config
from lakehouse.spark.main import session_for
from lakehouse.spark.rag.stage import run_rag_index
from lakehouse.spark.stages import StageContext
config = load_config("local")
result = run_rag_index(session_for("local"), StageContext.of(config), date(2026, 3, 1),
                       domains=list(config.require_pipelines().rag.domains))
print(result["chunks"])
"""
THROUGH_SPARK = """
import sys
from lakehouse.ops.ask import as_text, spark_knowledge_base
from lakehouse.ops.environment import local_config
config, environment = local_config(None, "benchmark")
print(as_text(spark_knowledge_base(config, environment).ask(sys.argv[1])))
"""


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-bench-ask-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE")}
    env |= {"LAKEHOUSE_ENV": "local", "LAKEHOUSE_WAREHOUSE_ROOT": str(scratch / "warehouse")}
    python = sys.executable
    lakehouse = str(Path(python).with_name("lakehouse"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    built = subprocess.run([python, "-c", BUILD], env=env, check=True, capture_output=True, text=True)
    print(f"knowledge index built: {built.stdout.strip().splitlines()[-1]} chunks\n")

    ways = {
        "lakehouse ask (Delta files)": lambda q: [lakehouse, "ask", q],
        "through Spark (baseline)": lambda q: [python, "-c", THROUGH_SPARK, q],
    }
    medians: dict[str, float] = {}
    for name, command in ways.items():
        _timed(command(QUESTIONS[0]), env)  # warm-up: bytecode, page cache
        samples = [_timed(command(q), env) for _ in range(args.runs) for q in QUESTIONS]
        medians[name] = statistics.median(samples)
        print(
            f"{name:<28} median {medians[name]:5.2f}s  min {min(samples):5.2f}s  max {max(samples):5.2f}s  "
            f"({len(samples)} asks)"
        )
    fast, slow = medians["lakehouse ask (Delta files)"], medians["through Spark (baseline)"]
    print(f"\n{slow / fast:.1f}x faster than through Spark")
    met = fast < GOAL_S
    print(f"goal under {GOAL_S:.0f} s: {'met' if met else 'MISSED'} ({fast:.2f}s)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
