"""``python -m lakehouse.ops.scheduler [ARGS]``: ``airflow scheduler [ARGS]``, started with what its
tasks import already imported.

LocalExecutor forks its workers from the scheduler, and a worker forks a process for each task, so
whatever the scheduler holds costs a task nothing. A local stage task imports Airflow's task runner,
parses its DAG file (the DAG factory, Airflow's models, the config, which ``load_config`` keeps until
one of its files changes), and imports the stage entry point and Spark Connect's client (which
imports pandas): done once here, by parsing the DAG folder at start, instead of in every task. The
other Airflow processes run no tasks and start as Airflow's own command.

The price: an edit to the package's Python code reaches tasks once the scheduler restarts (config and
SQL edits reach the next task, as before).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# What a task imports besides its DAG file's imports: see the module's docstring.
import airflow.sdk.execution_time.task_runner  # noqa: F401
import pyspark.sql.connect.session  # noqa: F401
from airflow.__main__ import main as airflow_main
from airflow.configuration import conf
from airflow.dag_processing.dagbag import DagBag

import lakehouse.spark.main  # noqa: F401


def preload() -> None:
    """Parse the DAG folder, for the imports and the config its files load; its DAGs are dropped (the
    dag-processor is the one that serializes them, and each task parses its own file again)."""
    DagBag(dag_folder=conf.get("core", "dags_folder"))


def main(argv: Sequence[str] | None = None) -> None:
    preload()
    sys.argv = ["airflow", "scheduler", *(sys.argv[1:] if argv is None else argv)]
    airflow_main()


if __name__ == "__main__":
    main()
