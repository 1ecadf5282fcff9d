#!/usr/bin/env bash
# Installs the released wheel, after checking it is the file CI built (release.env's SHA-256), into a
# virtualenv beside the release folder (RELEASE_DIR-venv: outside it, so the bundle never syncs it), its
# dependencies pinned by the release's requirements.lock; prints the virtualenv's bin folder.
#   install_release.sh RELEASE_DIR
set -euo pipefail
release="$(cd "${1:?usage: $0 RELEASE_DIR}" && pwd)"
venv="$release-venv"
UV_VERSION="0.13.9"
# shellcheck source=/dev/null
source "$release/release.env"

cd "$release"
echo "$RELEASE_WHEEL_SHA256  $RELEASE_WHEEL" | sha256sum --check --strict >&2
echo "release of commit $RELEASE_COMMIT: $RELEASE_WHEEL" >&2
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
fi
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --constraints requirements.lock "$RELEASE_WHEEL" >&2
echo "$venv/bin"
