#!/usr/bin/env bash
# CI's fuzz step: builds the fuzz targets in fuzz/ (cargo-fuzz, libFuzzer, AddressSanitizer)
# on the stable toolchain and runs each for a short fixed time from its committed seeds,
# one job at a time. Any crash, panic or failed property fails the step; the input is
# left in fuzz/artifacts/TARGET/. How and why this works on stable: docs/fuzzing.md.
#
#   scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs=${1:-${FUZZ_SECS:-10}}
CARGO_FUZZ_VERSION=0.13.2
targets=(request frame_roundtrip publish_body a2a_jsonrpc)

if ! command -v cargo-fuzz >/dev/null; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# libFuzzer instrumentation needs -Z flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets
# the stable compiler take them. Set here only, for these commands.
export RUSTC_BOOTSTRAP=1
# fuzz/target, not the workspace's: other flags, and no lock contention with other builds.
export CARGO_TARGET_DIR="$PWD/target"

start=$(date +%s)
cargo fuzz build
echo "fuzz targets built in $(($(date +%s) - start)) s"

for target in "${targets[@]}"; do
  # A fresh corpus each run: the committed seeds are read, never written.
  corpus=$(mktemp -d "/tmp/fuzz-corpus-$target.XXXXXX")
  echo "==> fuzz $target for ${secs}s"
  status=0
  cargo fuzz run "$target" "$corpus" "seeds/$target" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$corpus.log" 2>&1 || status=$?
  grep -E '^#[0-9]+.*(INITED|DONE)|stat::number_of_executed_units' "$corpus.log" || true
  if [ "$status" != 0 ]; then
    tail -n 60 "$corpus.log"
    echo "fuzz target $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  rm -rf "$corpus" "$corpus.log"
done
echo "fuzz smoke: ${#targets[@]} targets, ${secs}s each, no crash ($(($(date +%s) - start)) s)"
