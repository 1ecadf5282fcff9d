# The region's Unity Catalog metastore, shared by the dev, test and prod workspaces: their catalogs
# carry the environment in their names (dev_ep_raw, test_ep_raw, ...) so one metastore holds them all.
# Each environment's catalogs store their data in that environment's account (../environment); the
# metastore's own container holds only what has no catalog storage of its own.
locals {
  tags = merge(var.tags, { SYSTEM = "lakehouse", ENVM = "shared" })
}

data "azurerm_subnet" "private_endpoints" {
  name                 = var.network.private_endpoint_subnet_name
  virtual_network_name = var.network.virtual_network_name
  resource_group_name  = var.network.resource_group_name
}

data "azurerm_private_dns_zone" "zone" {
  for_each            = toset(["blob", "dfs"])
  name                = "privatelink.${each.key}.core.windows.net"
  resource_group_name = var.network.dns_zone_resource_group_name
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
  replication                = "GZRS"
  containers                 = toset(["metastore"])
  soft_delete_days           = 30
  access_connector_name      = "ac-lakehouse-metastore"
  private_endpoint_subnet_id = data.azurerm_subnet.private_endpoints.id
  private_dns_zone_ids       = { for name, zone in data.azurerm_private_dns_zone.zone : name => zone.id }
  tags                       = local.tags
}

resource "databricks_metastore" "this" {
  name          = var.metastore_name
  region        = var.location
  owner         = var.metastore_owner_group
  storage_root  = module.adls.container_urls["metastore"]
  force_destroy = false
}

resource "databricks_metastore_data_access" "this" {
  metastore_id = databricks_metastore.this.id
  name         = "${var.metastore_name}-root"
  is_default   = true

  azure_managed_identity {
    access_connector_id = module.adls.access_connector_id
  }
}

resource "databricks_metastore_assignment" "this" {
  for_each     = local.workspaces
  workspace_id = each.value
  metastore_id = databricks_metastore.this.id
}
