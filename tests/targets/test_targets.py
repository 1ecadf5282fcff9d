"""Stage → operator per target, and the business date each task renders."""

from __future__ import annotations

import pendulum
import pytest

from lakehouse.config import load_config
from lakehouse.factory import gold_dag, ingest_dags
from lakehouse.targets import LOGICAL_DATE, StageTask, build_operator
from lakehouse.targets.databricks import LakehouseRunNowOperator, LakehouseSqlStatementsOperator
from tests.conftest import ConfigCopy


def _render(task, params: dict) -> None:
    # A 04:00 Sydney run: its logical date is still the previous day in UTC.
    logical_date = pendulum.datetime(2026, 2, 1, 17, 0, tz="UTC")
    context = {"params": params, "ds": "2026-02-01", "logical_date": logical_date, "dag": task.dag, "task": task}
    task.render_template_fields(context)


@pytest.mark.parametrize("env", ["local", "prod"])
@pytest.mark.parametrize(("override", "expected"), [(None, "2026-02-02"), ("2026-01-15", "2026-01-15")])
def test_business_date_is_the_logical_date_unless_the_trigger_sets_one(
    env: str, override: str | None, expected: str
) -> None:
    task = ingest_dags(load_config(env))["lakehouse_ingest_amdm"].get_task("address.silver")
    _render(task, {"system": "amdm", "logical_date": override})
    if env == "local":
        assert task.op_kwargs["logical_date"] == expected
        assert task.op_kwargs["arguments"] == {"system": "amdm", "entity": "address"}
    else:
        assert task.job_parameters["logical_date"] == expected
        assert task.job_parameters["system"] == "amdm" and task.job_parameters["entity"] == "address"


def test_job_id_override_wins_over_the_job_name(config_copy: ConfigCopy) -> None:
    config_copy.edit("variables/prod.yaml", lambda d: d["databricks"].update(job_ids={"gold": 3033}))
    config = load_config("prod")
    smoke = build_operator(config, StageTask("smoke_checks", "smoke_checks"))
    bronze = build_operator(config, StageTask("bronze", "bronze"))
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
    assert "FROM prod_ep_curated.cmdm.customer_silver" in dim.statement and dim.statement.endswith(";\nEND")
    view = prod.get_task("customer_360").statement
    assert view.startswith("CREATE OR REPLACE VIEW prod_ep_marts.customer.customer_360 AS\nSELECT")
    assert "{{" not in dim.statement + view

    # The statement is a template: the run's business date (the Gold DAG keeps UTC) or the trigger's.
    for override, expected in ((None, "2026-02-01"), ("2026-01-15", "2026-01-15")):
        dim.statement = f"SELECT DATE'{LOGICAL_DATE}'"
        _render(dim, {"logical_date": override})
        assert dim.statement == f"SELECT DATE'{expected}'"
