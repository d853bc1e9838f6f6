#!/usr/bin/env bash
# Soak and scale checks against both demos (the `soak` binary of crates/a2a-sse-bench):
# churn (connections opened and reset in waves while events flow), held (many streams at
# once), stalled (clients that never read beside fast readers), shutdown (exit on SIGINT
# with many open streams). Each prints its figures and fails on a correctness fault:
# counts not back to their baseline, events missing, duplicated or misrouted. Timings are
# reported, never checked.
#
#   scripts/soak.sh                      # full sizes, release builds (the figures in
#                                        # docs/benchmarks.md; run it under
#                                        # `flock /work/bench.lock` on a shared machine)
#   scripts/soak.sh --small              # the CI sizes, debug builds (what scripts/test-all runs)
#   scripts/soak.sh held -n 20000        # one check; soak's flags go before the check:
#   scripts/soak.sh --demos axum stalled # `soak --help`, `soak held --help`
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="$target"

profile=release
build=(--release)
if [[ "${1:-}" == --small ]]; then
    profile=debug
    build=()
fi
cargo build "${build[@]}" -p a2a-sse-bench --bin soak
cargo build "${build[@]}" -p a2a-sse-axum --example demo -p a2a-sse-actix --example actix-demo
# Copies the demos just built to DIR/bench-bins, where `soak` looks for them.
install_demos() {
    mkdir -p "$1/bench-bins"
    cp "$target/$profile/examples/demo" "$1/bench-bins/demo-axum"
    cp "$target/$profile/examples/actix-demo" "$1/bench-bins/demo-actix"
}
install_demos "$target/$profile"
# The churn check runs the demos built with jemalloc, whose background threads hand the
# memory of a burst of connections back to the system (glibc's allocator keeps it:
# docs/benchmarks.md, "Churn"). Same target directory: only the demo crate and the
# examples are built twice.
cargo build "${build[@]}" -p a2a-sse-axum --example demo -p a2a-sse-actix --example actix-demo \
    --features a2a-sse-demo/jemalloc
install_demos "$target/$profile/jemalloc"
soak=("$target/$profile/soak" --bin-dir "$target/$profile" --churn-bin-dir "$target/$profile/jemalloc")
# No check named: all of them.
case " $* " in
    *" churn "* | *" held "* | *" stalled "* | *" shutdown "* | *" all "*) exec "${soak[@]}" "$@" ;;
    *) exec "${soak[@]}" "$@" all ;;
esac
