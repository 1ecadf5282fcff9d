"""OpenLineage events from Airflow: the provider's settings come from the environment's ``lineage``
section, and with it on, a real DAG run sends every task's START and COMPLETE to an HTTP receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.airflow.lineage import (
    DISABLED_VAR,
    EXTRACTORS,
    NAMESPACE_VAR,
    TRANSPORT_VAR,
    job_namespace,
    lineage_environ,
)
from lakehouse.config import load_config
from lakehouse.config.models import Lineage
from lakehouse.core import stages
from lakehouse.core.naming import ingest_dag_id, silver_table
from lakehouse.ops.airflow_home import airflow_environ
from tests.conftest import ENVIRONMENTS, ROOT, ConfigCopy
from tests.fakes.receivers import HttpReceiver

API_KEY = "0l-k3y-5ecret"


def _clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without the OpenLineage settings conftest gave it (lineage off)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__OPENLINEAGE__")}
    return {**base, **extra}


def _smallest_system() -> str:
    systems = load_config("local").systems
    return min(systems, key=lambda name: (len(systems[name].entities), name))


def _run_dag(environ: Mapping[str, str], system: str, day: date, folder: Path) -> dict[str, Any]:
    """``tests.lineage_run`` in a process started with ``airflow_environ(environ)``, as ``lakehouse run`` is."""
    out = folder / "run.json"
    result = subprocess.run(
        [sys.executable, "-m", "tests.lineage_run", system, day.isoformat(), str(out)],
        env=airflow_environ(environ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    run: dict[str, Any] = json.loads(out.read_text())
    assert run["state"] == "success" and set(run["tasks"].values()) == {"success"}, run
    return run


def test_lineage_is_off_by_default_and_disables_the_provider() -> None:
    for env in ENVIRONMENTS:
        environment = load_config(env).require_environment()
        assert lineage_environ(env, environment.lineage) == {DISABLED_VAR: "True"}
    assert airflow_environ(_clean_environ())[DISABLED_VAR] == "True"


def test_the_provider_reads_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's own checks (not cached under pytest) on the variables ``airflow_environ`` sets."""
    from airflow.providers.openlineage import conf

    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")  # the provider's legacy switch, e.g. from a shell
    monkeypatch.delenv(DISABLED_VAR, raising=False)
    assert not conf.is_disabled(), "a stray OPENLINEAGE_URL turns the provider on unless it is disabled"
    monkeypatch.setenv(DISABLED_VAR, airflow_environ(_clean_environ())[DISABLED_VAR])
    assert conf.is_disabled()

    lineage = Lineage(url="https://lineage.example.com:8443", namespace="team-a", api_key_connection="ol_default")
    for key, value in lineage_environ("prod", lineage).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("OPENLINEAGE_URL")
    assert not conf.is_disabled()
    assert conf.namespace() == "team-a"
    assert conf.custom_extractors() == set(EXTRACTORS.split(";"))
    assert conf.transport() == {
        "type": "http",
        "url": "https://lineage.example.com:8443",
        "endpoint": "api/v1/lineage",
        "auth": {"type": "airflow_connection_api_key", "conn_id": "ol_default"},
    }


def test_an_explicit_variable_wins_over_the_config(config_copy: ConfigCopy) -> None:
    config_copy.edit("variables/local.yaml", lambda data: data.update(lineage={"url": "http://127.0.0.1:5000"}))
    on = airflow_environ(_clean_environ(LAKEHOUSE_CONFIG_DIR=str(config_copy.dir)))
    assert on[DISABLED_VAR] == "False" and json.loads(on[TRANSPORT_VAR])["url"] == "http://127.0.0.1:5000"
    assert on[NAMESPACE_VAR] == "lakehouse-local"
    told = _clean_environ(LAKEHOUSE_CONFIG_DIR=str(config_copy.dir), **{DISABLED_VAR: "True"})
    assert airflow_environ(told)[DISABLED_VAR] == "True"
    # Lineage off in config, but the environment configures the provider's transport itself.
    console = json.dumps({"type": "console"})
    own = airflow_environ(_clean_environ(**{TRANSPORT_VAR: console}))
    assert DISABLED_VAR not in own and own[TRANSPORT_VAR] == console
    # Another environment's config decides: LAKEHOUSE_ENV selects it.
    assert airflow_environ(_clean_environ(LAKEHOUSE_ENV="prod"))[DISABLED_VAR] == "True"


def test_the_compose_processes_have_the_local_environments_settings() -> None:
    environment = (yaml.safe_load((ROOT / "docker-compose.yaml").read_text()))["x-airflow"]["environment"]
    local = load_config("local").require_environment().lineage
    expected = lineage_environ("local", local)
    assert environment[DISABLED_VAR] == f"${{{DISABLED_VAR}:-{expected[DISABLED_VAR]}}}"
    assert environment[NAMESPACE_VAR] == job_namespace("local", local)
    assert environment["AIRFLOW__OPENLINEAGE__EXTRACTORS"] == EXTRACTORS


@pytest.mark.slow
def test_a_dag_run_sends_start_and_complete_of_every_task_to_the_endpoint(
    airflow_db: Path, config_copy: ConfigCopy, tmp_path: Path
) -> None:
    receiver = HttpReceiver().start()
    try:
        lineage = {
            "url": receiver.url,
            "endpoint": "ol/api/v1/lineage",
            "namespace": "lakehouse-lineage-test",
            "api_key_connection": "openlineage_test",
        }
        config_copy.edit("variables/local.yaml", lambda data: data.update(lineage=lineage))
        connection = json.dumps({"conn_type": "http", "password": API_KEY})
        environ = _clean_environ(LAKEHOUSE_CONFIG_DIR=str(config_copy.dir), AIRFLOW_CONN_OPENLINEAGE_TEST=connection)
        system = _smallest_system()
        run = _run_dag(environ, system, date(2026, 3, 2), tmp_path)
        # Task events are sent before the task ends; the DAG run's from a process pool, so wait for it.
        # dag.test() creates its run already running: only the scheduler's runs have a START.
        expected = 2 * len(run["tasks"]) + 1
        requests = receiver.wait_for(expected, timeout=30)
    finally:
        receiver.stop()

    assert {request.path for request in requests} == {"/ol/api/v1/lineage"}
    assert {request.headers.get("Authorization") for request in requests} == {f"Bearer {API_KEY}"}
    events = [request.body for request in requests]
    assert {event["job"]["namespace"] for event in events} == {"lakehouse-lineage-test"}
    dag_id = run["dag_id"]
    assert dag_id == ingest_dag_id(system)
    by_job: dict[str, dict[str, dict[str, Any]]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], {})[event["eventType"]] = event
    tasks = {f"{dag_id}.{task_id}" for task_id in run["tasks"]}
    assert set(by_job) == {dag_id} | tasks
    assert {job: set(by_job[job]) for job in tasks} == {job: {"START", "COMPLETE"} for job in tasks}
    assert set(by_job[dag_id]) == {"COMPLETE"}

    config = load_config("local", config_copy.dir)
    environment, entities = config.require_environment(), config.systems[system].entities
    for entity in entities:
        table = silver_table(environment, system, config.systems[system], entity)
        gate = by_job[f"{dag_id}.{entity}.dq_gate"]
        for event_type in ("START", "COMPLETE"):
            assert gate[event_type]["inputs"] == []
            assert [(d["namespace"], d["name"]) for d in gate[event_type]["outputs"]] == [("x-lakehouse", str(table))]
        # The stage tasks' datasets are the stage registry's tables.
        for stage in ("bronze", "silver"):
            declared = stages.stage(stage)
            arguments = {"system": system, "entity": entity}
            event = by_job[f"{dag_id}.{entity}.{stage}"]["COMPLETE"]
            for side, tables in (("inputs", declared.reads), ("outputs", declared.writes)):
                datasets = [("x-lakehouse", str(t)) for t in tables(config, arguments)]
                assert [(d["namespace"], d["name"]) for d in event[side]] == datasets, (stage, side)
        assert by_job[f"{dag_id}.{entity}.silver"]["COMPLETE"]["outputs"][0]["name"] == str(table)
    assert len(requests) == expected, "no event twice"


@pytest.mark.slow
def test_with_lineage_off_nothing_is_sent_even_with_openlineage_url_set(airflow_db: Path, tmp_path: Path) -> None:
    receiver = HttpReceiver().start()
    try:
        _run_dag(_clean_environ(OPENLINEAGE_URL=receiver.url), _smallest_system(), date(2026, 3, 3), tmp_path)
    finally:
        receiver.stop()
    # The run's process has exited: whatever it or its children sent has arrived.
    assert receiver.requests == []
