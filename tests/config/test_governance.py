"""``config/governance.yaml`` and each environment's groups: every problem named by file, key and value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lakehouse.config import ConfigError, load_config
from tests.conftest import ENVIRONMENTS, ConfigCopy


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shipped_governance_is_valid(env: str) -> None:
    config = load_config(env)
    assert config.governance_issues == ()
    governance = config.require_governance()
    assert set(governance.roles) == {
        "data_engineering",
        "analyst_readers",
        "ml_serving",
        "ai_governance",
        "pii_readers",
    }
    assert set(config.require_environment().governance.groups) == set(governance.roles)


def _issues(config_copy: ConfigCopy, env: str = "prod") -> list[str]:
    config = load_config(env, config_copy.dir)
    return [str(issue) for issue in config.governance_issues]


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set("grants", "gold", "analysts", value=["SELECT"]),
            "governance.yaml: grants.gold.analysts: unknown role; roles: ai_governance, analyst_readers, "
            "data_engineering, ml_serving, pii_readers (got 'analysts')",
        ),
        (
            _set("grants", "gold", "ml_serving", value=["SELECT", "READ"]),
            "governance.yaml: grants.gold.ml_serving[1]: Input should be 'ALL PRIVILEGES'",
        ),
        (
            _set("grants", "lake", value={}),
            "governance.yaml: grants.lake: Input should be 'bronze', 'silver', 'gold' or 'ai'",
        ),
        (
            _set("secure_views", "v_customer_secure", "masks", "emial", value="mask_email"),
            "governance.yaml: secure_views.v_customer_secure.masks.emial: not a column of the contract; "
            "available: prty_id, first_name, last_name, email, phone, updated_ts (got 'emial')",
        ),
        (
            _set("secure_views", "v_customer_secure", "masks", "email", value="hash_email"),
            "governance.yaml: secure_views.v_customer_secure.masks.email: unknown function; "
            "functions: mask_email, mask_text (got 'hash_email')",
        ),
        (
            _set("secure_views", "v_customer_secure", "source", value="crm.customer"),
            "governance.yaml: secure_views.v_customer_secure.source: not a Silver table as system.entity "
            "(got 'crm.customer')",
        ),
        (
            _set("secure_views", "v_customer_secure", "rows", value={"column": "state"}),
            "governance.yaml: secure_views.v_customer_secure.rows: row rules that let no role see a row",
        ),
        (
            _set("functions", "hash_email", value={"zone": "silver", "schema": "customer"}),
            "governance.yaml: functions.hash_email: no SQL file "
            "airflow/include/sql/governance/functions/hash_email.sql",
        ),
        (
            _set("pii_readers", value="pii"),
            "governance.yaml: pii_readers: unknown role",
        ),
    ],
)
def test_a_bad_governance_file_is_named(
    config_copy: ConfigCopy, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    config_copy.edit("governance.yaml", change)
    issues = _issues(config_copy)
    assert any(expected in issue for issue in issues), issues


def test_every_role_needs_a_group_in_each_environment_and_no_other(config_copy: ConfigCopy) -> None:
    def change(data: dict[str, Any]) -> None:
        groups = data["governance"]["groups"]
        groups["analysts"] = groups.pop("analyst_readers")

    config_copy.edit("variables/test.yaml", change)
    assert [issue.split("config/", 1)[1] for issue in _issues(config_copy, "test")] == [
        "variables/test.yaml: governance.groups.analyst_readers: every role of governance.yaml needs its group",
        "variables/test.yaml: governance.groups.analysts: unknown role; roles: ai_governance, analyst_readers, "
        "data_engineering, ml_serving, pii_readers (got 'analysts')",
    ]
    assert _issues(config_copy, "prod") == []


def test_a_databricks_environment_needs_a_sql_warehouse_for_governance(config_copy: ConfigCopy) -> None:
    config_copy.edit("variables/dev.yaml", lambda data: data["databricks"].pop("governance_warehouse"))
    (issue,) = _issues(config_copy, "dev")
    assert issue.endswith(
        "variables/dev.yaml: databricks.governance_warehouse: the governance statements need a SQL "
        "warehouse: set it, or databricks.gold_warehouse"
    )


def test_a_broken_governance_file_stops_the_plan_only(config_copy: ConfigCopy) -> None:
    config_copy.edit("governance.yaml", _set("roles", value={}))
    config = load_config("prod", config_copy.dir)
    with pytest.raises(ConfigError, match="roles: Dictionary should have at least 1 item"):
        config.require_governance()
    assert config.pipelines is not None and config.pipeline_issues == () and len(config.systems) == 5
