"""Wall time, rows per second per stage and the driver's peak memory of ``lakehouse run`` against an
independent floor, at several sizes of the demo data.

For each size it writes the demo landing data (two days), then runs, each on a fresh warehouse and
alternating which goes first:

* **lakehouse run**: the command as a user runs it (every DAG through Airflow, two lanes), its stages
  clients of a Spark Connect server with an 8 GB driver, started before timing and stopped after;
* **floor**: ``benchmarks/pipeline_floor.py``, a plain PySpark script with the same driver memory
  that builds the same Gold tables from the same files without Airflow, DQ, quarantine or
  bookkeeping; timed from its session's start.

The driver's peak is the JVM's peak resident memory (``VmHWM``): the server's, or the floor's own.

    .venv/bin/python benchmarks/pipeline.py [--sizes 10000 100000 1000000] [--runs 3]

Goal: ``lakehouse run`` at most 1.5x the floor at 1M customers, within an 8 GB driver.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline_floor import DAYS, peak_rss_mib

from lakehouse.config import load_config
from lakehouse.ops.airflow_home import airflow_environ, ensure_airflow_db
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.ops.environment import local_config
from lakehouse.ops.spark_connect import running_server

GOAL_RATIO = 1.5
DRIVER_MEMORY = "8g"
ROWS_OF_STAGE = {"bronze": "lines", "silver": "bronze_rows", "gold": "rows"}
"""The count a stage's rows per second are of: lines read, Bronze rows read, Gold rows written."""
BIN = Path(sys.executable).parent


def _environ(scratch: Path, landing: Path, warehouse: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LAKEHOUSE"))}
    return environ | {
        "AIRFLOW_HOME": str(scratch / "airflow"),
        "LAKEHOUSE_ENV": "local",
        "LAKEHOUSE_LANDING_ROOT": str(landing),
        "LAKEHOUSE_WAREHOUSE_ROOT": str(warehouse),
    }


def lakehouse_run(scratch: Path, landing: Path, warehouse: Path) -> dict[str, Any]:
    _, environment = local_config("local", "benchmarks/pipeline.py")
    settings = environment.local.model_copy(update={"driver_memory": DRIVER_MEMORY})
    log = scratch / "logs" / f"{warehouse.name}.log"
    with running_server(scratch / "logs" / f"{warehouse.name}-server.log", settings) as server:
        environ = _environ(scratch, landing, warehouse) | {"LAKEHOUSE_SPARK_REMOTE": server.url}
        started = time.monotonic()
        with log.open("w") as out:
            done = subprocess.run([str(BIN / "lakehouse"), "run"], env=environ, stdout=out, stderr=subprocess.STDOUT)
        total = time.monotonic() - started
        assert server.process is not None
        peak = peak_rss_mib(server.process.pid)
    if done.returncode != 0:
        raise SystemExit(f"lakehouse run failed ({done.returncode}): see {log}")
    seconds: dict[str, float] = defaultdict(float)
    rows: dict[str, int] = defaultdict(int)
    gold_rows = {}
    for line in (warehouse / "_runs" / "stages.jsonl").read_text().splitlines():
        record = json.loads(line)
        stage, result = record["stage"], record["result"]
        seconds[stage] += record["seconds"]
        rows[stage] += int(result.get(ROWS_OF_STAGE.get(stage, ""), 0) or 0)
        if stage == "gold" and record["logical_date"] == DAYS[-1].isoformat():
            gold_rows[result["table"]] = result["rows"]
    return {"total_s": total, "seconds": seconds, "rows": rows, "gold_rows": gold_rows, "peak_rss_mib": peak}


def floor(scratch: Path, landing: Path, warehouse: Path) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).with_name("pipeline_floor.py"))]
    command += ["--landing", str(landing), "--warehouse", str(warehouse), "--driver-memory", DRIVER_MEMORY]
    done = subprocess.run(command, env=_environ(scratch, landing, warehouse), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the floor failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _rates(runs: list[dict[str, Any]]) -> dict[str, str]:
    """Per stage: median seconds, and rows per second where the stage has a row count."""
    out = {}
    for stage in runs[0]["seconds"]:
        seconds = statistics.median(run["seconds"][stage] for run in runs)
        rows = statistics.median(run["rows"].get(stage, 0) for run in runs)
        out[stage] = f"{seconds:.1f}s" + (f" ({rows / seconds:,.0f} rows/s)" if rows and seconds else "")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; scratch {scratch}")
    config = load_config("local")
    ensure_airflow_db(airflow_environ(_environ(scratch, scratch, scratch)))  # not in the first run's time
    report = []
    for size in args.sizes:
        landing = scratch / f"landing-{size}"
        started = time.monotonic()
        manifest = write_demo_data(dict(config.systems), landing, size, 42, DAYS[0])
        lines = sum(f["lines"] for f in manifest["files"])
        print(f"\n{size} customers: {lines} landing lines written in {time.monotonic() - started:.1f}s", flush=True)
        results: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for run in range(args.runs):
            for mode in ("floor", "lakehouse run") if run % 2 == 0 else ("lakehouse run", "floor"):
                warehouse = scratch / f"warehouse-{size}-{run}-{mode.replace(' ', '-')}"
                measure = floor if mode == "floor" else lakehouse_run
                result = measure(scratch, landing, warehouse)
                results[mode].append(result)
                peak = result["peak_rss_mib"]
                print(f"  run {run + 1} {mode}: {result['total_s']:.1f}s, driver peak {peak:.0f} MiB", flush=True)
        ours, base = (statistics.median(r["total_s"] for r in results[m]) for m in ("lakehouse run", "floor"))
        row = {
            "customers": size,
            "landing_lines": lines,
            "lakehouse_run_s": ours,
            "floor_s": base,
            "ratio": ours / base,
            "peak_rss_mib": {m: max(r["peak_rss_mib"] for r in rs) for m, rs in results.items()},
            "stages": {m: _rates(rs) for m, rs in results.items()},
        }
        report.append(row)
        print(f"  median of {args.runs}: lakehouse run {ours:.1f}s, floor {base:.1f}s, ratio {ours / base:.2f}x")
        for mode, stages in row["stages"].items():
            print(f"  {mode}: " + ", ".join(f"{stage} {figure}" for stage, figure in stages.items()))
        # The same tables; the floor's hold the rows DQ and Bronze would have quarantined too.
        ours_rows, floor_rows = results["lakehouse run"][0]["gold_rows"], results["floor"][0]["gold_rows"]
        print(
            "  Gold rows (lakehouse run / floor): "
            + ", ".join(
                f"{name.rsplit('.', 1)[-1]} {ours_rows.get(name)}/{floor_rows.get(name)}"
                for name in sorted(ours_rows.keys() | floor_rows.keys())
            )
        )
    print("\n" + json.dumps(report, indent=2))
    biggest = max(report, key=lambda r: r["customers"])
    if biggest["customers"] >= 1_000_000:
        verdict = "met" if biggest["ratio"] <= GOAL_RATIO else "MISSED"
        print(f"goal lakehouse run <= {GOAL_RATIO}x the floor at 1M customers, {DRIVER_MEMORY} driver: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
