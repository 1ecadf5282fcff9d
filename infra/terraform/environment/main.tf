# One environment (dev, test or prod): its resource group, ADLS Gen2 account, Key Vault and the
# objects in its Databricks workspace. The Unity Catalog metastore the workspace is assigned to is
# shared by the region's workspaces and lives in ../metastore.
locals {
  tags = merge(var.tags, {
    ENVM        = var.env
    COST_CENTER = local.cost_centre
    SYSTEM      = "lakehouse"
  })
  # One container per zone, named like the keys of config's catalogs, and one for the extracts.
  containers = ["bronze", "silver", "gold", "ai", "landing"]
}

data "azurerm_subnet" "private_endpoints" {
  name                 = var.network.private_endpoint_subnet_name
  virtual_network_name = var.network.virtual_network_name
  resource_group_name  = var.network.resource_group_name
}

data "azurerm_private_dns_zone" "zone" {
  for_each            = toset(["blob", "dfs", "vault"])
  name                = each.key == "vault" ? "privatelink.vaultcore.azure.net" : "privatelink.${each.key}.core.windows.net"
  resource_group_name = var.network.dns_zone_resource_group_name
}

data "azurerm_databricks_workspace" "this" {
  name                = var.databricks_workspace.name
  resource_group_name = var.databricks_workspace.resource_group_name

  lifecycle {
    # The workspace the tfvars name is the one config's Airflow connection (and so the provider) uses.
    postcondition {
      condition     = "https://${self.workspace_url}" == local.databricks_host
      error_message = "The workspace ${var.databricks_workspace.name} is https://${self.workspace_url}, but config/variables/${var.env}.yaml's airflow.connections.databricks_default.host is ${local.databricks_host}."
    }
  }
}

resource "azurerm_resource_group" "this" {
  name     = var.resource_group_name
  location = var.location
  tags     = local.tags
}

module "adls" {
  source                     = "../modules/adls"
  name                       = var.storage_account_name
  resource_group_name        = azurerm_resource_group.this.name
  location                   = azurerm_resource_group.this.location
  replication                = var.storage_replication
  containers                 = toset(local.containers)
  soft_delete_days           = var.soft_delete_days
  access_connector_name      = "ac-lakehouse-${var.env}"
  private_endpoint_subnet_id = data.azurerm_subnet.private_endpoints.id
  private_dns_zone_ids = {
    blob = data.azurerm_private_dns_zone.zone["blob"].id
    dfs  = data.azurerm_private_dns_zone.zone["dfs"].id
  }
  tags = local.tags
}

module "key_vault" {
  source                     = "../modules/key_vault"
  name                       = var.key_vault_name
  resource_group_name        = azurerm_resource_group.this.name
  location                   = azurerm_resource_group.this.location
  secret_officers_group      = coalesce(var.secret_officers_group, local.data_engineering_group)
  private_endpoint_subnet_id = data.azurerm_subnet.private_endpoints.id
  private_dns_zone_id        = data.azurerm_private_dns_zone.zone["vault"].id
  tags                       = local.tags
}

module "workspace" {
  source                 = "../modules/workspace"
  env                    = var.env
  spark_version          = local.cluster.spark_version
  num_workers            = local.cluster.num_workers
  cost_centre            = local.cost_centre
  catalogs               = local.catalogs
  container_urls         = module.adls.container_urls
  access_connector_id    = module.adls.access_connector_id
  key_vault_id           = module.key_vault.id
  key_vault_uri          = module.key_vault.uri
  secret_scopes          = var.secret_scopes
  data_engineering_group = local.data_engineering_group
}

# Workspace audit logs go to the environment's account, where the SIEM collects them.
resource "azurerm_monitor_diagnostic_setting" "workspace_audit" {
  name               = "audit-to-adls"
  target_resource_id = data.azurerm_databricks_workspace.this.id
  storage_account_id = module.adls.id

  enabled_log {
    category_group = "allLogs"
  }
}
