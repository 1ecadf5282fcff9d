output "id" {
  value = azurerm_storage_account.this.id
}

output "name" {
  value = azurerm_storage_account.this.name
}

output "access_connector_id" {
  value = azurerm_databricks_access_connector.this.id
}

# abfss:// URL of each container, as Unity Catalog names storage.
output "container_urls" {
  value = {
    for name, container in azurerm_storage_container.this :
    name => "abfss://${container.name}@${azurerm_storage_account.this.name}.dfs.core.windows.net/"
  }
}
