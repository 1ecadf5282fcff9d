variable "env" {
  description = "Environment name: the ENVM tag, and config/variables/<env>.yaml, which the values that differ per environment come from (config.tf)."
  type        = string
  validation {
    condition     = contains(["dev", "test", "prod"], var.env)
    error_message = "env is dev, test or prod."
  }
}

variable "location" {
  type    = string
  default = "australiaeast"
}

variable "resource_group_name" {
  type = string
}

variable "storage_account_name" {
  type = string
}

variable "storage_replication" {
  type = string
}

variable "soft_delete_days" {
  description = "Days deleted blobs and containers stay recoverable: Azure's soft delete, not config's retention_days (Delta VACUUM)."
  type        = number
}

variable "key_vault_name" {
  type = string
}

variable "network" {
  description = "Where the private endpoints go: an existing subnet, and the resource group of the privatelink DNS zones."
  type = object({
    resource_group_name          = string
    virtual_network_name         = string
    private_endpoint_subnet_name = string
    dns_zone_resource_group_name = string
  })
}

variable "databricks_workspace" {
  description = "The environment's workspace (VNet-injected, created with the network)."
  type = object({
    name                = string
    resource_group_name = string
  })
}

variable "secret_officers_group" {
  description = "Azure AD group that manages the Key Vault's secrets (and rotates them); unset, the data engineering group of config (governance.groups.data_engineering)."
  type        = string
  default     = null
}

variable "secret_scopes" {
  type = set(string)
}

variable "tags" {
  description = "Tags besides ENVM and COST_CENTER, which come from env and config's databricks.cost_centre."
  type        = map(string)
  default     = {}
}
