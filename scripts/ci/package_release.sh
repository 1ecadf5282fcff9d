#!/usr/bin/env bash
# Lays out the release that CD promotes unchanged from dev to test to prod:
#   package_release.sh WHEEL OUT_DIR
# OUT_DIR gets the wheel, the bundle (infra/databricks.yml with the job definitions it includes, in the
# same relative layout), the lock the deploy tools install from, the CD scripts, and release.env naming
# the commit, the wheel and its SHA-256, which every CD stage checks before it deploys.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 WHEEL OUT_DIR" >&2; exit 2; }
wheel="$1"
out="$2"
[ -f "$wheel" ] || { echo "$wheel: no such wheel" >&2; exit 1; }

name="$(basename "$wheel")"
commit="$(git -C "$ROOT" rev-parse HEAD)"
case "$name" in
    *"+g${commit:0:12}-"*) ;;
    *) echo "$name was not built from this checkout's commit $commit (scripts/build_wheel.sh stamps it)" >&2; exit 1 ;;
esac

rm -rf "$out"
mkdir -p "$out/dist" "$out/infra" "$out/airflow/include" "$out/scripts"
cp "$wheel" "$out/dist/"
cp "$ROOT/infra/databricks.yml" "$out/infra/"
cp -R "$ROOT/airflow/include/jobs" "$out/airflow/include/"
cp "$ROOT/requirements.lock" "$out/"
cp -R "$ROOT/scripts/cd" "$out/scripts/"

{
    echo "RELEASE_COMMIT=$commit"
    echo "RELEASE_WHEEL=dist/$name"
    echo "RELEASE_WHEEL_SHA256=$(sha256sum "$wheel" | cut -d' ' -f1)"
} >"$out/release.env"
cat "$out/release.env"
