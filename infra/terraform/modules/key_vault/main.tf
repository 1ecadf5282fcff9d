# The environment's vault: Azure RBAC instead of access policies, purge protection (a deleted vault or
# secret stays recoverable for 90 days and cannot be purged early), reachable only through its private
# endpoint and by trusted Azure services. Terraform creates the vault and who may use it, never a secret:
# values are set by the secret officers (quarterly rotation).
data "azurerm_client_config" "current" {}

# The first-party application Azure Databricks reads Key Vault-backed secret scopes as.
data "azuread_service_principal" "azure_databricks" {
  client_id = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
}

data "azuread_group" "secret_officers" {
  display_name     = var.secret_officers_group
  security_enabled = true
}

resource "azurerm_key_vault" "this" {
  name                          = var.name
  resource_group_name           = var.resource_group_name
  location                      = var.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  enable_rbac_authorization     = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = false
  tags                          = var.tags

  network_acls {
    default_action = "Deny"
    # Databricks reads scope secrets as a trusted Microsoft service.
    bypass = "AzureServices"
  }
}

resource "azurerm_role_assignment" "databricks_reads_secrets" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = data.azuread_service_principal.azure_databricks.object_id
}

resource "azurerm_role_assignment" "officers_manage_secrets" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azuread_group.secret_officers.object_id
}

resource "azurerm_private_endpoint" "vault" {
  name                = "pe-${var.name}"
  resource_group_name = var.resource_group_name
  location            = var.location
  subnet_id           = var.private_endpoint_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = var.name
    private_connection_resource_id = azurerm_key_vault.this.id
    subresource_names              = ["vault"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "vault"
    private_dns_zone_ids = [var.private_dns_zone_id]
  }
}
