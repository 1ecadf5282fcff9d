"""The dev environment's ``lakehouse_governance`` DAG through the real Databricks provider, against the
workspace emulator: its statements go to the SQL warehouse one by one, as the plan orders them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from pyspark.sql import SparkSession

from lakehouse.config import load_config
from lakehouse.core.governance import SECTIONS, build_plan, pii_columns
from lakehouse.core.naming import bronze_table, silver_table
from tests.conftest import DAGS_FOLDER
from tests.fakes.databricks_workspace import Workspace, dev_workspace
from tests.fakes.governed_tables import CUSTOMERS, write_table

CONTACTS = [
    (
        "003000000001",
        "P00000001",
        "AC00000001",
        "John",
        "Smith",
        "john.smith@example.com",
        None,
        "NSW",
        "2000",
        "Y",
        None,
    )
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path, spark: SparkSession) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("governance")
    with pytest.MonkeyPatch.context() as patch, dev_workspace(root, spark) as (emulator, environ):
        for name, value in environ.items():
            patch.setenv(name, value)
        emulator.warehouses["wh-sql"] = "lakehouse-dev-sql"
        emulator.unity_catalog.groups = set(load_config("dev").require_environment().governance.groups.values())
        yield emulator


def _run() -> Any:
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("lakehouse_governance")
    dag.deadline = None  # see lakehouse.ops.run: dag.test() of 3.3.2 cannot finish a run with a DeadlineAlert
    return dag.test(logical_date=None)


def _sent_since(workspace: Workspace, count: int) -> list[str]:
    return [statement.text for statement in list(workspace.statements.values())[count:]]


def test_the_governance_dag_sends_the_plan_and_a_second_run_changes_nothing(workspace: Workspace, spark: Any) -> None:
    config = load_config("dev")
    plan = build_plan(config)
    expected = [statement.sql for statement in plan.statements]

    # A new workspace: containers, functions and grants apply; the view and the tags need tables.
    first = _run()
    states = {ti.task_id: ti.state for ti in first.get_task_instances()}
    assert states == {**dict.fromkeys(SECTIONS[:5], "success"), "views": "failed", "tags": "upstream_failed"}
    sent = _sent_since(workspace, 0)
    done = len([s for s in plan.statements if s.section in SECTIONS[:5]])
    assert sent[:done] == expected[:done]
    assert workspace.statements[list(workspace.statements)[done]].error["message"] == (
        "table dev_ep_curated.cmdm.customer_silver does not exist"
    )
    assert {s.warehouse_id for s in workspace.statements.values()} == {"wh-sql"}

    # Once the pipelines wrote the tables, the whole plan applies, in order, each statement once.
    environment, systems = config.require_environment(), config.systems
    assert workspace.root is not None
    warehouse = workspace.root / "warehouse"
    for system, entity, rows in (("cmdm", "customer", CUSTOMERS), ("sfdc", "contact", CONTACTS)):
        write_table(spark, config, warehouse, bronze_table(environment, system, entity), rows)
        write_table(spark, config, warehouse, silver_table(environment, system, systems[system], entity), rows)
    count = len(workspace.statements)
    second = _run()
    assert second.state == "success", {ti.task_id: ti.state for ti in second.get_task_instances()}
    assert _sent_since(workspace, count) == expected
    uc = workspace.unity_catalog
    state = uc.state()
    catalogs = environment.catalogs.model_dump()
    assert uc.catalogs == set(catalogs.values())
    views = {
        f"{catalogs[view.zone]}.{view.schema_}.{name}": view for name, view in config.governance.secure_views.items()
    }
    assert set(uc.views) == set(views)
    groups = environment.governance.groups
    assert {(f"TABLE {name}", groups[role]) for name, view in views.items() for role in view.readers} <= {
        (on, group) for privilege, on, group in uc.grants if privilege == "SELECT"
    }
    assert uc.tags == {(str(table), column): {"pii": "true"} for table, column in pii_columns(config, environment)}

    count = len(workspace.statements)
    third = _run()
    assert third.state == "success"
    assert _sent_since(workspace, count) == expected
    assert uc.state() == state


def test_lakehouse_governance_apply_sends_the_plan_through_the_sdk(workspace: Workspace) -> None:
    from databricks.sdk import WorkspaceClient

    from lakehouse.ops.governance import StatementFailed, apply_on_warehouse

    plan = build_plan(load_config("dev"))
    client = WorkspaceClient(host=workspace.url, token="dapi-emulator", auth_type="pat")
    count = len(workspace.statements)
    lines: list[str] = []
    assert apply_on_warehouse(client, "lakehouse-dev-sql", plan, report=lines.append, poll_seconds=0.1) == len(
        plan.statements
    )
    assert _sent_since(workspace, count) == [statement.sql for statement in plan.statements]
    assert lines[0].startswith("  catalogs  CREATE CATALOG IF NOT EXISTS dev_ep_raw COMMENT 'Bronze: ")

    workspace.unity_catalog.groups.discard("dpm-ml-serving-dev")
    with pytest.raises(
        StatementFailed, match=r"GRANT .* TO `dpm-ml-serving-dev`\) FAILED: principal dpm-ml-serving-dev does not exist"
    ):
        apply_on_warehouse(client, "lakehouse-dev-sql", plan, poll_seconds=0.1)
    with pytest.raises(LookupError, match="no SQL warehouse"):
        apply_on_warehouse(client, "lakehouse-dev-elsewhere", plan)
