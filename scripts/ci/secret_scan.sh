#!/usr/bin/env bash
# Secret scan of the whole git history with gitleaks (its default rules), built from source with Go at
# a pinned version as scripts/setup.sh does for the compose checker. Findings are printed redacted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../setup.sh"
GITLEAKS_VERSION="v8.30.1"
cd "$ROOT"

bin="${GITLEAKS_BIN:-$HOME/.cache/lakehouse/gitleaks-$GITLEAKS_VERSION}"
if [ ! -x "$bin/gitleaks" ]; then
    command -v go >/dev/null 2>&1 || die "the secret scan needs Go to build gitleaks $GITLEAKS_VERSION"
    say "building gitleaks $GITLEAKS_VERSION"
    mkdir -p "$bin"
    GOBIN="$bin" go install "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION" </dev/null
fi
# A shallow clone would hide history: scan every commit the agent can see, and say how many.
say "gitleaks over $(git rev-list --count HEAD) commit(s)"
"$bin/gitleaks" git --redact --no-banner --exit-code 1 .
