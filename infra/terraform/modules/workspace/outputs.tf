output "cluster_policy_id" {
  value = databricks_cluster_policy.etl_restricted.id
}

output "external_locations" {
  value = { for zone, location in databricks_external_location.zone : zone => location.url }
}
