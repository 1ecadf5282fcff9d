"""Deferral through a real triggerer: the dev ingest DAG of one system, triggered through the REST
API of a running stack (PostgreSQL, api-server, scheduler, dag-processor, triggerer), its Databricks
tasks waiting in the triggerer while the workspace emulator runs their stages."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.stack import AirflowStack, running_stack
from tests.databricks_emulator import DAY, Workspace, dev_workspace

DAG_ID = "lakehouse_ingest_amdm"


@pytest.fixture
def searchable_folder() -> Iterator[Path]:
    """A folder the postgres user can reach when the tests run as root (pytest's are private)."""
    folder = Path(tempfile.mkdtemp(prefix="lakehouse-stack-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def wait_for_dag(stack: AirflowStack, dag_id: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(dag["dag_id"] == dag_id for dag in stack.api("GET", "/api/v2/dags?limit=100")["dags"]):
            return
        time.sleep(1)
    raise AssertionError(f"{dag_id} was not parsed within {timeout:.0f} s:\n{stack.log('dag-processor')[-3000:]}")


def follow_run(stack: AirflowStack, dag_id: str, run_id: str, timeout: float = 600) -> tuple[str, dict[str, set[str]]]:
    """The run's final state and every state each task was seen in, polling twice a second."""
    seen: dict[str, set[str]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ti in stack.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]:
            seen.setdefault(ti["task_id"], set()).add(ti["state"])
        state = stack.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
        if state in ("success", "failed"):
            return state, seen
        time.sleep(0.5)
    raise AssertionError(f"{dag_id} {run_id} did not finish within {timeout:.0f} s; tasks seen: {seen}")


@pytest.mark.slow
def test_databricks_tasks_defer_to_the_triggerer_and_finish(
    searchable_folder: Path, tmp_path: Path, spark: SparkSession
) -> None:
    workspace: Workspace
    with dev_workspace(tmp_path, spark) as (workspace, environ), running_stack(searchable_folder, environ) as stack:
        wait_for_dag(stack, DAG_ID)
        stack.api("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        run: dict[str, Any] = stack.api(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"logical_date": DAY.isoformat()}}
        )
        state, seen = follow_run(stack, DAG_ID, run["dag_run_id"])
        triggerer_log = stack.log("triggerer")

    assert state == "success", seen
    # The stage tasks handed their wait to the triggerer; the gate, a plain task, did not defer.
    assert "deferred" in seen["address.bronze"] and "deferred" in seen["address.silver"], seen
    assert "deferred" not in seen["address.dq_gate"]
    assert re.search(r"\b[1-9]\d* triggers currently running", triggerer_log), triggerer_log[-3000:]
    # Unpausing also started the scheduled run of the latest 04:00, whose extracts never landed here.
    ours = [(r.parameters, r.result) for _, r in sorted(workspace.runs.items())]
    assert [(p["stage"], result) for p, result in ours if p["logical_date"] == str(DAY)] == [
        ("bronze", "SUCCESS"),
        ("silver", "SUCCESS"),
    ]
