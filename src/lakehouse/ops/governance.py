"""Applying a governance plan on Databricks through the SQL Statement Execution API, on the
environment's SQL warehouse. Locally the plan runs through Spark (``lakehouse.spark.governance``); the
governance DAG does either through Airflow."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from databricks.sdk import WorkspaceClient

from lakehouse.config.models import LocalEnvironment
from lakehouse.core.governance import Plan, build_plan, describe, warehouse_name
from lakehouse.ops.environment import valid_config
from lakehouse.spark.governance import apply_locally
from lakehouse.spark.main import session_for


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


def plan_command(env: str | None) -> int:
    print("\n".join(describe(build_plan(valid_config(env)))))
    return 0


def apply_command(env: str | None) -> int:
    """``lakehouse governance apply``: on Databricks every statement on the SQL warehouse; locally
    what Spark can apply."""
    config = valid_config(env)
    plan = build_plan(config)
    environment = config.require_environment()
    if isinstance(environment, LocalEnvironment):
        result = apply_locally(session_for(config.env_name), config, plan)
        print(f"{config.env_name}: {len(result.applied)} statement(s) applied through Spark")
        for statement in result.waiting:
            print(f"  waiting for {statement.needs}: {statement.sql.splitlines()[0]}")
        print(f"  {len(result.not_local)} need Unity Catalog and are not applied locally:")
        for statement in result.not_local:
            print(f"    {statement.sql.splitlines()[0]}")
        return 0
    warehouse = warehouse_name(environment.databricks)
    print(f"{config.env_name}: applying {len(plan.statements)} statement(s) on the SQL warehouse '{warehouse}'")
    apply_on_warehouse(WorkspaceClient(), warehouse, plan, report=print)
    return 0
