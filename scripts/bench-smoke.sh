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
for fw in axum actix; do
    # Both examples are named `demo` and share target/debug/examples/demo.
    cargo build -p "a2a-sse-$fw" --example demo
    cp "$target/debug/examples/demo" "$target/debug/bench-bins/demo-$fw"
done
exec "$target/debug/loadgen" --bin-dir "$target/debug" --scenario smoke --check "$@"
