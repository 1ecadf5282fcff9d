"""Maintenance of the demo lakehouse: the work of the ``lakehouse_maintenance`` DAG (OPTIMIZE and
VACUUM of every system's tables and of Gold, then the index snapshot) with each table given only
what its history says is due (``lakehouse.core.maintenance``), against the same work with every
table optimized and vacuumed, as it was before.

It builds the demo lakehouse once (``--rows`` customers, the demo's two days, every stage but
maintenance, in one Spark session), then for each run copies the warehouse three times and times,
in the same session:

* **due**: maintenance as it runs now, on a lakehouse just written (the demo's case);
* **due, again**: maintenance straight after, with nothing new (the next Sunday of a quiet week);
* **all**: OPTIMIZE and VACUUM of every table, whatever is due (the baseline), one table at a time
  as before (``stages.MAINTENANCE_THREADS`` set to 1).

    .venv/bin/python benchmarks/maintenance.py [--rows 1000] [--runs 3]

Goal: the demo lakehouse maintained in at most 15 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from pipeline_floor import DAYS
from pyspark.sql import SparkSession

from lakehouse.config import LakehouseConfig

GOAL_S = 15.0


def build(spark: SparkSession, config: LakehouseConfig) -> None:
    """Every stage but maintenance, for every day, in one session."""
    from lakehouse.spark.rag.stage import run_rag_index
    from lakehouse.spark.stages import StageContext, run_bronze, run_gold, run_silver, run_smoke_checks

    ctx = StageContext.of(config)
    gold = config.require_pipelines().gold.tables
    for day in DAYS:
        for system_name, system in config.systems.items():
            for entity in system.entities:
                run_bronze(spark, ctx, day, system=system_name, entity=entity)
                run_silver(spark, ctx, day, system=system_name, entity=entity)
        for table in gold:
            run_gold(spark, ctx, day, table=table.name)
        run_smoke_checks(spark, ctx, day)
        run_rag_index(spark, ctx, day, domains=list(config.require_pipelines().rag.domains))


def maintain(spark: SparkSession, config: LakehouseConfig) -> dict[str, str]:
    """The maintenance DAG's tasks, in one session; what each table got."""
    from lakehouse.spark.stages import StageContext, run_maintenance, run_rag_snapshot

    ctx = StageContext.of(config)
    retention = config.require_environment().retention_days
    done: dict[str, str] = {}
    for scope in [*config.systems, "gold"]:
        done |= run_maintenance(spark, ctx, DAYS[-1], scope=scope, retention_days=retention)["tables"]
    run_rag_snapshot(spark, ctx, DAYS[-1])
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000, help="demo customers (scripts/demo.sh: 1000)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-bench-maintenance-"))
    os.environ["LAKEHOUSE_ENV"] = "local"
    from lakehouse.config import load_config
    from lakehouse.core import maintenance
    from lakehouse.ops.demo_data import write_demo_data
    from lakehouse.spark import stages
    from lakehouse.spark.main import session_for

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    config = load_config("local")
    spark = session_for("local")
    os.environ["LAKEHOUSE_LANDING_ROOT"] = str(scratch / "landing")
    write_demo_data(dict(config.systems), scratch / "landing", args.rows, 42, DAYS[0])
    built = scratch / "built"
    os.environ["LAKEHOUSE_WAREHOUSE_ROOT"] = str(built)
    started = time.monotonic()
    build(spark, config)
    print(f"demo lakehouse of {args.rows} customers, {len(DAYS)} days, built in {time.monotonic() - started:.0f}s")

    def everything(history: object, retention: object, optimize_min_files: object) -> maintenance.Upkeep:
        return maintenance.Upkeep(optimize=True, vacuum=True)

    threads = stages.MAINTENANCE_THREADS
    seconds: dict[str, list[float]] = {"due": [], "due, again": [], "all": []}
    outcomes: dict[str, Counter[str]] = {}
    for run in range(args.runs):
        for mode in ("due", "all") if run % 2 == 0 else ("all", "due"):
            warehouse = scratch / f"warehouse-{run}-{mode}"
            shutil.copytree(built, warehouse)
            os.environ["LAKEHOUSE_WAREHOUSE_ROOT"] = str(warehouse)
            passes = ["due", "due, again"] if mode == "due" else ["all"]
            for label in passes:
                stages.upkeep = everything if label == "all" else maintenance.upkeep
                stages.MAINTENANCE_THREADS = 1 if label == "all" else threads
                started = time.monotonic()
                done = maintain(spark, config)
                seconds[label].append(time.monotonic() - started)
                outcomes[label] = Counter(done.values())
            print(f"  run {run + 1} {mode}: " + ", ".join(f"{p} {seconds[p][-1]:.1f}s" for p in passes), flush=True)
    stages.upkeep, stages.MAINTENANCE_THREADS = maintenance.upkeep, threads

    medians = {label: statistics.median(values) for label, values in seconds.items()}
    print(f"\nmedian of {args.runs} runs, {sum(outcomes['due'].values())} tables:")
    for label, median in medians.items():
        got = ", ".join(f"{count} {what}" for what, count in sorted(outcomes[label].items()))
        print(f"  {label:<11} {median:6.1f}s   ({got})")
    print(
        f"due vs all: {medians['all'] / medians['due']:.1f}x faster; again vs all: "
        f"{medians['all'] / medians['due, again']:.1f}x faster"
    )
    met = medians["due"] <= GOAL_S
    print(f"goal demo maintenance at most {GOAL_S:.0f} s: {'met' if met else 'MISSED'} ({medians['due']:.1f}s)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
