"""The DAG folder as Airflow loads it: a real DagBag per environment, and runs with ``dag.test()``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from lakehouse.config import load_config
from lakehouse.core.naming import GOLD_DAG_ID, GOVERNANCE_DAG_ID, MAINTENANCE_DAG_ID, RAG_DAG_ID, ingest_dag_id
from tests.conftest import DAGS_FOLDER, ENVIRONMENTS, ConfigCopy

INGEST_DAG_IDS = ["lakehouse_ingest_billing", "lakehouse_ingest_crm"]
"""The test project's systems."""
ALL_DAG_IDS = sorted([*INGEST_DAG_IDS, GOLD_DAG_ID, RAG_DAG_ID, MAINTENANCE_DAG_ID, GOVERNANCE_DAG_ID])


def _dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_FOLDER))


def _errors(bag: DagBag) -> dict[str, str]:
    return {Path(path).name: message for path, message in bag.import_errors.items()}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shipped_config_loads_every_dag_without_import_errors(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENV", env)
    config = load_config(env)
    expected = [ingest_dag_id(name) for name in config.systems]
    expected += [GOLD_DAG_ID, RAG_DAG_ID, MAINTENANCE_DAG_ID, GOVERNANCE_DAG_ID]
    bag = _dagbag()
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(expected)
    for dag in bag.dags.values():
        assert f"env:{env}" in dag.tags


@pytest.mark.parametrize("env", ["local", "dev"])
def test_every_dag_loads_without_import_errors(env: str, project: ConfigCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENV", env)
    bag = _dagbag()
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ALL_DAG_IDS
    for dag in bag.dags.values():
        assert f"env:{env}" in dag.tags


def test_a_broken_system_is_an_import_error_naming_it_and_the_rest_loads(project: ConfigCopy) -> None:
    project.edit("systems.yaml", lambda d: d["systems"]["billing"]["dq_rules"][0].update(action="drop"))
    bag = _dagbag()
    errors = _errors(bag)
    assert list(errors) == ["lakehouse_config_check.py"]
    message = errors["lakehouse_config_check.py"]
    assert "systems.billing.dq_rules[0].action: Input should be 'warn', 'quarantine' or 'fail' (got 'drop')" in message
    assert f"{project.dir}/systems.yaml" in message
    assert sorted(bag.dag_ids) == [dag_id for dag_id in ALL_DAG_IDS if dag_id != "lakehouse_ingest_billing"]


def test_a_broken_gold_config_keeps_every_ingest_dag(project: ConfigCopy) -> None:
    project.edit("pipelines.yaml", lambda d: d["gold"]["tables"][0].update(inputs=["support.ticket"]))
    errors = _errors(_dagbag())
    assert sorted(errors) == [
        "lakehouse_config_check.py",
        "lakehouse_gold.py",
        "lakehouse_governance.py",
        "lakehouse_maintenance.py",
        "lakehouse_rag.py",
    ]
    assert all("gold.tables[0].inputs[0]: unknown system 'support'" in message for message in errors.values())
    assert sorted(_dagbag().dag_ids) == INGEST_DAG_IDS


def test_a_broken_governance_config_stops_only_the_governance_dag(project: ConfigCopy) -> None:
    project.edit("governance.yaml", lambda d: d["grants"]["gold"].update(auditors=["SELECT"]))
    errors = _errors(_dagbag())
    assert sorted(errors) == ["lakehouse_config_check.py", "lakehouse_governance.py"]
    assert all("governance.yaml: grants.gold.auditors: unknown role" in message for message in errors.values())
    assert sorted(_dagbag().dag_ids) == [dag_id for dag_id in ALL_DAG_IDS if dag_id != "lakehouse_governance"]


def test_a_broken_environment_fails_every_file_with_its_message(project: ConfigCopy) -> None:
    project.edit("variables/local.yaml", lambda d: d.update(target="kubernetes"))
    bag = _dagbag()
    assert bag.dag_ids == []
    assert len(bag.import_errors) == len(list(DAGS_FOLDER.glob("*.py")))  # every DAG file
    assert all(
        "target: unknown target; allowed: local, databricks (got 'kubernetes')" in m for m in bag.import_errors.values()
    )


@pytest.mark.slow
def test_a_failing_task_fails_its_run_loudly_through_airflow(
    airflow_db: Path,
    project: ConfigCopy,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_retries(data: Any) -> None:
        data["retries"] = {"retries": 0}

    project.edit("variables/local.yaml", no_retries)
    knowledge = tmp_path / "knowledge"
    (knowledge / "crm").mkdir(parents=True)
    (knowledge / "crm" / "customer-runbook.md").write_text("no front matter here")
    monkeypatch.setenv("LAKEHOUSE_KNOWLEDGE_ROOT", str(knowledge))
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    dag = _dagbag().get_dag("lakehouse_rag")
    with caplog.at_level(logging.ERROR):
        run = dag.test(logical_date=None, run_conf={"logical_date": "2026-03-02"})
    assert run.state == "failed"
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {"build_index": "failed"}
    assert "crm/customer-runbook.md: no front matter" in caplog.text
    assert "[lakehouse local] task failed: lakehouse_rag.build_index" in caplog.text
    assert not (tmp_path / "warehouse" / "t_ai").exists(), "nothing is written when a document is invalid"
