"""Gold SQL: a correct SCD2 over several loads, the marts, and the smoke checks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.naming import gold_table, silver_table, xref_table
from lakehouse.core.sql_files import render, statements
from lakehouse.resources import sql_dir
from lakehouse.spark.gold import run_sql_file
from lakehouse.spark.stages import StageContext, run_gold, sql_resolver
from lakehouse.spark.tables import Tables

COLUMNS = "prty_id STRING, first_name STRING, last_name STRING, email STRING, phone STRING, updated_ts TIMESTAMP"


@pytest.fixture
def ctx(tmp_path: Path) -> StageContext:
    config = load_config("local")
    return StageContext(config, config.require_environment(), Tables(tmp_path / "warehouse"), tmp_path / "landing")


def _load_silver_customers(spark: SparkSession, ctx: StageContext, rows: list[tuple[Any, ...]]) -> None:
    name = silver_table(ctx.environment, "cmdm", ctx.config.systems["cmdm"], "customer")
    spark.createDataFrame(rows, COLUMNS).write.format("delta").mode("overwrite").save(ctx.tables.location(name))


def _dim(spark: SparkSession, ctx: StageContext) -> list[tuple[Any, ...]]:
    table = next(t for t in ctx.config.require_pipelines().gold.tables if t.name == "dim_customer_scd2")
    frame = ctx.tables.read(spark, gold_table(ctx.environment, table))
    columns = ["customer_id", "first_name", "email", "phone", "effective_from", "effective_to", "is_current"]
    return sorted(tuple(row) for row in frame.select(*columns).collect())


def ts(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour)


END = datetime(9999, 12, 31)


def test_scd2_over_three_loads_new_changed_unchanged_and_rerun(spark: SparkSession, ctx: StageContext) -> None:
    day = date(2026, 3, 1)
    _load_silver_customers(
        spark,
        ctx,
        [
            ("P1", "Ann", "Lee", "ann@example.com", "+61412345678", ts(1)),
            ("P2", "Bob", "Ray", None, "+61412000000", ts(1)),
        ],
    )
    run_gold(spark, ctx, day, table="dim_customer_scd2")
    assert _dim(spark, ctx) == [
        ("P1", "Ann", "ann@example.com", "+61412345678", ts(1), END, True),
        ("P2", "Bob", None, "+61412000000", ts(1), END, True),
    ]
    # Load 2: P1 changes email, P2 is re-sent unchanged (null email still equals null), P3 is new.
    _load_silver_customers(
        spark,
        ctx,
        [
            ("P1", "Ann", "Lee", "ann.lee@example.com", "+61412345678", ts(2)),
            ("P2", "Bob", "Ray", None, "+61412000000", ts(2)),
            ("P3", "Cat", "Day", "cat@example.com", None, ts(2)),
        ],
    )
    run_gold(spark, ctx, day, table="dim_customer_scd2")
    after_two = [
        ("P1", "Ann", "ann.lee@example.com", "+61412345678", ts(2), END, True),
        ("P1", "Ann", "ann@example.com", "+61412345678", ts(1), ts(2), False),
        ("P2", "Bob", None, "+61412000000", ts(1), END, True),
        ("P3", "Cat", "cat@example.com", None, ts(2), END, True),
    ]
    assert _dim(spark, ctx) == after_two
    run_gold(spark, ctx, day, table="dim_customer_scd2")  # a re-run changes nothing
    assert _dim(spark, ctx) == after_two
    # Load 3: P1 changes phone; the closed version ends where the new one starts.
    _load_silver_customers(spark, ctx, [("P1", "Ann", "Lee", "ann.lee@example.com", "+61499999999", ts(3))])
    run_gold(spark, ctx, day, table="dim_customer_scd2")
    history = [row for row in _dim(spark, ctx) if row[0] == "P1"]
    assert history == [
        ("P1", "Ann", "ann.lee@example.com", "+61412345678", ts(2), ts(3), False),
        ("P1", "Ann", "ann.lee@example.com", "+61499999999", ts(3), END, True),
        ("P1", "Ann", "ann@example.com", "+61412345678", ts(1), ts(2), False),
    ]
    assert sum(row[-1] for row in _dim(spark, ctx)) == 3  # one current row per customer


def test_sql_placeholders_render_per_target_and_must_be_known(ctx: StageContext) -> None:
    resolve = sql_resolver(ctx, date(2026, 3, 1))
    warehouse = ctx.tables.warehouse
    assert render("FROM {{ silver.cmdm.party_address }} WHERE d = {{ logical_date }}", resolve) == (
        f"FROM delta.`{warehouse}/ep_curated/customer/address_link` WHERE d = DATE'2026-03-01'"
    )
    assert render("{{gold.fact_case}}", resolve) == f"delta.`{warehouse}/ep_marts/operations/fact_case`"
    on_databricks = StageContext(ctx.config, ctx.environment, Tables(None), ctx.landing)
    assert (
        render("{{ gold.fact_case }}", sql_resolver(on_databricks, date(2026, 3, 1))) == "ep_marts.operations.fact_case"
    )
    for unknown in ("silver.cmdm.contact", "gold.fact_cases", "this"):
        with pytest.raises(KeyError, match="unknown SQL placeholder"):
            render("{{ " + unknown + " }}", resolve)
    assert statements("-- note\nSELECT 1;\n\nSELECT 2;\n") == ["SELECT 1", "SELECT 2"]


CONTACTS = "contact_id STRING, prty_id STRING, acct_id STRING, primary_ind STRING, last_modified_ts TIMESTAMP"


def test_contact_map_keeps_mapping_history_and_feeds_the_bridge(spark: SparkSession, ctx: StageContext) -> None:
    sfdc = ctx.config.systems["sfdc"]
    (xref,) = sfdc.entities["contact"].silver.xrefs
    contacts = ctx.tables.location(silver_table(ctx.environment, "sfdc", sfdc, "contact"))
    contact_map = ctx.tables.location(xref_table(ctx.environment, xref))

    def load(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        spark.createDataFrame(rows, CONTACTS).write.format("delta").mode("overwrite").save(contacts)
        resolve = sql_resolver(ctx, date(2026, 3, 1), xref_table(ctx.environment, xref))
        run_sql_file(spark, sql_dir() / "silver" / "contact_map.sql", resolve)
        columns = ["contact_id", "prty_id", "acct_id", "primary_ind", "valid_from", "valid_to"]
        return sorted(tuple(r) for r in spark.read.format("delta").load(contact_map).select(*columns).collect())

    first = load([("C1", "P1", "A1", "Y", ts(1)), ("C2", "P2", "A2", "N", ts(1))])
    assert first == [("C1", "P1", "A1", "Y", ts(1), END), ("C2", "P2", "A2", "N", ts(1), END)]
    # C1 moves to another account; C2 only changed its name (not a mapping change); C3 is new.
    changed = [("C1", "P1", "A9", "Y", ts(2)), ("C2", "P2", "A2", "N", ts(2)), ("C3", "P3", "A3", "Y", ts(2))]
    expected = [
        ("C1", "P1", "A1", "Y", ts(1), ts(2)),
        ("C1", "P1", "A9", "Y", ts(2), END),
        ("C2", "P2", "A2", "N", ts(1), END),
        ("C3", "P3", "A3", "Y", ts(2), END),
    ]
    assert load(changed) == expected
    assert load(changed) == expected  # a re-run changes nothing

    run_gold(spark, ctx, date(2026, 3, 2), table="bridge_contact")
    bridge = next(t for t in ctx.config.require_pipelines().gold.tables if t.name == "bridge_contact")
    rows = ctx.tables.read(spark, gold_table(ctx.environment, bridge)).collect()
    assert sorted((r["contact_id"], r["acct_id"]) for r in rows) == [("C1", "A9"), ("C2", "A2"), ("C3", "A3")]
