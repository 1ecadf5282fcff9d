# The workspace id of each environment the metastore serves, read from config rather than repeated in
# metastore.tfvars: the <id> of the workspace URL https://adb-<id>.<n>.azuredatabricks.net that
# config/variables/<env>.yaml names as airflow.connections.databricks_default.host.
locals {
  workspaces = {
    for env in var.environments : env => tonumber(regex(
      "^https://adb-([0-9]+)\\.[0-9]+\\.azuredatabricks\\.net$",
      yamldecode(file("${path.module}/../../../config/variables/${env}.yaml")).airflow.connections.databricks_default.host
    )[0])
  }
}
