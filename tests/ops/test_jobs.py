"""``lakehouse jobs deploy`` and ``render`` of the test project against the workspace double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient

from lakehouse.cli import main
from lakehouse.config import load_config
from lakehouse.core.jobs import job_definitions
from lakehouse.ops import jobs
from tests.conftest import ConfigCopy
from tests.fakes.databricks_workspace import Workspace

WHEEL = "lakehouse_orchestrator-0.1.0+gabc1234-py3-none-any.whl"


@pytest.fixture
def workspace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    with Workspace() as emulator:
        monkeypatch.setenv("DATABRICKS_HOST", emulator.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-emulator")
        yield emulator


def _dev_definitions(wheel: str) -> dict:
    settings = load_config("dev").require_databricks().databricks
    return job_definitions("dev", settings, wheel)


def test_a_changed_field_is_listed_and_fields_the_workspace_adds_are_not(project: ConfigCopy) -> None:
    old, new = _dev_definitions("/Volumes/a.whl")["gold"], _dev_definitions("/Volumes/b.whl")["gold"]
    assert jobs.differences(old, new) == ["tasks[0].libraries[0].whl: '/Volumes/a.whl' -> '/Volumes/b.whl'"]
    padded = type(old).from_dict({**old.as_dict(), "format": "MULTI_TASK"})
    assert jobs.differences(padded, old) == []


def test_deploy_creates_then_updates_then_does_nothing(
    project: ConfigCopy, workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"wheel bytes")
    argv = ["jobs", "deploy", "--env", "dev", "--wheel", str(wheel)]
    names = sorted(load_config("dev").require_databricks().databricks.jobs.values())

    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"dev: {len(names)} job(s): {len(names)} to create, 0 to update, 0 unchanged (dry run" in out
    assert workspace.jobs == {} and workspace.files == {}

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("created test-dev-") == len(names)
    remote = f"/Volumes/dev_ai/artifacts/wheels/{WHEEL}"
    assert workspace.files == {remote: b"wheel bytes"}
    assert sorted(job["name"] for job in workspace.jobs.values()) == names

    newer = tmp_path / WHEEL.replace("abc1234", "def5678")
    newer.write_bytes(b"newer wheel")
    assert main(["jobs", "deploy", "--env", "dev", "--wheel", str(newer)]) == 0
    out = capsys.readouterr().out
    assert f"0 to create, {len(names)} to update, 0 unchanged" in out
    assert f"tasks[0].libraries[0].whl: '{remote}' -> '{remote.replace('abc1234', 'def5678')}'" in out
    assert len(workspace.files) == 2

    assert main(["jobs", "deploy", "--env", "dev", "--wheel", str(newer)]) == 0
    assert f"0 to create, 0 to update, {len(names)} unchanged" in capsys.readouterr().out
    resets = [call for call in workspace.calls if call == ("POST", "/api/2.2/jobs/reset")]
    assert len(resets) == len(names)


def test_two_jobs_of_one_name_are_an_error_not_a_guess(project: ConfigCopy, workspace: Workspace) -> None:
    client = WorkspaceClient()
    for _ in range(2):
        client.jobs.create(name="test-dev-gold")
    with pytest.raises(ValueError, match="2 jobs are named 'test-dev-gold'"):
        jobs.plan(client, _dev_definitions("/Volumes/x.whl"))


def test_render_needs_no_workspace(project: ConfigCopy, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "render", "--env", "dev", "--wheel", f"dist/{WHEEL}"]) == 0
    out = capsys.readouterr().out
    assert '"name": "test-dev-maintenance"' in out
    assert f'"whl": "/Volumes/dev_ai/artifacts/wheels/{WHEEL}"' in out


def test_render_refuses_a_local_environment(project: ConfigCopy) -> None:
    with pytest.raises(SystemExit, match="lakehouse jobs render needs a Databricks environment; 'local' runs on local"):
        main(["jobs", "render", "--env", "local"])
