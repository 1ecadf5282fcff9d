#!/usr/bin/env bash
# Creates .venv from requirements.lock and installs the project into it; idempotent and quick when
# nothing changed. Sourced by the other scripts, or run on its own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
UV_VERSION="0.13.9"
# Bytecode is compiled at install: every task process, DAG parse and CLI call imports about a
# thousand modules, and where Python may not write .pyc files itself (PYTHONDONTWRITEBYTECODE, a
# read-only venv) it would compile them from source each time.
UV_SYNC_OPTIONS="--quiet --require-hashes --compile-bytecode"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

check_java() {
    local java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java" version
    command -v "$java_bin" >/dev/null 2>&1 || die "Java 17 or later is needed for Spark; install a JDK and set JAVA_HOME"
    version="$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
    [ "${version:-0}" -ge 17 ] || die "Java 17 or later is needed for Spark; found Java ${version:-unknown}"
}

setup_venv() {
    local python stamp want
    python="$(find_python)" || die "Python 3.11 or 3.12 is needed; set PYTHON to its path"
    check_java
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.lakehouse-installed"
    # The install options are part of the stamp, so a venv made with other options is redone.
    want="$(printf '%s\n' "$UV_SYNC_OPTIONS" | cat - "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing the locked dependencies into .venv (first run: a few minutes)"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
        # shellcheck disable=SC2086 # the options are words
        "$VENV/bin/uv" pip sync $UV_SYNC_OPTIONS --python "$VENV/bin/python" "$ROOT/requirements.lock"
        "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps --editable "$ROOT"
        echo "$want" >"$stamp"
    fi
    # The project is installed editable, so its own modules are compiled here, on every set-up.
    "$VENV/bin/python" -m compileall -q "$ROOT/src" >/dev/null
    fetch_delta_jars
}

# Spark looks for Delta's jars at session start. Fetch them once with Maven, which honours the
# machine's repository settings; without Maven, Spark resolves them itself at first use.
fetch_delta_jars() {
    local jars="$VENV/share/lakehouse/jars" versions delta spark artifact log
    # delta-spark's jar is built per Spark minor version: delta-spark_<spark minor>_2.13.
    versions="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("delta-spark"), ".".join(m.version("pyspark").split(".")[:2]))')"
    read -r delta spark <<<"$versions"
    if [ -f "$jars/delta-spark_${spark}_2.13-$delta.jar" ] && [ -f "$jars/delta-storage-$delta.jar" ]; then
        return 0
    fi
    if ! command -v mvn >/dev/null 2>&1; then
        say "Maven not found: Spark will download the Delta $delta jars itself on first use"
        return 0
    fi
    say "fetching the Delta Lake $delta jars"
    mkdir -p "$jars"
    for artifact in "io.delta:delta-spark_${spark}_2.13:$delta" "io.delta:delta-storage:$delta"; do
        if ! log="$(mvn -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$jars" </dev/null 2>&1)"; then
            printf '%s\n' "$log" | grep -E 'ERROR' >&2 || true
            die "could not fetch $artifact with Maven"
        fi
    done
}

# The tests run Airflow on PostgreSQL, as a deployment does. Debian keeps the server's programs in
# /usr/lib/postgresql/<version>/bin; the package is installed when root or sudo allows it.
ensure_postgres() {
    if command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
        return 0
    fi
    apt_install "a PostgreSQL server (pg_ctl)" postgresql
}

# The health page's test opens it in headless Chromium through chromedriver (selenium), from
# Debian's packages.
ensure_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return 0
    fi
    apt_install "Chromium and its driver (/usr/bin/chromium, /usr/bin/chromedriver)" chromium chromium-driver
}

# apt_install WHAT PACKAGE...: install Debian packages the tests need, as root or through sudo.
apt_install() {
    local what="$1" sudo=""
    shift
    if [ "$(id -u)" -ne 0 ]; then
        sudo -n true 2>/dev/null || sudo=missing
        [ "$sudo" = missing ] || sudo="sudo -n"
    fi
    if [ "$sudo" = missing ] || ! command -v apt-get >/dev/null 2>&1; then
        die "the tests need $what: install it, e.g. 'apt-get install $*'"
    fi
    say "installing $what (Debian packages: $*)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null
}

# CI checks docker-compose.yaml with Compose's own loader: `docker compose config` where the Compose
# plugin exists, else compose-go's validator (the library `docker compose` is built on), built with Go.
COMPOSE_GO_VERSION="v2.16.2"
ensure_compose_checker() {
    if docker compose version >/dev/null 2>&1 || [ -x "$VENV/bin/compose-spec" ]; then
        return 0
    fi
    command -v go >/dev/null 2>&1 || die "checking docker-compose.yaml needs 'docker compose' or Go (to build compose-go's validator)"
    say "building compose-go $COMPOSE_GO_VERSION's validator"
    local bin
    bin="$(mktemp -d)"
    GOBIN="$bin" go install "github.com/compose-spec/compose-go/v2/cmd@$COMPOSE_GO_VERSION" </dev/null
    mv "$bin/cmd" "$VENV/bin/compose-spec"
    rmdir "$bin"
}

# CI checks infra/terraform with Terraform's CLI: `terraform` where it is installed, else OpenTofu (the
# open-source fork: the same language and the same `terraform fmt`), built with Go from its module.
# Terraform's own module cannot be built that way (its go.mod replaces modules with local folders).
# ensure_terraform sets TERRAFORM to the binary.
OPENTOFU_VERSION="v1.10.10"
# OpenTofu's go.mod swaps hcl for its fork, and `go install pkg@version` refuses a module with replace
# directives, so the build runs in a throwaway module that repeats the swap.
OPENTOFU_HCL="github.com/hashicorp/hcl/v2@v2.20.1=github.com/opentofu/hcl/v2@v2.20.2-0.20251021132045-587d123c2828"
ensure_terraform() {
    if command -v terraform >/dev/null 2>&1; then
        TERRAFORM="$(command -v terraform)"
        return 0
    fi
    TERRAFORM="$VENV/bin/tofu"
    [ -x "$TERRAFORM" ] && return 0
    command -v go >/dev/null 2>&1 || die "checking infra/terraform needs 'terraform' or Go (to build OpenTofu $OPENTOFU_VERSION)"
    say "building OpenTofu $OPENTOFU_VERSION (first run: a few minutes)"
    local work log
    work="$(mktemp -d)"
    mkdir -p "$(dirname "$TERRAFORM")"
    if ! log="$(cd "$work" && {
        go mod init lakehouse-opentofu && go mod edit -replace "$OPENTOFU_HCL" \
            && go get "github.com/opentofu/opentofu/cmd/tofu@$OPENTOFU_VERSION" \
            && go build -mod=mod -o "$TERRAFORM.partial" github.com/opentofu/opentofu/cmd/tofu
    } </dev/null 2>&1)"; then
        printf '%s\n' "$log" | tail -n 20 >&2
        rm -rf "$work"
        die "could not build OpenTofu $OPENTOFU_VERSION"
    fi
    mv "$TERRAFORM.partial" "$TERRAFORM"
    rm -rf "$work"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    setup_venv
    say "ready: $VENV/bin/lakehouse"
fi
