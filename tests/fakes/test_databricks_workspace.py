"""The workspace double refuses what Databricks refuses: a job forwarding a parameter it does not
declare, and a run-now with a parameter the job does not declare. So a job definition that lost a
parameter a DAG passes fails the tests that run the DAG against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service.jobs import JobSettings

from lakehouse.airflow.factory import gold_dag
from lakehouse.config import load_config
from lakehouse.core.jobs import job_definitions
from tests.fakes.databricks_workspace import Workspace


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    with Workspace() as emulator:
        yield emulator


def _client(workspace: Workspace) -> WorkspaceClient:
    return WorkspaceClient(host=workspace.url, token="dapi-emulator", auth_type="pat")


def _create(client: WorkspaceClient, job: JobSettings) -> int:
    job_id = client.jobs.create(**vars(job)).job_id
    assert job_id is not None
    return job_id


def _gold_job() -> JobSettings:
    settings = load_config("dev").require_databricks().databricks
    return job_definitions("dev", settings, "/Volumes/w.whl")["gold"]


def _without(job: JobSettings, parameter: str, *, forwarded: bool) -> JobSettings:
    """``job`` no longer declaring ``parameter``; its task still passing it on if ``forwarded``."""
    settings = job.as_dict()
    settings["parameters"] = [p for p in settings["parameters"] if p["name"] != parameter]
    if not forwarded:
        (task,) = settings["tasks"]
        del task["python_wheel_task"]["named_parameters"][parameter]
    return JobSettings.from_dict(settings)


def test_a_job_forwarding_a_parameter_it_does_not_declare_is_refused(workspace: Workspace) -> None:
    client = _client(workspace)
    broken = _without(_gold_job(), "silver_versions", forwarded=True)
    refused = "references the job parameter 'silver_versions', which the job does not define"
    with pytest.raises(InvalidParameterValue, match=refused):
        client.jobs.create(**vars(broken))
    assert workspace.jobs == {}

    job_id = _create(client, _gold_job())
    deployed = workspace.jobs[job_id]
    with pytest.raises(InvalidParameterValue, match=refused):
        client.jobs.reset(job_id, broken)
    assert workspace.jobs[job_id] is deployed


def test_run_now_with_a_parameter_the_job_does_not_declare_is_refused(workspace: Workspace) -> None:
    client = _client(workspace)
    job_id = _create(client, _gold_job())
    with pytest.raises(InvalidParameterValue, match=r"does not define the job parameter\(s\) colour, shape"):
        client.jobs.run_now(job_id, job_parameters={"stage": "gold", "shape": "round", "colour": "blue"})
    assert workspace.runs == {}


def test_a_gold_job_without_a_parameter_the_gold_dag_passes_is_refused_at_run_now(workspace: Workspace) -> None:
    passed = gold_dag(load_config("dev")).get_task("dim_address").job_parameters
    assert "silver_versions" in passed
    client = _client(workspace)
    job_id = _create(client, _without(_gold_job(), "silver_versions", forwarded=False))
    with pytest.raises(InvalidParameterValue, match=r"does not define the job parameter\(s\) silver_versions$"):
        client.jobs.run_now(job_id, job_parameters=passed)
    assert workspace.runs == {}
