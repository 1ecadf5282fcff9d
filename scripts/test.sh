#!/usr/bin/env bash
# Second README command: set everything up, then lint, type-check and run the whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow" -x).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_venv
ensure_postgres
ensure_compose_checker
cd "$ROOT"
export PATH="$VENV/bin:$PATH"

say "ruff"
ruff check .
ruff format --check .
say "mypy"
mypy
say "pytest"
pytest "$@"
