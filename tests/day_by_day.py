"""The lakehouse's stages day by day in the test's own Spark session: what single days of runs
build, to compare a backfill with."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.naming import gold_table
from lakehouse.ops.demo_data import write_demo_data
from lakehouse.spark.stages import StageContext, run_bronze, run_gold, run_silver
from lakehouse.spark.tables import Tables

DAYS = [date(2026, 3, 1), date(2026, 3, 2)]


def land_days(folder: Path, rows: int) -> None:
    """Demo data of 1 and 2 March: 2 March changes some customers, closing their earlier versions."""
    write_demo_data(dict(load_config("local").systems), folder, rows, 11, DAYS[0])


def stage_context(landing: Path, warehouse: Path) -> StageContext:
    config = load_config("local")
    return StageContext(config, config.require_environment(), Tables(warehouse), landing)


def ingest(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, int]:
    """Bronze and Silver of every entity for ``day``; the versions the Silver runs wrote."""
    versions: dict[str, int] = {}
    for name, system in ctx.config.systems.items():
        for entity in system.entities:
            run_bronze(spark, ctx, day, system=name, entity=entity)
            versions |= run_silver(spark, ctx, day, system=name, entity=entity)["versions"]
    return versions


def build_gold(spark: SparkSession, ctx: StageContext, day: date, versions: dict[str, int] | None) -> None:
    for table in ctx.config.require_pipelines().gold.tables:
        run_gold(spark, ctx, day, table=table.name, silver_versions=versions)


def gold_rows(spark: SparkSession, ctx: StageContext, *names: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every Gold table's rows, or those of the tables named."""
    return {
        table.name: sorted(
            (tuple(row) for row in ctx.tables.read(spark, gold_table(ctx.environment, table)).collect()), key=repr
        )
        for table in ctx.config.require_pipelines().gold.tables
        if not names or table.name in names
    }


def drop_gold(ctx: StageContext) -> None:
    assert ctx.tables.warehouse is not None
    shutil.rmtree(ctx.tables.warehouse / ctx.environment.catalogs.gold)


def closed_versions(scd2_rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of ``dim_customer_scd2`` that a later version closed (``is_current`` false)."""
    return [row for row in scd2_rows if row[-1] is False]
