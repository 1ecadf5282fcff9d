"""docker-compose.yaml without a Docker engine: Compose's own loader accepts it (and rejects a broken
copy), every image is pinned, and every path, command and version it names exists in the repo."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.cli import build_parser
from lakehouse.ops.stack import AIRFLOW_PROCESSES, SCHEDULER_MODULE
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yaml"
MOUNT = "/opt/lakehouse"


def _checker() -> list[str]:
    """``docker compose config`` where the plugin exists, else compose-go's validator (set-up builds it)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose", "-f"]
    validator = ROOT / ".venv" / "bin" / "compose-spec"
    assert validator.exists(), "scripts/test.sh builds compose-go's validator when docker compose is missing"
    return [str(validator)]


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    command = [*_checker(), str(path)]
    if command[1:3] == ["compose", "-f"]:
        command.append("config")
    return subprocess.run(command, capture_output=True, text=True, cwd=path.parent)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def test_compose_own_loader_accepts_the_file_and_rejects_a_broken_copy(tmp_path: Path) -> None:
    result = _check(COMPOSE)
    assert result.returncode == 0, result.stderr
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["scheduler"]["restart_policy"] = "always"  # not a Compose key
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker-compose.yaml").write_text(yaml.safe_dump(broken))
    failed = _check(tmp_path / "docker-compose.yaml")
    assert failed.returncode != 0 and "restart_policy" in failed.stdout + failed.stderr


def test_the_deployment_processes_on_postgres_and_the_environment_applied(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "spark-connect", "airflow-init", *AIRFLOW_PROCESSES, "env-apply"}
    for name in AIRFLOW_PROCESSES:
        # The scheduler starts as the stack starts it, with its tasks' imports done.
        expected = ["python", "-m", SCHEDULER_MODULE] if name == "scheduler" else ["airflow", name]
        assert services[name]["command"][: len(expected)] == expected
        assert services[name]["depends_on"] == {
            "airflow-init": {"condition": "service_completed_successfully"},
            "spark-connect": {"condition": "service_healthy"},
        }
        env = services[name]["environment"]
        # The tasks' stages use the spark-connect service, on the port it listens on.
        connect = build_parser().parse_args(services["spark-connect"]["command"][3:])
        assert env["LAKEHOUSE_SPARK_REMOTE"] == f"sc://spark-connect:{connect.port}" and connect.host == "0.0.0.0"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://airflow:airflow@postgres:")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api-server:8080/execution/"
    assert services["airflow-init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["env-apply"]["depends_on"] == {"api-server": {"condition": "service_healthy"}}
    # Every Airflow subcommand exists, and env-apply's command is one the CLI accepts.
    from airflow.cli.cli_parser import get_parser

    airflow_commands = set(get_parser()._subparsers._group_actions[0].choices or ())
    for service in services.values():
        command = service.get("command", [])
        if command[:1] == ["airflow"]:
            assert command[1] in airflow_commands, command
    apply = services["env-apply"]["command"]
    assert apply[:3] == ["python", "-m", "lakehouse.cli"]
    build_parser().parse_args(apply[3:])


def test_images_are_pinned_and_paths_exist_in_the_repo(compose: dict[str, Any]) -> None:
    dockerfile = ROOT / "docker" / "Dockerfile"
    text = dockerfile.read_text()
    images = [service["image"] for service in compose["services"].values()]
    images += re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    for image in images:
        tag = image.partition(":")[2]
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{image} is not pinned to a version"
    for service in compose["services"].values():
        if "build" in service:
            assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == dockerfile
        for volume in service.get("volumes", []):
            source, _, target = volume.partition(":")
            if source.startswith("."):
                assert (ROOT / source).exists() and target == MOUNT
        for value in service.get("environment", {}).values():
            if str(value).startswith(f"{MOUNT}/") and ".stack" not in str(value):
                assert (ROOT / str(value).removeprefix(f"{MOUNT}/")).exists(), value
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.MULTILINE):
        assert (ROOT / source).exists(), source


def test_the_image_installs_what_the_lock_and_set_up_pin() -> None:
    text = (ROOT / "docker" / "Dockerfile").read_text()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    uv = re.search(r'UV_VERSION="([^"]+)"', setup)
    assert uv and f"uv=={uv.group(1)}" in text
    sync = re.search(r"uv pip sync (.*) /tmp/requirements.lock", text)
    options = re.search(r'UV_SYNC_OPTIONS="([^"]+)"', setup)
    assert sync and options
    assert set(options.group(1).split()) - {"--quiet"} == set(sync.group(1).split())
    assert f"ARG DELTA_VERSION={importlib.metadata.version('delta-spark')}" in text
    spark_minor = ".".join(importlib.metadata.version("pyspark").split(".")[:2])
    assert f"ARG SPARK_MINOR={spark_minor}" in text
    assert re.search(r"^FROM python:3\.11\.\d+-slim", text, flags=re.MULTILINE)
