#!/usr/bin/env bash
# First README command: set everything up, check the config, and load every DAG through Airflow.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_venv
cd "$ROOT"
export PATH="$VENV/bin:$PATH"

say "validating config/ for every environment"
lakehouse validate --all-envs

say "loading the DAG folder with Airflow (environment: ${LAKEHOUSE_ENV:-local})"
lakehouse airflow dags list --local --columns dag_id,owners,fileloc
errors="$(lakehouse airflow dags list-import-errors --local)"
if ! grep -q "No data found" <<<"$errors"; then
    printf '%s\n' "$errors"
    die "Airflow reported import errors"
fi
say "all DAGs loaded with no import errors"
