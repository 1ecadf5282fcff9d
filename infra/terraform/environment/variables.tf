variable "env" {
  description = "Environment name: the ENVM tag and the config file config/variables/<env>.yaml."
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
  type = number
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

variable "databricks_host" {
  description = "The workspace URL (config: airflow.connections.databricks_default.host)."
  type        = string
  validation {
    condition     = can(regex("^https://adb-[0-9]+\\.[0-9]+\\.azuredatabricks\\.net$", var.databricks_host))
    error_message = "databricks_host is https://adb-<workspace id>.<n>.azuredatabricks.net."
  }
}

variable "catalogs" {
  description = "Catalog names by zone, as config/variables/<env>.yaml names them."
  type = object({
    bronze = string
    silver = string
    gold   = string
    ai     = string
  })
}

variable "cluster" {
  description = "The runtime and worker count of config/variables/<env>.yaml (databricks.cluster): the cluster policy fixes the one and defaults to the other."
  type = object({
    spark_version = string
    num_workers   = number
  })
  validation {
    condition     = var.cluster.num_workers >= 2 && var.cluster.num_workers <= 16
    error_message = "The etl_restricted policy allows 2 to 16 workers."
  }
}

variable "cost_centre" {
  type = string
}

variable "data_engineering_group" {
  description = "Account group of the data engineering role: governance.groups.data_engineering in config."
  type        = string
}

variable "secret_officers_group" {
  description = "Azure AD group that manages the Key Vault's secrets (and rotates them)."
  type        = string
}

variable "secret_scopes" {
  type = set(string)
}

variable "tags" {
  description = "Tags besides ENVM and COST_CENTER, which come from env and cost_centre."
  type        = map(string)
  default     = {}
}
