#!/usr/bin/env bash
# The fan-out load benchmark in its tiny smoke configuration, against every server (both
# demos in memory and over Redis, both baselines, bare, the floors), and the push load
# benchmark (push-load) in a tiny one, debug builds: CI checks
# the correctness counts (missing, duplicated, out-of-order, misrouted must be zero), not
# speed. The Redis rows start a redis-server of their own (the Debian package's
# /usr/bin/redis-server, or BENCH_REDIS_SERVER): without one the smoke fails in CI
# (CI=true) and, elsewhere, runs without the Redis rows after a loud warning.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"
cargo build -p a2a-sse-bench --bins
mkdir -p "$target/debug/bench-bins"
cargo build -p a2a-sse-axum --example demo -p a2a-sse-actix --example actix-demo
cp "$target/debug/examples/demo" "$target/debug/bench-bins/demo-axum"
cp "$target/debug/examples/actix-demo" "$target/debug/bench-bins/demo-actix"
servers=()
if ! "${BENCH_REDIS_SERVER:-redis-server}" --version >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "bench-smoke.sh: redis-server is not installed, and CI must run the Redis rows" \
            "(apt-get install redis-server)" >&2
        exit 1
    fi
    echo "!!!!! bench-smoke.sh: redis-server is not installed; the Redis rows are NOT run" \
        "(apt-get install redis-server) !!!!!" >&2
    if [[ " $* " != *" --servers"* ]]; then
        servers=(--servers ours-axum,ours-actix,baseline-axum,baseline-actix,bare,floor-axum,floor-actix)
    fi
fi
# Push notifications, one receiver down then back: every config's events in order, once.
"$target/debug/push-load" --tasks 4 --configs-per-task 3 --receivers 3 --rate 40 \
    --warmup 1 --duration 3 --recover 60 --drain 60 --check
exec "$target/debug/loadgen" --bin-dir "$target/debug" --scenario smoke --check \
    "${servers[@]}" "$@"
