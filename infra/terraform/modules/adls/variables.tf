variable "name" {
  description = "Storage account name: 3 to 24 lower-case letters and digits, unique in Azure."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.name))
    error_message = "A storage account name is 3 to 24 lower-case letters and digits."
  }
}

variable "resource_group_name" {
  type = string
}

variable "location" {
  type = string
}

variable "replication" {
  description = "LRS or ZRS where a region's loss is acceptable; GRS, RAGRS, GZRS or RAGZRS for data that must survive it."
  type        = string
  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.replication)
    error_message = "replication is one of LRS, ZRS, GRS, RAGRS, GZRS, RAGZRS."
  }
}

variable "containers" {
  description = "Containers (file systems) to create, all private."
  type        = set(string)
}

variable "soft_delete_days" {
  description = "Days a deleted blob or container can be restored."
  type        = number
  validation {
    condition     = var.soft_delete_days >= 7 && var.soft_delete_days <= 365
    error_message = "soft_delete_days is 7 to 365."
  }
}

variable "access_connector_name" {
  description = "The Azure Databricks access connector whose managed identity Unity Catalog reads and writes the account as."
  type        = string
}

variable "private_endpoint_subnet_id" {
  type = string
}

variable "private_dns_zone_ids" {
  description = "Private DNS zone ids by sub-resource: blob and dfs."
  type        = map(string)
}

variable "tags" {
  type = map(string)
}
