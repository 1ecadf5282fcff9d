"""Adding a source system is config only: an entry in ``systems.yaml``, the entity's contract and
sample payloads, and knowledge documents (named in ``rag.domains``). No code, DAG file, SQL file or
Databricks job changes. ``docs/guides/add-a-source-system.md`` walks through it; here it is done to
the test project, and everything downstream picks the system up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from lakehouse.airflow.factory import gold_dag, ingest_dags, maintenance_dag, rag_dag
from lakehouse.cli import main
from lakehouse.config import load_config
from lakehouse.core.governance import build_plan
from lakehouse.core.locations import knowledge_root
from lakehouse.core.rag.documents import load_documents
from tests.conftest import DAGS_FOLDER, ConfigCopy

CONTRACT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:lakehouse:contract:support.ticket",
    "title": "support.ticket",
    "description": "A support ticket a customer raised.",
    "version": "1.0.0",
    "type": "object",
    "properties": {
        "ticket_id": {"type": "string"},
        "customer_id": {"type": ["string", "null"]},
        "requester_email": {"type": ["string", "null"], "x-pii": True},
        "status": {"type": ["string", "null"]},
        "opened_ts": {"type": ["string", "null"], "format": "date-time"},
    },
    "required": ["ticket_id"],
    "additionalProperties": False,
}
SAMPLES = [
    {
        "ticket_id": "T1",
        "customer_id": "C1",
        "requester_email": "ada@example.com",
        "status": "open",
        "opened_ts": "2026-03-01T08:30:00Z",
    },
    {"ticket_id": "T2", "customer_id": None, "requester_email": None, "status": None, "opened_ts": None},
]
SYSTEM = {
    "description": "Tickets from the support desk.",
    "domain": "service",
    "owner": "team-support",
    "tags": ["tickets"],
    "entities": {
        "ticket": {
            "format": "csv",
            "natural_key": ["ticket_id"],
            "canonical_keys": {"customer_sk": "customer_id"},
            "silver": {"table": "ticket_silver"},
            "silver_rules": [{"rule": "normalise_enum", "column": "status"}],
        }
    },
    "dq_rules": [
        {"check": "not_null", "column": "ticket_id", "action": "fail"},
        {"check": "in_set", "column": "status", "values": ["OPEN", "CLOSED"], "action": "quarantine"},
    ],
}
RUNBOOK = """---
title: Support tickets - runbook
domain: support
doc_type: runbook
classification: internal
retention: P3Y
owner: team-support
---

# Support tickets

A ticket whose status is neither OPEN nor CLOSED is quarantined.
"""


def add_support(project: ConfigCopy) -> None:
    """What the guide has one do: the system's entry, its contract and sample, a knowledge document."""
    project.edit("systems.yaml", lambda data: data["systems"].update(support=SYSTEM))
    contracts = project.path("contracts/support")
    (contracts / "samples").mkdir(parents=True)
    (contracts / "ticket.schema.json").write_text(json.dumps(CONTRACT, indent=2))
    (contracts / "samples" / "ticket.json").write_text(json.dumps(SAMPLES, indent=2))
    project.edit("pipelines.yaml", lambda data: data["rag"]["domains"].append("support"))
    runbook = project.dir.parent / "knowledge" / "support" / "ticket-runbook.md"
    runbook.parent.mkdir()
    runbook.write_text(RUNBOOK)


@pytest.mark.parametrize("env", ["local", "dev"])
def test_the_config_loads_with_the_system_and_no_issue(project: ConfigCopy, env: str) -> None:
    add_support(project)
    config = load_config(env)
    assert config.issues == ()
    assert list(config.systems) == ["crm", "billing", "support"]
    ticket = config.systems["support"].entities["ticket"]
    assert [column.name for column in ticket.columns] == list(CONTRACT["properties"])
    assert [column.name for column in ticket.columns if column.pii] == ["requester_email"]
    assert config.systems["support"].schedule.cron == "0 4 * * *"  # the defaults of systems.yaml


def test_contracts_validate_checks_its_sample(project: ConfigCopy, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "validate", "--config-dir", str(project.dir)]) == 0
    before = capsys.readouterr().out
    add_support(project)
    assert main(["contracts", "validate", "--config-dir", str(project.dir)]) == 0
    after = capsys.readouterr().out
    assert "contracts validate: 6 sample payload(s) validated, 0 problem(s)" in before
    assert f"contracts validate: {6 + len(SAMPLES)} sample payload(s) validated, 0 problem(s)" in after

    project.path("contracts/support/samples/ticket.json").write_text(json.dumps([*SAMPLES, {"status": "OPEN"}]))
    assert main(["contracts", "validate", "--config-dir", str(project.dir)]) == 1
    assert "ticket.json: payload 2: 'ticket_id' is a required property" in capsys.readouterr().err


@pytest.mark.parametrize("env", ["local", "dev"])
def test_the_factory_builds_its_ingest_dag_and_the_other_dags_take_it_in(project: ConfigCopy, env: str) -> None:
    gold_before = gold_dag(load_config(env))
    add_support(project)
    config = load_config(env)
    dag = ingest_dags(config)["lakehouse_ingest_support"]
    assert [task.task_id for task in dag.tasks] == ["ticket.bronze", "ticket.silver", "ticket.dq_gate"]
    bronze, silver, gate = dag.tasks
    assert bronze.upstream_task_ids == set() and silver.upstream_task_ids == {"ticket.bronze"}
    assert gate.upstream_task_ids == {"ticket.silver"} and gate.downstream_task_ids == set()
    curated = config.require_environment().catalogs.silver
    assert [asset.name for asset in gate.outlets] == [f"{curated}.support.ticket_silver"]
    assert {task.owner for task in dag.tasks} == {"team-support"}
    assert {f"env:{env}", "system:support", "domain:service", "cost_centre:CC-TEST", "tickets"} <= set(dag.tags)
    assert dag.doc_md and "`requester_email` (string, PII)" in dag.doc_md
    # Maintenance keeps its tables, RAG indexes its documents; Gold reads none of it, so is unchanged.
    assert "maintain_support" in maintenance_dag(config).task_ids
    (build_index,) = rag_dag(config).tasks
    arguments = build_index.arguments if env == "local" else build_index.job_parameters
    assert arguments["domains"] == "crm,billing,support"
    assert gold_dag(config).task_ids == gold_before.task_ids


def test_its_knowledge_documents_are_read_with_the_others(project: ConfigCopy) -> None:
    add_support(project)
    config = load_config("local")
    rag = config.require_pipelines().rag
    documents = load_documents(knowledge_root(config.require_environment(), rag), rag.domains)
    assert {document.doc_id for document in documents} >= {"support/ticket-runbook.md"}
    assert {document.meta.domain for document in documents} == {"crm", "billing", "support"}


@pytest.mark.parametrize("env", ["local", "dev"])
def test_the_dag_folder_lists_it_with_no_import_error(
    project: ConfigCopy, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENV", env)
    before = set(DagBag(dag_folder=str(DAGS_FOLDER)).dag_ids)
    add_support(project)
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == before | {"lakehouse_ingest_support"}
    assert "lakehouse_ingest_support" not in before


@pytest.mark.parametrize("env", ["local", "dev"])
def test_the_governance_plan_creates_its_schemas_and_tags_its_pii_columns(project: ConfigCopy, env: str) -> None:
    before = [statement.sql for statement in build_plan(load_config(env)).statements]
    add_support(project)
    after = [statement.sql for statement in build_plan(load_config(env)).statements]
    catalogs = load_config(env).require_environment().catalogs
    raw, curated = catalogs.bronze, catalogs.silver
    pii = "ALTER COLUMN requester_email SET TAGS ('pii' = 'true')"
    assert set(after) - set(before) == {
        f"CREATE SCHEMA IF NOT EXISTS {raw}.support",
        f"CREATE SCHEMA IF NOT EXISTS {curated}.support",
        f"ALTER TABLE {raw}.support.ticket_bronze {pii}",
        f"ALTER TABLE {curated}.support.ticket_silver {pii}",
    }
    assert set(before) <= set(after)


def test_the_databricks_jobs_need_no_change(project: ConfigCopy, capsys: pytest.CaptureFixture[str]) -> None:
    def rendered() -> Any:
        assert main(["jobs", "render", "--env", "dev"]) == 0
        return json.loads(capsys.readouterr().out)

    before = rendered()
    add_support(project)
    assert load_config("dev").systems["support"]
    assert rendered() == before
