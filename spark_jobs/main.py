"""``python -m spark_jobs.main --stage STAGE --env ENV --logical-date D [...]``: one stage, as
``spark-submit`` or a Databricks ``python_wheel_task`` runs it. Prints the stage's counts as JSON."""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.naming import run_metrics_table
from spark_jobs import run_metrics, stages
from spark_jobs.session import build_session

log = logging.getLogger(__name__)


def run(spark: SparkSession, stage: str, env: str, logical_date: date, arguments: dict[str, str]) -> dict[str, Any]:
    """Run a stage and append its counts, or what it had counted when it failed, to the observability
    table (and, locally, to the warehouse's run log). ``run_id`` is the orchestrator's run."""
    ctx = stages.StageContext.of(load_config(env))
    arguments = dict(arguments)
    run_id = arguments.pop("run_id", None) or None
    started_at, started = datetime.now(UTC), time.monotonic()
    try:
        result = _dispatch(spark, ctx, stage, logical_date, arguments)
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


def _dispatch(
    spark: SparkSession, ctx: stages.StageContext, stage: str, logical_date: date, arguments: dict[str, str]
) -> dict[str, Any]:
    if stage == "bronze":
        return stages.run_bronze(spark, ctx, arguments["system"], arguments["entity"], logical_date)
    if stage == "silver":
        return stages.run_silver(spark, ctx, arguments["system"], arguments["entity"], logical_date)
    if stage == "gold":
        versions = json.loads(arguments.get("silver_versions") or "{}")
        return stages.run_gold(spark, ctx, arguments["table"], logical_date, versions)
    if stage == "smoke_checks":
        return stages.run_smoke_checks(spark, ctx, logical_date)
    if stage == "sfdc_requests":
        return stages.run_sfdc_requests(spark, ctx, logical_date)
    if stage == "sfdc_outbound":
        return stages.run_sfdc_outbound(spark, ctx, logical_date)
    if stage == "rag_index":
        return stages.run_rag_index(spark, ctx, arguments["domains"].split(","))
    if stage == "rag_snapshot":
        return stages.run_rag_snapshot(spark, ctx, logical_date)
    if stage == "maintenance":
        return stages.run_maintenance(spark, ctx, arguments["scope"], int(arguments["retention_days"]))
    raise ValueError(f"unknown stage '{stage}'")


def session_for(env: str) -> SparkSession:
    local = load_config(env).require_environment().local
    if local is None:
        return build_session(f"lakehouse-{env}")
    return build_session(
        f"lakehouse-{env}",
        master=local.spark_master,
        driver_memory=local.driver_memory,
        java_options=local.driver_java_options,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark_jobs.main", description=__doc__)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--logical-date", required=True, type=date.fromisoformat)
    parser.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE", help="stage argument")
    args = parser.parse_args(argv)
    arguments = dict(item.split("=", 1) for item in args.arg)
    result = run(session_for(args.env), args.stage, args.env, args.logical_date, arguments)
    print(json.dumps(result, default=str))
    return 0


def wheel_main(argv: Sequence[str] | None = None) -> int:
    """The ``lakehouse-stage`` entry point of the Databricks ``python_wheel_task``: the job passes its
    parameters as ``--name=value``; empty ones are parameters this stage does not take."""
    import sys

    named: dict[str, str] = {}
    for item in sys.argv[1:] if argv is None else argv:
        name, separator, value = item.removeprefix("--").partition("=")
        if not separator:
            raise SystemExit(f"lakehouse-stage: expected --name=value, got '{item}'")
        named[name] = value
    try:
        stage, env, logical_date = named.pop("stage"), named.pop("env"), named.pop("logical_date")
    except KeyError as exc:
        raise SystemExit(f"lakehouse-stage: missing --{exc.args[0]}=...") from None
    arguments = [f"{name}={value}" for name, value in named.items() if value]
    return main(["--stage", stage, "--env", env, "--logical-date", logical_date, *(f"--arg={a}" for a in arguments)])


if __name__ == "__main__":
    raise SystemExit(main())
