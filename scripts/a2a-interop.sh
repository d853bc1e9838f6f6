#!/usr/bin/env bash
# Interop test of the A2A binding with the official Python client (`a2a-sdk` 1.x): builds
# both demos, installs crates/a2a-sse-demo/tests/a2a_interop/requirements.txt (the SDK, and
# `standardwebhooks` to verify push signatures) into a virtualenv under the cargo target
# dir, then runs test_interop.py against both demos over both bindings (push notifications
# on, to a webhook receiver of the test's on loopback). The demos' logs land in the target
# dir's a2a-interop/. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=crates/a2a-sse-demo/tests/a2a_interop

cargo build -p a2a-sse-axum --example demo -p a2a-sse-actix --example actix-demo

target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target_dir/a2a-venv"

# The virtualenv. Debian's python3 makes venvs only with its python3-venv package.
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
fi

# The SDK, unless this requirements.txt is installed already (its copy is the stamp).
stamp="$venv/requirements.installed"
if ! cmp -s "$tests/requirements.txt" "$stamp" || ! "$venv/bin/python" -c 'import a2a.client' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$tests/requirements.txt"
  cp "$tests/requirements.txt" "$stamp"
fi

A2A_INTEROP_LOGS="$target_dir/a2a-interop" exec "$venv/bin/python" "$tests/test_interop.py" \
  "$target_dir/debug/examples/demo" "$target_dir/debug/examples/actix-demo"
