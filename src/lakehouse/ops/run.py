"""``lakehouse run``: every DAG of the environment, date by date, through Airflow's ``dag.test()``.

Runs go in scheduling order for each logical date: the ingest DAGs (Bronze, Silver, DQ gate), then
Gold (which the scheduler would start from the Silver assets), then the RAG index, then maintenance
on the dates its schedule falls on (weekly), and after the last date when asked. Tasks run in this
process, so the local target's Spark session is started once, not per task. Airflow reads its
settings when it is first imported, so this module imports it only once ``run_command`` has
configured the process (``airflow_home.airflow_environ``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pendulum

from lakehouse.config import ENV_VAR, LakehouseConfig
from lakehouse.core import locations
from lakehouse.core.naming import GOLD_DAG_ID, MAINTENANCE_DAG_ID, RAG_DAG_ID, ingest_dag_id
from lakehouse.ops.airflow_home import airflow_environ, ensure_airflow_db
from lakehouse.ops.environment import local_config
from lakehouse.ops.report import summary
from lakehouse.ops.report.page import write_health_page
from lakehouse.ops.report.summary import DagRunResult
from lakehouse.spark.health import MetricsNotFound
from lakehouse.spark.main import session_for
from lakehouse.spark.session import VERBOSE_VAR
from lakehouse.spark.tables import Tables


def plan(config: LakehouseConfig, dates: list[date], maintenance: bool = False) -> list[tuple[str, date]]:
    """The DAG runs for ``dates``; with ``maintenance``, maintenance after the last date even when
    its schedule does not fall on it."""
    schedule = config.require_pipelines().maintenance.schedule
    runs: list[tuple[str, date]] = []
    for day in dates:
        runs += [(ingest_dag_id(name), day) for name in config.systems]
        runs += [(GOLD_DAG_ID, day), (RAG_DAG_ID, day)]
        if schedule.fires_on(day) or (maintenance and day == dates[-1]):
            runs.append((MAINTENANCE_DAG_ID, day))
    return runs


def _forget_previous_run(dag_id: str, logical_date: pendulum.DateTime) -> None:
    """``dag.test()`` resumes a finished run of the same date instead of running it again."""
    from airflow.models.dagrun import DagRun  # configured by now: see the module's docstring
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date))


def run_all(
    config: LakehouseConfig,
    dates: list[date],
    progress: Callable[[str], None] = print,
    *,
    maintenance: bool = False,
) -> list[DagRunResult]:
    from airflow.dag_processing.dagbag import DagBag  # configured by now: see the module's docstring

    bag = DagBag(dag_folder=airflow_environ()["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        details = "\n".join(f"{path}:\n{message}" for path, message in bag.import_errors.items())
        raise RuntimeError(f"the DAG folder has import errors:\n{details}")
    runs = plan(config, dates, maintenance)
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
        for ti in sorted(instances, key=lambda ti: (ti.start_date is None, ti.start_date, ti.task_id)):
            took = f" in {ti.duration:.1f}s" if ti.duration is not None else ""
            progress(f"      {ti.task_id}: {ti.state}{took}")
        progress(
            f"[{index}/{len(runs)}] {dag_id} {day}: {result.state} in {result.seconds:.1f}s"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
        if result.state != "success":
            break
    return results


def _dates(start: date | None, end: date | None, landing: Path) -> list[date]:
    if start:
        end = end or start
        if end < start:
            raise SystemExit(f"--end {end} is before --start {start}")
        return [start + timedelta(days=n) for n in range((end - start).days + 1)]
    manifest = landing / "manifest.json"
    if manifest.exists():
        return [date.fromisoformat(day) for day in json.loads(manifest.read_text())["dates"]]
    raise SystemExit(f"no --start given and no demo manifest at {manifest}: say which dates to run")


def run_command(env: str | None, start: date | None, end: date | None, verbose: bool, maintenance: bool) -> int:
    """``lakehouse run``: every DAG of a local environment for each date, then the summary and the
    health page. Exit code 1 when a DAG run failed."""
    config, environment = local_config(env, "lakehouse run")
    landing = locations.landing_root(environment)
    dates = _dates(start, end, landing)
    environ = airflow_environ({**os.environ, ENV_VAR: config.env_name})
    if verbose:
        environ[VERBOSE_VAR] = "1"
    else:
        environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.update(environ)
    ensure_airflow_db(environ)

    tables = Tables(locations.warehouse_root(environment))
    log = tables.run_log()
    assert log is not None, "a local warehouse has a run log"
    offset = log.stat().st_size if log.exists() else 0
    runs = plan(config, dates, maintenance)
    upkeep = [day.isoformat() for dag_id, day in runs if dag_id == MAINTENANCE_DAG_ID]
    print(
        f"running {len(config.systems)} ingest DAGs, Gold and the RAG index for "
        f"{', '.join(map(str, dates))}, maintenance {'after ' + ', '.join(upkeep) if upkeep else 'not due'} "
        f"(environment '{config.env_name}', landing {landing})",
        flush=True,
    )
    started = time.monotonic()
    results = run_all(config, dates, progress=lambda line: print(line, flush=True), maintenance=maintenance)
    spark = session_for(config.env_name)
    counts = {
        str(name): (tables.read(spark, name).count() if tables.exists(spark, name) else None)
        for _, name in summary.table_inventory(config)
    }
    try:
        health: Path | None = write_health_page(spark, config, environment, tables)
    except MetricsNotFound:
        health = None
    print()
    records = summary.read_run_log(log, offset)
    elapsed = time.monotonic() - started
    print(summary.render(config, results, records, counts, tables.warehouse or Path(), elapsed, health))
    return 0 if all(result.state == "success" for result in results) else 1
