"""Stage runners: config and locations in, the pure transformations of each layer applied."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import Environment, LocalEnvironment
from lakehouse.core import sql_files
from lakehouse.core.locations import (
    LANDING_ROOT_VAR,
    WAREHOUSE_ROOT_VAR,
    landing_root,
    warehouse_root,
)
from lakehouse.core.maintenance import upkeep
from lakehouse.core.naming import (
    TableName,
    bronze_table,
    gold_table,
    knowledge_index,
    outbound_tables,
    quarantine_table,
    silver_table,
    xref_table,
)
from lakehouse.core.sfdc import credentials
from lakehouse.core.sfdc.client import SalesforceClient
from lakehouse.core.silver_versions import as_of
from lakehouse.core.stages import SmokeCheckFailure
from lakehouse.resources import sql_file
from lakehouse.spark import bronze, delta_io, gold, sfdc_outbound, silver
from lakehouse.spark.tables import Tables

MAINTENANCE_THREADS = 4
"""Tables a maintenance task looks after at once."""


@dataclass(frozen=True)
class StageContext:
    config: LakehouseConfig
    environment: Environment
    tables: Tables
    landing: Path

    @classmethod
    def of(cls, config: LakehouseConfig) -> StageContext:
        """Local folders for a local environment. A Databricks environment addresses tables by their
        Unity Catalog names, unless ``LAKEHOUSE_WAREHOUSE_ROOT`` points its stages at a folder (how
        the tests' workspace emulator runs them)."""
        environment = config.require_environment()
        if isinstance(environment, LocalEnvironment):
            return cls(config, environment, Tables(warehouse_root(environment)), landing_root(environment))
        folder = os.environ.get(WAREHOUSE_ROOT_VAR)
        landing = Path(os.environ.get(LANDING_ROOT_VAR) or environment.databricks.landing)
        tables = Tables(Path(folder)) if folder else Tables(None, environment.databricks.checkpoints)
        return cls(config, environment, tables, landing)


def run_bronze(spark: SparkSession, ctx: StageContext, day: date, *, system: str, entity: str) -> dict[str, Any]:
    system_name, entity_name = system, entity
    declared = ctx.config.systems[system_name]
    model = declared.entities[entity_name]
    folder = ctx.landing / declared.landing.path.format(system=system_name, entity=entity_name, date=day.isoformat())
    if not folder.is_dir():
        raise FileNotFoundError(f"no {system_name}.{entity_name} extract landed for {day}: {folder} does not exist")
    tables = ctx.tables
    return bronze.ingest(
        spark,
        model,
        landing_folder=str(folder),
        bronze_location=tables.location(bronze_table(ctx.environment, system_name, entity_name)),
        quarantine_location=tables.location(quarantine_table(ctx.environment, system_name)),
        checkpoint=tables.checkpoint("bronze", system_name, entity_name, day.isoformat()),
        labels={"system": system_name, "entity": entity_name, "logical_date": day.isoformat()},
        auto_loader=tables.warehouse is None,  # on Databricks proper, not under the emulator's folder
    )


def run_silver(spark: SparkSession, ctx: StageContext, day: date, *, system: str, entity: str) -> dict[str, Any]:
    system_name, entity_name = system, entity
    declared = ctx.config.systems[system_name]
    model = declared.entities[entity_name]
    rules = declared.dq_rules_for(entity_name)
    tables = ctx.tables
    source = bronze_table(ctx.environment, system_name, entity_name)
    if not tables.exists(spark, source):
        raise FileNotFoundError(f"Bronze table {source} does not exist: run the bronze stage for {day} first")
    rows = tables.read(spark, source).where(F.col("logical_date") == F.lit(day))
    target_table = silver_table(ctx.environment, system_name, declared, entity_name)
    result = silver.build(
        spark,
        rows,
        model,
        rules,
        day,
        silver_location=tables.location(target_table),
        quarantine_location=tables.location(quarantine_table(ctx.environment, system_name)),
        labels={"system": system_name, "entity": entity_name, "logical_date": day.isoformat()},
    )
    # What this date's Gold run reads, however far Silver has moved on by then (lakehouse.core.silver_versions).
    versions = {str(target_table): tables.version(spark, target_table)}
    xrefs = {}
    for xref in model.silver.xrefs:
        target = xref_table(ctx.environment, xref)
        gold.run_sql_file(spark, sql_file(f"silver/{xref.table}.sql"), sql_resolver(ctx, day, target))
        xrefs[str(target)] = tables.read(spark, target).count()
        versions[str(target)] = tables.version(spark, target)
    return {**result, "versions": versions, **({"xrefs": xrefs} if xrefs else {})}


def sql_resolver(ctx: StageContext, day: date, this: TableName | None = None) -> Callable[[str], str]:
    return sql_files.resolver(ctx.config, ctx.tables.sql, sql_files.sql_date(day), this)


def run_gold(
    spark: SparkSession, ctx: StageContext, day: date, *, table: str, silver_versions: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Build one Gold table for ``day``, reading each Silver table at its version in ``silver_versions``
    (that day's, when the run was started by its Silver) or as it is."""
    table_name, versions = table, silver_versions
    (declared,) = [t for t in ctx.config.require_pipelines().gold.tables if t.name == table_name]
    target = gold_table(ctx.environment, declared)
    parts = sql_files.gold_statements(
        ctx.config,
        table_name,
        ctx.tables.sql,
        sql_files.sql_date(day),
        materialise_views=ctx.tables.warehouse is not None,  # Spark without a metastore keeps no views
        as_of=lambda silver: as_of((versions or {}).get(str(silver))),
    )
    gold.run_statements(spark, parts)
    return {
        "table": str(target),
        "rows": spark.sql(f"SELECT count(*) AS n FROM {ctx.tables.sql(target)}").collect()[0]["n"],
    }


def run_smoke_checks(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, Any]:
    resolve = sql_resolver(ctx, day)
    counting = sql_files.row_count_statement(ctx.config, ctx.tables.sql, sql_files.sql_date(day))
    counts = {row["table_name"]: int(row["row_count"]) for row in spark.sql(counting).collect()}
    checks = gold.run_sql_file(spark, sql_file("smoke/orphans.sql"), resolve)
    limit = ctx.config.require_pipelines().gold.smoke_checks.max_orphan_ratio
    problems = [f"{name} has no rows" for name, count in counts.items() if count == 0]
    for check in checks:
        ratio = check["orphans"] / check["checked"] if check["checked"] else 0.0
        if ratio > limit:
            problems.append(
                f"{check['check_name']}: {check['orphans']} of {check['checked']} rows ({ratio:.2%}) have none, "
                f"at most {limit:.2%} allowed; e.g. {', '.join(check['sample_keys'])}"
            )
    if problems:
        raise SmokeCheckFailure("smoke checks failed:\n  - " + "\n  - ".join(problems))
    return {
        "row_counts": counts,
        "orphans": {
            check["check_name"]: {"orphans": check["orphans"], "checked": check["checked"]} for check in checks
        },
    }


def run_sfdc_requests(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, Any]:
    """Contact upsert requests for ``day`` from the current customer dimension (docs/outbound.md)."""
    resolve = sql_resolver(ctx, day)
    gold.run_sql_file(spark, sql_file("sfdc/tables.sql"), resolve)
    (merged,) = gold.run_sql_file(spark, sql_file("sfdc/contact_requests.sql"), resolve)
    tables = outbound_tables(ctx.environment)
    return {"table": str(tables.input), "requests_added": int(merged["num_inserted_rows"])}


def run_sfdc_outbound(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, Any]:
    """Send the pending Contact upsert requests to Salesforce and record each result."""
    settings = ctx.environment.sfdc_outbound
    if settings.connection is None:
        raise ValueError(f"environment '{ctx.config.env_name}' has no sfdc_outbound.connection: outbound is off")
    gold.run_sql_file(spark, sql_file("sfdc/tables.sql"), sql_resolver(ctx, day))
    if settings.secret_scope and ctx.tables.warehouse is None:
        secrets = credentials.from_secret_scope(settings.connection, settings.secret_scope)
    else:
        secrets = credentials.from_airflow(settings.connection)
    client = SalesforceClient(secrets, settings)
    tables = outbound_tables(ctx.environment)
    return {"table": str(tables.output), **sfdc_outbound.run(spark, tables, ctx.tables.location, client, settings)}


def run_rag_snapshot(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, Any]:
    """A copy of the index as of ``day`` that can be restored on its own (docs/rag.md)."""
    index = knowledge_index(ctx.environment)
    if not ctx.tables.exists(spark, index):
        return {"index": str(index), "snapshot": None, "reason": "the index does not exist yet"}
    target = ctx.tables.snapshot(index, day.isoformat())
    writer = ctx.tables.read(spark, index).write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    delta_io.save(writer, target)
    return {"index": str(index), "snapshot": target, "chunks": delta_io.read(spark, target).count()}


def run_maintenance(
    spark: SparkSession, ctx: StageContext, day: date, *, scope: str, retention_days: int
) -> dict[str, Any]:
    """OPTIMIZE (Z-ordered by the natural key for Silver) and VACUUM the tables of a system or of Gold
    that need it (``core.maintenance``)."""
    targets: list[tuple[TableName, tuple[str, ...]]] = []
    if scope == "gold":
        targets = [(gold_table(ctx.environment, t), ()) for t in ctx.config.require_pipelines().gold.tables]
        if ctx.environment.sfdc_outbound.enabled:
            outbound = outbound_tables(ctx.environment)
            targets += [(table, ()) for table in (outbound.input, outbound.output, outbound.history)]
    else:
        system = ctx.config.systems[scope]
        targets.append((quarantine_table(ctx.environment, scope), ()))
        for entity_name, entity in system.entities.items():
            targets.append((bronze_table(ctx.environment, scope, entity_name), ()))
            # Z-order on the first key column: the one MERGEs and point look-ups filter on.
            targets.append((silver_table(ctx.environment, scope, system, entity_name), entity.natural_key[:1]))
        targets += [(xref_table(ctx.environment, xref), ()) for xref in system.xrefs]
    retention = timedelta(days=retention_days)
    min_files = ctx.config.require_pipelines().maintenance.optimize_min_files

    def maintain(table: TableName, zorder: tuple[str, ...]) -> str:
        location = ctx.tables.location(table)
        commits = delta_io.history(spark, location)
        if commits is None:
            return "absent"
        due = upkeep(commits, retention, min_files)
        name = delta_io.sql_name(location)
        if due.optimize:
            spark.sql(f"OPTIMIZE {name}" + (f" ZORDER BY ({', '.join(zorder)})" if zorder else ""))
        if due.vacuum:
            spark.sql(f"VACUUM {name} RETAIN {retention_days * 24} HOURS")
        return due.describe() + (f" (zorder by {', '.join(zorder)})" if zorder and due.optimize else "")

    # Each table's history read and upkeep is a few small driver-bound jobs: several tables at once
    # keep the cores busy (the session runs concurrent jobs; each table is touched by one thread).
    with ThreadPoolExecutor(MAINTENANCE_THREADS) as pool:
        done = dict(zip((str(t) for t, _ in targets), pool.map(lambda target: maintain(*target), targets), strict=True))
    return {"scope": scope, "retention_days": retention_days, "tables": done}
