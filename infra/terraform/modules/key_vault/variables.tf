variable "name" {
  description = "Key Vault name: 3 to 24 letters, digits and single hyphens, starting with a letter, unique in Azure."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z](-?[a-zA-Z0-9])*$", var.name)) && length(var.name) >= 3 && length(var.name) <= 24
    error_message = "A Key Vault name is 3 to 24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "resource_group_name" {
  type = string
}

variable "location" {
  type = string
}

variable "secret_officers_group" {
  description = "Azure AD group that sets and rotates secret values (the values never pass through Terraform)."
  type        = string
}

variable "private_endpoint_subnet_id" {
  type = string
}

variable "private_dns_zone_id" {
  description = "Id of the privatelink.vaultcore.azure.net zone."
  type        = string
}

variable "tags" {
  type = map(string)
}
