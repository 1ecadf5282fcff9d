#!/usr/bin/env bash
# First README command: set everything up, generate two days of demo data for the five source
# systems, and run the whole lakehouse on them through Airflow (local target: Spark + Delta Lake).
# DEMO_ROWS sets the number of customers (default 1000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_venv
cd "$ROOT"
export PATH="$VENV/bin:$PATH"

say "validating config/"
lakehouse validate

if [ -z "${LAKEHOUSE_LANDING_ROOT:-}${LAKEHOUSE_WAREHOUSE_ROOT:-}" ] && [ -d .lakehouse ]; then
    say "removing the previous demo's .lakehouse/ (landing files and tables)"
    rm -rf .lakehouse
fi
say "generating demo landing data"
lakehouse demo-data --rows "${DEMO_ROWS:-1000}" --seed 42

say "running every DAG through Airflow, day by day"
lakehouse run
