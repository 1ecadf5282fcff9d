# The prod environment. Values that config/variables/prod.yaml also holds must equal it
# (tests/test_infra.py checks them); credentials come from the pipeline's environment.
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
databricks_host = "https://adb-3333333333333333.13.azuredatabricks.net"

catalogs = {
  bronze = "prod_ep_raw"
  silver = "prod_ep_curated"
  gold   = "prod_ep_marts"
  ai     = "prod_ep_ai"
}

cluster = {
  spark_version = "17.3.x-scala2.13"
  num_workers   = 4
}
cost_centre = "GRP_IT-DPM"

data_engineering_group = "dpm-data-eng"
secret_officers_group  = "dpm-data-eng"

secret_scopes = ["lakehouse", "sfdc-integration"]
