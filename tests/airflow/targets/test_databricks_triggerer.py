"""Deferral through a real triggerer: the dev ingest DAG of one system, triggered through the REST
API of a running stack (PostgreSQL, api-server, scheduler, dag-processor, triggerer), its Databricks
tasks waiting in the triggerer while the workspace emulator runs their stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.ops.stack import running_stack
from tests.fakes.databricks_workspace import DAY, Workspace, dev_workspace

DAG_ID = "lakehouse_ingest_amdm"


@pytest.mark.slow
def test_databricks_tasks_defer_to_the_triggerer_and_finish(
    searchable_folder: Path, tmp_path: Path, spark: SparkSession
) -> None:
    workspace: Workspace
    with (
        pytest.MonkeyPatch.context() as patch,
        dev_workspace(tmp_path, spark) as (workspace, environ),
        running_stack(searchable_folder, environ) as stack,
    ):
        for name, value in environ.items():
            patch.setenv(name, value)
        stack.wait_for_dag(DAG_ID)
        stack.api("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        run: dict[str, Any] = stack.api(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"logical_date": DAY.isoformat()}}
        )
        state, seen = stack.wait_for_run(DAG_ID, run["dag_run_id"])
        # The triggerer writes what each trigger logged next to the task's log.
        run_logs = stack.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run['dag_run_id']}"
        trigger_logs = {path.parent.name: path.read_text() for path in run_logs.glob("*/attempt=1.log.trigger.*.log")}
        tries = {
            ti["task_id"]: ti["try_number"]
            for ti in stack.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances")[
                "task_instances"
            ]
        }
        # Why a task was retried, should one have been: the end of its first attempt's log.
        retried = {
            task: (run_logs / f"task_id={task}" / "attempt=1.log").read_text()[-3000:]
            for task, count in tries.items()
            if count > 1
        }

    assert state == "success", seen
    # The stage tasks handed their wait to the triggerer; the gate, a plain task, did not defer.
    assert "deferred" in seen["address.bronze"] and "deferred" in seen["address.silver"], seen
    assert "deferred" not in seen["address.dq_gate"]
    assert set(trigger_logs) == {"task_id=address.bronze", "task_id=address.silver"}
    # The provider's trigger polled the Databricks run from the triggerer process.
    assert all("DatabricksExecutionTrigger" in text and "in run state" in text for text in trigger_logs.values())
    # Unpausing also started the scheduled run of the latest 04:00, whose extracts never landed here.
    # Each try of a stage task submits at most one Databricks run. A try can end before it submits:
    # Airflow's LocalExecutor sometimes kills a task whose heartbeat it answers with 409 (upstream
    # apache/airflow#63774), and the retry then submits the only run of that stage.
    ours = [
        (r.parameters["stage"], r.result)
        for _, r in sorted(workspace.runs.items())
        if r.parameters["logical_date"] == str(DAY)
    ]
    for stage in ("bronze", "silver"):
        results = [result for name, result in ours if name == stage]
        assert results and set(results) == {"SUCCESS"}, (ours, retried)
        assert len(results) <= tries[f"address.{stage}"], (ours, tries, retried)
    assert [name for name, _ in ours] == sorted(name for name, _ in ours), ours
