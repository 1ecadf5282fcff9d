"""Gold of a backfill equals Gold built day by day, although Silver runs ahead of Gold in a backfill:
each Gold run reads Silver at the versions its date's Silver runs wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from spark_jobs.stages import run_gold
from tests.day_by_day import DAYS, build_gold, closed_versions, drop_gold, gold_rows, ingest, land_days, stage_context


@pytest.mark.slow
def test_gold_of_a_backfill_equals_gold_built_day_by_day(spark: SparkSession, tmp_path: Path) -> None:
    land_days(tmp_path / "landing", 40)
    # Day by day: each day's Silver, then that day's Gold reading Silver as it is.
    ctx = stage_context(tmp_path / "landing", tmp_path / "warehouse")
    versions = {}
    for day in DAYS:
        versions[day] = ingest(spark, ctx, day)
        build_gold(spark, ctx, day, None)
    expected = gold_rows(spark, ctx)
    assert len({frozenset(v.items()) for v in versions.values()}) == len(DAYS)

    # A backfill: Silver has all three days before Gold runs; Gold of each day reads that day's versions.
    drop_gold(ctx)
    for day in DAYS:
        build_gold(spark, ctx, day, versions[day])
    assert gold_rows(spark, ctx) == expected

    # The history that makes this matter: customer versions that a later day closed.
    closed = closed_versions(expected["dim_customer_scd2"])
    assert closed

    # Gold of the backfill reading Silver as it is would have missed those versions.
    drop_gold(ctx)
    for day in DAYS:
        run_gold(spark, ctx, "dim_customer_scd2", day, None)
    assert closed_versions(gold_rows(spark, ctx, "dim_customer_scd2")["dim_customer_scd2"]) == []
