# Workspace objects of one environment: the etl_restricted cluster policy (docs/databricks.md), Unity
# Catalog access to the environment's storage, and Key Vault-backed secret scopes. Catalogs,
# schemas, grants on them and masks are SQL, applied by the governance DAG.
locals {
  # The catalogs' managed storage and the landing volume's files, each in its own container.
  external_locations = {
    bronze  = var.catalogs.bronze
    silver  = var.catalogs.silver
    gold    = var.catalogs.gold
    ai      = var.catalogs.ai
    landing = "${var.catalogs.bronze}_landing"
  }
}

resource "databricks_cluster_policy" "etl_restricted" {
  name = "etl_restricted"
  # Decoding and encoding again fails the plan on a template that is not JSON.
  definition = jsonencode(jsondecode(templatefile("${path.module}/policies/etl_restricted.json.tftpl", {
    env           = var.env
    spark_version = var.spark_version
    num_workers   = var.num_workers
    cost_centre   = var.cost_centre
  })))
}

resource "databricks_permissions" "etl_restricted" {
  cluster_policy_id = databricks_cluster_policy.etl_restricted.id

  access_control {
    group_name       = var.data_engineering_group
    permission_level = "CAN_USE"
  }
}

resource "databricks_storage_credential" "lakehouse" {
  name    = "lakehouse_${var.env}"
  comment = "The ${var.env} access connector's managed identity"

  azure_managed_identity {
    access_connector_id = var.access_connector_id
  }
}

resource "databricks_external_location" "zone" {
  for_each        = local.external_locations
  name            = each.value
  url             = var.container_urls[each.key]
  credential_name = databricks_storage_credential.lakehouse.name
  comment         = "${each.key} storage of ${var.env}"
}

resource "databricks_grants" "zone" {
  for_each          = databricks_external_location.zone
  external_location = each.value.id

  grant {
    principal  = var.data_engineering_group
    privileges = ["CREATE_EXTERNAL_VOLUME", "CREATE_MANAGED_STORAGE", "READ_FILES"]
  }
}

resource "databricks_secret_scope" "vault" {
  for_each = var.secret_scopes
  name     = each.key

  keyvault_metadata {
    resource_id = var.key_vault_id
    dns_name    = var.key_vault_uri
  }
}

resource "databricks_secret_acl" "data_engineering" {
  for_each   = databricks_secret_scope.vault
  scope      = each.value.name
  principal  = var.data_engineering_group
  permission = "READ"
}
