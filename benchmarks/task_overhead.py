"""How long a task of the real scheduler takes from its start to its stage code running: the time
a user's task spends on anything but its work (the task process, imports, the Spark session).

It starts ``lakehouse stack``'s services (PostgreSQL, the api-server, scheduler, dag-processor and
triggerer with LocalExecutor) with its shared Spark Connect server, unpauses the maintenance DAG and
triggers it ``--runs`` times; each run is seven stage tasks (a system's tables each, Gold, the index
snapshot) on an empty warehouse, so the stage code itself takes little. Per task: the stage's
``started_at`` in the run-metrics table minus the task instance's ``start_date`` in Airflow. It does
so again with the scheduler started as ``airflow scheduler``, whose tasks import the package's code
themselves (``AirflowStack.preload``), and with ``--baseline`` also with no server (each task
starts its own JVM), and prints the ratios.

    .venv/bin/python benchmarks/task_overhead.py [--runs 3] [--baseline]

Goal: at most 1 s median with the shared server.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from lakehouse.config import load_config
from lakehouse.config.models import LocalEnvironment
from lakehouse.core import locations
from lakehouse.core.naming import MAINTENANCE_DAG_ID, run_metrics_table
from lakehouse.ops import delta_files
from lakehouse.ops.stack import AirflowStack, running_stack

GOAL_S = 1.0
SHARED = "shared server"
NOT_PRELOADED = "shared server, airflow scheduler"
JVM_PER_TASK = "jvm per task"


def _key(run_id: str, task_id: str) -> tuple[str, str, str | None]:
    if task_id.startswith("maintain_"):
        return run_id, "maintenance", task_id.removeprefix("maintain_")
    return run_id, task_id, None


def _overheads(stack: AirflowStack, warehouse: Path, run_ids: list[str]) -> list[float]:
    environment = load_config("local").require_environment()
    folder = locations.table_folder(warehouse, run_metrics_table(environment))
    rows = delta_files.read_rows(folder, ["run_id", "stage", "target", "started_at"], ("run_id", run_ids), "started_at")
    started = {
        (row["run_id"], "snapshot_index" if row["stage"] == "rag_snapshot" else row["stage"],
         row["target"] if row["stage"] == "maintenance" else None): row["started_at"]
        for row in rows or []
    }  # fmt: skip
    overheads = []
    for run_id in run_ids:
        path = f"/api/v2/dags/{MAINTENANCE_DAG_ID}/dagRuns/{run_id}/taskInstances"
        for ti in stack.api("GET", path)["task_instances"]:
            stage_started = started[_key(run_id, ti["task_id"])]
            overheads.append((stage_started - datetime.fromisoformat(ti["start_date"])).total_seconds())
    return overheads


def measure(mode: str, runs: int, scratch: Path) -> list[float]:
    """Per-task overheads of ``runs`` triggered maintenance runs, with the shared server or without."""
    environment = load_config("local").require_environment()
    assert isinstance(environment, LocalEnvironment)
    folder = Path(tempfile.mkdtemp(prefix=f"lakehouse-bench-stack-{mode}-"))
    folder.chmod(0o755)  # the postgres user must reach it when this runs as root
    warehouse = scratch / f"warehouse-{mode}"
    environ = {"LAKEHOUSE_ENV": "local", "LAKEHOUSE_WAREHOUSE_ROOT": str(warehouse)}
    if mode == JVM_PER_TASK:
        environ[locations.SPARK_REMOTE_VAR] = "none"
    os.environ.update(environ)
    spark = None if mode == JVM_PER_TASK else environment.local
    try:
        with running_stack(folder, environ, spark=spark, preload=mode == SHARED) as stack:
            stack.wait_for_dag(MAINTENANCE_DAG_ID)
            stack.api("PATCH", f"/api/v2/dags/{MAINTENANCE_DAG_ID}", {"is_paused": False})
            run_ids = []
            for _ in range(runs):
                body: dict[str, Any] = {"logical_date": None, "conf": {"logical_date": "2026-03-01"}}
                run = stack.api("POST", f"/api/v2/dags/{MAINTENANCE_DAG_ID}/dagRuns", body)
                state, seen = stack.wait_for_run(MAINTENANCE_DAG_ID, run["dag_run_id"], timeout=900)
                if state != "success":
                    raise RuntimeError(f"maintenance run {run['dag_run_id']} ended {state}: {seen}")
                run_ids.append(run["dag_run_id"])
                print(f"  {mode}: run {len(run_ids)} of {runs} done", flush=True)
            return _overheads(stack, warehouse, run_ids)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="maintenance runs of seven tasks each")
    parser.add_argument("--baseline", action="store_true", help="also measure a JVM per task")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-bench-overhead-"))
    medians = {}
    for mode in [SHARED, NOT_PRELOADED, *([JVM_PER_TASK] if args.baseline else [])]:
        overheads = measure(mode, args.runs, scratch)
        medians[mode] = statistics.median(overheads)
        print(
            f"{mode:<{len(NOT_PRELOADED)}} task start to stage code: median {medians[mode]:.2f}s, "
            f"min {min(overheads):.2f}s, max {max(overheads):.2f}s ({len(overheads)} tasks)",
            flush=True,
        )
    for baseline in (NOT_PRELOADED, JVM_PER_TASK):
        if baseline in medians:
            print(f"{SHARED} against {baseline}: {medians[baseline] / medians[SHARED]:.1f}x less")
    met = medians[SHARED] <= GOAL_S
    print(f"goal at most {GOAL_S:.0f} s median: {'met' if met else 'MISSED'} ({medians[SHARED]:.2f}s)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
