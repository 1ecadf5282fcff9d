"""infra/terraform: the static checks that stand in for `terraform validate` (infra/README.md), and the
values Terraform reads from config/variables/<env>.yaml instead of repeating them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.config import load_config
from lakehouse.core import jobs
from tests import terraform_static as static
from tests.conftest import CONFIG_DIR, DATABRICKS_ENVIRONMENTS, ROOT
from tests.terraform_expressions import FUNCTIONS

TERRAFORM = ROOT / "infra" / "terraform"
ENVIRONMENT = TERRAFORM / "environment"
METASTORE = TERRAFORM / "metastore"
ENVS = DATABRICKS_ENVIRONMENTS
PROVIDERS = {"azurerm", "azuread", "databricks"}
# Terraform's CLI, or OpenTofu as scripts/setup.sh builds it, to cross-check the static evaluation.
TERRAFORM_CLI = shutil.which("terraform") or shutil.which("tofu", path=str(ROOT / ".venv" / "bin"))


def tfvars(env: str) -> dict[str, Any]:
    return static.parse(ENVIRONMENT / "env" / f"{env}.tfvars")


def configs(config_dir: Path = CONFIG_DIR, first: str = "") -> dict[str, Any]:
    """Every config/variables file, parsed; ``first`` is searched before the others."""
    files = sorted((config_dir / "variables").glob("*.yaml"), key=lambda file: (file.stem != first, file.stem))
    return {f"config/variables/{file.name}": yaml.safe_load(file.read_text()) for file in files}


def workspace_id(host: str) -> int:
    match = re.fullmatch(r"https://adb-(\d+)\.\d+\.azuredatabricks\.net", host)
    assert match, host
    return int(match.group(1))


@pytest.fixture
def terraform_copy(tmp_path: Path) -> Path:
    """A writable copy of infra/terraform for breaking one thing at a time, beside a copy of config/, which
    the roots read (path.module/../../../config)."""
    copy = tmp_path / "infra" / "terraform"
    shutil.copytree(TERRAFORM, copy)
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    return copy


def test_every_folder_parses_and_every_reference_resolves() -> None:
    folders = static.modules_under(TERRAFORM)
    assert {folder.relative_to(TERRAFORM).as_posix() for folder in folders} == {
        "environment",
        "metastore",
        "modules/adls",
        "modules/key_vault",
        "modules/workspace",
    }
    assert [problem for folder in folders for problem in static.reference_problems(folder, PROVIDERS)] == []


def test_a_dangling_reference_or_a_wrong_module_argument_is_found(terraform_copy: Path) -> None:
    main = terraform_copy / "environment" / "main.tf"
    main.write_text(
        main.read_text().replace("location = var.location", "location = var.region", 1)
        + """
resource "azurerm_management_lock" "broken" {
  name       = local.lock_name
  scope      = azurerm_resource_group.other.id
  lock_level = data.azurerm_client_config.current.tenant_id
  notes      = "${module.adls.url} ${module.vault.id}"
}

module "ghost" {
  source = "../modules/nothing"
}
"""
    )
    workspace_call = 'module "workspace" {\n  source                 = "../modules/workspace"\n'
    main.write_text(
        main.read_text()
        .replace(workspace_call, workspace_call + "  owner = var.env\n", 1)
        .replace("  cost_centre            = local.cost_centre\n", "", 1)
    )
    problems = static.reference_problems((terraform_copy / "environment").resolve(), PROVIDERS)
    assert problems == [
        "environment/main.tf: var.region is not declared",
        "environment/main.tf: local.lock_name is not declared",
        "environment/main.tf: azurerm_resource_group.other is not declared",
        "environment/main.tf: data.azurerm_client_config.current is not declared",
        "environment/main.tf: module.adls has no output 'url'",
        "environment/main.tf: module.vault is not declared",
        "environment: variable 'location' is declared but never used",
        "environment: module.workspace passes 'owner', which workspace does not declare",
        "environment: module.workspace does not pass 'cost_centre', which workspace requires",
        "environment: module.ghost has source '../modules/nothing', which holds no .tf file",
    ]


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_sets_exactly_the_variables_its_root_declares(env: str) -> None:
    assert static.tfvars_problems(ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars") == []


def test_the_metastore_sets_exactly_the_variables_its_root_declares() -> None:
    assert static.tfvars_problems(METASTORE, METASTORE / "metastore.tfvars") == []


def test_a_variables_file_with_an_unknown_missing_or_mistyped_value_is_refused(terraform_copy: Path) -> None:
    file = terraform_copy / "environment" / "env" / "dev.tfvars"
    text = file.read_text().replace('key_vault_name       = "kv-lakehouse-dev"\n', "")
    text = text.replace("soft_delete_days     = 7", 'soft_delete_days     = "a week"')
    text = text.replace('  resource_group_name = "rg-network-dev"\n}', "}")
    file.write_text(text + 'databricks_token = "x"\n')
    problems = static.tfvars_problems((terraform_copy / "environment").resolve(), file)
    assert problems == [
        "dev.tfvars: 'databricks_token' is not a variable of environment",
        "dev.tfvars: 'soft_delete_days' is 'a week', not a number",
        "dev.tfvars: sets no 'key_vault_name', which environment requires",
        "dev.tfvars: 'databricks_workspace' has keys ['name'], the type has ['name', 'resource_group_name']",
    ]


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_plans_its_locals_and_validations_with_its_config(env: str) -> None:
    assert static.evaluation_problems(ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars") == []


def test_the_metastore_plans_its_locals_and_validations_with_config() -> None:
    assert static.evaluation_problems(METASTORE, METASTORE / "metastore.tfvars") == []


def test_a_key_config_lacks_is_found(terraform_copy: Path) -> None:
    environment = (terraform_copy / "environment").resolve()
    locals_file = environment / "config.tf"
    locals_file.write_text(
        locals_file.read_text().replace("local.config.databricks.cost_centre", "local.config.databricks.cost_center")
    )
    main = environment / "main.tf"
    main.write_text(main.read_text().replace("local.cluster.num_workers", "local.cluster.workers"))
    dev = terraform_copy.parents[1] / "config" / "variables" / "dev.yaml"
    dev.write_text(dev.read_text().replace("    data_engineering: dpm-data-eng-dev\n", ""))
    assert static.evaluation_problems(environment, environment / "env" / "dev.tfvars") == [
        "environment/config.tf: local.cost_centre with dev.tfvars: has no attribute 'cost_center'",
        "environment/config.tf: local.data_engineering_group with dev.tfvars: has no attribute 'data_engineering'",
        "environment/main.tf: module.workspace's num_workers with dev.tfvars: has no attribute 'workers'",
    ]


def test_a_config_value_a_validation_refuses_or_a_missing_config_file_is_found(terraform_copy: Path) -> None:
    config = terraform_copy.parents[1] / "config" / "variables"
    prod = config / "prod.yaml"
    prod.write_text(prod.read_text().replace("    num_workers: 4 ", "    num_workers: 20 "))
    (config / "test.yaml").unlink()
    environment = (terraform_copy / "environment").resolve()
    assert static.evaluation_problems(environment, environment / "env" / "prod.tfvars") == [
        "environment/module.workspace: var.num_workers with prod.tfvars: "
        "The etl_restricted policy allows 2 to 16 workers."
    ]
    (problem,) = static.evaluation_problems(environment, environment / "env" / "test.tfvars")
    assert problem.startswith("environment/config.tf: local.config with test.tfvars: file(): no such file ")
    metastore = (terraform_copy / "metastore").resolve()
    (problem,) = static.evaluation_problems(metastore, metastore / "metastore.tfvars")
    assert problem.startswith("metastore/config.tf: local.workspaces with metastore.tfvars: file(): no such file ")
    assert problem.endswith("config/variables/test.yaml (No such file or directory)")


def test_providers_are_pinned_alike_in_every_folder(terraform_copy: Path) -> None:
    assert static.provider_problems(static.modules_under(TERRAFORM)) == []
    versions = terraform_copy / "modules" / "adls" / "versions.tf"
    versions.write_text(versions.read_text().replace('"~> 4.40.0"', '">= 4.0"'))
    problems = static.provider_problems(static.modules_under(terraform_copy))
    assert "adls: provider 'azurerm' is not pinned ('>= 4.0')" in problems
    assert "provider hashicorp/azurerm is pinned differently in different folders: ['>= 4.0', '~> 4.40.0']" in problems


def test_no_credential_is_in_infra_and_the_scan_would_see_one(tmp_path: Path) -> None:
    files = static.source_files(TERRAFORM)
    assert {file.suffix for file in files} == {".tf", ".tfvars", ".hcl", ".tftpl"}
    assert static.secret_problems(files) == []
    # Built here, so that no credential-shaped string sits in the repository for scanners to flag.
    leaked = tmp_path / "leak.tfvars"
    leaked.write_text(f'note = "{"dapi" + "0a" * 16}"\nclient_secret = "literal"\n')
    assert static.secret_problems([leaked]) == [
        "leak.tfvars: holds a Databricks personal access token",
        "leak.tfvars: 'client_secret' is set to a literal",
    ]
    variables = tmp_path / "variables.tf"
    variables.write_text('variable "databricks_token" {\n  sensitive = true\n  default   = "x"\n}\n')
    assert static.secret_problems([variables]) == ["variables.tf: sensitive variable 'databricks_token' has a default"]


@pytest.mark.parametrize("env", ENVS)
def test_the_cluster_policy_is_etl_restricted_with_the_environments_values(env: str) -> None:
    settings = load_config(env).require_environment().databricks
    assert settings is not None
    policy = static.render_cluster_policy(ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars")
    assert policy == {
        "spark_version": {"type": "fixed", "value": settings.cluster.spark_version},
        "autotermination_minutes": {"type": "range", "minValue": 15, "maxValue": 120, "defaultValue": 30},
        "num_workers": {"type": "range", "minValue": 2, "maxValue": 16, "defaultValue": settings.cluster.num_workers},
        "enable_elastic_disk": {"type": "fixed", "value": True},
        "custom_tags.ENVM": {"type": "fixed", "value": env},
        "custom_tags.UDP_BU_DB_COST": {"type": "fixed", "value": settings.cost_centre},
        "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
        "azure_attributes.availability": {"type": "fixed", "value": "ON_DEMAND_AZURE"},
    }


def test_the_policy_takes_its_values_from_config_and_refuses_a_template_it_cannot_follow(
    terraform_copy: Path,
) -> None:
    environment = (terraform_copy / "environment").resolve()
    dev = terraform_copy.parents[1] / "config" / "variables" / "dev.yaml"
    values = yaml.safe_load(dev.read_text())
    workers = values["databricks"]["cluster"]["num_workers"] + 1
    values["databricks"]["cluster"]["num_workers"] = workers
    values["databricks"]["cost_centre"] = "GRP_OTHER"
    dev.write_text(yaml.safe_dump(values))
    policy = static.render_cluster_policy(environment, environment / "env" / "dev.tfvars")
    assert policy["num_workers"]["defaultValue"] == workers
    assert policy["custom_tags.UDP_BU_DB_COST"]["value"] == "GRP_OTHER"
    template = environment.parent / "modules" / "workspace" / "policies" / "etl_restricted.json.tftpl"
    template.write_text(template.read_text().replace('"${env}"', '"%{ if env == "prod" }prod%{ endif }"'))
    with pytest.raises(static.EvaluationError, match="template directives are not supported"):
        static.render_cluster_policy(environment, environment / "env" / "dev.tfvars")


@pytest.mark.parametrize("env", ENVS)
def test_every_stage_job_cluster_is_one_the_policy_allows(env: str) -> None:
    config = load_config(env)
    policy = static.render_cluster_policy(ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars")
    for job in jobs.job_definitions(env, config.require_databricks().databricks, "/Volumes/x.whl").values():
        cluster = job.as_dict()["job_clusters"][0]["new_cluster"]
        assert static.cluster_policy_violations(policy, cluster) == [], job.name


def test_a_job_cluster_outside_the_policy_is_found() -> None:
    policy = static.render_cluster_policy(ENVIRONMENT, ENVIRONMENT / "env" / "dev.tfvars")
    cluster = {
        "spark_version": "15.4.x-scala2.12",
        "num_workers": 32,
        "node_type_id": "Standard_D4ds_v5",
        "custom_tags": {"ENVM": "prod", "SYSTEM": "lakehouse"},
        "azure_attributes": {"availability": "SPOT_AZURE"},
    }
    assert static.cluster_policy_violations(policy, cluster) == [
        "azure_attributes.availability is 'SPOT_AZURE', which the policy fixes to 'ON_DEMAND_AZURE'",
        "custom_tags.ENVM is 'prod', which the policy fixes to 'dev'",
        "num_workers is 32, outside 2 to 16",
        "spark_version is '15.4.x-scala2.12', which the policy fixes to '17.3.x-scala2.13'",
    ]


@pytest.mark.parametrize("env", ENVS)
def test_terraform_reads_the_environments_values_from_config(env: str) -> None:
    environment = load_config(env).require_environment()
    settings = environment.databricks
    assert settings is not None
    plan = static.Evaluation.of_root(ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars")
    assert plan.variable("env") == env
    assert plan.local("catalogs") == environment.catalogs.model_dump()
    assert plan.local("cluster") == settings.cluster.model_dump()
    assert plan.local("cost_centre") == settings.cost_centre
    assert plan.local("data_engineering_group") == environment.governance.groups["data_engineering"]
    assert plan.local("databricks_host") == environment.airflow.connections["databricks_default"].host
    # The Key Vault's secret officers are the data engineering group unless a tfvars file names others.
    key_vault = plan.child("key_vault")
    assert key_vault.variable("secret_officers_group") == environment.governance.groups["data_engineering"]


@pytest.mark.parametrize(
    "file", [*(ENVIRONMENT / "env" / f"{env}.tfvars" for env in ENVS), METASTORE / "metastore.tfvars"]
)
def test_no_variables_file_repeats_a_value_config_holds(file: Path) -> None:
    assert static.repeated_config_values(file, configs(first=file.stem)) == []


def test_a_variables_file_that_repeats_config_is_refused(terraform_copy: Path) -> None:
    dev = terraform_copy / "environment" / "env" / "dev.tfvars"
    dev.write_text(
        dev.read_text()
        + 'cost_centre = "GRP_IT-DPM"\ncluster = { spark_version = "17.3.x-scala2.13", num_workers = 2 }\n'
        + 'secret_officers_group = "dpm-data-eng-dev"\n'
    )
    # soft_delete_days = 7 is no repeat of retention_days: 7, another setting under another name.
    assert static.repeated_config_values(dev, configs(first="dev")) == [
        "dev.tfvars: cost_centre = 'GRP_IT-DPM' repeats config/variables/dev.yaml's databricks.cost_centre",
        "dev.tfvars: cluster.spark_version = '17.3.x-scala2.13' repeats config/variables/dev.yaml's "
        "databricks.cluster.spark_version",
        "dev.tfvars: cluster.num_workers = 2 repeats config/variables/dev.yaml's databricks.cluster.num_workers",
        "dev.tfvars: secret_officers_group = 'dpm-data-eng-dev' repeats config/variables/dev.yaml's "
        "governance.groups.data_engineering",
    ]
    metastore = terraform_copy / "metastore" / "metastore.tfvars"
    metastore.write_text(metastore.read_text() + "workspaces = { prod = 3333333333333333 }\n")
    assert static.repeated_config_values(metastore, configs()) == [
        "metastore.tfvars: workspaces.prod = 3333333333333333 repeats config/variables/prod.yaml's "
        "airflow.connections.databricks_default.host",
    ]


@pytest.mark.skipif(TERRAFORM_CLI is None, reason="neither terraform nor tofu is installed")
@pytest.mark.parametrize(
    ("root", "file"),
    [
        *((ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars") for env in ENVS),
        (METASTORE, METASTORE / "metastore.tfvars"),
    ],
    ids=[*ENVS, "metastore"],
)
def test_terraform_itself_reads_config_as_the_static_check_does(root: Path, file: Path, tmp_path: Path) -> None:
    """`terraform console` evaluates config.tf's locals without providers or a backend, so offline: the
    same values as the static evaluation prove that the evaluator (and its YAML) is Terraform's."""
    assert TERRAFORM_CLI is not None
    copy = tmp_path / root.relative_to(ROOT)
    copy.mkdir(parents=True)
    for name in ("config.tf", "variables.tf"):
        shutil.copy(root / name, copy / name)
    (tmp_path / "config").symlink_to(CONFIG_DIR)
    names = [name for name, where in static.load_module(root).local_files.items() if where.name == "config.tf"]
    expression = "jsonencode({" + ", ".join(f"{name} = local.{name}" for name in names) + "})"
    result = subprocess.run(
        [TERRAFORM_CLI, "console", f"-var-file={file}"],
        input=expression,
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    by_terraform = json.loads(json.loads(result.stdout.strip()))
    plan = static.Evaluation.of_root(root, file)
    by_static_check = json.loads(FUNCTIONS["jsonencode"]({name: plan.local(name) for name in names}))
    assert by_terraform == by_static_check


def test_azure_names_are_valid_and_each_environment_has_its_own() -> None:
    metastore = static.parse(METASTORE / "metastore.tfvars")
    storage = [tfvars(env)["storage_account_name"] for env in ENVS] + [metastore["storage_account_name"]]
    vaults = [tfvars(env)["key_vault_name"] for env in ENVS]
    groups = [tfvars(env)["resource_group_name"] for env in ENVS] + [metastore["resource_group_name"]]
    assert [name for name in storage if not static.STORAGE_ACCOUNT_NAME.match(name)] == []
    assert [name for name in vaults if not static.KEY_VAULT_NAME.match(name)] == []
    assert [name for name in groups if not static.RESOURCE_GROUP_NAME.match(name)] == []
    for names in (storage, vaults, groups):
        assert len(set(names)) == len(names)
    for env in ENVS:
        values = tfvars(env)
        assert all(env in values[key] for key in ("storage_account_name", "key_vault_name", "resource_group_name"))
    # The rules themselves: too long, upper case, a double hyphen, a leading digit.
    assert not static.STORAGE_ACCOUNT_NAME.match("stLakehouse") and not static.STORAGE_ACCOUNT_NAME.match("s" * 25)
    assert not static.KEY_VAULT_NAME.match("kv--lakehouse") and not static.KEY_VAULT_NAME.match("1kv-lakehouse")


def test_the_metastore_is_assigned_to_each_environments_workspace() -> None:
    assigned = static.Evaluation.of_root(METASTORE, METASTORE / "metastore.tfvars").local("workspaces")
    expected = {}
    for env in ENVS:
        host = load_config(env).require_environment().airflow.connections["databricks_default"].host
        assert host is not None
        expected[env] = workspace_id(host)
    assert assigned == expected


def test_each_environment_keeps_its_own_state() -> None:
    keys = [static.parse(ENVIRONMENT / "env" / f"{env}.backend.hcl")["key"] for env in ENVS]
    keys.append(static.parse(METASTORE / "metastore.backend.hcl")["key"])
    assert keys == [*(f"lakehouse-{env}.tfstate" for env in ENVS), "lakehouse-metastore.tfstate"]


def test_only_prod_pays_for_a_copy_in_the_paired_region() -> None:
    # Geo-redundant storage for what must survive the loss of a region.
    geo = {"GRS", "RAGRS", "GZRS", "RAGZRS"}
    assert {env: tfvars(env)["storage_replication"] in geo for env in ENVS} == {env: env == "prod" for env in ENVS}
