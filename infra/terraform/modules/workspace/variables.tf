variable "env" {
  type = string
}

variable "spark_version" {
  description = "The one Databricks runtime the policy allows (config: databricks.cluster.spark_version)."
  type        = string
}

variable "num_workers" {
  description = "The policy's default worker count (config: databricks.cluster.num_workers)."
  type        = number
  validation {
    condition     = var.num_workers >= 2 && var.num_workers <= 16
    error_message = "The etl_restricted policy allows 2 to 16 workers."
  }
}

variable "cost_centre" {
  description = "The UDP_BU_DB_COST tag every cluster gets (config: databricks.cost_centre)."
  type        = string
}

variable "catalogs" {
  description = "Catalog names by zone (config: catalogs); each zone's external location is named after its catalog."
  type = object({
    bronze = string
    silver = string
    gold   = string
    ai     = string
  })
}

variable "container_urls" {
  description = "abfss:// URL of each container: one per zone, and landing."
  type        = map(string)
}

variable "access_connector_id" {
  type = string
}

variable "key_vault_id" {
  type = string
}

variable "key_vault_uri" {
  type = string
}

variable "secret_scopes" {
  description = "Key Vault-backed secret scopes; each shows the whole vault of the environment."
  type        = set(string)
}

variable "data_engineering_group" {
  description = "Workspace group that may use the cluster policy, the external locations and the secret scopes."
  type        = string
}
