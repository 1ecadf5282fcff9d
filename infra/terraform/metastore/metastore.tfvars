# The australiaeast metastore and the workspaces assigned to it; each workspace id must be the one in
# config/variables/<env>.yaml's Databricks host (tests/test_infra.py checks it).
location              = "australiaeast"
resource_group_name   = "rg-lakehouse-uc"
storage_account_name  = "stlakehouseuc"
metastore_name        = "lakehouse-australiaeast"
metastore_owner_group = "dpm-uc-admins"

workspaces = {
  dev  = 1111111111111111
  test = 2222222222222222
  prod = 3333333333333333
}

network = {
  resource_group_name          = "rg-network-shared"
  virtual_network_name         = "vnet-lakehouse-shared"
  private_endpoint_subnet_name = "snet-private-endpoints"
  dns_zone_resource_group_name = "rg-private-dns"
}
