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
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pendulum

from lakehouse.config import ENV_VAR, LakehouseConfig
from lakehouse.config.models import LocalEnvironment
from lakehouse.core import locations
from lakehouse.core.locations import SPARK_REMOTE_VAR
from lakehouse.core.naming import GOLD_DAG_ID, MAINTENANCE_DAG_ID, RAG_DAG_ID, ingest_dag_id
from lakehouse.ops.airflow_home import airflow_environ, ensure_airflow_db
from lakehouse.ops.environment import local_config
from lakehouse.ops.report import summary
from lakehouse.ops.report.page import write_health_page
from lakehouse.ops.report.summary import DagRunResult
from lakehouse.ops.spark_connect import running_server
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


def _dag_bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag  # configured by now: see the module's docstring

    bag = DagBag(dag_folder=airflow_environ()["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        details = "\n".join(f"{path}:\n{message}" for path, message in bag.import_errors.items())
        raise RuntimeError(f"the DAG folder has import errors:\n{details}")
    return bag


def _run_dag(bag: Any, dag_id: str, day: date) -> DagRunResult:
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise RuntimeError(f"DAG {dag_id} is not in the DAG folder")
    logical_date = pendulum.datetime(day.year, day.month, day.day, tz=dag.timezone)
    _forget_previous_run(dag_id, logical_date)
    # Airflow 3.3.2's dag.test() crashes when a run with a DeadlineAlert succeeds: DagRun.update_state
    # looks the alerts up by database id, but the DAG dag.test() builds holds them inline. A run
    # driven to completion here has no deadline to watch, so the test copy goes without it.
    dag.deadline = None
    started_at, started = time.time(), time.monotonic()
    dag_run = dag.test(logical_date=logical_date, run_conf={"logical_date": day.isoformat()})
    instances = dag_run.get_task_instances()
    failed = sorted(ti.task_id for ti in instances if ti.state in ("failed", "upstream_failed"))
    tasks = [
        f"      {ti.task_id}: {ti.state}" + (f" in {ti.duration:.1f}s" if ti.duration is not None else "")
        for ti in sorted(instances, key=lambda ti: (ti.start_date is None, ti.start_date, ti.task_id))
    ]
    seconds = round(time.monotonic() - started, 1)
    return DagRunResult(dag_id, day, str(dag_run.state), seconds, failed, dag_run.run_id, started_at, tasks)


_DB_VAR = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
_lane_bag: Any = None
"""A lane process's DAG bag, parsed on its first run."""


def _start_lane(databases: str | None, remote: str | None) -> None:
    """Set up a lane process before it imports Airflow: its own copy of the SQLite metadata database
    (SQLite takes one writer at a time, and the runs of a date share nothing in it), and the shared
    Spark Connect server."""
    if databases is not None:
        own = Path(databases) / f"airflow-{os.getpid()}.db"
        shutil.copyfile(Path(databases) / "airflow.db", own)
        os.environ[_DB_VAR] = f"sqlite:///{own}"
    if remote is not None:
        os.environ[SPARK_REMOTE_VAR] = remote


def _in_lane(dag_id: str, day: date) -> DagRunResult:
    global _lane_bag
    if _lane_bag is None:
        _lane_bag = _dag_bag()
    return _run_dag(_lane_bag, dag_id, day)


Runs = Callable[[list[tuple[str, date]]], Iterator[DagRunResult]]
"""Runs a batch of DAG runs, yielding each result as it finishes."""


@contextmanager
def _serial() -> Iterator[Runs]:
    bag = _dag_bag()
    yield lambda batch: (_run_dag(bag, dag_id, day) for dag_id, day in batch)


@contextmanager
def _lanes(lanes: int, remote: str | None) -> Iterator[Runs]:
    conn = airflow_environ()[_DB_VAR]
    databases: str | None = None
    if conn.startswith("sqlite:///"):
        main = Path(conn.removeprefix("sqlite:///"))
        databases = tempfile.mkdtemp(prefix="lanes-", dir=main.parent)
        shutil.copyfile(main, Path(databases) / "airflow.db")
    # Spawned, not forked: a lane must import Airflow after _start_lane has pointed it at its database.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(lanes, mp_context=context, initializer=_start_lane, initargs=(databases, remote))
    try:
        yield lambda batch: (future.result() for future in as_completed(pool.submit(_in_lane, *run) for run in batch))
    finally:
        pool.shutdown(cancel_futures=True)
        if databases is not None:
            shutil.rmtree(databases, ignore_errors=True)


def _batches(runs: list[tuple[str, date]], config: LakehouseConfig) -> list[list[tuple[str, date]]]:
    """Runs that may go side by side: a date's ingest DAGs, the one with most entities first (so the
    longest does not start last); then Gold, the RAG index and maintenance, each on its own."""
    entities = {ingest_dag_id(name): len(system.entities) for name, system in config.systems.items()}
    batches: list[list[tuple[str, date]]] = []
    for run in runs:
        if run[0] in entities and batches and batches[-1][0][0] in entities and batches[-1][0][1] == run[1]:
            batches[-1].append(run)
        else:
            batches.append([run])
    return [sorted(batch, key=lambda run: -entities.get(run[0], 0)) for batch in batches]


def run_all(
    config: LakehouseConfig,
    dates: list[date],
    progress: Callable[[str], None] = print,
    *,
    maintenance: bool = False,
    lanes: int = 1,
    spark_remote: str | None = None,
) -> list[DagRunResult]:
    """Every DAG run of ``dates`` in scheduling order, stopping after the first batch with a failed
    run. With ``lanes`` above one, the runs go to that many processes, a date's ingest DAGs side by
    side, their stages clients of the Spark Connect server at ``spark_remote`` (without one, each
    lane starts a Spark of its own); else all of them run in this process."""
    runs = plan(config, dates, maintenance)
    number = {run: index for index, run in enumerate(runs, start=1)}
    results: list[DagRunResult] = []
    with _lanes(lanes, spark_remote) if lanes > 1 else _serial() as run_batch:
        for batch in _batches(runs, config):
            for dag_id, day in batch:
                progress(f"[{number[dag_id, day]}/{len(runs)}] {dag_id} {day} ...")
            finished = list[DagRunResult]()
            for result in run_batch(batch):
                finished.append(result)
                for line in result.tasks:
                    progress(line)
                progress(
                    f"[{number[result.dag_id, result.logical_date]}/{len(runs)}] {result.dag_id} "
                    f"{result.logical_date}: {result.state} in {result.seconds:.1f}s"
                    + (f"; failed: {', '.join(result.failed_tasks)}" if result.failed_tasks else "")
                )
            results += sorted(finished, key=lambda result: number[result.dag_id, result.logical_date])
            if any(result.state != "success" for result in finished):
                break
    return results


@contextmanager
def shared_spark(environment: LocalEnvironment, log: Path) -> Iterator[str]:
    """The Spark Connect server a run's lanes share: the one configured, else one started for the
    run and stopped after it."""
    configured = locations.spark_remote(environment)
    if configured:
        yield configured
        return
    with running_server(log, environment.local) as server:
        yield server.url


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


def run_command(
    env: str | None, start: date | None, end: date | None, verbose: bool, maintenance: bool, parallel: int
) -> int:
    """``lakehouse run``: every DAG of a local environment for each date, then the summary and the
    health page. Exit code 1 when a DAG run failed. With ``parallel`` above one, in that many lanes
    sharing a Spark Connect server (``run_all``, ``shared_spark``)."""
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
    with ExitStack() as stack:
        remote = None
        if parallel > 1:
            remote = stack.enter_context(shared_spark(environment, Path(environ["AIRFLOW_HOME"]) / "spark-connect.log"))
            os.environ[SPARK_REMOTE_VAR] = remote  # the summary below reads the tables through it too
        results = run_all(
            config,
            dates,
            progress=lambda line: print(line, flush=True),
            maintenance=maintenance,
            lanes=parallel,
            spark_remote=remote,
        )
        spark = session_for(config.env_name)
        counts = {
            str(name): (tables.read(spark, name).count() if tables.exists(spark, name) else None)
            for _, name in summary.table_inventory(config)
        }
        try:
            health: Path | None = write_health_page(spark, config, environment, tables)
        except MetricsNotFound:
            health = None
        if remote is not None:
            spark.stop()  # a client's session is released while its server is still up
    print()
    records = summary.read_run_log(log, offset)
    elapsed = time.monotonic() - started
    print(summary.render(config, results, records, counts, tables.warehouse or Path(), elapsed, health))
    return 0 if all(result.state == "success" for result in results) else 1
