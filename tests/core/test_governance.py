"""The governance plan of each environment: the SQL it generates, checked against the config files
and the contracts read on their own. The test project has a local and a Databricks environment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lakehouse.config import load_config
from lakehouse.core.governance import SECTIONS, Plan, Section, build_plan, describe
from tests.conftest import ENVIRONMENTS, ConfigCopy

IDEMPOTENT = (
    "CREATE CATALOG IF NOT EXISTS ",
    "CREATE SCHEMA IF NOT EXISTS ",
    "CREATE VOLUME IF NOT EXISTS ",
    "CREATE OR REPLACE FUNCTION ",
    "CREATE OR REPLACE VIEW ",
    "GRANT ",
    "ALTER TABLE ",
)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_shipped_environments_plan_builds(env: str) -> None:
    plan = build_plan(load_config(env))
    assert plan.env_name == env and plan.statements
    assert all(statement.sql.startswith(IDEMPOTENT) for statement in plan.statements)


@pytest.fixture(params=["local", "dev"])
def env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(project: ConfigCopy, env: str) -> Plan:
    return build_plan(load_config(env))


def _sql(plan: Plan, section: Section) -> list[str]:
    return [statement.sql for statement in plan.section(section)]


def test_statements_are_idempotent_and_in_section_order(plan: Plan) -> None:
    assert all(statement.sql.startswith(IDEMPOTENT) for statement in plan.statements)
    sections = [statement.section for statement in plan.statements]
    assert sections == sorted(sections, key=SECTIONS.index)
    assert len({statement.sql for statement in plan.statements}) == len(plan.statements)


def test_catalogs_are_the_environments_own(project: ConfigCopy, env: str, plan: Plan) -> None:
    catalogs = project.read(f"variables/{env}.yaml")["catalogs"]
    prefix = "t_" if env == "local" else f"{env}_"
    assert catalogs == {
        z: f"{prefix}{name}" for z, name in zip(catalogs, ["raw", "curated", "marts", "ai"], strict=True)
    }
    created = [re.match(r"CREATE CATALOG IF NOT EXISTS (\w+) COMMENT '.+'$", sql) for sql in _sql(plan, "catalogs")]
    assert [match.group(1) for match in created if match] == [catalogs[z] for z in ("bronze", "silver", "gold", "ai")]


def test_schemas_cover_every_layer_in_the_environments_catalogs(project: ConfigCopy, env: str, plan: Plan) -> None:
    catalogs = project.read(f"variables/{env}.yaml")["catalogs"]
    raw, curated, marts, ai = (catalogs[zone] for zone in ("bronze", "silver", "gold", "ai"))
    created = {sql.removeprefix("CREATE SCHEMA IF NOT EXISTS ") for sql in _sql(plan, "schemas")}
    assert all(re.fullmatch(r"\w+\.\w+", name) for name in created)
    expected = {f"{raw}.crm", f"{raw}.billing"}  # Bronze and quarantine: one schema per system
    expected |= {f"{curated}.crm", f"{curated}.finance"}  # Silver: the system's, or the entity's own schema
    expected |= {f"{marts}.customer", f"{marts}.finance", f"{marts}.ops", f"{ai}.knowledge"}  # Gold, metrics, RAG
    if env != "local":  # the volumes of landing files, checkpoints and wheels
        expected |= {f"{raw}.landing", f"{ai}.artifacts"}
    assert created == expected


def test_a_schema_that_only_a_new_gold_table_names_is_created(project: ConfigCopy) -> None:
    assert "CREATE SCHEMA IF NOT EXISTS dev_marts.sales" not in _sql(build_plan(load_config("dev")), "schemas")
    project.edit(
        "pipelines.yaml",
        lambda d: d["gold"]["tables"].append({"name": "payments", "schema": "sales", "inputs": ["billing.payment"]}),
    )
    (project.dir.parent / "sql" / "gold" / "payments.sql").write_text("SELECT 1;\n")
    plan = build_plan(load_config("dev", project.dir))
    assert "CREATE SCHEMA IF NOT EXISTS dev_marts.sales" in _sql(plan, "schemas")


def test_the_outbound_schema_is_created_when_outbound_is_on(project: ConfigCopy) -> None:
    assert "CREATE SCHEMA IF NOT EXISTS dev_marts.sfdc" not in _sql(build_plan(load_config("dev")), "schemas")
    outbound = {"connection": "salesforce_default", "secret_scope": "lakehouse"}
    project.edit("variables/dev.yaml", lambda data: data.update(sfdc_outbound=outbound))
    plan = build_plan(load_config("dev", project.dir))
    assert "CREATE SCHEMA IF NOT EXISTS dev_marts.sfdc" in _sql(plan, "schemas")


def test_grants_go_to_the_environments_groups_on_its_catalogs(project: ConfigCopy, env: str, plan: Plan) -> None:
    variables = project.read(f"variables/{env}.yaml")
    groups, catalogs = variables["governance"]["groups"], variables["catalogs"]
    assert groups["analysts"] == f"analysts-{env}"
    grants = [re.fullmatch(r"GRANT (.+) ON (\w+) ([\w.]+) TO `(.+)`", sql) for sql in _sql(plan, "grants")]
    assert all(grants)
    by_group: dict[str, set[tuple[str, str]]] = {}
    for match in grants:
        assert match is not None
        for privilege in match.group(1).split(", "):
            by_group.setdefault(match.group(4), set()).add((privilege, f"{match.group(2)} {match.group(3)}"))
    assert set(by_group) <= set(groups.values())
    analysts = by_group[groups["analysts"]]
    # Analysts read the marts; in Silver they only reach the secure view's schema; nothing in Bronze or AI.
    assert ("SELECT", f"CATALOG {catalogs['gold']}") in analysts
    assert {securable for _, securable in analysts} == {
        f"CATALOG {catalogs['gold']}",
        f"CATALOG {catalogs['silver']}",
        f"SCHEMA {catalogs['silver']}.crm",
    }
    assert ("USE CATALOG", f"CATALOG {catalogs['silver']}") in analysts
    assert ("SELECT", f"CATALOG {catalogs['silver']}") not in analysts
    assert by_group[groups["engineers"]] >= {("MODIFY", f"CATALOG {catalogs[z]}") for z in ("silver", "gold")}
    assert groups["pii_readers"] not in by_group  # the group only unmasks; it is granted nothing
    view_grants = [sql for sql in _sql(plan, "views") if sql.startswith("GRANT")]
    view = f"{catalogs['silver']}.crm.v_customer"
    assert view_grants == [f"GRANT SELECT ON TABLE {view} TO `{groups['analysts']}`"]


def test_the_mask_functions_unmask_for_the_pii_group_only(project: ConfigCopy, env: str, plan: Plan) -> None:
    variables = project.read(f"variables/{env}.yaml")
    silver, pii = variables["catalogs"]["silver"], variables["governance"]["groups"]["pii_readers"]
    mask_email, mask_text = _sql(plan, "functions")
    assert mask_email.startswith(f"CREATE OR REPLACE FUNCTION {silver}.crm.mask_email(email STRING)\n")
    assert mask_text.startswith(f"CREATE OR REPLACE FUNCTION {silver}.crm.mask_text(")
    assert f"WHEN is_account_group_member('{pii}') THEN email" in mask_email
    assert f"WHEN is_account_group_member('{pii}') OR value IS NULL THEN value ELSE '***'" in mask_text
    assert mask_email.count("is_account_group_member") == mask_text.count("is_account_group_member") == 1


def test_the_secure_view_masks_the_customers_personal_columns(project: ConfigCopy, env: str, plan: Plan) -> None:
    silver = project.read(f"variables/{env}.yaml")["catalogs"]["silver"]
    (view,) = [sql for sql in _sql(plan, "views") if sql.startswith("CREATE")]
    assert view.startswith(f"CREATE OR REPLACE VIEW {silver}.crm.v_customer\n")
    assert "SELECT * EXCEPT (email, name), " in view
    assert f"{silver}.crm.mask_email(email) AS email" in view
    assert f"{silver}.crm.mask_text(name) AS name" in view
    assert f"FROM {silver}.crm.customer_silver\nWHERE TRUE" in view


def _pii_in_contracts(config_dir: Path) -> dict[tuple[str, str], list[str]]:
    """Columns marked x-pii, read from the contract files themselves."""
    found = {}
    for path in sorted((config_dir / "contracts").glob("*/*.schema.json")):
        properties = json.loads(path.read_text())["properties"]
        found[(path.parent.name, path.name.removesuffix(".schema.json"))] = [
            name for name, body in properties.items() if body.get("x-pii")
        ]
    return found


def test_pii_tags_are_on_every_column_a_contract_marks_and_no_other(project: ConfigCopy, env: str, plan: Plan) -> None:
    catalogs = project.read(f"variables/{env}.yaml")["catalogs"]
    systems = project.read("systems.yaml")["systems"]
    expected = set()
    for (system, entity), columns in _pii_in_contracts(project.dir).items():
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
    # name and email of CRM customers, in Bronze and Silver; billing marks nothing
    assert {column for _, column in expected} == {"name", "email"} and len(expected) == 4


def test_locally_spark_gets_databases_functions_and_views_and_nothing_else(env: str, plan: Plan) -> None:
    local = {statement.section for statement in plan.statements if statement.local is not None}
    if env != "local":
        assert local == set()
        return
    assert local == {"schemas", "functions", "views"}
    assert all(statement.local for statement in plan.section("schemas") + plan.section("functions"))
    schema = plan.section("schemas")[0].local
    assert schema is not None
    assert re.fullmatch(r"CREATE SCHEMA IF NOT EXISTS t_raw__billing LOCATION '/.+/warehouse/t_raw/billing'", schema)
    assert not any("is_account_group_member" in (statement.local or "") for statement in plan.statements)
    (view,) = [s.local for s in plan.section("views") if s.local]
    assert re.search(r"FROM delta.`/.+/warehouse/t_curated/crm/customer_silver`", view)
    assert "t_curated__crm.mask_email(email) AS email" in view


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
    """The package's governance SQL is the same for every project: no shipped environment's catalogs
    or groups are written into it."""
    folder = Path(__file__).resolve().parents[2] / "airflow" / "include" / "sql" / "governance"
    text = "\n".join(path.read_text() for path in folder.rglob("*.sql"))
    names = set()
    for env in ENVIRONMENTS:
        environment = load_config(env).require_environment()
        names |= set(environment.catalogs.model_dump().values()) | set(environment.governance.groups.values())
    assert names
    assert [name for name in sorted(names) if re.search(rf"\b{re.escape(name)}\b", text)] == []


def test_row_rules_let_each_role_see_its_regions_only(project: ConfigCopy) -> None:
    def add_view(data: dict) -> None:
        data["secure_views"]["v_customer_by_country"] = {
            "schema": "crm",
            "source": "crm.customer",
            "masks": {"email": "mask_email"},
            "rows": {"column": "country", "every_row": ["engineers"], "only": {"analysts": ["AU", "NZ"]}},
            "readers": ["analysts", "engineers"],
        }

    project.edit("governance.yaml", add_view)
    plan = build_plan(load_config("dev", project.dir))
    (view,) = [sql for sql in _sql(plan, "views") if "VIEW dev_curated.crm.v_customer_by_country" in sql]
    assert view.endswith(
        "FROM dev_curated.crm.customer_silver\n"
        "WHERE is_account_group_member('eng-dev') OR "
        "(is_account_group_member('analysts-dev') AND country IN ('AU', 'NZ'))"
    )
    local = build_plan(load_config("local", project.dir))
    (rendered,) = [s.local for s in local.section("views") if s.local and "v_customer_by_country" in s.local]
    assert rendered.endswith("WHERE FALSE OR (FALSE AND country IN ('AU', 'NZ'))")
