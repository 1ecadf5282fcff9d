"""The dev environment's DAGs through the real Databricks provider, against the workspace emulator
of ``tests/fakes/databricks_workspace.py``, whose runs execute the stages with local Spark."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag
from pyspark.sql import SparkSession

from lakehouse.airflow.targets import StageTask, build_operator
from lakehouse.airflow.targets.databricks import LakehouseSqlStatementsOperator, idempotency_token
from lakehouse.config import load_config
from lakehouse.core.naming import TableName, gold_table
from tests.conftest import DAGS_FOLDER
from tests.fakes.databricks_workspace import DAY, Workspace, dev_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path, spark: SparkSession) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("databricks")
    with pytest.MonkeyPatch.context() as patch, dev_workspace(root, spark) as (emulator, environ):
        for name, value in environ.items():
            patch.setenv(name, value)
        yield emulator


def _root(workspace: Workspace) -> Path:
    assert workspace.root is not None
    return workspace.root


@contextmanager
def dev_config(workspace: Workspace, **databricks: Any) -> Iterator[None]:
    """The dev config with ``databricks`` settings changed for the duration of a ``with`` block."""
    path = _root(workspace) / "config" / "variables" / "dev.yaml"
    original = path.read_text()
    dev = yaml.safe_load(original)
    dev["databricks"].update(databricks)
    path.write_text(yaml.safe_dump(dev, sort_keys=False))
    try:
        yield
    finally:
        path.write_text(original)


def _run(dag_id: str, task_ids: list[str] | None = None) -> Any:
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag(dag_id)
    if task_ids is not None:
        dag = dag.partial_subset(task_ids=task_ids, include_upstream=False)
    dag.deadline = None  # see lakehouse.ops.run: dag.test() of 3.3.2 cannot finish a run with a DeadlineAlert
    return dag.test(logical_date=None, run_conf={"logical_date": DAY.isoformat()})


@pytest.mark.slow
def test_ingest_gold_and_maintenance_run_end_to_end_through_the_provider(workspace: Workspace) -> None:
    for system in load_config("dev").systems:
        run = _run(f"lakehouse_ingest_{system}")
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert run.state == "success", states
    gold = _run("lakehouse_gold")
    assert gold.state == "success", {ti.task_id: ti.state for ti in gold.get_task_instances()}
    maintenance = _run("lakehouse_maintenance")
    assert maintenance.state == "success", {ti.task_id: ti.state for ti in maintenance.get_task_instances()}

    runs = list(workspace.runs.values())
    assert all(run.result == "SUCCESS" for run in runs)
    stages = sorted({run.parameters["stage"] for run in runs})
    assert stages == ["bronze", "gold", "maintenance", "rag_snapshot", "silver", "smoke_checks"]
    assert {run.parameters["env"] for run in runs} == {"dev"} and {r.parameters["logical_date"] for r in runs} == {
        DAY.isoformat()
    }
    names = {workspace.jobs[run.job_id]["name"] for run in runs}
    assert names == {
        "lakehouse-dev-bronze-ingest",
        "lakehouse-dev-silver",
        "lakehouse-dev-gold",
        "lakehouse-dev-maintenance",
        "lakehouse-dev-rag-index",
    }
    warehouse = _root(workspace) / "warehouse"
    assert (warehouse / "dev_ep_marts" / "customer" / "dim_customer_scd2" / "_delta_log").is_dir()

    # The same Gold tables built on a SQL warehouse instead: one statement per table, nothing changed.
    gold_tables = {t.name: gold_table(load_config("dev").require_environment(), t) for t in _gold_config()}
    before = {name: _rows(workspace, table) for name, table in gold_tables.items()}
    runs_before = set(workspace.runs)
    with dev_config(workspace, gold_warehouse="lakehouse-dev-gold-sql"):
        on_warehouse = _run("lakehouse_gold")
    assert on_warehouse.state == "success", {ti.task_id: ti.state for ti in on_warehouse.get_task_instances()}
    statements = list(workspace.statements.values())
    assert len(statements) == len(gold_tables) and {s.state for s in statements} == {"SUCCEEDED"}
    assert {s.warehouse_id for s in statements} == {"wh-gold"}
    assert sum(s.text.startswith("BEGIN\n") for s in statements) == len(gold_tables) - 1  # all but the view
    job_stages = [workspace.runs[run_id].parameters["stage"] for run_id in set(workspace.runs) - runs_before]
    assert job_stages == ["smoke_checks"]
    assert {name: _rows(workspace, table) for name, table in gold_tables.items()} == before


def _gold_config() -> Any:
    return load_config("dev").require_pipelines().gold.tables


def _rows(workspace: Workspace, table: TableName) -> list[tuple[Any, ...]]:
    assert workspace.spark is not None
    folder = _root(workspace) / "warehouse" / table.catalog / table.schema / table.table
    return sorted(tuple(row) for row in workspace.spark.read.format("delta").load(str(folder)).collect())


@pytest.mark.slow
def test_a_failing_job_fails_the_task_with_the_run_page_and_the_error(
    workspace: Workspace, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    (_root(workspace) / "landing" / "pega" / "case" / DAY.isoformat()).rename(
        _root(workspace) / "landing" / "pega-case-moved"
    )
    try:
        with caplog.at_level(logging.INFO):
            run = _run("lakehouse_ingest_pega")
    finally:
        (_root(workspace) / "landing" / "pega-case-moved").rename(
            _root(workspace) / "landing" / "pega" / "case" / DAY.isoformat()
        )
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["case.bronze"] == "failed"
    failed = [r for r in workspace.runs.values() if r.result == "FAILED"]
    assert failed, "the emulator ran the job and it failed"
    # The task log (structured, on the console under dag.test()) names the run page and the job's error.
    task_log = "".join(capfd.readouterr()) + caplog.text
    assert f"{workspace.url}/#job/{failed[-1].job_id}/run/{failed[-1].run_id}" in task_log
    assert "Task stage failed: FileNotFoundError: no pega.case extract landed for 2026-03-01" in task_log
    # one retry: two tries, each a new Databricks run (a new idempotency token per try)
    assert len([r for r in failed if r.parameters.get("entity") == "case"]) == 2


@pytest.mark.slow
def test_a_broken_fail_rule_fails_the_silver_task_after_one_run_despite_the_retry(workspace: Workspace) -> None:
    systems = _root(workspace) / "config" / "systems.yaml"
    original = systems.read_text()
    config = yaml.safe_load(original)
    # Australian postcodes have four digits: every address breaks this rule.
    rule = {"name": "five_digit_postcode", "check": "regex", "column": "postcode", "pattern": r"^\d{5}$"}
    config["systems"]["amdm"]["dq_rules"].append({**rule, "action": "fail"})
    systems.write_text(yaml.safe_dump(config, sort_keys=False))
    before = set(workspace.runs)
    try:
        run = _run("lakehouse_ingest_amdm")
    finally:
        systems.write_text(original)
    tries = {ti.task_id: ti for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert (tries["address.bronze"].state, tries["address.silver"].state) == ("success", "failed")
    # The dev copy gives the task a retry; the data failure (lakehouse.core.stages.DqFailure) skips it.
    assert (tries["address.silver"].max_tries, tries["address.silver"].try_number) == (1, 1)
    new_runs = [workspace.runs[run_id] for run_id in sorted(set(workspace.runs) - before)]
    silver = [r for r in new_runs if r.parameters["stage"] == "silver"]
    assert [r.result for r in silver] == ["FAILED"]
    assert (
        "DqFailure: amdm.address 2026-03-01: rules with action 'fail' broken (five_digit_postcode: "
        in silver[0].message
    )


def test_the_same_token_returns_the_same_run_and_a_new_try_a_new_one(workspace: Workspace) -> None:
    from airflow.providers.databricks.hooks.databricks import DatabricksHook

    hook = DatabricksHook("databricks_default")
    job_id = hook.find_job_id_by_name("lakehouse-dev-maintenance")
    first = idempotency_token("lakehouse_maintenance", "maintain_gold", "manual__2026-03-01", 1)
    again = idempotency_token("lakehouse_maintenance", "maintain_gold", "manual__2026-03-01", 1)
    retry = idempotency_token("lakehouse_maintenance", "maintain_gold", "manual__2026-03-01", 2)
    assert first == again != retry and len(first) <= 64
    body = {
        "job_id": job_id,
        "job_parameters": {
            "stage": "maintenance",
            "scope": "gold",
            "retention_days": "7",
            "logical_date": DAY.isoformat(),
        },
    }
    workspace.run_delay = 30.0  # only the run ids matter here: the runs stay PENDING, then are cancelled
    try:
        run_a = hook.run_now({**body, "idempotency_token": first})
        run_b = hook.run_now({**body, "idempotency_token": again})
        run_c = hook.run_now({**body, "idempotency_token": retry})
    finally:
        workspace.run_delay = 0.0
    assert run_a == run_b != run_c
    for run_id in (run_a, run_c):
        hook.cancel_run(run_id)


def test_killing_the_task_cancels_the_databricks_run(workspace: Workspace) -> None:
    operator = build_operator(
        load_config("dev"), StageTask("maintain_gold", "maintenance", {"scope": "gold", "retention_days": "7"})
    )
    hook = operator._hook
    workspace.run_delay = 30.0  # stays PENDING long enough to be killed
    try:
        run_id = hook.run_now({"job_id": hook.find_job_id_by_name("lakehouse-dev-maintenance")})
        operator.run_id = run_id
        operator.on_kill()
    finally:
        workspace.run_delay = 0.0
    state = hook.get_run_state(run_id)
    assert (state.life_cycle_state, state.result_state) == ("TERMINATED", "CANCELED")


@pytest.mark.slow
def test_one_off_runs_submit_the_same_task_without_a_deployed_job(workspace: Workspace) -> None:
    before = set(workspace.runs)
    with dev_config(workspace, submit_runs=True, wheel="lakehouse_orchestrator-0.1.0+gabc-py3-none-any.whl"):
        run = _run("lakehouse_ingest_amdm")
    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}
    submitted = [workspace.runs[run_id] for run_id in sorted(set(workspace.runs) - before)]
    assert [(r.job_id, r.parameters["stage"], r.result) for r in submitted] == [
        (None, "bronze", "SUCCESS"),
        (None, "silver", "SUCCESS"),
    ]
    assert submitted[0].name == "lakehouse-dev-bronze-ingest bronze"
    assert submitted[0].parameters["system"] == "amdm" and submitted[0].parameters["logical_date"] == DAY.isoformat()


def test_killing_a_gold_task_on_the_warehouse_cancels_its_statement(workspace: Workspace) -> None:
    with dev_config(workspace, gold_warehouse="lakehouse-dev-gold-sql"):
        operator = build_operator(load_config("dev"), StageTask("dim_address", "gold", {"table": "dim_address"}))
    assert isinstance(operator, LakehouseSqlStatementsOperator)
    hook = operator._hook
    workspace.run_delay = 30.0  # stays PENDING long enough to be killed
    try:
        operator.statement_id = hook.post_sql_statement(
            {"statement": operator.statement, "warehouse_id": "wh-gold", "wait_timeout": "0s"}
        )
        operator.on_kill()
    finally:
        workspace.run_delay = 0.0
    assert hook.get_sql_statement_state(operator.statement_id).state == "CANCELED"


@pytest.mark.slow
def test_a_failing_statement_or_an_unknown_warehouse_fails_the_task_with_the_reason(
    workspace: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    with dev_config(workspace, gold_warehouse="lakehouse-dev-gold-sql"):
        workspace.catalogs, catalogs = set(), workspace.catalogs  # Unity Catalog names no longer resolve
        try:
            failed = _run("lakehouse_gold", task_ids=["dim_address"])
        finally:
            workspace.catalogs = catalogs
    assert failed.state == "failed"
    statement, retried = list(workspace.statements.values())[-2:]  # one retry: the statement ran twice
    assert statement.state == retried.state == "FAILED"
    assert "dev_ep_marts" in statement.error["message"]  # Spark's own complaint about the unmapped name
    task_log = "".join(capfd.readouterr())
    assert "SQL Statement execution failed with terminal state: {'state': 'FAILED'" in task_log
    assert statement.error["message"] in task_log

    with dev_config(workspace, gold_warehouse="lakehouse-dev-sql"):
        operator = build_operator(load_config("dev"), StageTask("dim_address", "gold", {"table": "dim_address"}))
    with pytest.raises(LookupError, match=r"no SQL warehouse named 'lakehouse-dev-sql'.*has: lakehouse-dev-gold-sql"):
        operator.execute({})
