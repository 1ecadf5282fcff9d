"""The data of the Lakehouse health report, read with Spark: the observability table's Bronze and
Silver rows, and sample keys of the rows each failing DQ rule caught, from the system's quarantine
table (``quarantine`` rules) or from Silver (``warn`` rules keep their rows, tagged). The model and
its rules are in ``lakehouse.core.health``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.config import LakehouseConfig
from lakehouse.core import health
from lakehouse.core.naming import quarantine_table, run_metrics_table, silver_table
from lakehouse.spark.tables import Tables

DAYS = 30
"""Logical dates the report covers, back from the newest."""


class MetricsNotFound(RuntimeError):
    """The observability table does not exist: no stage has run in this environment yet."""


def metric_rows(spark: SparkSession, config: LakehouseConfig, tables: Tables, days: int = DAYS) -> list[dict[str, Any]]:
    """The Bronze and Silver rows of the last ``days`` logical dates."""
    name = run_metrics_table(config.require_environment())
    if not tables.exists(spark, name):
        raise MetricsNotFound(f"the observability table {name} does not exist yet: run `lakehouse run` first")
    frame = tables.read(spark, name).where(F.col("stage").isin(*health.INGEST_STAGES) & F.col("system").isNotNull())
    newest = frame.agg(F.max("logical_date")).first()
    if newest is None or newest[0] is None:
        return []
    frame = frame.where(F.col("logical_date") > F.lit(newest[0] - timedelta(days=days)))
    return [row.asDict(recursive=True) for row in frame.collect()]


def _key(natural_key: Sequence[str], value: Column) -> Column:
    """The natural key as one string, its parts joined by ``/``, from a column of ``name -> value``."""
    return F.concat_ws("/", *[F.coalesce(value.getItem(part).cast("string"), F.lit("null")) for part in natural_key])


def _first_keys(frame: DataFrame, limit: int) -> dict[tuple[str, str], tuple[str, ...]]:
    """Per (logical date, rule), the first ``limit`` distinct keys in sort order (stable across runs)."""
    ranked = frame.distinct().withColumn(
        "n", F.row_number().over(Window.partitionBy("logical_date", "rule").orderBy("key"))
    )
    found: dict[tuple[str, str], list[str]] = {}
    for row in ranked.where(F.col("n") <= limit).orderBy("n").collect():
        found.setdefault((str(row["logical_date"]), row["rule"]), []).append(row["key"])
    return {k: tuple(v) for k, v in found.items()}


def _quarantined_keys(
    spark: SparkSession, config: LakehouseConfig, tables: Tables, system: str, entity: str, limit: int
) -> dict[tuple[str, str], tuple[str, ...]]:
    name = quarantine_table(config.require_environment(), system)
    if not tables.exists(spark, name):
        return {}
    natural_key = config.systems[system].entities[entity].natural_key
    # Silver quarantines the cleaned row as JSON, reason "dq: <rule>, <rule>".
    rows = tables.read(spark, name).where(
        (F.col("entity") == entity) & (F.col("layer") == "silver") & F.col("reason").startswith("dq: ")
    )
    fields = F.from_json("raw_line", "map<string,string>")
    rules = F.split(F.regexp_replace("reason", "^dq: ", ""), ", ")
    keys = rows.select(F.col("logical_date"), F.explode(rules).alias("rule"), _key(natural_key, fields).alias("key"))
    return _first_keys(keys, limit)


def _warned_keys(
    spark: SparkSession, config: LakehouseConfig, tables: Tables, system: str, entity: str, limit: int
) -> dict[tuple[str, str], tuple[str, ...]]:
    settings = config.systems[system]
    name = silver_table(config.require_environment(), system, settings, entity)
    if not tables.exists(spark, name):
        return {}
    natural_key = settings.entities[entity].natural_key
    columns = F.create_map(*[part for key in natural_key for part in (F.lit(key), F.col(key).cast("string"))])
    # A row keeps its date's tag until a later date rewrites it, so older dates may show fewer keys.
    keys = tables.read(spark, name).select(
        F.col("logical_date").cast("string").alias("logical_date"),
        F.explode("dq_warnings").alias("rule"),
        _key(natural_key, columns).alias("key"),
    )
    return _first_keys(keys, limit)


def sample_keys(
    spark: SparkSession,
    config: LakehouseConfig,
    tables: Tables,
    failures: Sequence[health.RuleFailure],
    limit: int = health.SAMPLE_KEYS,
) -> dict[health.RuleFailure, tuple[str, ...]]:
    """Keys of rows each failure caught; none for a run a ``fail`` rule stopped, which wrote nothing."""
    samples: dict[health.RuleFailure, tuple[str, ...]] = {}
    for system, entity in sorted({(f.system, f.entity) for f in failures}):
        mine = [f for f in failures if (f.system, f.entity) == (system, entity) and not f.run_failed]
        found: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {}
        if any(f.action == "quarantine" for f in mine):
            found["quarantine"] = _quarantined_keys(spark, config, tables, system, entity, limit)
        if any(f.action == "warn" for f in mine):
            found["warn"] = _warned_keys(spark, config, tables, system, entity, limit)
        for failure in mine:
            keys = found.get(failure.action, {}).get((failure.logical_date.isoformat(), failure.rule), ())
            samples[failure] = keys
    return samples


def collect(
    spark: SparkSession,
    config: LakehouseConfig,
    tables: Tables,
    generated_at: datetime | None = None,
    days: int = DAYS,
) -> health.HealthReport:
    rows = metric_rows(spark, config, tables, days)
    # Metrics outlive config: an entity since removed has no natural key to show.
    failures = [
        f
        for f in health.rule_failures(rows)
        if f.system in config.systems and f.entity in config.systems[f.system].entities
    ]
    return health.build_report(
        config.env_name,
        str(run_metrics_table(config.require_environment())),
        config.systems,
        rows,
        sample_keys(spark, config, tables, failures),
        generated_at or datetime.now(UTC),
    )
