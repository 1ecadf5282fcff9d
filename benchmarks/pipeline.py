"""Wall time of the local pipeline through Airflow against the same stages run as one plain PySpark
script, per stage and in total, at several sizes.

For each size it writes the demo landing data (two days), then runs, each on a fresh warehouse:

* **airflow**: ``lakehouse.ops.run.run_all``: every DAG through ``dag.test()``, as ``lakehouse run`` does;
* **floor**: the same stage functions called in order in one SparkSession, no Airflow: the floor for
  Spark on this machine.

Both run in this process and share one SparkSession (started before timing), so the difference is
what Airflow and the task wrappers add. The order alternates between repetitions so that neither
always runs on the warmer JVM. The per-task overhead is (airflow total - time inside the stages) /
tasks run.

    .venv/bin/python benchmarks/pipeline.py [--sizes 10000 100000 1000000] [--runs 3]

Goal: airflow total under 2x the floor at 1M customer rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.config import LakehouseConfig
from lakehouse.ops.airflow_home import airflow_environ

DAYS = [date(2026, 3, 1), date(2026, 3, 2)]


def _configure(scratch: Path) -> None:
    environ = airflow_environ({k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LAKEHOUSE"))})
    environ["AIRFLOW_HOME"] = str(scratch / "airflow")
    environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{scratch / 'airflow' / 'airflow.db'}"
    environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    environ["LAKEHOUSE_ENV"] = "local"
    os.environ.update(environ)
    (scratch / "airflow").mkdir(parents=True, exist_ok=True)
    import subprocess

    subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True, capture_output=True)


def floor(spark: SparkSession, config: LakehouseConfig) -> None:
    """Every stage, in the order the DAGs run them, in one session."""
    build(spark, config)
    maintain(spark, config)


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    _configure(scratch)
    from lakehouse.config import load_config
    from lakehouse.ops.demo_data import write_demo_data
    from lakehouse.ops.run import run_all
    from lakehouse.spark.main import session_for

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; scratch {scratch}"
    )
    spark = session_for("local")
    spark.sparkContext.setLogLevel("ERROR")
    config = load_config("local")
    report = []
    for size in args.sizes:
        landing = scratch / f"landing-{size}"
        started = time.monotonic()
        manifest = write_demo_data(dict(config.systems), landing, size, 42, DAYS[0])
        lines = sum(f["lines"] for f in manifest["files"])
        print(f"\n{size} customers: {lines} landing lines written in {time.monotonic() - started:.1f}s")
        totals: dict[str, list[float]] = defaultdict(list)
        per_stage: dict[str, list[float]] = defaultdict(list)
        overheads: list[float] = []
        for run in range(args.runs):
            for mode in ("floor", "airflow") if run % 2 == 0 else ("airflow", "floor"):
                warehouse = scratch / f"warehouse-{size}-{run}-{mode}"
                os.environ["LAKEHOUSE_LANDING_ROOT"] = str(landing)
                os.environ["LAKEHOUSE_WAREHOUSE_ROOT"] = str(warehouse)
                started = time.monotonic()
                if mode == "floor":
                    floor(spark, config)
                else:
                    results = run_all(config, DAYS, progress=lambda line: None)
                    failed = [r for r in results if r.state != "success"]
                    if failed:
                        print(f"  airflow run failed: {failed}", file=sys.stderr)
                        return 1
                elapsed = time.monotonic() - started
                totals[mode].append(elapsed)
                if mode == "airflow":
                    log = warehouse / "_runs" / "stages.jsonl"
                    records = [json.loads(line) for line in log.read_text().splitlines()]
                    stage_sum: dict[str, float] = defaultdict(float)
                    for record in records:
                        stage_sum[record["stage"]] += record["seconds"]
                    for stage, seconds in stage_sum.items():
                        per_stage[stage].append(seconds)
                    # Every stage record is one task; each Silver task is followed by its DQ gate task.
                    task_count = len(records) + sum(1 for r in records if r["stage"] == "silver")
                    overheads.append((elapsed - sum(stage_sum.values())) / task_count)
                print(f"  run {run + 1} {mode}: {elapsed:.1f}s", flush=True)
        airflow, base = statistics.median(totals["airflow"]), statistics.median(totals["floor"])
        row = {
            "customers": size,
            "landing_lines": lines,
            "airflow_s": airflow,
            "floor_s": base,
            "ratio": airflow / base,
            "per_task_overhead_s": statistics.median(overheads),
            "stages_s": {stage: statistics.median(values) for stage, values in per_stage.items()},
        }
        report.append(row)
        print(
            f"  median of {args.runs}: airflow {airflow:.1f}s, floor {base:.1f}s, ratio {airflow / base:.2f}x, "
            f"per-task overhead {row['per_task_overhead_s']:.2f}s"
        )
        print("  inside tasks: " + ", ".join(f"{k} {v:.1f}s" for k, v in row["stages_s"].items()))
    print("\n" + json.dumps(report, indent=2))
    biggest = max(report, key=lambda r: r["customers"])
    if biggest["customers"] >= 1_000_000:
        print(f"goal airflow < 2x floor at 1M rows: {'met' if biggest['ratio'] < 2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
