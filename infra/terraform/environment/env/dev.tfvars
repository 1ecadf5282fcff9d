# The dev environment's Azure resources: names, network, the workspace to look up. What
# config/variables/dev.yaml holds (catalogs, cluster, cost centre, groups, workspace URL) is read from
# it (config.tf) and must not be set here (tests/test_infra.py checks it); credentials come from the
# pipeline's environment.
env                  = "dev"
location             = "australiaeast"
resource_group_name  = "rg-lakehouse-dev"
storage_account_name = "stlakehousedev"
storage_replication  = "LRS"
soft_delete_days     = 7
key_vault_name       = "kv-lakehouse-dev"

network = {
  resource_group_name          = "rg-network-dev"
  virtual_network_name         = "vnet-lakehouse-dev"
  private_endpoint_subnet_name = "snet-private-endpoints"
  dns_zone_resource_group_name = "rg-private-dns"
}

databricks_workspace = {
  name                = "dbw-lakehouse-dev"
  resource_group_name = "rg-network-dev"
}

# Key Vault-backed scopes; the data engineering group of config may read them.
secret_scopes = ["lakehouse", "sfdc-integration"]
