#!/usr/bin/env bash
# The Terraform checks of infra/terraform: `fmt -check` always; `init -backend=false` and `validate` on
# each root with TERRAFORM_VALIDATE=1, since they need the providers, which only their registry serves
# (the delivery pipeline's agents reach it; scripts/test.sh runs where it may not, and
# tests/test_infra.py checks references, variables and values statically either way).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../setup.sh"
ensure_terraform
cd "$ROOT"

"$TERRAFORM" fmt -check -recursive infra/terraform
if [ "${TERRAFORM_VALIDATE:-0}" = 1 ]; then
    for root in infra/terraform/environment infra/terraform/metastore; do
        "$TERRAFORM" -chdir="$root" init -backend=false -input=false >/dev/null
        "$TERRAFORM" -chdir="$root" validate
    done
else
    echo "terraform validate: not run (TERRAFORM_VALIDATE=1 runs it where the provider registry is reachable)"
fi
