#!/usr/bin/env bash
# One step of a CD stage, on the released files only (no checkout):
#   stage.sh RELEASE_DIR ENV bundle|airflow|governance|smoke
#   bundle      the wheel into the environment's artifacts volume, then `databricks bundle deploy` of the
#               stage jobs pointing at that file
#   airflow     `lakehouse env apply`: the environment's Airflow Variables and connection shells
#               (AIRFLOW_API_URL with AIRFLOW_API_TOKEN, from the stage's variable group)
#   governance  `lakehouse governance apply`: Unity Catalog catalogs, schemas, grants, masks and tags
#   smoke       every job of the environment exists once by name and installs the released wheel
# Databricks credentials: DATABRICKS_AUTH_TYPE=azure-cli inside an AzureCLI task (workload identity
# federation); the workspace is the one the environment's Databricks connection names.
set -euo pipefail
usage="usage: $0 RELEASE_DIR ENV bundle|airflow|governance|smoke"
release="$(cd "${1:?$usage}" && pwd)"
env="${2:?$usage}"
action="${3:?$usage}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
source "$release/release.env"

bin="$(bash "$here/install_release.sh" "$release")"
export PATH="$bin:$PATH"
databricks_env() {
    DATABRICKS_HOST="$(python "$here/release_env.py" workspace --env "$env")"
    export DATABRICKS_HOST DATABRICKS_AUTH_TYPE="${DATABRICKS_AUTH_TYPE:-azure-cli}"
    echo "$env: commit $RELEASE_COMMIT, workspace $DATABRICKS_HOST"
}

case "$action" in
    bundle)
        databricks_env
        databricks="$(bash "$here/install_databricks_cli.sh" "$release-tools")"
        wheel="$(python "$here/release_env.py" upload --env "$env" "$release/$RELEASE_WHEEL")"
        cd "$release/infra"
        "$databricks" bundle validate --target "$env" --var "wheel=$wheel" >/dev/null
        "$databricks" bundle deploy --target "$env" --var "wheel=$wheel"
        ;;
    airflow)
        lakehouse env apply --env "$env"
        ;;
    governance)
        databricks_env
        lakehouse governance apply --env "$env"
        ;;
    smoke)
        databricks_env
        python "$here/release_env.py" verify --env "$env" "$release/$RELEASE_WHEEL"
        ;;
    *)
        echo "$usage" >&2
        exit 2
        ;;
esac
