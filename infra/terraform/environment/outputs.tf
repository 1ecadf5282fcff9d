output "storage_account_id" {
  value = module.adls.id
}

output "key_vault_uri" {
  description = "vault_url of Airflow's Key Vault secrets backend (README, Running on Databricks, step 4)."
  value       = module.key_vault.uri
}

output "cluster_policy_id" {
  value = module.workspace.cluster_policy_id
}

output "external_locations" {
  value = module.workspace.external_locations
}
