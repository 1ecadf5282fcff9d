#!/usr/bin/env bash
# Builds the wheel the Databricks jobs install, once per commit:
#   dist/lakehouse_orchestrator-<version>+g<commit>-py3-none-any.whl
# The same file is then deployed to dev, test and prod (lakehouse jobs deploy --wheel <file>).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"

if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] && [ "${1:-}" != "--allow-dirty" ]; then
    echo "the checkout has uncommitted changes: a wheel must be built from a commit (or pass --allow-dirty)" >&2
    exit 1
fi
commit="$(git -C "$ROOT" rev-parse --short=12 HEAD)"
LAKEHOUSE_BUILD_COMMIT="$commit" "$ROOT/.venv/bin/uv" build --quiet --wheel --out-dir "$ROOT/dist" "$ROOT"
ls "$ROOT"/dist/lakehouse_orchestrator-*+g"$commit"-py3-none-any.whl
