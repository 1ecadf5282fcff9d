# The dev environment. Values that config/variables/dev.yaml also holds must equal it
# (tests/test_infra.py checks them); credentials come from the pipeline's environment.
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
databricks_host = "https://adb-1111111111111111.11.azuredatabricks.net"

catalogs = {
  bronze = "dev_ep_raw"
  silver = "dev_ep_curated"
  gold   = "dev_ep_marts"
  ai     = "dev_ep_ai"
}

cluster = {
  spark_version = "17.3.x-scala2.13"
  num_workers   = 2
}
cost_centre = "GRP_IT-DPM"

data_engineering_group = "dpm-data-eng-dev"
secret_officers_group  = "dpm-data-eng-dev"

secret_scopes = ["lakehouse", "sfdc-integration"]
