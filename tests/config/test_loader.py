"""Every invalid-config case names the file, the dotted key, the value and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from lakehouse.config import ConfigError, load_config
from tests.conftest import ENVIRONMENTS, ConfigCopy


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_shipped_config_is_valid(env: str) -> None:
    config = load_config(env)
    assert config.issues == ()
    assert config.systems and config.require_pipelines().gold.tables
    config.require_environment()


@pytest.mark.parametrize(("env", "target"), [("local", "local"), ("dev", "databricks")])
def test_the_project_loads_every_system_of_systems_yaml(project: ConfigCopy, env: str, target: str) -> None:
    config = load_config(env)
    assert config.issues == ()
    assert list(config.systems) == ["crm", "billing"]
    assert list(config.systems["billing"].entities) == ["invoice", "payment"]
    assert config.require_environment().target == target


def test_defaults_apply_unless_a_system_overrides_them(project: ConfigCopy) -> None:
    project.edit("systems.yaml", lambda d: d["systems"]["billing"].update(schedule={"cron": "30 5 * * *"}))
    config = load_config("local")
    assert config.systems["billing"].schedule.cron == "30 5 * * *"
    assert config.systems["billing"].schedule.timezone == "UTC"
    assert config.systems["crm"].schedule.cron == "0 4 * * *"
    assert config.systems["crm"].schedule.timezone == "Australia/Sydney"
    assert config.systems["crm"].freshness_deadline.total_seconds() == 7200
    assert config.systems["crm"].cost_centre == config.systems["billing"].cost_centre == "CC-TEST"


def _messages(project: ConfigCopy, env: str = "local") -> list[str]:
    return [str(issue) for issue in load_config(env, project.dir).issues]


def _set(path: list[Any], value: Any) -> Any:
    """Set the value at ``path``, creating the mappings on the way that the file does not have."""

    def change(data: Any) -> None:
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
        node[path[-1]] = value

    return change


def _one(messages: list[str]) -> str:
    assert len(messages) == 1, messages
    return messages[0]


@pytest.mark.parametrize(
    ("file", "path", "value", "expected"),
    [
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "dq_rules", 2, "action"],
            "drop",
            "systems.crm.dq_rules[2].action: Input should be 'warn', 'quarantine' or 'fail' (got 'drop')",
            id="dq-action-not-allowed",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "dq_rules", 1, "column"],
            "e_mail",
            "systems.crm.dq_rules[1].column: not a column of the contract; available: customer_id, name, email, "
            "country, updated_ts (got 'e_mail')",
            id="dq-rule-on-unknown-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "billing", "schedule"],
            {"cron": "0 25 * * *", "timezone": "Australia/Sydney"},
            "systems.billing.schedule.cron: not a valid cron expression; expected five fields such as '0 4 * * *' "
            "(got '0 25 * * *')",
            id="cron-does-not-parse",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "billing", "schedule"],
            {"cron": "0 4 * * *", "timezone": "Australia/Sydny"},
            "systems.billing.schedule.timezone: not a known IANA timezone; expected a name such as "
            "'Australia/Sydney' (got 'Australia/Sydny')",
            id="timezone-does-not-exist",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "owner_team"],
            "x",
            "systems.crm.owner_team: unknown key; allowed: owner, cost_centre, tags, description, domain,",
            id="unknown-key",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "entities", "customer", "natural_key"],
            ["client_id"],
            "systems.crm.entities.customer.natural_key[0]: not a column of the contract; available: customer_id,",
            id="natural-key-not-a-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "billing", "entities", "payment", "canonical_keys", "customer_sk"],
            "payer.client_id",
            "systems.billing.entities.payment.canonical_keys.customer_sk: not a column of the contract; available: "
            "payment_id, invoice_id, amount, paid_ts, payer, payer.customer_id, payer.method (got 'payer.client_id')",
            id="canonical-key-not-a-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "entities", "customer", "canonical_keys", "party_sk"],
            "customer_id",
            "systems.crm.entities.customer.canonical_keys.party_sk: Input should be 'customer_sk', 'account_sk', "
            "'service_sk', 'address_sk' or 'case_sk' (got 'party_sk')",
            id="unknown-surrogate-key",
        ),
        pytest.param(
            "contracts/crm/customer.schema.json",
            ["properties", "updated_ts", "format"],
            "datetime",
            "/properties/updated_ts: unsupported type; allowed: string, string (date), string (date-time), integer, "
            "integer (int32), integer (int64), number, boolean, object (got 'string (datetime)')",
            id="unknown-column-type",
        ),
        pytest.param(
            "contracts/crm/customer.schema.json",
            ["properties", "country", "type"],
            "string",
            '/properties/country/type: an optional property allows null: use "type": [<type>, "null"] (got \'string\')',
            id="optional-property-without-null",
        ),
        pytest.param(
            "contracts/billing/invoice.schema.json",
            ["required"],
            ["invoice_id", "client_id"],
            "/required: names no property (got 'client_id')",
            id="required-names-no-property",
        ),
        pytest.param(
            "contracts/billing/invoice.schema.json",
            ["version"],
            "2",
            "/version: expected a version MAJOR.MINOR.PATCH, e.g. 1.0.0 (got '2')",
            id="contract-version-not-semver",
        ),
        pytest.param(
            "contracts/billing/payment.schema.json",
            ["properties", "payer", "additionalProperties"],
            True,
            "/properties/payer/additionalProperties: Bronze quarantines fields the contract does not name",
            id="contract-allows-unknown-fields",
        ),
        pytest.param(
            "contracts/crm/customer.schema.json",
            ["properties", "country", "maxLength"],
            "3",
            "/properties/country/maxLength: not a valid JSON Schema: '3' is not of type 'integer'",
            id="contract-not-valid-json-schema",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "entities", "customer", "columns"],
            [{"name": "customer_id", "type": "string"}],
            "systems.crm.entities.customer.columns: columns come from the entity's contract, ",
            id="columns-written-in-systems-yaml",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "dq_rules", 1, "pattern"],
            "^(\\d{4}$",
            "systems.crm.dq_rules[1].pattern: not a valid regular expression",
            id="regex-does-not-compile",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "billing", "dq_rules", 1, "entity"],
            None,
            "systems.billing.dq_rules[1].entity: required when a system has several entities; one of: invoice, "
            "payment (got None)",
            id="dq-rule-needs-entity",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "dq_rules", 1, "check"],
            "matches",
            "systems.crm.dq_rules[1]: value 'matches' found using 'check' does not match any of the expected tags: "
            "'not_null', 'regex', 'in_set', 'not_after_logical_date'",
            id="unknown-dq-check",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "entities", "customer", "silver_rules", 1, "column"],
            "region",
            "systems.crm.entities.customer.silver_rules[1].column: not a column of the contract; "
            "available: customer_id,",
            id="silver-rule-on-unknown-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "freshness_deadline"],
            "two hours",
            "systems.crm.freshness_deadline: Input should be a valid timedelta",
            id="deadline-not-a-duration",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "crm", "landing"],
            {"path": "{system}/{entity}"},
            "systems.crm.landing.path: must contain {date} so that each logical date reads its own slice",
            id="landing-without-date",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "billing", "entities", "payment", "silver"],
            {"schema": "crm", "table": "customer_silver"},
            "systems.billing.entities.payment.silver.table: Silver table crm.customer_silver is already written by "
            "crm.customer (got 'customer_silver')",
            id="two-entities-one-silver-table",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 0, "inputs"],
            ["support.ticket"],
            "gold.tables[0].inputs[0]: unknown system 'support'; known: billing, crm (got 'support.ticket')",
            id="gold-input-unknown-system",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 1, "inputs"],
            ["billing.refund"],
            "gold.tables[1].inputs[0]: system 'billing' has no entity 'refund'; it has: invoice, payment "
            "(got 'billing.refund')",
            id="gold-input-unknown-entity",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 2, "depends_on"],
            ["fact_payment"],
            "gold.tables[2].depends_on[0]: unknown Gold table; known: dim_customer, fact_invoice, customer_revenue "
            "(got 'fact_payment')",
            id="gold-unknown-dependency",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 1, "depends_on"],
            ["customer_revenue"],
            "gold.tables: depends_on forms a cycle: fact_invoice -> customer_revenue -> fact_invoice",
            id="gold-dependency-cycle",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "domains"],
            ["crm", "support"],
            "rag.domains[1]: unknown system; known: billing, crm (got 'support')",
            id="rag-unknown-domain",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "sql_tables"],
            ["dim_customer", "customer_silver"],
            "rag.sql_tables[1]: unknown Gold table; known: dim_customer, fact_invoice, customer_revenue "
            "(got 'customer_silver')",
            id="rag-sql-tool-table-not-gold",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "routing", "support"],
            ["ticket"],
            "rag.routing.support: unknown system; known: billing, crm (got 'support')",
            id="rag-routing-unknown-system",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "top_k"],
            50,
            "rag: 'top_k' (50) is above 'max_top_k' (10)",
            id="rag-top-k-above-cap",
        ),
        pytest.param(
            "pipelines.yaml",
            ["maintenance", "schedule", "timezone"],
            "Mars/Olympus",
            "maintenance.schedule.timezone: not a known IANA timezone",
            id="pipeline-timezone",
        ),
        pytest.param(
            "variables/local.yaml",
            ["target"],
            "kubernetes",
            "target: unknown target; allowed: local, databricks (got 'kubernetes')",
            id="env-unknown-target",
        ),
        pytest.param(
            "variables/local.yaml",
            ["retries", "retries"],
            "many",
            "retries.retries: Input should be a valid integer, unable to parse string as an integer (got 'many')",
            id="env-retries-not-a-number",
        ),
        pytest.param(
            "variables/local.yaml",
            ["retention_days"],
            1,
            "retention_days: Input should be greater than or equal to 7 (got 1)",
            id="env-retention-too-short",
        ),
        pytest.param(
            "variables/local.yaml",
            ["alerts", "routes", "critical"],
            ["log", "sms"],
            "alerts.routes.critical[1]: Input should be 'log', 'email', 'teams' or 'pagerduty' (got 'sms')",
            id="env-unknown-alert-channel",
        ),
        pytest.param(
            "variables/local.yaml",
            ["local"],
            None,
            "local: Input should be a valid dictionary or instance of LocalSettings (got None)",
            id="env-local-without-its-section",
        ),
        pytest.param(
            "variables/local.yaml",
            ["local", "driver_memory"],
            "4 GB",
            "local.driver_memory: String should match pattern '^\\d+[mg]$' (got '4 GB')",
            id="env-driver-memory-not-a-size",
        ),
        pytest.param(
            "variables/local.yaml",
            ["alerts"],
            {"routes": {"critical": ["email"]}},
            "alerts: a route sends email but 'email_to' is empty",
            id="env-email-route-without-recipients",
        ),
    ],
)
def test_invalid_value_is_reported_with_file_key_value_and_allowed(
    project: ConfigCopy, file: str, path: list[Any], value: Any, expected: str
) -> None:
    assert _messages(project) == []
    project.edit(file, _set(path, value))
    message = _one(_messages(project))
    assert message.startswith(f"{project.dir}/{file}: ")
    assert expected in message
    assert not message.endswith("})"), "a whole mapping is not a useful 'got' value"


def test_unknown_key_suggests_the_closest_allowed_one(project: ConfigCopy) -> None:
    project.edit("systems.yaml", lambda d: d["systems"]["crm"].update(schedle=d["systems"]["crm"].get("tags")))
    assert "did you mean 'schedule'?" in _one(_messages(project))


def test_missing_required_key(project: ConfigCopy) -> None:
    project.edit("systems.yaml", lambda d: d["systems"]["billing"].pop("owner"))
    assert _one(_messages(project)).endswith("systems.yaml: systems.billing.owner: required key is missing")


def test_yaml_syntax_error_names_the_line(project: ConfigCopy) -> None:
    path = project.path("pipelines.yaml")
    lines = path.read_text().splitlines()
    lines[3] = "gold: [unclosed"
    path.write_text("\n".join(lines))
    message = _one(_messages(project))
    assert message.startswith(f"{path}: not valid YAML: line ")


def test_unknown_environment_lists_the_known_ones(project: ConfigCopy) -> None:
    message = _one(_messages(project, env="staging"))
    assert "no such environment 'staging' (set LAKEHOUSE_ENV); known: dev, local" in message
    with pytest.raises(ConfigError, match="environment 'staging' cannot be loaded"):
        load_config("staging", project.dir).require_environment()


def test_environment_is_chosen_by_one_variable(project: ConfigCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_ENV", raising=False)
    assert load_config().env_name == "local"
    assert load_config().require_environment().retention_days == 7
    monkeypatch.setenv("LAKEHOUSE_ENV", "dev")
    config = load_config()
    assert config.env_name == "dev"
    assert config.require_environment().retention_days == 30


def test_every_problem_is_reported_at_once_and_only_the_broken_system_is_lost(project: ConfigCopy) -> None:
    def break_crm_twice(data: Any) -> None:
        data["systems"]["crm"]["dq_rules"][2]["action"] = "drop"
        data["systems"]["crm"]["schedule"] = {"cron": "every day"}

    project.edit("systems.yaml", break_crm_twice)
    project.edit("variables/local.yaml", _set(["max_active_runs"], 0))
    project.edit("governance.yaml", _set(["owner"], ""))
    config = load_config("local")
    messages = [str(issue) for issue in config.issues]
    assert len(messages) == 4, messages
    assert config.broken_systems == ("crm",)
    assert list(config.systems) == ["billing"]
    assert config.environment is None
    # Gold reads the broken system, yet pipelines.yaml itself is sound: it is not reported again.
    assert config.pipelines is not None and config.pipeline_issues == ()
    with pytest.raises(ConfigError) as raised:
        config.raise_for_issues()
    text = str(raised.value)
    assert text.startswith("lakehouse config for environment 'local' is invalid: 4 problem(s)")
    for message in messages:
        assert message in text


def test_loaded_once_until_a_file_changes(project: ConfigCopy) -> None:
    first = load_config("local")
    assert load_config("local") is first
    project.edit("systems.yaml", lambda d: d["systems"]["crm"].update(owner="someone-else"))
    reloaded = load_config("local")
    assert reloaded is not first
    assert reloaded.systems["crm"].owner == "someone-else"


def test_a_bad_default_is_reported_where_it_is_written(project: ConfigCopy) -> None:
    def break_default_that_billing_overrides(data: Any) -> None:
        data["defaults"]["schedule"]["timezone"] = "Sydney"

    project.edit("systems.yaml", break_default_that_billing_overrides)
    config = load_config("local")
    assert config.broken_systems == ("crm",)
    assert list(config.systems) == ["billing"]
    assert str(config.system_issues["crm"][0]) == (
        f"{project.dir}/systems.yaml: defaults.schedule.timezone: not a known IANA timezone; expected a name "
        "such as 'Australia/Sydney'; inherited by systems.crm (got 'Sydney')"
    )
