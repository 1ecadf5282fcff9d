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


@pytest.mark.parametrize("env", ["local", "prod"])
@pytest.mark.parametrize(("override", "expected"), [(None, "2026-02-02"), ("2026-01-15", "2026-01-15")])
def test_business_date_is_the_logical_date_unless_the_trigger_sets_one(
    env: str, override: str | None, expected: str
) -> None:
    task = ingest_dags(load_config(env))["lakehouse_ingest_amdm"].get_task("address.silver")
    _render(task, {"system": "amdm", "logical_date": override})
    if env == "local":
        assert task.logical_date == expected
        assert task.arguments == {"system": "amdm", "entity": "address"}
    else:
        assert task.job_parameters["logical_date"] == expected
        assert task.job_parameters["run_id"] == "scheduled__2026-02-01T17:00:00+00:00"
        assert task.job_parameters["system"] == "amdm" and task.job_parameters["entity"] == "address"


def test_job_id_override_wins_over_the_job_name(config_copy: ConfigCopy) -> None:
    config_copy.edit("variables/prod.yaml", lambda d: d["databricks"].update(job_ids={"gold": 3033}))
    config = load_config("prod")
    smoke = build_operator(config, StageTask("smoke_checks", "smoke_checks"))
    bronze = build_operator(config, StageTask("bronze", "bronze", {"system": "amdm", "entity": "address"}))
    assert (smoke.job_id, smoke.job_name) == (3033, None)
    assert (bronze.job_id, bronze.job_name) == (None, "lakehouse-prod-bronze-ingest")


def test_gold_runs_on_the_sql_warehouse_where_the_environment_names_one() -> None:
    dev, prod = (gold_dag(load_config(env)) for env in ("dev", "prod"))
    tables = [task for task in prod.tasks if task.task_id != "smoke_checks"]
    assert {type(task) for task in dev.tasks} == {LakehouseRunNowOperator}
    assert {type(task) for task in tables} == {LakehouseSqlStatementsOperator}
    assert isinstance(prod.get_task("smoke_checks"), LakehouseRunNowOperator)
    dim = prod.get_task("dim_customer_scd2")
    assert dim.warehouse_name == "lakehouse-prod-gold-sql" and dim.deferrable
    # Several statements become one SQL script; Unity Catalog names throughout.
    assert dim.statement.startswith("BEGIN\nCREATE TABLE IF NOT EXISTS prod_ep_marts.customer.dim_customer_scd2 (")
    assert "MERGE INTO prod_ep_marts.customer.dim_customer_scd2 AS t" in dim.statement
    assert dim.statement.endswith(";\nEND")
    view = prod.get_task("customer_360").statement
    assert view.startswith("CREATE OR REPLACE VIEW prod_ep_marts.customer.customer_360 AS\nSELECT")
    assert "{{" not in view

    # Silver is read at the version the date's DQ gate announced (the newest of two announcements),
    # or as it is when the run has no triggering events.
    statement = dim.statement
    silver = "prod_ep_curated.cmdm.customer_silver"
    events = {"cmdm.customer": [_gate_event({silver: 7}), _gate_event({silver: 9, "other.table": 2})]}
    _render(dim, {"logical_date": None}, partition_key="2026-03-02", events=events)
    assert f"FROM {silver} VERSION AS OF 9\n" in dim.statement and "{{" not in dim.statement
    dim.statement = statement
    _render(dim, {"logical_date": None})
    assert f"FROM {silver}\n" in dim.statement

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
def test_gold_jobs_get_the_silver_versions_of_their_date(env: str) -> None:
    task = gold_dag(load_config(env)).get_task("fact_service_status")
    silver = f"{'' if env == 'local' else env + '_'}ep_curated.jarvis.service_silver"
    _render(task, {"logical_date": None}, partition_key="2026-03-02", events={"a": [_gate_event({silver: 4})]})
    arguments = {**task.arguments, "logical_date": task.logical_date} if env == "local" else task.job_parameters
    assert json.loads(arguments["silver_versions"]) == {silver: 4}
    assert arguments["logical_date"] == "2026-03-02"
