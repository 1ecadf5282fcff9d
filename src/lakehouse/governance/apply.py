"""Applying a governance plan: locally through Spark (the statements it can honour), on Databricks
through the SQL Statement Execution API on the environment's SQL warehouse. The governance DAG does
the same through Airflow (``lakehouse.factory.dags``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakehouse.config import LakehouseConfig
from lakehouse.config.models import DatabricksSettings
from lakehouse.governance.plan import Plan, Statement, build_plan


@dataclass
class LocalResult:
    applied: list[Statement] = field(default_factory=list)
    waiting: list[Statement] = field(default_factory=list)
    """Statements whose table the pipelines have not built yet."""
    not_local: list[Statement] = field(default_factory=list)
    """Unity Catalog only: catalogs, volumes, grants, tags."""

    def counts(self) -> dict[str, int]:
        return {"applied": len(self.applied), "waiting": len(self.waiting), "not_local": len(self.not_local)}


def apply_locally(spark: Any, config: LakehouseConfig, plan: Plan) -> LocalResult:
    """Run each statement's local rendering in ``spark``. Databases, functions and views live as long
    as the session (Spark runs without a metastore); the schemas' folders stay. A view whose table
    does not exist yet waits for the next apply."""
    from lakehouse.locations import warehouse_root
    from spark_jobs.tables import Tables

    tables = Tables(warehouse_root(config.require_environment()))
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


def apply_local_env(env: str) -> dict[str, int]:
    """The governance DAG's local task: the plan of ``env`` in a session of its own."""
    from lakehouse.config import load_config
    from spark_jobs.main import session_for

    config = load_config(env)
    return apply_locally(session_for(env), config, build_plan(config)).counts()


def warehouse_name(settings: DatabricksSettings) -> str:
    name = settings.governance_warehouse or settings.gold_warehouse
    assert name is not None, "validated: a databricks environment names a warehouse for governance"
    return name


class StatementFailed(RuntimeError):
    pass


def apply_on_warehouse(
    client: Any,
    warehouse: str,
    plan: Plan,
    report: Callable[[str], None] = lambda line: None,
    poll_seconds: float = 1.0,
) -> int:
    """Run every statement of ``plan``, in order, on the SQL warehouse named ``warehouse`` through a
    ``databricks.sdk.WorkspaceClient``; stop at the first that fails. Returns how many ran."""
    ids = [w.id for w in client.warehouses.list() if w.name == warehouse]
    if len(ids) != 1:
        raise LookupError(f"{'no' if not ids else len(ids)} SQL warehouse(s) named '{warehouse}' in the workspace")
    for index, statement in enumerate(plan.statements, start=1):
        response = client.statement_execution.execute_statement(
            statement=statement.sql, warehouse_id=ids[0], wait_timeout="0s"
        )
        status = response.status
        while status.state.value in ("PENDING", "RUNNING"):
            time.sleep(poll_seconds)
            status = client.statement_execution.get_statement(response.statement_id).status
        first_line = statement.sql.splitlines()[0]
        if status.state.value != "SUCCEEDED":
            message = status.error.message if status.error else status.state.value
            raise StatementFailed(f"statement {index} ({first_line}) {status.state.value}: {message}")
        report(f"  {statement.section:<9} {first_line}")
    return len(plan.statements)
