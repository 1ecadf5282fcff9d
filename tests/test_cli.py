"""The ``lakehouse`` command as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.config import available_envs, load_config
from lakehouse.core.governance import build_plan
from lakehouse.core.naming import GOLD_DAG_ID, GOVERNANCE_DAG_ID, MAINTENANCE_DAG_ID, RAG_DAG_ID, ingest_dag_id
from tests.conftest import CONFIG_DIR, ENVIRONMENTS, ConfigCopy

LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LAKEHOUSE, *args], capture_output=True, text=True, env=env or os.environ.copy(), timeout=300)


def test_validate_passes_on_the_shipped_config_for_every_environment() -> None:
    result = _run("validate", "--all-envs")
    assert result.returncode == 0, result.stderr
    expected = []
    for env in available_envs(CONFIG_DIR):
        config = load_config(env, CONFIG_DIR)
        systems, gold = list(config.systems), config.require_pipelines().gold.tables
        expected.append(f"{env}: OK ({len(systems)} systems: {', '.join(systems)}; {len(gold)} Gold tables)")
    assert result.stdout.splitlines() == expected


def test_validate_names_the_systems_and_gold_tables_of_every_environment(project: ConfigCopy) -> None:
    result = _run("validate", "--all-envs")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{env}: OK (2 systems: crm, billing; 3 Gold tables)" for env in ("dev", "local")
    ]


def test_validate_prints_every_problem_and_exits_non_zero(project: ConfigCopy) -> None:
    project.edit("systems.yaml", lambda d: d["systems"]["crm"]["dq_rules"][2].update(action="drop"))
    project.edit("pipelines.yaml", lambda d: d["gold"]["tables"][1].update(inputs=["support.ticket"]))
    result = _run("validate", "--env", "dev", "--config-dir", str(project.dir))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "dev: 2 problem(s)"
    assert lines[1] == (
        f"  - {project.dir}/systems.yaml: systems.crm.dq_rules[2].action: "
        "Input should be 'warn', 'quarantine' or 'fail' (got 'drop')"
    )
    assert lines[2] == (
        f"  - {project.dir}/pipelines.yaml: gold.tables[1].inputs[0]: "
        "unknown system 'support'; known: billing, crm (got 'support.ticket')"
    )


def test_validate_takes_the_environment_from_the_variable(project: ConfigCopy) -> None:
    result = _run("validate", env={**os.environ, "LAKEHOUSE_ENV": "nowhere"})
    assert result.returncode == 1
    assert "no such environment 'nowhere' (set LAKEHOUSE_ENV); known: dev, local" in result.stderr


@pytest.mark.slow
def test_airflow_lists_every_dag_with_no_import_errors(tmp_path: Path, config_copy: ConfigCopy) -> None:
    """The shipped config, as ``lakehouse airflow`` loads it with nothing selected."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "LAKEHOUSE"))}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow-home")
    listed = _run("airflow", "dags", "list", "--local", "--output", "plain", "--columns", "dag_id", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "creating the Airflow metadata database" in listed.stderr
    # Airflow's own warnings share stdout; the DAG ids are the plain lines of the table.
    dag_ids = sorted(line.strip() for line in listed.stdout.splitlines() if line.startswith("lakehouse_"))
    config = load_config("local", CONFIG_DIR)
    expected = [ingest_dag_id(name) for name in config.systems]
    assert dag_ids == sorted([*expected, GOLD_DAG_ID, RAG_DAG_ID, MAINTENANCE_DAG_ID, GOVERNANCE_DAG_ID])
    errors = _run("airflow", "dags", "list-import-errors", "--local", env=env)
    assert errors.returncode == 0, errors.stderr
    assert "No data found" in errors.stdout

    # What the scheduler sees: every DAG serialised into the metadata database (deadlines, assets,
    # notifiers and params included) and read back.
    serialised = _run("airflow", "dags", "reserialize", env=env)
    assert serialised.returncode == 0, serialised.stderr
    from_db = _run("airflow", "dags", "list", "--output", "plain", "--columns", "dag_id", env=env)
    assert sorted(line.strip() for line in from_db.stdout.splitlines() if line.startswith("lakehouse_")) == dag_ids
    db_errors = _run("airflow", "dags", "list-import-errors", env=env)
    assert "No data found" in db_errors.stdout

    name = next(name for name, system in config.systems.items() if system.dq_rules)
    config_copy.edit("systems.yaml", lambda d: d["systems"][name]["dq_rules"][0].update(action="drop"))
    broken = _run(
        "airflow", "dags", "list-import-errors", "--local", env={**env, "LAKEHOUSE_CONFIG_DIR": str(config_copy.dir)}
    )
    assert "lakehouse_config_check.py" in broken.stdout
    assert f"systems.{name}.dq_rules[0].action" in broken.stdout


def test_governance_plan_prints_every_statement(project: ConfigCopy) -> None:
    result = _run("governance", "plan", "--env", "dev")
    assert result.returncode == 0, result.stderr
    plan = build_plan(load_config("dev"))
    lines = result.stdout.splitlines()
    assert lines[0] == f"governance plan of 'dev' (target databricks): {len(plan.statements)} statement(s)"
    for statement in plan.statements:
        assert f"{statement.sql};" in result.stdout
    assert "CREATE CATALOG IF NOT EXISTS dev_marts COMMENT 'Gold: marts for BI and ML, run metrics';" in lines
    assert "CREATE OR REPLACE VIEW dev_curated.crm.v_customer" in lines
    assert "GRANT SELECT ON TABLE dev_curated.crm.v_customer TO `analysts-dev`;" in lines
    assert "ALTER TABLE dev_raw.crm.customer_bronze ALTER COLUMN email SET TAGS ('pii' = 'true');" in lines


def test_governance_plan_of_local_says_what_spark_applies(project: ConfigCopy) -> None:
    result = _run("governance", "plan", "--env", "local")
    assert result.returncode == 0, result.stderr
    plan = build_plan(load_config("local"))
    applied = sum(statement.local is not None for statement in plan.statements)
    assert 0 < applied < len(plan.statements)
    assert f"  locally {applied} apply through Spark; the rest need Unity Catalog and are not applied" in result.stdout
    assert "    -- locally: CREATE SCHEMA IF NOT EXISTS t_raw__crm LOCATION '" in result.stdout


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_governance_plan_and_jobs_render_work_for_every_shipped_environment(env: str) -> None:
    config = load_config(env, CONFIG_DIR)
    plan = _run("governance", "plan", "--env", env)
    assert plan.returncode == 0, plan.stderr
    target = config.require_environment().target
    statements = len(build_plan(config).statements)
    assert plan.stdout.splitlines()[0] == f"governance plan of '{env}' (target {target}): {statements} statement(s)"
    if target != "databricks":
        return
    jobs = _run("jobs", "render", "--env", env)
    assert jobs.returncode == 0, jobs.stderr
    names = config.require_databricks().databricks.jobs
    assert {key: job["name"] for key, job in json.loads(jobs.stdout).items()} == dict(names)
