"""How long Airflow takes to parse the DAG folder, for the real config and for generated large ones.

Each measurement is a fresh process, as the dag-processor parses files in fresh processes: it imports
Airflow first (not timed: the dag-processor has it loaded already), then times ``DagBag(dag_folder)``,
which imports every DAG file, builds the DAGs and validates them. The first run of each case warms the
bytecode cache and is discarded.

    .venv/bin/python benchmarks/parse_time.py [--runs 7] [--sizes 5 50 100 200] [--env local]

Goal: under 0.5 s for the five shipped systems, under 5 s for 200, growing linearly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from lakehouse.ops.airflow_home import airflow_environ

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"airflow_import": t1 - t0, "parse": t2 - t1, "dags": len(bag.dag_ids),
                  "tasks": sum(len(d.tasks) for d in bag.dags.values()), "errors": len(bag.import_errors)}))
"""


def generated_config(target: Path, systems: int) -> Path:
    """The shipped config with its systems repeated under new names until there are ``systems``."""
    shutil.copytree(ROOT / "config", target)
    document = yaml.safe_load((target / "systems.yaml").read_text())
    originals = list(document["systems"].items())
    generated: dict[str, Any] = {}
    for index in range(systems):
        name, body = originals[index % len(originals)]
        if index >= len(originals):
            # A new system brings its own contracts: the original's, under its name.
            shutil.copytree(target / "contracts" / name, target / "contracts" / f"{name}_{index:03d}")
            name = f"{name}_{index:03d}"
            body = json.loads(json.dumps(body))
            for entity in body["entities"].values():
                schema = entity["silver"].get("schema")
                if schema:  # keep Silver tables distinct
                    entity["silver"]["schema"] = f"{schema}_{index:03d}"
        generated[name] = body
    document["systems"] = generated
    (target / "systems.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return target


def measure(config_dir: Path, airflow_home: Path, runs: int, env_name: str) -> list[dict[str, float]]:
    env = airflow_environ({k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LAKEHOUSE"))})
    env.update({"AIRFLOW_HOME": str(airflow_home), "LAKEHOUSE_CONFIG_DIR": str(config_dir), "LAKEHOUSE_ENV": env_name})
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{airflow_home / 'airflow.db'}"
    results = []
    for _ in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, env["AIRFLOW__CORE__DAGS_FOLDER"]],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 50, 100, 200])
    parser.add_argument("--env", default="local", help="environment the DAGs are built for (target decides operators)")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"environment: {args.env}; runs per size: {args.runs} (fresh process each, after one warm-up)\n")
    print(
        f"{'systems':>7} {'dags':>5} {'tasks':>6} {'errors':>6} {'median s':>9} {'min s':>7} {'max s':>7} "
        f"{'ms/system':>9} {'airflow import s':>16}"
    )
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="lakehouse-parse-") as scratch:
        for size in args.sizes:
            config_dir = generated_config(Path(scratch) / f"config-{size}", size)
            samples = measure(config_dir, Path(scratch) / "airflow", args.runs, args.env)
            parse = [s["parse"] for s in samples]
            medians[size] = statistics.median(parse)
            first = samples[0]
            print(
                f"{size:>7} {first['dags']:>5.0f} {first['tasks']:>6.0f} {first['errors']:>6.0f} "
                f"{medians[size]:>9.3f} {min(parse):>7.3f} {max(parse):>7.3f} "
                f"{1000 * medians[size] / size:>9.1f} {statistics.median(s['airflow_import'] for s in samples):>16.3f}"
            )
            if first["errors"]:
                print("  import errors: the generated config is broken", file=sys.stderr)
                return 1

    smallest, largest = min(medians), max(medians)
    ratio = medians[largest] / medians[smallest]
    print(f"\n{largest} vs {smallest} systems: {ratio:.1f}x the time for {largest / smallest:.0f}x the systems")
    if len(medians) >= 3:
        sizes, times = list(medians), list(medians.values())
        fit = statistics.linear_regression(sizes, times)
        r_squared = statistics.correlation(sizes, times) ** 2
        print(f"linear fit: {fit.intercept:.3f} s + {1000 * fit.slope:.1f} ms per system (R^2 = {r_squared:.4f})")
    goals = []
    if 5 in medians:
        goals.append(("5 systems under 0.5 s", medians[5] < 0.5))
    if 200 in medians:
        goals.append(("200 systems under 5 s", medians[200] < 5.0))
    for goal, met in goals:
        print(f"goal {goal}: {'met' if met else 'MISSED'}")
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main())
