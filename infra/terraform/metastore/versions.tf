terraform {
  required_version = ">= 1.6"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.40.0"
    }
    databricks = {
      source  = "databricks/databricks"
      version = "~> 1.85.0"
    }
  }

  # terraform init -backend-config=metastore.backend.hcl
  backend "azurerm" {
    use_azuread_auth = true
  }
}

provider "azurerm" {
  storage_use_azuread = true
  features {}
}

# The account console, as an account admin: DATABRICKS_ACCOUNT_ID and the ARM_* sign-in come from the
# pipeline's environment.
provider "databricks" {
  host = "https://accounts.azuredatabricks.net"
}
