"""Job definitions per environment, and ``lakehouse jobs deploy`` against the workspace emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from databricks.sdk import WorkspaceClient

from lakehouse import jobs
from lakehouse.cli import main
from lakehouse.config import load_config
from tests.conftest import ROOT
from tests.databricks_emulator import Workspace

WHEEL = "lakehouse_orchestrator-0.1.0+gabc1234-py3-none-any.whl"


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    with Workspace(dict(os.environ)) as emulator:
        monkeypatch.setenv("DATABRICKS_HOST", emulator.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-emulator")
        yield emulator


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_every_stage_job_resolves_with_the_environment_values(env: str) -> None:
    config = load_config(env)
    definitions = jobs.job_definitions(
        config.env_name, jobs.settings_of(config), f"/Volumes/{env}_ep_ai/artifacts/wheels/{WHEEL}"
    )
    assert set(definitions) == {"bronze_ingest", "silver", "gold", "rag", "maintenance"}
    settings = config.require_environment().databricks
    assert settings is not None
    for key, job in definitions.items():
        data = job.as_dict()
        assert data["name"] == getattr(settings.jobs, key)
        assert data["tags"]["ENVM"] == env and data["tags"]["COST_CENTER"] == "GRP_IT-DPM"
        assert {"SYSTEM", "DATA_DOMAIN"} <= set(data["tags"])
        cluster = data["job_clusters"][0]["new_cluster"]
        assert cluster["num_workers"] == settings.cluster.num_workers and 2 <= cluster["num_workers"] <= 16
        assert cluster["data_security_mode"] == "SINGLE_USER"
        (task,) = data["tasks"]
        assert task["python_wheel_task"]["entry_point"] == "lakehouse-stage"
        assert task["libraries"] == [{"whl": f"/Volumes/{env}_ep_ai/artifacts/wheels/{WHEEL}"}]
        assert "${" not in str(data)


def test_a_changed_field_is_listed_and_fields_the_workspace_adds_are_not() -> None:
    config = load_config("dev")
    old = jobs.job_definitions(config.env_name, jobs.settings_of(config), "/Volumes/a.whl")["gold"]
    new = jobs.job_definitions(config.env_name, jobs.settings_of(config), "/Volumes/b.whl")["gold"]
    assert jobs.differences(old, new) == ["tasks[0].libraries[0].whl: '/Volumes/a.whl' -> '/Volumes/b.whl'"]
    padded = type(old).from_dict({**old.as_dict(), "format": "MULTI_TASK"})
    assert jobs.differences(padded, old) == []


def test_deploy_creates_then_updates_then_does_nothing(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"wheel bytes")
    argv = ["jobs", "deploy", "--env", "dev", "--wheel", str(wheel)]

    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dev: 5 job(s): 5 to create, 0 to update, 0 unchanged (dry run: nothing changed)" in out
    assert workspace.jobs == {} and workspace.files == {}

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "5 to create" in out and out.count("created lakehouse-dev-") == 5
    remote = f"/Volumes/dev_ep_ai/artifacts/wheels/{WHEEL}"
    assert workspace.files == {remote: b"wheel bytes"}
    names = sorted(job["name"] for job in workspace.jobs.values())
    assert names == sorted(
        [
            "lakehouse-dev-bronze-ingest",
            "lakehouse-dev-silver",
            "lakehouse-dev-gold",
            "lakehouse-dev-rag-index",
            "lakehouse-dev-maintenance",
        ]
    )

    newer = tmp_path / WHEEL.replace("abc1234", "def5678")
    newer.write_bytes(b"newer wheel")
    assert main(["jobs", "deploy", "--env", "dev", "--wheel", str(newer)]) == 0
    out = capsys.readouterr().out
    assert "0 to create, 5 to update, 0 unchanged" in out
    assert f"tasks[0].libraries[0].whl: '{remote}' -> '{remote.replace('abc1234', 'def5678')}'" in out
    assert len(workspace.files) == 2

    assert main(["jobs", "deploy", "--env", "dev", "--wheel", str(newer)]) == 0
    assert "0 to create, 0 to update, 5 unchanged" in capsys.readouterr().out
    resets = [call for call in workspace.calls if call == ("POST", "/api/2.2/jobs/reset")]
    assert len(resets) == 5


def test_two_jobs_of_one_name_are_an_error_not_a_guess(workspace: Workspace) -> None:
    config = load_config("dev")
    definitions = jobs.job_definitions(config.env_name, jobs.settings_of(config), "/Volumes/x.whl")
    client = WorkspaceClient()
    for _ in range(2):
        client.jobs.create(name="lakehouse-dev-gold")
    with pytest.raises(ValueError, match="2 jobs are named 'lakehouse-dev-gold'"):
        jobs.plan(client, definitions)


def test_render_needs_no_workspace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "render", "--env", "prod", "--wheel", f"dist/{WHEEL}"]) == 0
    assert '"name": "lakehouse-prod-maintenance"' in capsys.readouterr().out


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_the_bundle_target_sets_what_the_environment_config_says(env: str) -> None:
    bundle = yaml.safe_load((ROOT / "infra" / "databricks.yml").read_text())
    defaults = {name: spec.get("default") for name, spec in bundle["variables"].items()}
    values = {**defaults, **bundle["targets"][env]["variables"]}
    expected = jobs.bundle_variables(env, jobs.settings_of(load_config(env)), wheel="(given at deploy)")
    del expected["wheel"]
    assert {name: values[name] for name in expected} == expected
    assert set(values) == {*expected, "wheel"}
    assert bundle["include"] == ["../airflow/include/jobs/*.yml"]
