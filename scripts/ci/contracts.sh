#!/usr/bin/env bash
# CI's config and data contract checks: every environment's config, sample payloads against their
# contracts, then every contract against its version on the branch a pull request targets (on a push,
# against the commit before).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../setup.sh"
setup_venv
cd "$ROOT"

"$VENV/bin/lakehouse" validate --all-envs
"$VENV/bin/lakehouse" contracts validate

# Azure Pipelines checks out one commit (a detached HEAD, shallow by default): fetch what to compare with.
target="${SYSTEM_PULLREQUEST_TARGETBRANCH:-}"
if [ -n "$target" ]; then
    branch="${target#refs/heads/}"
    git fetch --quiet --no-tags --depth=1 origin "+refs/heads/$branch:refs/remotes/origin/$branch"
    base="origin/$branch"
else
    git rev-parse --verify -q HEAD~1 >/dev/null || git fetch --quiet --no-tags --deepen=1 origin
    base="HEAD~1"
fi
"$VENV/bin/lakehouse" contracts check --base "$base"
