# The prod environment's Azure resources: names, network, the workspace to look up. What
# config/variables/prod.yaml holds (catalogs, cluster, cost centre, groups, workspace URL) is read from
# it (config.tf) and must not be set here (tests/test_infra.py checks it); credentials come from the
# pipeline's environment.
env                  = "prod"
location             = "australiaeast"
resource_group_name  = "rg-lakehouse-prod"
storage_account_name = "stlakehouseprod"
storage_replication  = "GZRS"
soft_delete_days     = 30
key_vault_name       = "kv-lakehouse-prod"

network = {
  resource_group_name          = "rg-network-prod"
  virtual_network_name         = "vnet-lakehouse-prod"
  private_endpoint_subnet_name = "snet-private-endpoints"
  dns_zone_resource_group_name = "rg-private-dns"
}

databricks_workspace = {
  name                = "dbw-lakehouse-prod"
  resource_group_name = "rg-network-prod"
}

# Key Vault-backed scopes; the data engineering group of config may read them.
secret_scopes = ["lakehouse", "sfdc-integration"]
