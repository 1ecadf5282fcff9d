# The australiaeast metastore and the environments whose workspaces are assigned to it; each workspace
# id is read from config/variables/<env>.yaml's Databricks host (config.tf), never set here.
location              = "australiaeast"
resource_group_name   = "rg-lakehouse-uc"
storage_account_name  = "stlakehouseuc"
metastore_name        = "lakehouse-australiaeast"
metastore_owner_group = "dpm-uc-admins"

environments = ["dev", "test", "prod"]

network = {
  resource_group_name          = "rg-network-shared"
  virtual_network_name         = "vnet-lakehouse-shared"
  private_endpoint_subnet_name = "snet-private-endpoints"
  dns_zone_resource_group_name = "rg-private-dns"
}
