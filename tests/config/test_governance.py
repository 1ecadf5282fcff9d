"""``config/governance.yaml`` and each environment's groups: every problem named by file, key and value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lakehouse.config import ConfigError, load_config
from lakehouse.core.governance import build_plan
from tests.conftest import ENVIRONMENTS, ConfigCopy


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_shipped_governance_is_valid(env: str) -> None:
    config = load_config(env)
    assert config.governance_issues == ()
    governance = config.require_governance()
    assert set(config.require_environment().governance.groups) == set(governance.roles)


@pytest.mark.parametrize("env", ["local", "dev"])
def test_the_projects_governance_is_valid(project: ConfigCopy, env: str) -> None:
    config = load_config(env)
    assert config.governance_issues == ()
    assert set(config.require_governance().roles) == {"engineers", "analysts", "pii_readers"}
    assert set(config.require_environment().governance.groups) == {"engineers", "analysts", "pii_readers"}


def _issues(project: ConfigCopy, env: str = "dev") -> list[str]:
    config = load_config(env, project.dir)
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
            _set("grants", "gold", "auditors", value=["SELECT"]),
            "governance.yaml: grants.gold.auditors: unknown role; roles: analysts, engineers, pii_readers "
            "(got 'auditors')",
        ),
        (
            _set("grants", "gold", "analysts", value=["SELECT", "READ"]),
            "governance.yaml: grants.gold.analysts[1]: Input should be 'ALL PRIVILEGES'",
        ),
        (
            _set("grants", "lake", value={}),
            "governance.yaml: grants.lake: Input should be 'bronze', 'silver', 'gold' or 'ai'",
        ),
        (
            _set("secure_views", "v_customer", "masks", "emial", value="mask_email"),
            "governance.yaml: secure_views.v_customer.masks.emial: not a column of the contract; "
            "available: customer_id, name, email, country, updated_ts (got 'emial')",
        ),
        (
            _set("secure_views", "v_customer", "masks", "email", value="hash_email"),
            "governance.yaml: secure_views.v_customer.masks.email: unknown function; "
            "functions: mask_email, mask_text (got 'hash_email')",
        ),
        (
            _set("secure_views", "v_customer", "source", value="support.ticket"),
            "governance.yaml: secure_views.v_customer.source: not a Silver table as system.entity "
            "(got 'support.ticket')",
        ),
        (
            _set("secure_views", "v_customer", "rows", value={"column": "country"}),
            "governance.yaml: secure_views.v_customer.rows: row rules that let no role see a row",
        ),
        (
            _set("functions", "hash_email", value={"zone": "silver", "schema": "crm"}),
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
    project: ConfigCopy, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    assert _issues(project) == []
    project.edit("governance.yaml", change)
    issues = _issues(project)
    assert any(expected in issue for issue in issues), issues


def test_every_role_needs_a_group_in_each_environment_and_no_other(project: ConfigCopy) -> None:
    def change(data: dict[str, Any]) -> None:
        groups = data["governance"]["groups"]
        groups["analyst"] = groups.pop("analysts")

    project.edit("variables/local.yaml", change)
    assert [issue.split("config/", 1)[1] for issue in _issues(project, "local")] == [
        "variables/local.yaml: governance.groups.analysts: every role of governance.yaml needs its group",
        "variables/local.yaml: governance.groups.analyst: unknown role; roles: analysts, engineers, pii_readers "
        "(got 'analyst')",
    ]
    assert _issues(project, "dev") == []


def test_a_databricks_environment_needs_a_sql_warehouse_for_governance(project: ConfigCopy) -> None:
    project.edit("variables/dev.yaml", lambda data: data["databricks"].pop("gold_warehouse"))
    (issue,) = _issues(project, "dev")
    assert issue.endswith(
        "variables/dev.yaml: databricks.governance_warehouse: the governance statements need a SQL "
        "warehouse: set it, or databricks.gold_warehouse"
    )
    project.edit("variables/dev.yaml", lambda data: data["databricks"].update(governance_warehouse="test-dev-uc"))
    assert _issues(project, "dev") == []


def test_a_broken_governance_file_stops_the_plan_only(project: ConfigCopy) -> None:
    project.edit("governance.yaml", _set("roles", value={}))
    config = load_config("dev", project.dir)
    with pytest.raises(ConfigError, match="roles: Dictionary should have at least 1 item"):
        config.require_governance()
    assert config.pipelines is not None and config.pipeline_issues == ()
    assert list(config.systems) == ["crm", "billing"] and config.system_issues == {}


def test_a_secure_view_over_a_broken_system_names_it_instead_of_failing_to_plan(project: ConfigCopy) -> None:
    project.edit("systems.yaml", lambda d: d["systems"]["crm"]["dq_rules"][0].update(action="drop"))
    config = load_config("dev")
    assert config.broken_systems == ("crm",) and config.governance_issues == ()
    with pytest.raises(ConfigError, match="Unity Catalog governance cannot be planned") as caught:
        build_plan(config)
    (issue,) = caught.value.issues
    expected = "secure_views.v_customer.source: reads system 'crm', which has problems of its own (got 'crm.customer')"
    assert str(issue).endswith(expected)
