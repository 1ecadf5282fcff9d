# What config/variables/<env>.yaml holds, read from it rather than repeated in env/<env>.tfvars: values
# that differ per environment live in config only (the Databricks bundle is generated from the same
# file). The pydantic models of src/lakehouse/config validate the file (`lakehouse validate --env
# <env>`); tests/test_infra.py checks that every key read here exists in each environment's file.
locals {
  config = yamldecode(file("${path.module}/../../../config/variables/${var.env}.yaml"))

  catalogs               = local.config.catalogs
  cluster                = local.config.databricks.cluster
  cost_centre            = local.config.databricks.cost_centre
  data_engineering_group = local.config.governance.groups.data_engineering
  databricks_host        = local.config.airflow.connections.databricks_default.host
}
