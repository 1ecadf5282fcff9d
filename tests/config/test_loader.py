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
    assert list(config.systems) == ["jarvis", "amdm", "pega", "cmdm", "sfdc"]
    assert config.require_environment().target == ("local" if env == "local" else "databricks")


def test_defaults_apply_unless_a_system_overrides_them(config_copy: ConfigCopy) -> None:
    config_copy.edit("systems.yaml", lambda d: d["systems"]["pega"].update(schedule={"cron": "30 5 * * *"}))
    config = load_config("local")
    assert config.systems["pega"].schedule.cron == "30 5 * * *"
    assert config.systems["pega"].schedule.timezone == "UTC"
    assert config.systems["jarvis"].schedule.cron == "0 4 * * *"
    assert config.systems["jarvis"].schedule.timezone == "Australia/Sydney"
    assert config.systems["jarvis"].freshness_deadline.total_seconds() == 7200


def _messages(config_copy: ConfigCopy, env: str = "local") -> list[str]:
    return [str(issue) for issue in load_config(env, config_copy.dir).issues]


def _set(path: list[Any], value: Any) -> Any:
    def change(data: Any) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _one(messages: list[str]) -> str:
    assert len(messages) == 1, messages
    return messages[0]


SYSTEMS = "config/systems.yaml"
PIPELINES = "config/pipelines.yaml"
LOCAL = "config/variables/local.yaml"


@pytest.mark.parametrize(
    ("file", "path", "value", "expected"),
    [
        pytest.param(
            "systems.yaml",
            ["systems", "pega", "dq_rules", 2, "action"],
            "drop",
            "systems.pega.dq_rules[2].action: Input should be 'warn', 'quarantine' or 'fail' (got 'drop')",
            id="dq-action-not-allowed",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "sfdc", "dq_rules", 1, "column"],
            "e_mail",
            "systems.sfdc.dq_rules[1].column: not a column of the contract; available: contact_id, prty_id,",
            id="dq-rule-on-unknown-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "amdm", "schedule"],
            {"cron": "0 25 * * *", "timezone": "Australia/Sydney"},
            "systems.amdm.schedule.cron: not a valid cron expression; expected five fields such as '0 4 * * *' "
            "(got '0 25 * * *')",
            id="cron-does-not-parse",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "amdm", "schedule"],
            {"cron": "0 4 * * *", "timezone": "Australia/Sydny"},
            "systems.amdm.schedule.timezone: not a known IANA timezone; expected a name such as 'Australia/Sydney' "
            "(got 'Australia/Sydny')",
            id="timezone-does-not-exist",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "jarvis", "owner_team"],
            "x",
            "systems.jarvis.owner_team: unknown key; allowed: description, domain, owner,",
            id="unknown-key",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "jarvis", "entities", "service", "natural_key"],
            ["service_id"],
            "systems.jarvis.entities.service.natural_key[0]: not a column of the contract; available: serv_id,",
            id="natural-key-not-a-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "pega", "entities", "case", "canonical_keys", "customer_sk"],
            "party.customer_id",
            "systems.pega.entities.case.canonical_keys.customer_sk: not a column of the contract; available: "
            "case_id, case_type, status, created_ts, closed_ts, sla_due_ts, reopen_count, channel, party, "
            "party.prty_id, service, service.serv_id, service.acct_id (got 'party.customer_id')",
            id="canonical-key-not-a-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "pega", "entities", "case", "canonical_keys", "party_sk"],
            "party.prty_id",
            "systems.pega.entities.case.canonical_keys.party_sk: Input should be 'customer_sk', 'account_sk', "
            "'service_sk', 'address_sk' or 'case_sk' (got 'party_sk')",
            id="unknown-surrogate-key",
        ),
        pytest.param(
            "contracts/jarvis/service.schema.json",
            ["properties", "start_dt", "format"],
            "datetime",
            "/properties/start_dt: unsupported type; allowed: string, string (date), string (date-time), integer, "
            "integer (int32), integer (int64), number, boolean, object (got 'string (datetime)')",
            id="unknown-column-type",
        ),
        pytest.param(
            "contracts/jarvis/service.schema.json",
            ["properties", "plan_cd", "type"],
            "string",
            '/properties/plan_cd/type: an optional property allows null: use "type": [<type>, "null"] (got \'string\')',
            id="optional-property-without-null",
        ),
        pytest.param(
            "contracts/cmdm/customer.schema.json",
            ["required"],
            ["prty_id", "customer_id"],
            "/required: names no property (got 'customer_id')",
            id="required-names-no-property",
        ),
        pytest.param(
            "contracts/sfdc/contact.schema.json",
            ["version"],
            "2",
            "/version: expected a version MAJOR.MINOR.PATCH, e.g. 1.0.0 (got '2')",
            id="contract-version-not-semver",
        ),
        pytest.param(
            "contracts/pega/case.schema.json",
            ["properties", "party", "additionalProperties"],
            True,
            "/properties/party/additionalProperties: Bronze quarantines fields the contract does not name",
            id="contract-allows-unknown-fields",
        ),
        pytest.param(
            "contracts/amdm/address.schema.json",
            ["properties", "state", "maxLength"],
            "3",
            "/properties/state/maxLength: not a valid JSON Schema: '3' is not of type 'integer'",
            id="contract-not-valid-json-schema",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "jarvis", "entities", "service", "columns"],
            [{"name": "serv_id", "type": "string"}],
            "systems.jarvis.entities.service.columns: columns come from the entity's contract, ",
            id="columns-written-in-systems-yaml",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "amdm", "dq_rules", 1, "pattern"],
            "^(\\d{4}$",
            "systems.amdm.dq_rules[1].pattern: not a valid regular expression",
            id="regex-does-not-compile",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "cmdm", "dq_rules", 1, "entity"],
            None,
            "systems.cmdm.dq_rules[1].entity: required when a system has several entities; one of: customer, "
            "party_address, party_account (got None)",
            id="dq-rule-needs-entity",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "amdm", "dq_rules", 1, "check"],
            "matches",
            "systems.amdm.dq_rules[1]: value 'matches' found using 'check' does not match any of the expected tags: "
            "'not_null', 'regex', 'in_set', 'not_after_logical_date'",
            id="unknown-dq-check",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "amdm", "entities", "address", "silver_rules", 1, "column"],
            "postcode",
            "systems.amdm.entities.address.silver_rules[1].column: not a column of the contract; "
            "available: amdm_addr_id,",
            id="silver-rule-on-unknown-column",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "jarvis", "freshness_deadline"],
            "two hours",
            "systems.jarvis.freshness_deadline: Input should be a valid timedelta",
            id="deadline-not-a-duration",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "jarvis", "landing"],
            {"path": "{system}/{entity}"},
            "systems.jarvis.landing.path: must contain {date} so that each logical date reads its own slice",
            id="landing-without-date",
        ),
        pytest.param(
            "systems.yaml",
            ["systems", "sfdc", "entities", "contact", "silver"],
            {"schema": "jarvis", "table": "service_silver"},
            "systems.sfdc.entities.contact.silver.table: Silver table jarvis.service_silver is already written by "
            "jarvis.service (got 'service_silver')",
            id="two-entities-one-silver-table",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 0, "inputs"],
            ["crm.customer"],
            "gold.tables[0].inputs[0]: unknown system 'crm'; known: amdm, cmdm, jarvis, pega, sfdc "
            "(got 'crm.customer')",
            id="gold-input-unknown-system",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 0, "inputs"],
            ["cmdm.contact"],
            "gold.tables[0].inputs[0]: system 'cmdm' has no entity 'contact'; it has: customer, party_address, "
            "party_account (got 'cmdm.contact')",
            id="gold-input-unknown-entity",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 7, "depends_on"],
            ["fact_cases"],
            "gold.tables[7].depends_on[0]: unknown Gold table; known: dim_customer_scd2,",
            id="gold-unknown-dependency",
        ),
        pytest.param(
            "pipelines.yaml",
            ["gold", "tables", 6, "depends_on"],
            ["customer_360"],
            "gold.tables: depends_on forms a cycle: bridge_contact -> customer_360 -> bridge_contact",
            id="gold-dependency-cycle",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "domains"],
            ["pega", "genesys"],
            "rag.domains[1]: unknown system; known: amdm, cmdm, jarvis, pega, sfdc (got 'genesys')",
            id="rag-unknown-domain",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "sql_tables"],
            ["customer_360", "customer_silver"],
            "rag.sql_tables[1]: unknown Gold table; known: dim_customer_scd2,",
            id="rag-sql-tool-table-not-gold",
        ),
        pytest.param(
            "pipelines.yaml",
            ["rag", "routing", "genesys"],
            ["call"],
            "rag.routing.genesys: unknown system; known: amdm, cmdm, jarvis, pega, sfdc (got 'genesys')",
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
    config_copy: ConfigCopy, file: str, path: list[Any], value: Any, expected: str
) -> None:
    config_copy.edit(file, _set(path, value))
    message = _one(_messages(config_copy))
    assert message.startswith(f"{config_copy.dir}/{file}: ")
    assert expected in message
    assert not message.endswith("})"), "a whole mapping is not a useful 'got' value"


def test_unknown_key_suggests_the_closest_allowed_one(config_copy: ConfigCopy) -> None:
    config_copy.edit(
        "systems.yaml", lambda d: d["systems"]["jarvis"].update(schedle=d["systems"]["jarvis"].get("tags"))
    )
    assert "did you mean 'schedule'?" in _one(_messages(config_copy))


def test_missing_required_key(config_copy: ConfigCopy) -> None:
    config_copy.edit("systems.yaml", lambda d: d["systems"]["sfdc"].pop("owner"))
    assert _one(_messages(config_copy)).endswith("systems.yaml: systems.sfdc.owner: required key is missing")


def test_yaml_syntax_error_names_the_line(config_copy: ConfigCopy) -> None:
    path = config_copy.path("pipelines.yaml")
    lines = path.read_text().splitlines()
    lines[3] = "gold: [unclosed"
    path.write_text("\n".join(lines))
    message = _one(_messages(config_copy))
    assert message.startswith(f"{path}: not valid YAML: line ")


def test_unknown_environment_lists_the_known_ones(config_copy: ConfigCopy) -> None:
    message = _one(_messages(config_copy, env="staging"))
    assert "no such environment 'staging' (set LAKEHOUSE_ENV); known: dev, local, prod, test" in message
    with pytest.raises(ConfigError, match="environment 'staging' cannot be loaded"):
        load_config("staging", config_copy.dir).require_environment()


def test_environment_is_chosen_by_one_variable(config_copy: ConfigCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_ENV", raising=False)
    assert load_config().env_name == "local"
    monkeypatch.setenv("LAKEHOUSE_ENV", "prod")
    config = load_config()
    assert config.env_name == "prod"
    assert config.require_environment().retention_days == 30


def test_every_problem_is_reported_at_once_and_only_the_broken_system_is_lost(config_copy: ConfigCopy) -> None:
    def break_two_systems(data: Any) -> None:
        data["systems"]["pega"]["dq_rules"][2]["action"] = "drop"
        data["systems"]["pega"]["schedule"] = {"cron": "every day"}
        data["systems"]["amdm"]["owner"] = ""

    config_copy.edit("systems.yaml", break_two_systems)
    config_copy.edit("variables/local.yaml", _set(["max_active_runs"], 0))
    config = load_config("local")
    messages = [str(issue) for issue in config.issues]
    assert len(messages) == 4, messages
    assert config.broken_systems == ("amdm", "pega")
    assert list(config.systems) == ["jarvis", "cmdm", "sfdc"]
    assert config.environment is None
    assert config.pipelines is not None and config.pipeline_issues == ()
    with pytest.raises(ConfigError) as raised:
        config.raise_for_issues()
    text = str(raised.value)
    assert text.startswith("lakehouse config for environment 'local' is invalid: 4 problem(s)")
    for message in messages:
        assert message in text


def test_loaded_once_until_a_file_changes(config_copy: ConfigCopy) -> None:
    first = load_config("local")
    assert load_config("local") is first
    config_copy.edit("systems.yaml", lambda d: d["systems"]["jarvis"].update(owner="someone-else"))
    reloaded = load_config("local")
    assert reloaded is not first
    assert reloaded.systems["jarvis"].owner == "someone-else"


def test_a_bad_default_is_reported_where_it_is_written(config_copy: ConfigCopy) -> None:
    def break_default_and_override_it_once(data: Any) -> None:
        data["defaults"]["schedule"]["timezone"] = "Sydney"
        data["systems"]["pega"]["schedule"] = {"cron": "0 5 * * *", "timezone": "Australia/Sydney"}

    config_copy.edit("systems.yaml", break_default_and_override_it_once)
    config = load_config("local")
    assert config.broken_systems == ("jarvis", "amdm", "cmdm", "sfdc")
    assert list(config.systems) == ["pega"]
    assert str(config.system_issues["amdm"][0]) == (
        f"{config_copy.dir}/systems.yaml: defaults.schedule.timezone: not a known IANA timezone; expected a name "
        "such as 'Australia/Sydney'; inherited by systems.amdm (got 'Sydney')"
    )
