"""Gold of a backfill equals Gold built day by day, although Silver runs ahead of Gold in a backfill:
each Gold run reads Silver at the versions its date's Silver runs wrote."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.demo_data import write_demo_data
from lakehouse.naming import gold_table
from spark_jobs.stages import StageContext, run_bronze, run_gold, run_silver
from spark_jobs.tables import Tables

DAYS = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]


def _land_days(folder: Path, rows: int) -> None:
    """Demo data of 1 and 2 March, then of 3 and 4 March: 2 March changes some customers."""
    systems = dict(load_config("local").systems)
    for first in (DAYS[0], DAYS[2]):
        write_demo_data(systems, folder, rows, 11, first)


def _stage_context(landing: Path, warehouse: Path) -> StageContext:
    config = load_config("local")
    return StageContext(config, config.require_environment(), Tables(warehouse), landing)


def _ingest(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, int]:
    """Bronze and Silver of every entity for ``day``; the versions the Silver runs wrote."""
    versions: dict[str, int] = {}
    for name, system in ctx.config.systems.items():
        for entity in system.entities:
            run_bronze(spark, ctx, name, entity, day)
            versions |= run_silver(spark, ctx, name, entity, day)["versions"]
    return versions


def _build_gold(spark: SparkSession, ctx: StageContext, day: date, versions: dict[str, int] | None) -> None:
    for table in ctx.config.require_pipelines().gold.tables:
        run_gold(spark, ctx, table.name, day, versions)


def _gold_rows(spark: SparkSession, ctx: StageContext, *names: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every Gold table's rows, or those of the tables named."""
    return {
        table.name: sorted(
            (tuple(row) for row in ctx.tables.read(spark, gold_table(ctx.environment, table)).collect()), key=repr
        )
        for table in ctx.config.require_pipelines().gold.tables
        if not names or table.name in names
    }


def _drop_gold(ctx: StageContext) -> None:
    assert ctx.tables.warehouse is not None
    shutil.rmtree(ctx.tables.warehouse / ctx.environment.catalogs.gold)


def _closed_versions(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row for row in rows if row[-1] is False]


@pytest.mark.slow
def test_gold_of_a_backfill_equals_gold_built_day_by_day(spark: SparkSession, tmp_path: Path) -> None:
    _land_days(tmp_path / "landing", 40)
    # Day by day: each day's Silver, then that day's Gold reading Silver as it is.
    ctx = _stage_context(tmp_path / "landing", tmp_path / "warehouse")
    versions = {}
    for day in DAYS:
        versions[day] = _ingest(spark, ctx, day)
        _build_gold(spark, ctx, day, None)
    expected = _gold_rows(spark, ctx)
    assert len({frozenset(v.items()) for v in versions.values()}) == len(DAYS)

    # A backfill: Silver has all three days before Gold runs; Gold of each day reads that day's versions.
    _drop_gold(ctx)
    for day in DAYS:
        _build_gold(spark, ctx, day, versions[day])
    assert _gold_rows(spark, ctx) == expected

    # The history that makes this matter: customer versions that a later day closed.
    closed = _closed_versions(expected["dim_customer_scd2"])
    assert closed

    # Gold of the backfill reading Silver as it is would have missed those versions.
    _drop_gold(ctx)
    for day in DAYS:
        run_gold(spark, ctx, "dim_customer_scd2", day, None)
    assert _closed_versions(_gold_rows(spark, ctx, "dim_customer_scd2")["dim_customer_scd2"]) == []
