"""The scheduler's command: Airflow's own, with what a stage task imports imported before its
workers fork, so that a task process imports nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import DAGS_FOLDER, ROOT

# What a local stage task does in its process before its stage runs: Airflow's task runner parses
# the task's DAG file, the local target imports the stage entry point, and the session is a Spark
# Connect client. Prints the modules this imported that the scheduler had not.
_TASK = textwrap.dedent(
    """
    import sys

    from lakehouse.ops import scheduler

    scheduler.preload()
    before = set(sys.modules)

    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.sdk.execution_time import task_runner
    import lakehouse.spark.main
    import pyspark.sql.connect.session

    bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[2], bundle_name="dags-folder")
    assert not bag.import_errors, bag.import_errors
    assert "lakehouse_ingest_amdm" in bag.dags, sorted(bag.dags)
    for name in sorted(set(sys.modules) - before):
        if not name.startswith("unusual_prefix_"):  # the DAG file itself, imported again by each parse
            print("imported:", name)
    """
)


def _python(*arguments: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER), "LAKEHOUSE_ENV": "local"}
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True, env=environ, cwd=ROOT)


def test_a_task_imports_nothing_the_scheduler_has_not() -> None:
    task = _python("-c", _TASK, str(DAGS_FOLDER / "lakehouse_ingest.py"), str(DAGS_FOLDER))
    assert task.returncode == 0, task.stderr[-3000:]
    assert [line for line in task.stdout.splitlines() if line.startswith("imported:")] == []


def test_the_command_is_airflow_scheduler() -> None:
    help_text = _python("-m", "lakehouse.ops.scheduler", "--help")
    assert help_text.returncode == 0, help_text.stderr[-3000:]
    assert "Usage: airflow scheduler" in help_text.stdout
