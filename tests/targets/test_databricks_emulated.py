"""The dev environment's DAGs through the real Databricks provider, against the workspace emulator
of ``tests/databricks_emulator.py``, whose runs execute the stages with local Spark."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag
from databricks.sdk import WorkspaceClient

from lakehouse import jobs
from lakehouse.config import load_config
from lakehouse.demo_data import write_demo_data
from lakehouse.targets.databricks import idempotency_token
from tests.conftest import CONFIG_DIR, DAGS_FOLDER
from tests.databricks_emulator import Workspace

DAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, airflow_db: Path) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("databricks")
    patch = pytest.MonkeyPatch()
    # The dev config, polling the emulator every second instead of every minute, retrying once at once.
    shutil.copytree(CONFIG_DIR, root / "config")
    dev = yaml.safe_load((root / "config" / "variables" / "dev.yaml").read_text())
    dev["databricks"]["poll_seconds"] = 1
    dev["retries"] = {"retries": 1, "retry_delay": "PT1S", "exponential_backoff": 0, "max_retry_delay": "PT1S"}
    (root / "config" / "variables" / "dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    patch.setenv("LAKEHOUSE_CONFIG_DIR", str(root / "config"))
    write_demo_data(dict(load_config("dev").systems), root / "landing", 500, 21, DAY)
    stage_environ = {
        **os.environ,
        "LAKEHOUSE_ENV": "dev",
        "LAKEHOUSE_WAREHOUSE_ROOT": str(root / "warehouse"),
        "LAKEHOUSE_LANDING_ROOT": str(root / "landing"),
    }
    with Workspace(stage_environ) as emulator:
        host, port = emulator.url.removeprefix("http://").split(":")
        connection = {"conn_type": "databricks", "host": host, "port": int(port), "schema": "http"}
        patch.setenv("AIRFLOW_CONN_DATABRICKS_DEFAULT", json.dumps({**connection, "password": "dapi-emulator"}))
        patch.setenv("LAKEHOUSE_ENV", "dev")
        client = WorkspaceClient(host=emulator.url, token="dapi-emulator", auth_type="pat")
        jobs.apply(
            client,
            jobs.plan(client, jobs.job_definitions("dev", jobs.settings_of(load_config("dev")), "/Volumes/w.whl")),
        )
        emulator.root = root
        yield emulator
    patch.undo()


def _root(workspace: Workspace) -> Path:
    assert workspace.root is not None
    return workspace.root


def _run(dag_id: str) -> Any:
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag(dag_id)
    dag.deadline = None  # see lakehouse.run: dag.test() of 3.3.2 cannot finish a run with a DeadlineAlert
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
    from lakehouse.targets import StageTask, build_operator

    environment = load_config("dev").require_environment()
    operator = build_operator("dev", environment, StageTask("maintain_gold", "maintenance", {"scope": "gold"}))
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
    path = _root(workspace) / "config" / "variables" / "dev.yaml"
    original = path.read_text()
    dev = yaml.safe_load(original)
    dev["databricks"].update(submit_runs=True, wheel="lakehouse_orchestrator-0.1.0+gabc-py3-none-any.whl")
    path.write_text(yaml.safe_dump(dev, sort_keys=False))
    before = set(workspace.runs)
    try:
        run = _run("lakehouse_ingest_amdm")
    finally:
        path.write_text(original)
    assert run.state == "success", {ti.task_id: ti.state for ti in run.get_task_instances()}
    submitted = [workspace.runs[run_id] for run_id in sorted(set(workspace.runs) - before)]
    assert [(r.job_id, r.parameters["stage"], r.result) for r in submitted] == [
        (None, "bronze", "SUCCESS"),
        (None, "silver", "SUCCESS"),
    ]
    assert submitted[0].name == "lakehouse-dev-bronze-ingest bronze"
    assert submitted[0].parameters["system"] == "amdm" and submitted[0].parameters["logical_date"] == DAY.isoformat()
