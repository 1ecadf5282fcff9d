"""The ``lakehouse`` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ConfigCopy

LAKEHOUSE = str(Path(sys.executable).with_name("lakehouse"))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LAKEHOUSE, *args], capture_output=True, text=True, env=env or os.environ.copy(), timeout=300)


def test_validate_passes_on_the_shipped_config_for_every_environment() -> None:
    result = _run("validate", "--all-envs")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{env}: OK (5 systems: jarvis, amdm, pega, cmdm, sfdc; 9 Gold tables)"
        for env in ("dev", "local", "prod", "test")
    ]


def test_validate_prints_every_problem_and_exits_non_zero(config_copy: ConfigCopy) -> None:
    config_copy.edit("systems.yaml", lambda d: d["systems"]["pega"]["dq_rules"][2].update(action="drop"))
    config_copy.edit("pipelines.yaml", lambda d: d["gold"]["tables"][0].update(inputs=["crm.customer"]))
    result = _run("validate", "--env", "prod", "--config-dir", str(config_copy.dir))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "prod: 2 problem(s)"
    assert lines[1] == (
        f"  - {config_copy.dir}/systems.yaml: systems.pega.dq_rules[2].action: "
        "Input should be 'warn', 'quarantine' or 'fail' (got 'drop')"
    )
    assert lines[2] == (
        f"  - {config_copy.dir}/pipelines.yaml: gold.tables[0].inputs[0]: "
        "unknown system 'crm'; known: amdm, cmdm, jarvis, pega, sfdc (got 'crm.customer')"
    )


def test_validate_takes_the_environment_from_the_variable(config_copy: ConfigCopy) -> None:
    result = _run("validate", env={**os.environ, "LAKEHOUSE_ENV": "nowhere"})
    assert result.returncode == 1
    assert "no such environment 'nowhere' (set LAKEHOUSE_ENV); known: dev, local, prod, test" in result.stderr


@pytest.mark.slow
def test_airflow_lists_every_dag_with_no_import_errors(tmp_path: Path, config_copy: ConfigCopy) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "LAKEHOUSE"))}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow-home")
    listed = _run("airflow", "dags", "list", "--local", "--output", "plain", "--columns", "dag_id", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "creating the Airflow metadata database" in listed.stderr
    # Airflow's own warnings share stdout; the DAG ids are the plain lines of the table.
    dag_ids = sorted(line.strip() for line in listed.stdout.splitlines() if line.startswith("lakehouse_"))
    assert dag_ids == sorted(
        [f"lakehouse_ingest_{s}" for s in ("jarvis", "amdm", "pega", "cmdm", "sfdc")]
        + ["lakehouse_gold", "lakehouse_rag", "lakehouse_maintenance", "lakehouse_governance"]
    )
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

    config_copy.edit("systems.yaml", lambda d: d["systems"]["pega"]["dq_rules"][2].update(action="drop"))
    broken = _run(
        "airflow", "dags", "list-import-errors", "--local", env={**env, "LAKEHOUSE_CONFIG_DIR": str(config_copy.dir)}
    )
    assert "lakehouse_config_check.py" in broken.stdout
    assert "systems.pega.dq_rules[2].action" in broken.stdout


def test_governance_plan_prints_every_statement_of_prod() -> None:
    result = _run("governance", "plan", "--env", "prod")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "governance plan of 'prod' (target databricks): 56 statement(s)"
    assert "CREATE CATALOG IF NOT EXISTS prod_ep_marts COMMENT 'Gold: marts for BI and ML, run metrics';" in lines
    assert "CREATE OR REPLACE VIEW prod_ep_curated.customer.v_customer_secure" in lines
    assert "GRANT SELECT ON TABLE prod_ep_curated.customer.v_customer_secure TO `dpm-analyst-readers`;" in lines
    assert "ALTER TABLE prod_ep_raw.sfdc.contact_bronze ALTER COLUMN email SET TAGS ('pii' = 'true');" in lines


def test_governance_plan_of_local_says_what_spark_applies() -> None:
    result = _run("governance", "plan", "--env", "local")
    assert result.returncode == 0, result.stderr
    assert "  locally 19 apply through Spark; the rest need Unity Catalog and are not applied" in result.stdout
    assert "    -- locally: CREATE SCHEMA IF NOT EXISTS ep_raw__cmdm LOCATION '" in result.stdout
