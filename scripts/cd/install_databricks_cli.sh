#!/usr/bin/env bash
# Installs the Databricks CLI at the pinned version from its release archive, checked against the
# release's SHA-256 list, into DIR (default ~/.local/bin); prints the binary's path.
set -euo pipefail
DATABRICKS_CLI_VERSION="1.2.1"
dir="${1:-$HOME/.local/bin}"
if [ -x "$dir/databricks" ] && "$dir/databricks" --version | grep -qF "v$DATABRICKS_CLI_VERSION"; then
    echo "$dir/databricks"
    exit 0
fi
case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "no Databricks CLI build for $(uname -m)" >&2; exit 1 ;;
esac
file="databricks_cli_${DATABRICKS_CLI_VERSION}_linux_${arch}.zip"
url="https://github.com/databricks/cli/releases/download/v$DATABRICKS_CLI_VERSION"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl -fsSL -o "$work/$file" "$url/$file"
curl -fsSL -o "$work/SHA256SUMS" "$url/databricks_cli_${DATABRICKS_CLI_VERSION}_SHA256SUMS"
(cd "$work" && grep -F " $file" SHA256SUMS | sha256sum --check --strict >&2)
unzip -q -o "$work/$file" databricks -d "$work"
mkdir -p "$dir"
install -m 0755 "$work/databricks" "$dir/databricks"
"$dir/databricks" --version >&2
echo "$dir/databricks"
