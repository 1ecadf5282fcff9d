"""One ingest DAG of the lakehouse through ``dag.test()``, as ``lakehouse run`` drives it, with each
task's Spark work left out: ``python -m tests.lineage_run SYSTEM DATE OUT`` writes the run to OUT as JSON.

A process of its own, because Airflow loads the OpenLineage provider's listener (or not) once, when
it is imported, from the settings ``airflow_environ`` gives the process.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any


def _no_spark(**_: Any) -> None:
    """Stands in for the DQ gate: the task, its operator, ids and assets stay the DAG's own."""


def no_stage(stage: str, env: str, logical_date: str, arguments: Any) -> dict[str, Any]:
    """Stands in for the stage entry point: the stage task, its operator and its tables stay the DAG's own."""
    return {}


def main(system: str, day: date, out: Path) -> None:
    import pendulum

    from lakehouse.airflow.factory import ingest_dags
    from lakehouse.airflow.targets.local import LocalStageOperator
    from lakehouse.core.naming import ingest_dag_id

    dag = ingest_dags()[ingest_dag_id(system)]
    for task in dag.tasks:
        if isinstance(task, LocalStageOperator):
            task.entry_point = "tests.lineage_run:no_stage"
        else:
            task.python_callable = _no_spark
    dag.deadline = None  # as lakehouse.ops.run does: dag.test() cannot watch a DeadlineAlert
    logical_date = pendulum.datetime(day.year, day.month, day.day, tz=dag.timezone)
    dag_run = dag.test(logical_date=logical_date, run_conf={"logical_date": day.isoformat()})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    out.write_text(json.dumps({"dag_id": dag.dag_id, "state": str(dag_run.state), "tasks": states}))


if __name__ == "__main__":
    main(sys.argv[1], date.fromisoformat(sys.argv[2]), Path(sys.argv[3]))
