variable "location" {
  description = "The region: Unity Catalog allows one metastore per region and account."
  type        = string
}

variable "resource_group_name" {
  type = string
}

variable "storage_account_name" {
  type = string
}

variable "metastore_name" {
  type = string
}

variable "metastore_owner_group" {
  description = "Account group that owns the metastore (its admins)."
  type        = string
}

variable "environments" {
  description = "The environments whose workspaces are assigned to the metastore; each workspace id comes from config/variables/<env>.yaml (config.tf)."
  type        = set(string)
}

variable "network" {
  type = object({
    resource_group_name          = string
    virtual_network_name         = string
    private_endpoint_subnet_name = string
    dns_zone_resource_group_name = string
  })
}

variable "tags" {
  type    = map(string)
  default = {}
}
