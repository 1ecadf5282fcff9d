#!/usr/bin/env bash
# CI's test job: the pytest part of scripts/test.sh (lint, types and contracts are separate CI jobs),
# with a JUnit report for the pipeline's test tab. Arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../setup.sh"
setup_venv
ensure_postgres
ensure_chromium
ensure_compose_checker
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
pytest --junitxml="${TEST_RESULTS:-$ROOT/build/test-results}/junit.xml" "$@"
