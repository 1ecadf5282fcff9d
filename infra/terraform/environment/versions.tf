terraform {
  required_version = ">= 1.6"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.40.0"
    }
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.4.0"
    }
    databricks = {
      source  = "databricks/databricks"
      version = "~> 1.85.0"
    }
  }

  # State per environment: terraform init -backend-config=env/<env>.backend.hcl
  backend "azurerm" {
    use_azuread_auth = true
  }
}

# Credentials come from the pipeline's environment, never from variables: ARM_TENANT_ID,
# ARM_SUBSCRIPTION_ID, ARM_CLIENT_ID and ARM_USE_OIDC (or ARM_CLIENT_SECRET) for Azure; the Databricks
# provider signs in as the same Azure AD service principal, which Key Vault-backed scopes require.
provider "azurerm" {
  storage_use_azuread = true
  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
  }
}

provider "azuread" {}

# The workspace URL is config's airflow.connections.databricks_default.host (config.tf).
provider "databricks" {
  host = local.databricks_host
}
