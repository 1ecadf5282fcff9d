# terraform init -backend-config=env/dev.backend.hcl (the signed-in principal needs Storage Blob Data
# Contributor on the state container).
resource_group_name  = "rg-lakehouse-tfstate"
storage_account_name = "stlakehousetfstate"
container_name       = "tfstate"
key                  = "lakehouse-dev.tfstate"
