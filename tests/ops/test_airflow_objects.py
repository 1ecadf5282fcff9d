"""``lakehouse env apply`` against a running Airflow (REST API): creates, then changes nothing, then
updates only what config (or an operator) changed and keeps the password Airflow has; ``env show``
masks secrets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from lakehouse.cli import main
from lakehouse.config import ConfigError, load_config
from lakehouse.core.naming import SILVER_GATE_POOL
from lakehouse.ops import airflow_objects
from lakehouse.ops.stack import running_stack
from tests.conftest import TEAMS_WEBHOOK_SECRET, ConfigCopy


def _actions(changes: list[airflow_objects.Change]) -> dict[str, str]:
    return {f"{change.kind} {change.key}": change.action for change in changes}


@pytest.mark.slow
def test_apply_creates_then_changes_nothing_then_updates_only_the_changed_field(
    searchable_folder: Path,
    project: ConfigCopy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_stack(searchable_folder) as stack:
        api = stack.api
        first = airflow_objects.plan(load_config("dev"), api)
        # The stack made the DAGs' pool when it started, as apply does.
        assert {key: action for key, action in _actions(first).items() if action != "create"} == {
            f"pool {SILVER_GATE_POOL}": "unchanged"
        }
        airflow_objects.apply(first, api, report=lambda line: None)

        again = airflow_objects.plan(load_config("dev"), api)
        assert set(_actions(again).values()) == {"unchanged"}, _actions(again)

        # An operator sets the secret by hand (or it is in the backend); a config change keeps it.
        api("PATCH", "/api/v2/connections/smtp_default?update_mask=password", _smtp(password="relay-pass"))
        project.edit("variables/dev.yaml", lambda d: d["airflow"]["connections"]["smtp_default"].update(port=2525))
        project.edit("variables/dev.yaml", lambda d: d["airflow"]["variables"].update(owner_team="team-data"))
        # An operator widens the gates' pool, which would let their Silver events race again.
        widened = {"name": SILVER_GATE_POOL, "slots": 4, "include_deferred": False}
        api("PATCH", f"/api/v2/pools/{SILVER_GATE_POOL}?update_mask=slots", widened)
        changed = airflow_objects.plan(load_config("dev"), api)
        assert {k: v for k, v in _actions(changed).items() if v != "unchanged"} == {
            "connection smtp_default": "update",
            "variable owner_team": "create",
            f"pool {SILVER_GATE_POOL}": "update",
        }
        updates = sorted(c.describe() for c in changed if c.action == "update")
        assert updates == ["~ connection smtp_default: port: 587 -> 2525", f"~ pool {SILVER_GATE_POOL}: slots: 4 -> 1"]

        monkeypatch.setenv("AIRFLOW_API_USERNAME", "admin")
        monkeypatch.setenv("AIRFLOW_API_PASSWORD", stack.password)
        capsys.readouterr()
        assert main(["env", "apply", "--env", "dev", "--dry-run", "--airflow-url", stack.url]) == 0
        dry_run = capsys.readouterr().out
        unchanged = len(first) - 2  # all but the updated connection and pool; the new variable comes on top
        assert f"environment dev in the Airflow at {stack.url}: 1 to create, 2 to update, {unchanged} to unchanged" in (
            dry_run
        )
        assert "+ variable owner_team: 'team-data'" in dry_run
        assert "~ connection smtp_default: port: 587 -> 2525" in dry_run
        assert main(["env", "apply", "--env", "dev", "--airflow-url", stack.url]) == 0
        smtp = api("GET", "/api/v2/connections/smtp_default")
        assert (smtp["port"], smtp["host"]) == (2525, "smtp.example.com")
        assert smtp["password"], "the password set in Airflow survived the update"
        assert api("GET", f"/api/v2/pools/{SILVER_GATE_POOL}")["slots"] == 1
        assert api("GET", "/api/v2/variables/lakehouse_catalogs")["value"] == (
            '{"ai": "dev_ai", "bronze": "dev_raw", "gold": "dev_marts", "silver": "dev_curated"}'
        )
        assert set(_actions(airflow_objects.plan(load_config("dev"), api)).values()) == {"unchanged"}


def _smtp(**fields: Any) -> dict[str, Any]:
    return {"connection_id": "smtp_default", "conn_type": "smtp", **fields}


def test_a_secret_in_config_is_refused(project: ConfigCopy) -> None:
    teams = {"conn_type": "http", "extra": {"webhook_token": "x"}}
    project.edit("variables/dev.yaml", lambda d: d["airflow"]["connections"].update(teams_default=teams))
    with pytest.raises(ConfigError, match="extra key 'webhook_token' looks like a secret"):
        load_config("dev").raise_for_issues()


def test_show_prints_what_tasks_see_with_secrets_masked(
    airflow_db: Path, project: ConfigCopy, teams_webhook: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock.patch.dict(os.environ):  # the command points this process's Airflow at the environment
        assert main(["env", "show", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("environment dev (databricks)\n")
    assert "connection teams_default (teams): conn_type='http', password='***'" in out
    assert "connection databricks_default (databricks): not defined" in out
    assert "variable lakehouse_env = (not set)" in out
    assert TEAMS_WEBHOOK_SECRET not in out
