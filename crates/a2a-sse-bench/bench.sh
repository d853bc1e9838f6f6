#!/usr/bin/env bash
# Builds every server in release mode, copies the demos aside (as demo-axum and
# demo-actix), and runs the load generator with the given flags.
#
# The main configuration gives each side a core: the load generator runs on CPU 0 and every
# server on CPU 1 (`taskset -c 0 loadgen … --server-cpus 1`), so that the latency measures
# the server rather than its contest with the load generator for shared cores.
# `--sharing shared` runs both on all cores as the kernel shares them instead (the second
# table), `--sharing both` runs the main configuration and then that one.
# BENCH_LOADGEN_CPUS and BENCH_SERVER_CPUS (`taskset -c` syntax) move the two sides.
# The Redis rows (ours-axum-redis, ours-actix-redis) start a redis-server of their own on
# the servers' CPUs (BENCH_REDIS_SERVER, else redis-server on PATH; without one they read
# 'pending').
#   crates/a2a-sse-bench/bench.sh --scenario a,b --repeat 5
#   crates/a2a-sse-bench/bench.sh --sharing both --scenario a,b --repeat 9
#   crates/a2a-sse-bench/bench.sh --scenario a --skip-ours
#   crates/a2a-sse-bench/bench.sh --scenario a --repeat 5 \
#       --servers ours-axum,ours-actix,ours-axum-redis,ours-actix-redis
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"
loadgen_cpus="${BENCH_LOADGEN_CPUS:-0}"
server_cpus="${BENCH_SERVER_CPUS:-1}"

sharing=one-core-each
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sharing)
            sharing="${2:?--sharing needs one-core-each, shared or both}"
            shift 2
            ;;
        --sharing=*)
            sharing="${1#--sharing=}"
            shift
            ;;
        *)
            args+=("$1")
            shift
            ;;
    esac
done
case "$sharing" in
    one-core-each | shared | both) ;;
    *)
        echo "bench.sh: --sharing $sharing: expected one-core-each, shared or both" >&2
        exit 2
        ;;
esac
# Each set on its own: a list naming one CPU that exists and one that does not is accepted.
if [[ "$sharing" != shared ]] &&
    ! { taskset -c "$loadgen_cpus" true && taskset -c "$server_cpus" true; } 2>/dev/null; then
    echo "bench.sh: cannot run on CPUs $loadgen_cpus and $server_cpus (set" \
        "BENCH_LOADGEN_CPUS / BENCH_SERVER_CPUS, or use --sharing shared)" >&2
    exit 2
fi

cargo build --release -p a2a-sse-bench --bins
mkdir -p "$target/release/bench-bins"
if [[ " ${args[*]-} " != *" --skip-ours "* ]]; then
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
loadgen=("$target/release/loadgen" --bin-dir "$target/release")
status=0
if [[ "$sharing" != shared ]]; then
    echo "## One core each: load generator on CPUs $loadgen_cpus, servers on CPUs $server_cpus"
    taskset -c "$loadgen_cpus" "${loadgen[@]}" --server-cpus "$server_cpus" "${args[@]}" ||
        status=$?
fi
if [[ "$sharing" != one-core-each ]]; then
    echo "## Shared cores: load generator and servers on all CPUs"
    "${loadgen[@]}" "${args[@]}" || status=$?
fi
exit "$status"
