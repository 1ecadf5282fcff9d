"""The governance plan's local part: the statements Spark can honour without Unity Catalog
(databases at the schemas' folders, the masking functions, the secure views), run in a session.
On Databricks the same plan runs on a SQL warehouse (``lakehouse.ops.governance`` and the governance
DAG's tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.config import LakehouseConfig
from lakehouse.core.governance import Plan, Statement, build_plan
from lakehouse.core.locations import warehouse_root
from lakehouse.spark.stages import StageContext
from lakehouse.spark.tables import Tables


@dataclass
class LocalResult:
    applied: list[Statement] = field(default_factory=list)
    waiting: list[Statement] = field(default_factory=list)
    """Statements whose table the pipelines have not built yet."""
    not_local: list[Statement] = field(default_factory=list)
    """Unity Catalog only: catalogs, volumes, grants, tags."""

    def counts(self) -> dict[str, int]:
        return {"applied": len(self.applied), "waiting": len(self.waiting), "not_local": len(self.not_local)}


def apply_locally(spark: SparkSession, config: LakehouseConfig, plan: Plan) -> LocalResult:
    """Run each statement's local rendering in ``spark``. Databases, functions and views live as long
    as the session (Spark runs without a metastore); the schemas' folders stay. A view whose table
    does not exist yet waits for the next apply."""
    tables = Tables(warehouse_root(config.require_local("applying governance through Spark")))
    result = LocalResult()
    for statement in plan.statements:
        if statement.local is None:
            result.not_local.append(statement)
        elif statement.needs is not None and not tables.exists(spark, statement.needs):
            result.waiting.append(statement)
        else:
            spark.sql(statement.local).collect()
            result.applied.append(statement)
    return result


def run_governance(spark: SparkSession, ctx: StageContext, day: date) -> dict[str, Any]:
    """The ``governance`` stage: the environment's plan, applied as far as Spark can."""
    return dict(apply_locally(spark, ctx.config, build_plan(ctx.config)).counts())
