# The test environment. Values that config/variables/test.yaml also holds must equal it
# (tests/test_infra.py checks them); credentials come from the pipeline's environment.
env                  = "test"
location             = "australiaeast"
resource_group_name  = "rg-lakehouse-test"
storage_account_name = "stlakehousetest"
storage_replication  = "ZRS"
soft_delete_days     = 7
key_vault_name       = "kv-lakehouse-test"

network = {
  resource_group_name          = "rg-network-test"
  virtual_network_name         = "vnet-lakehouse-test"
  private_endpoint_subnet_name = "snet-private-endpoints"
  dns_zone_resource_group_name = "rg-private-dns"
}

databricks_workspace = {
  name                = "dbw-lakehouse-test"
  resource_group_name = "rg-network-test"
}
databricks_host = "https://adb-2222222222222222.12.azuredatabricks.net"

catalogs = {
  bronze = "test_ep_raw"
  silver = "test_ep_curated"
  gold   = "test_ep_marts"
  ai     = "test_ep_ai"
}

cluster = {
  spark_version = "17.3.x-scala2.13"
  num_workers   = 2
}
cost_centre = "GRP_IT-DPM"

data_engineering_group = "dpm-data-eng-test"
secret_officers_group  = "dpm-data-eng-test"

secret_scopes = ["lakehouse", "sfdc-integration"]
