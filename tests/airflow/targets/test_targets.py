"""Stage → operator per target, and the business date each task renders."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pendulum
import pytest

from lakehouse.airflow.factory import gold_dag, ingest_dags
from lakehouse.airflow.targets import LOGICAL_DATE, StageTask, build_operator
from lakehouse.airflow.targets.databricks import LakehouseRunNowOperator, LakehouseSqlStatementsOperator
from lakehouse.config import load_config
from tests.conftest import ConfigCopy


def _render(task, params: dict, partition_key: str | None = None, events: dict | None = None) -> None:
    # A 04:00 Sydney run: its logical date is still the previous day in UTC.
    logical_date = pendulum.datetime(2026, 2, 1, 17, 0, tz="UTC")
    context = {
        "params": params,
        "ds": "2026-02-01",
        "logical_date": logical_date,
        "partition_key": partition_key,
        "run_id": "scheduled__2026-02-01T17:00:00+00:00",
        "triggering_asset_events": events or {},
        "dag": task.dag,
        "task": task,
    }
    task.render_template_fields(context)


def _gate_event(versions: dict[str, int]) -> SimpleNamespace:
    """What a task reads of a triggering asset event: its extra."""
    return SimpleNamespace(extra={"business_date": "2026-03-02", "versions": versions})


@pytest.mark.parametrize("env", ["local", "dev"])
@pytest.mark.parametrize(("override", "expected"), [(None, "2026-02-02"), ("2026-01-15", "2026-01-15")])
def test_business_date_is_the_logical_date_unless_the_trigger_sets_one(
    project: ConfigCopy, env: str, override: str | None, expected: str
) -> None:
    # crm runs at 04:00 Sydney (the defaults of systems.yaml)
    task = ingest_dags(load_config(env))["lakehouse_ingest_crm"].get_task("customer.silver")
    _render(task, {"system": "crm", "logical_date": override})
    if env == "local":
        assert task.logical_date == expected
        assert task.arguments == {"system": "crm", "entity": "customer"}
    else:
        assert task.job_parameters["logical_date"] == expected
        assert task.job_parameters["run_id"] == "scheduled__2026-02-01T17:00:00+00:00"
        assert task.job_parameters["system"] == "crm" and task.job_parameters["entity"] == "customer"


def test_job_id_override_wins_over_the_job_name(project: ConfigCopy) -> None:
    project.edit("variables/dev.yaml", lambda d: d["databricks"].update(job_ids={"gold": 3033}))
    config = load_config("dev")
    smoke = build_operator(config, StageTask("smoke_checks", "smoke_checks"))
    bronze = build_operator(config, StageTask("bronze", "bronze", {"system": "crm", "entity": "customer"}))
    assert (smoke.job_id, smoke.job_name) == (3033, None)
    assert (bronze.job_id, bronze.job_name) == (None, "test-dev-bronze")


def test_gold_runs_on_the_sql_warehouse_where_the_environment_names_one(project: ConfigCopy) -> None:
    with_warehouse = gold_dag(load_config("dev"))

    def no_gold_warehouse(data: dict) -> None:
        data["databricks"]["governance_warehouse"] = data["databricks"].pop("gold_warehouse")

    project.edit("variables/dev.yaml", no_gold_warehouse)
    without = gold_dag(load_config("dev"))
    tables = [task for task in with_warehouse.tasks if task.task_id != "smoke_checks"]
    assert {type(task) for task in without.tasks} == {LakehouseRunNowOperator}
    assert {type(task) for task in tables} == {LakehouseSqlStatementsOperator}
    assert isinstance(with_warehouse.get_task("smoke_checks"), LakehouseRunNowOperator)
    dim = with_warehouse.get_task("dim_customer")
    assert dim.warehouse_name == "test-dev-sql" and dim.deferrable
    # Several statements become one SQL script; Unity Catalog names throughout.
    assert dim.statement.startswith("BEGIN\nCREATE TABLE IF NOT EXISTS dev_marts.customer.dim_customer (")
    assert "MERGE INTO dev_marts.customer.dim_customer AS t" in dim.statement
    assert dim.statement.endswith(";\nEND")
    view = with_warehouse.get_task("customer_revenue").statement
    assert view.startswith("CREATE OR REPLACE VIEW dev_marts.finance.customer_revenue AS\nSELECT")
    assert "FROM dev_marts.customer.dim_customer c" in view and "{{" not in view

    # Silver is read at the version the date's DQ gate announced (the newest of two announcements),
    # or as it is when the run has no triggering events.
    statement = dim.statement
    silver = "dev_curated.crm.customer_silver"
    events = {"crm.customer": [_gate_event({silver: 7}), _gate_event({silver: 9, "other.table": 2})]}
    _render(dim, {"logical_date": None}, partition_key="2026-03-02", events=events)
    assert f"FROM {silver} VERSION AS OF 9)" in dim.statement and "{{" not in dim.statement
    dim.statement = statement
    _render(dim, {"logical_date": None})
    assert f"FROM {silver})" in dim.statement

    # The statement is a template: the trigger's business date, else the run's partition key, else
    # its logical date (the Gold DAG keeps UTC).
    for override, partition_key, expected in (
        (None, None, "2026-02-01"),
        (None, "2026-03-02", "2026-03-02"),
        ("2026-01-15", "2026-03-02", "2026-01-15"),
    ):
        dim.statement = f"SELECT DATE'{LOGICAL_DATE}'"
        _render(dim, {"logical_date": override}, partition_key=partition_key)
        assert dim.statement == f"SELECT DATE'{expected}'"


@pytest.mark.parametrize("env", ["local", "dev"])
def test_gold_jobs_get_the_silver_versions_of_their_date(project: ConfigCopy, env: str) -> None:
    if env == "dev":  # Gold in the gold job, not on a SQL warehouse
        project.edit("variables/dev.yaml", lambda d: d["databricks"].pop("gold_warehouse"))
    task = gold_dag(load_config(env)).get_task("fact_invoice")
    silver = f"{'t' if env == 'local' else env}_curated.finance.invoice_silver"
    _render(task, {"logical_date": None}, partition_key="2026-03-02", events={"a": [_gate_event({silver: 4})]})
    arguments = {**task.arguments, "logical_date": task.logical_date} if env == "local" else task.job_parameters
    assert json.loads(arguments["silver_versions"]) == {silver: 4}
    assert arguments["logical_date"] == "2026-03-02"
