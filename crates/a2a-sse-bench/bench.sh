#!/usr/bin/env bash
# Builds every server in release mode, copies the demos aside (as demo-axum and
# demo-actix), and runs the load generator with the given flags, e.g.:
#   crates/a2a-sse-bench/bench.sh --scenario a,b --repeat 3
#   crates/a2a-sse-bench/bench.sh --scenario a --skip-ours
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"
cargo build --release -p a2a-sse-bench --bins
mkdir -p "$target/release/bench-bins"
if [[ " $* " != *" --skip-ours "* ]]; then
    for fw in axum actix; do
        example=demo
        [ "$fw" = actix ] && example=actix-demo
        if cargo build --release -p "a2a-sse-$fw" --example "$example"; then
            cp "$target/release/examples/$example" "$target/release/bench-bins/demo-$fw"
        else
            echo "warning: the $fw demo did not build; its rows will read 'pending'" >&2
            rm -f "$target/release/bench-bins/demo-$fw"
        fi
    done
fi
exec "$target/release/loadgen" --bin-dir "$target/release" "$@"
