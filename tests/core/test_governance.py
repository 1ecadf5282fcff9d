"""The governance plan of each environment: the SQL it generates, checked against the config files
and the contracts read on their own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from lakehouse.config import load_config
from lakehouse.core.governance import SECTIONS, Plan, Section, build_plan, describe
from tests.conftest import CONFIG_DIR, ENVIRONMENTS, ConfigCopy

IDEMPOTENT = (
    "CREATE CATALOG IF NOT EXISTS ",
    "CREATE SCHEMA IF NOT EXISTS ",
    "CREATE VOLUME IF NOT EXISTS ",
    "CREATE OR REPLACE FUNCTION ",
    "CREATE OR REPLACE VIEW ",
    "GRANT ",
    "ALTER TABLE ",
)


def _variables(env: str) -> dict:
    return yaml.safe_load((CONFIG_DIR / "variables" / f"{env}.yaml").read_text())


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def plan(env: str) -> Plan:
    return build_plan(load_config(env))


def _sql(plan: Plan, section: Section) -> list[str]:
    return [statement.sql for statement in plan.section(section)]


def test_statements_are_idempotent_and_in_section_order(plan: Plan) -> None:
    assert all(statement.sql.startswith(IDEMPOTENT) for statement in plan.statements)
    sections = [statement.section for statement in plan.statements]
    assert sections == sorted(sections, key=SECTIONS.index)
    assert len({statement.sql for statement in plan.statements}) == len(plan.statements)


def test_catalogs_are_the_environments_own(env: str, plan: Plan) -> None:
    catalogs = _variables(env)["catalogs"]
    prefix = "" if env == "local" else f"{env}_"
    assert catalogs == {
        z: f"{prefix}{name}" for z, name in zip(catalogs, ["ep_raw", "ep_curated", "ep_marts", "ep_ai"], strict=True)
    }
    created = [re.match(r"CREATE CATALOG IF NOT EXISTS (\w+) COMMENT '.+'$", sql) for sql in _sql(plan, "catalogs")]
    assert [match.group(1) for match in created if match] == list(catalogs.values())


def test_schemas_cover_every_layer_in_the_environments_catalogs(env: str, plan: Plan) -> None:
    catalogs = _variables(env)["catalogs"]
    raw, curated, marts, ai = (catalogs[zone] for zone in ("bronze", "silver", "gold", "ai"))
    created = {sql.removeprefix("CREATE SCHEMA IF NOT EXISTS ") for sql in _sql(plan, "schemas")}
    assert all(re.fullmatch(r"\w+\.\w+", name) for name in created)
    systems = ["jarvis", "amdm", "pega", "cmdm", "sfdc"]
    expected = {f"{raw}.{s}" for s in systems} | {f"{curated}.{s}" for s in systems}
    expected |= {f"{curated}.customer"}  # CMDM links, the contact XREF, the secure view
    expected |= {f"{marts}.{s}" for s in ("customer", "telecom", "operations", "ops")} | {f"{ai}.knowledge"}
    if env != "local":  # the volumes of landing files, checkpoints and wheels
        expected |= {f"{raw}.landing", f"{ai}.artifacts"}
    assert created == expected


def test_a_schema_that_only_a_new_gold_table_names_is_created(config_copy: ConfigCopy) -> None:
    config_copy.edit(
        "pipelines.yaml",
        lambda d: d["gold"]["tables"].append({"name": "outbound_input", "schema": "sfdc", "inputs": ["sfdc.contact"]}),
    )
    plan = build_plan(load_config("prod", config_copy.dir))
    assert "CREATE SCHEMA IF NOT EXISTS prod_ep_marts.sfdc" in _sql(plan, "schemas")


def test_the_outbound_schema_is_created_when_outbound_is_on(config_copy: ConfigCopy) -> None:
    assert "CREATE SCHEMA IF NOT EXISTS prod_ep_marts.sfdc" not in _sql(build_plan(load_config("prod")), "schemas")
    outbound = {"connection": "salesforce_default", "secret_scope": "lakehouse"}
    config_copy.edit("variables/prod.yaml", lambda data: data.update(sfdc_outbound=outbound))
    plan = build_plan(load_config("prod", config_copy.dir))
    assert "CREATE SCHEMA IF NOT EXISTS prod_ep_marts.sfdc" in _sql(plan, "schemas")


def test_grants_go_to_the_environments_groups_on_its_catalogs(env: str, plan: Plan) -> None:
    variables = _variables(env)
    groups, catalogs = variables["governance"]["groups"], variables["catalogs"]
    suffix = "" if env == "prod" else f"-{env}"
    assert groups["analyst_readers"] == f"dpm-analyst-readers{suffix}"
    grants = [re.fullmatch(r"GRANT (.+) ON (\w+) ([\w.]+) TO `(.+)`", sql) for sql in _sql(plan, "grants")]
    assert all(grants)
    by_group: dict[str, set[tuple[str, str]]] = {}
    for match in grants:
        assert match is not None
        for privilege in match.group(1).split(", "):
            by_group.setdefault(match.group(4), set()).add((privilege, f"{match.group(2)} {match.group(3)}"))
    assert set(by_group) <= set(groups.values())
    analysts = by_group[groups["analyst_readers"]]
    # Analysts read the marts; in Silver they only reach the secure view's schema; nothing in Bronze or AI.
    assert ("SELECT", f"CATALOG {catalogs['gold']}") in analysts
    assert {securable for _, securable in analysts} == {
        f"CATALOG {catalogs['gold']}",
        f"CATALOG {catalogs['silver']}",
        f"SCHEMA {catalogs['silver']}.customer",
    }
    assert ("USE CATALOG", f"CATALOG {catalogs['silver']}") in analysts
    assert ("SELECT", f"CATALOG {catalogs['silver']}") not in analysts
    assert by_group[groups["data_engineering"]] >= {("MODIFY", f"CATALOG {catalogs[z]}") for z in catalogs}
    assert groups["pii_readers"] not in by_group  # the group only unmasks; it is granted nothing
    view_grants = [sql for sql in _sql(plan, "views") if sql.startswith("GRANT")]
    view = f"{catalogs['silver']}.customer.v_customer_secure"
    assert view_grants == [f"GRANT SELECT ON TABLE {view} TO `{groups['analyst_readers']}`"]


def test_the_mask_function_unmasks_for_the_pii_group_only(env: str, plan: Plan) -> None:
    variables = _variables(env)
    silver, pii = variables["catalogs"]["silver"], variables["governance"]["groups"]["pii_readers"]
    mask_email = _sql(plan, "functions")[0]
    assert mask_email.startswith(f"CREATE OR REPLACE FUNCTION {silver}.customer.mask_email(email STRING)\n")
    assert f"WHEN is_account_group_member('{pii}') THEN email" in mask_email
    assert mask_email.count("is_account_group_member") == 1


def test_the_secure_view_masks_the_customers_personal_columns(env: str, plan: Plan) -> None:
    silver = _variables(env)["catalogs"]["silver"]
    (view,) = [sql for sql in _sql(plan, "views") if sql.startswith("CREATE")]
    assert view.startswith(f"CREATE OR REPLACE VIEW {silver}.customer.v_customer_secure\n")
    assert "SELECT * EXCEPT (email, first_name, last_name, phone), " in view
    assert f"{silver}.customer.mask_email(email) AS email" in view
    assert f"{silver}.customer.mask_text(phone) AS phone" in view
    assert f"FROM {silver}.cmdm.customer_silver\nWHERE TRUE" in view


def _pii_in_contracts() -> dict[tuple[str, str], list[str]]:
    """Columns marked x-pii, read from the contract files themselves."""
    found = {}
    for path in sorted((CONFIG_DIR / "contracts").glob("*/*.schema.json")):
        properties = json.loads(path.read_text())["properties"]
        found[(path.parent.name, path.name.removesuffix(".schema.json"))] = [
            name for name, body in properties.items() if body.get("x-pii")
        ]
    return found


def test_pii_tags_are_on_every_column_a_contract_marks_and_no_other(env: str, plan: Plan) -> None:
    catalogs = _variables(env)["catalogs"]
    systems = yaml.safe_load((CONFIG_DIR / "systems.yaml").read_text())["systems"]
    expected = set()
    for (system, entity), columns in _pii_in_contracts().items():
        silver = systems[system]["entities"][entity]["silver"]
        for column in columns:
            expected.add((f"{catalogs['bronze']}.{system}.{entity}_bronze", column))
            expected.add((f"{catalogs['silver']}.{silver.get('schema', system)}.{silver['table']}", column))
    tagged = [
        re.fullmatch(r"ALTER TABLE ([\w.]+) ALTER COLUMN (\w+) SET TAGS \('pii' = 'true'\)", sql)
        for sql in _sql(plan, "tags")
    ]
    assert all(tagged)
    assert {match.groups() for match in tagged if match} == expected
    assert len(expected) == 16  # first and last name, email and phone of CMDM customers and SFDC contacts


def test_locally_spark_gets_databases_functions_and_views_and_nothing_else(env: str, plan: Plan) -> None:
    local = {statement.section for statement in plan.statements if statement.local is not None}
    if env != "local":
        assert local == set()
        return
    assert local == {"schemas", "functions", "views"}
    assert all(statement.local for statement in plan.section("schemas") + plan.section("functions"))
    schema = plan.section("schemas")[0].local
    assert schema is not None
    assert re.fullmatch(r"CREATE SCHEMA IF NOT EXISTS ep_raw__amdm LOCATION '/.+/warehouse/ep_raw/amdm'", schema)
    assert not any("is_account_group_member" in (statement.local or "") for statement in plan.statements)
    (view,) = [s.local for s in plan.section("views") if s.local]
    assert re.search(r"FROM delta.`/.+/warehouse/ep_curated/cmdm/customer_silver`", view)
    assert "ep_curated__customer.mask_email(email) AS email" in view


def test_the_printed_plan_groups_statements_and_says_what_applies_locally(env: str, plan: Plan) -> None:
    lines = describe(plan)
    for section in SECTIONS:
        count = len(plan.section(section))
        assert (f"-- {section} ({count})" in lines) == (count > 0)
    statements = [line for line in lines if line.startswith(IDEMPOTENT)]
    assert len(statements) == len(plan.statements)
    not_applied = sum("locally: not applied" in line for line in lines)
    assert not_applied == (sum(s.local is None for s in plan.statements) if env == "local" else 0)


def test_the_governance_sql_files_hold_no_environment_names() -> None:
    folder = Path(__file__).resolve().parents[2] / "airflow" / "include" / "sql" / "governance"
    text = "\n".join(path.read_text() for path in folder.rglob("*.sql"))
    assert not re.search(r"ep_(raw|curated|marts|ai)|dpm-", text)


def test_row_rules_let_each_role_see_its_regions_only(config_copy: ConfigCopy) -> None:
    def add_view(data: dict) -> None:
        data["secure_views"]["v_contact_secure"] = {
            "schema": "customer",
            "source": "sfdc.contact",
            "masks": {"email": "mask_email"},
            "rows": {"column": "state", "every_row": ["data_engineering"], "only": {"analyst_readers": ["NSW", "VIC"]}},
            "readers": ["analyst_readers", "data_engineering"],
        }

    config_copy.edit("governance.yaml", add_view)
    plan = build_plan(load_config("prod", config_copy.dir))
    (view,) = [sql for sql in _sql(plan, "views") if "VIEW prod_ep_curated.customer.v_contact_secure" in sql]
    assert view.endswith(
        "FROM prod_ep_curated.sfdc.contact_silver\n"
        "WHERE is_account_group_member('dpm-data-eng') OR "
        "(is_account_group_member('dpm-analyst-readers') AND state IN ('NSW', 'VIC'))"
    )
    local = build_plan(load_config("local", config_copy.dir))
    (rendered,) = [s.local for s in local.section("views") if s.local and "v_contact_secure" in s.local]
    assert rendered.endswith("WHERE FALSE OR (FALSE AND state IN ('NSW', 'VIC'))")
