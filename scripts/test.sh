#!/usr/bin/env bash
# Second README command: set everything up, then lint, type-check and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow" -x).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_venv
ensure_postgres
ensure_chromium
ensure_compose_checker
cd "$ROOT"
export PATH="$VENV/bin:$PATH"

say "ruff"
ruff check .
ruff format --check .
say "mypy"
mypy
say "import layers"
lint-imports --no-cache
say "data contracts"
lakehouse contracts validate
# A contract change is judged against main; on main itself, against the commit before.
if [ "$(git rev-parse --abbrev-ref HEAD)" != main ] && git rev-parse --verify -q main >/dev/null; then
    lakehouse contracts check --base main
elif git rev-parse --verify -q HEAD~1 >/dev/null; then
    lakehouse contracts check --base HEAD~1
else
    echo "contracts check: no earlier commit in this clone to compare with"
fi
say "terraform"
bash scripts/ci/terraform.sh
# The whole suite; with no arguments, alongside it every Spark test again over Spark Connect (no
# SparkContext, RDD or JVM access, as Databricks serverless and standard-access clusters require),
# in a process of its own that overlaps the suite's waits for Airflow and the workspace double.
connect_pid=""
if [ $# -eq 0 ]; then
    connect_dir="$(mktemp -d -t lakehouse-connect-tests-XXXXXX)"
    say "pytest, and the Spark tests over Spark Connect alongside (their log: $connect_dir/pytest.log)"
    LAKEHOUSE_TEST_SPARK=connect pytest tests/spark -p no:cacheprovider --basetemp="$connect_dir/tmp" \
        >"$connect_dir/pytest.log" 2>&1 &
    connect_pid=$!
else
    say "pytest"
fi
status=0
pytest "$@" || status=$?
if [ -n "$connect_pid" ]; then
    connect_status=0
    wait "$connect_pid" || connect_status=$?
    say "pytest: the Spark tests over Spark Connect (exit $connect_status)"
    cat "$connect_dir/pytest.log"
    [ "$connect_status" -eq 0 ] || status=$connect_status
fi
exit "$status"
