"""``lakehouse run``: every DAG of the environment, date by date, through Airflow's ``dag.test()``.

Runs go in scheduling order for each logical date: the ingest DAGs (Bronze, Silver, DQ gate), then
Gold (which the scheduler would start from the Silver assets), then the RAG index, then maintenance
once after the last date. Tasks run in this process, so the local target's Spark session is started once, not per task.
Airflow must be configured (``airflow_home.airflow_environ``) before this module is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pendulum

from lakehouse.config import LakehouseConfig
from lakehouse.naming import GOLD_DAG_ID, MAINTENANCE_DAG_ID, RAG_DAG_ID, ingest_dag_id


@dataclass
class DagRunResult:
    dag_id: str
    logical_date: date
    state: str
    seconds: float
    failed_tasks: list[str] = field(default_factory=list)
    run_id: str = ""


def plan(config: LakehouseConfig, dates: list[date]) -> list[tuple[str, date]]:
    runs: list[tuple[str, date]] = []
    for day in dates:
        runs += [(ingest_dag_id(name), day) for name in config.systems]
        runs += [(GOLD_DAG_ID, day), (RAG_DAG_ID, day)]
    runs.append((MAINTENANCE_DAG_ID, dates[-1]))
    return runs


def _forget_previous_run(dag_id: str, logical_date: pendulum.DateTime) -> None:
    """``dag.test()`` resumes a finished run of the same date instead of running it again."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date))


def run_all(config: LakehouseConfig, dates: list[date], progress: Callable[[str], None] = print) -> list[DagRunResult]:
    from airflow.dag_processing.dagbag import DagBag

    from lakehouse.airflow_home import airflow_environ

    bag = DagBag(dag_folder=airflow_environ()["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        details = "\n".join(f"{path}:\n{message}" for path, message in bag.import_errors.items())
        raise RuntimeError(f"the DAG folder has import errors:\n{details}")
    runs = plan(config, dates)
    results: list[DagRunResult] = []
    for index, (dag_id, day) in enumerate(runs, start=1):
        dag = bag.get_dag(dag_id)
        if dag is None:
            raise RuntimeError(f"DAG {dag_id} is not in the DAG folder")
        logical_date = pendulum.datetime(day.year, day.month, day.day, tz=dag.timezone)
        progress(f"[{index}/{len(runs)}] {dag_id} {day} ...")
        _forget_previous_run(dag_id, logical_date)
        # Airflow 3.3.2's dag.test() crashes when a run with a DeadlineAlert succeeds: DagRun.update_state
        # looks the alerts up by database id, but the DAG dag.test() builds holds them inline. A run
        # driven to completion here has no deadline to watch, so the test copy goes without it.
        dag.deadline = None
        started = time.monotonic()
        dag_run = dag.test(logical_date=logical_date, run_conf={"logical_date": day.isoformat()})
        instances = dag_run.get_task_instances()
        failed = sorted(ti.task_id for ti in instances if ti.state in ("failed", "upstream_failed"))
        seconds = round(time.monotonic() - started, 1)
        result = DagRunResult(dag_id, day, str(dag_run.state), seconds, failed, dag_run.run_id)
        results.append(result)
        progress(
            f"[{index}/{len(runs)}] {dag_id} {day}: {result.state} in {result.seconds:.1f}s"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
        if result.state != "success":
            break
    return results
