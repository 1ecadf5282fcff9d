"""infra/terraform: the static checks that stand in for `terraform validate` (infra/README.md), and the
values per environment against config/variables/<env>.yaml."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from lakehouse.config import load_config
from lakehouse.core import jobs
from tests import terraform_static as static
from tests.conftest import ROOT

TERRAFORM = ROOT / "infra" / "terraform"
ENVIRONMENT = TERRAFORM / "environment"
METASTORE = TERRAFORM / "metastore"
ENVS = ("dev", "test", "prod")
PROVIDERS = {"azurerm", "azuread", "databricks"}


def tfvars(env: str) -> dict[str, Any]:
    return static.parse(ENVIRONMENT / "env" / f"{env}.tfvars")


def workspace_id(host: str) -> int:
    match = re.fullmatch(r"https://adb-(\d+)\.\d+\.azuredatabricks\.net", host)
    assert match, host
    return int(match.group(1))


@pytest.fixture
def terraform_copy(tmp_path: Path) -> Path:
    """A writable copy of infra/terraform for breaking one thing at a time."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy)
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
        .replace("  cost_centre            = var.cost_centre\n", "", 1)
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
    text = text.replace("  num_workers   = 2\n", "")
    file.write_text(text + 'databricks_token = "x"\n')
    problems = static.tfvars_problems((terraform_copy / "environment").resolve(), file)
    assert problems == [
        "dev.tfvars: 'databricks_token' is not a variable of environment",
        "dev.tfvars: 'soft_delete_days' is 'a week', not a number",
        "dev.tfvars: sets no 'key_vault_name', which environment requires",
        "dev.tfvars: 'cluster' has keys ['spark_version'], the type has ['num_workers', 'spark_version']",
    ]


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
def test_the_cluster_policy_is_blueprint_24_1_with_the_environments_values(env: str) -> None:
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


@pytest.mark.parametrize("env", ENVS)
def test_every_stage_job_cluster_is_one_the_policy_allows(env: str) -> None:
    config = load_config(env)
    policy = static.render_cluster_policy(ENVIRONMENT, ENVIRONMENT / "env" / f"{env}.tfvars")
    for job in jobs.job_definitions(env, config.require_databricks().databricks, "/Volumes/x.whl").values():
        cluster = job.as_dict()["job_clusters"][0]["new_cluster"]
        flat = {**cluster, **{f"custom_tags.{tag}": value for tag, value in cluster.get("custom_tags", {}).items()}}
        for attribute, rule in policy.items():
            if attribute not in flat:
                continue  # the policy fills in what the job leaves out
            if rule["type"] == "fixed":
                assert flat[attribute] == rule["value"], (job.name, attribute)
            else:
                assert rule["minValue"] <= flat[attribute] <= rule["maxValue"], (job.name, attribute)


@pytest.mark.parametrize("env", ENVS)
def test_the_environments_values_are_configs(env: str) -> None:
    environment = load_config(env).require_environment()
    settings = environment.databricks
    assert settings is not None
    values = tfvars(env)
    assert values["env"] == env
    assert values["catalogs"] == environment.catalogs.model_dump()
    assert values["cluster"] == {
        "spark_version": settings.cluster.spark_version,
        "num_workers": settings.cluster.num_workers,
    }
    assert values["cost_centre"] == settings.cost_centre
    assert values["data_engineering_group"] == environment.governance.groups["data_engineering"]
    assert values["databricks_host"] == environment.airflow.connections["databricks_default"].host


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
    assigned = static.parse(METASTORE / "metastore.tfvars")["workspaces"]
    expected = {}
    for env in ENVS:
        host = load_config(env).require_environment().airflow.connections["databricks_default"].host
        assert host is not None
        expected[env] = workspace_id(host)
    assert assigned == expected


def test_each_environment_keeps_its_own_state() -> None:
    keys = [static.parse(ENVIRONMENT / "env" / f"{env}.backend.hcl")["key"] for env in ENVS]
    keys.append(static.parse(METASTORE / "metastore.backend.hcl")["key"])
    assert keys == [
        "lakehouse-dev.tfstate",
        "lakehouse-test.tfstate",
        "lakehouse-prod.tfstate",
        "lakehouse-metastore.tfstate",
    ]


def test_only_prod_pays_for_a_copy_in_the_paired_region() -> None:
    # BLUEPRINT §24.8: geo-redundant storage for what must survive the loss of a region.
    geo = {"GRS", "RAGRS", "GZRS", "RAGZRS"}
    assert {env: tfvars(env)["storage_replication"] in geo for env in ENVS} == {
        "dev": False,
        "test": False,
        "prod": True,
    }
