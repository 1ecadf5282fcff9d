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
say "pytest"
pytest "$@"
