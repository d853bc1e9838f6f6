#!/usr/bin/env bash
# The fan-out load benchmark in its tiny smoke configuration, against every server (both
# demos, both baselines, bare, the floors), debug builds: CI checks the correctness counts
# (missing, duplicated, out-of-order, misrouted must be zero), not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"
cargo build -p a2a-sse-bench --bins
mkdir -p "$target/debug/bench-bins"
cargo build -p a2a-sse-axum --example demo -p a2a-sse-actix --example actix-demo
cp "$target/debug/examples/demo" "$target/debug/bench-bins/demo-axum"
cp "$target/debug/examples/actix-demo" "$target/debug/bench-bins/demo-actix"
exec "$target/debug/loadgen" --bin-dir "$target/debug" --scenario smoke --check "$@"
