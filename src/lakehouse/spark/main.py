"""The entry point of every stage: ``python -m lakehouse.spark.main --stage STAGE --env ENV
--logical-date D [--arg NAME=VALUE ...]`` as ``spark-submit`` runs it, ``lakehouse-stage --name=value
...`` as a Databricks ``python_wheel_task`` runs it, and ``run_stage`` as a local Airflow task calls it.
Each dispatches through the stage registry (``lakehouse.core.stages``) and prints or returns the
stage's counts."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from importlib import import_module
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.config.models import LocalEnvironment
from lakehouse.core import stages as registry
from lakehouse.core.locations import spark_remote
from lakehouse.core.naming import run_metrics_table
from lakehouse.spark import run_metrics, stages
from lakehouse.spark.session import build_session, remote_session

log = logging.getLogger(__name__)


def runner(stage: registry.Stage) -> Callable[..., dict[str, Any]]:
    """The function the registry names for ``stage``."""
    if stage.runner is None:
        raise ValueError(f"stage '{stage.name}' runs in the Airflow task, not as a Spark stage")
    module, _, function = stage.runner.partition(":")
    found: Callable[..., dict[str, Any]] = getattr(import_module(module), function)
    return found


def run(spark: SparkSession, stage: str, env: str, logical_date: date, arguments: Mapping[str, str]) -> dict[str, Any]:
    """Run a stage and append its counts, or what it had counted when it failed, to the observability
    table (and, locally, to the warehouse's run log). ``run_id`` is the orchestrator's run."""
    declared = registry.stage(stage)
    ctx = stages.StageContext.of(load_config(env))
    arguments = dict(arguments)
    run_id = arguments.pop("run_id", None) or None
    started_at, started = datetime.now(UTC), time.monotonic()
    try:
        result = runner(declared)(spark, ctx, logical_date, **declared.parse(arguments))
    except Exception as exc:
        counts = getattr(exc, "counts", {})
        try:
            _record(spark, ctx, stage, logical_date, arguments, run_id, started_at, started, counts, str(exc))
        except Exception:  # the stage's own error is the one to report
            log.exception("could not record the failed %s run in the observability table", stage)
        raise
    _record(spark, ctx, stage, logical_date, arguments, run_id, started_at, started, result)
    return result


def _record(
    spark: SparkSession,
    ctx: stages.StageContext,
    stage: str,
    logical_date: date,
    arguments: dict[str, str],
    run_id: str | None,
    started_at: datetime,
    started: float,
    result: dict[str, Any],
    error: str | None = None,
) -> None:
    seconds = round(time.monotonic() - started, 3)
    metrics = run_metrics.row(stage, arguments, logical_date, run_id, started_at, seconds, result, error)
    run_metrics.append(spark, ctx.tables.location(run_metrics_table(ctx.environment)), [metrics])
    log_file = ctx.tables.run_log()
    if log_file is not None:
        record = {
            "stage": stage,
            "logical_date": logical_date.isoformat(),
            "arguments": arguments,
            "run_id": run_id,
            "seconds": seconds,
            "result": result,
            **({"error": error} if error is not None else {}),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")


def session_for(env: str) -> SparkSession:
    """The environment's session: on Databricks the cluster's; locally a client of the Spark Connect
    server when one is configured (``lakehouse.core.locations.spark_remote``), else one of this process."""
    environment = load_config(env).require_environment()
    if not isinstance(environment, LocalEnvironment):
        return build_session(f"lakehouse-{env}")
    remote = spark_remote(environment)
    if remote:
        return remote_session(remote)
    local = environment.local
    return build_session(
        f"lakehouse-{env}",
        master=local.spark_master,
        driver_memory=local.driver_memory,
        java_options=local.driver_java_options,
    )


def run_stage(stage: str, env: str, logical_date: str, arguments: Mapping[str, str]) -> dict[str, Any]:
    """``ENTRY_POINT`` of the registry: one stage in this process, as a local Airflow task runs it."""
    return run(session_for(env), stage, env, date.fromisoformat(logical_date), arguments)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse.spark.main", description=__doc__)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--logical-date", required=True, type=date.fromisoformat)
    parser.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE", help="stage argument")
    args = parser.parse_args(argv)
    arguments = dict(item.split("=", 1) for item in args.arg)
    result = run(session_for(args.env), args.stage, args.env, args.logical_date, arguments)
    print(json.dumps(result, default=str))
    return 0


def wheel_task(named: Sequence[str], spark: SparkSession | None = None) -> dict[str, Any]:
    """What the ``lakehouse-stage`` entry point runs: the job passes its parameters as ``--name=value``;
    empty ones are parameters this stage does not take. ``spark`` defaults to the environment's
    session (``session_for``)."""
    values: dict[str, str] = {}
    for item in named:
        name, separator, value = item.removeprefix("--").partition("=")
        if not separator:
            raise SystemExit(f"lakehouse-stage: expected --name=value, got '{item}'")
        values[name] = value
    try:
        stage, env, logical_date = values.pop("stage"), values.pop("env"), values.pop("logical_date")
    except KeyError as exc:
        raise SystemExit(f"lakehouse-stage: missing --{exc.args[0]}=...") from None
    arguments = {name: value for name, value in values.items() if value}
    return run(spark or session_for(env), stage, env, date.fromisoformat(logical_date), arguments)


def wheel_main(argv: Sequence[str] | None = None) -> int:
    """The ``lakehouse-stage`` console script of the Databricks ``python_wheel_task``: prints the
    stage's counts as the last line, which the Jobs API returns as the run's output."""
    result = wheel_task(sys.argv[1:] if argv is None else argv)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
