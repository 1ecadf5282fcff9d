"""Stage runners: config and locations in, the pure transformations of each layer applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import Environment
from lakehouse.locations import landing_root, warehouse_root
from lakehouse.naming import bronze_table, quarantine_table, silver_table
from spark_jobs import bronze, silver
from spark_jobs.tables import Tables


@dataclass(frozen=True)
class StageContext:
    config: LakehouseConfig
    environment: Environment
    tables: Tables
    landing: Path

    @classmethod
    def local(cls, config: LakehouseConfig) -> StageContext:
        environment = config.require_environment()
        return cls(config, environment, Tables(warehouse_root(environment)), landing_root(environment))


def run_bronze(spark: SparkSession, ctx: StageContext, system_name: str, entity_name: str, day: date) -> dict[str, Any]:
    system = ctx.config.systems[system_name]
    entity = system.entities[entity_name]
    folder = ctx.landing / system.landing.path.format(system=system_name, entity=entity_name, date=day.isoformat())
    if not folder.is_dir():
        raise FileNotFoundError(f"no {system_name}.{entity_name} extract landed for {day}: {folder} does not exist")
    tables = ctx.tables
    return bronze.ingest(
        spark,
        entity,
        landing_folder=str(folder),
        bronze_location=tables.location(bronze_table(ctx.environment, system_name, entity_name)),
        quarantine_location=tables.location(quarantine_table(ctx.environment, system_name)),
        checkpoint=tables.checkpoint("bronze", system_name, entity_name, day.isoformat()),
        labels={"system": system_name, "entity": entity_name, "logical_date": day.isoformat()},
    )


def run_silver(spark: SparkSession, ctx: StageContext, system_name: str, entity_name: str, day: date) -> dict[str, Any]:
    system = ctx.config.systems[system_name]
    entity = system.entities[entity_name]
    only_one = len(system.entities) == 1
    rules = [rule for rule in system.dq_rules if rule.entity == entity_name or (rule.entity is None and only_one)]
    tables = ctx.tables
    source = bronze_table(ctx.environment, system_name, entity_name)
    if not tables.exists(spark, source):
        raise FileNotFoundError(f"Bronze table {source} does not exist: run the bronze stage for {day} first")
    rows = tables.read(spark, source).where(F.col("logical_date") == F.lit(day))
    return silver.build(
        spark,
        rows,
        entity,
        rules,
        day,
        silver_location=tables.location(silver_table(ctx.environment, system_name, system, entity_name)),
        quarantine_location=tables.location(quarantine_table(ctx.environment, system_name)),
        labels={"system": system_name, "entity": entity_name, "logical_date": day.isoformat()},
    )
