#!/usr/bin/env bash
# Runs one fuzz target until its coverage plateaus, one job, and prints its figures: runs,
# time, final cov/ft, corpus size (docs/fuzzing.md, "How far the long runs got").
#
#   scripts/fuzz-plateau.sh TARGET [MAX_SECS] [QUIET_SECS]
#
# It stops when libFuzzer's `cov:` has not grown for QUIET_SECS (default 240) or after
# MAX_SECS (default 900). The corpus grows in fuzz/corpus/TARGET (gitignored), starting
# from the committed seeds in fuzz/seeds/TARGET; crashes go to fuzz/artifacts/TARGET/.
# KEEP_GOING=1 runs libFuzzer in fork mode with -ignore_crashes=1, so that a known crash
# does not end the measurement (the crash is still saved). The log and these figures are
# kept in fuzz/target/plateau/TARGET.{log,txt}. Build first:
# `RUSTC_BOOTSTRAP=1 cargo fuzz build` in fuzz/ (scripts/fuzz-smoke.sh does).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

target=${1:?usage: $0 TARGET [MAX_SECS] [QUIET_SECS]}
max=${2:-900}
quiet=${3:-240}
bin=target/x86_64-unknown-linux-gnu/release/$target
[ -x "$bin" ] || { echo "no $bin: run RUSTC_BOOTSTRAP=1 cargo fuzz build first" >&2; exit 2; }
mkdir -p "corpus/$target" "artifacts/$target"
mkdir -p target/plateau
log=target/plateau/$target.log

args=(-artifact_prefix="artifacts/$target/" -print_final_stats=1 -max_total_time="$max")
[ -n "${KEEP_GOING:-}" ] && args+=(-fork=1 -ignore_crashes=1)
start=$(date +%s)
"$bin" "${args[@]}" "corpus/$target" "seeds/$target" >"$log" 2>&1 &
pid=$!

last_cov=-1
last_change=$start
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo -1)
  now=$(date +%s)
  if [ "$cov" != "$last_cov" ]; then
    last_cov=$cov
    last_change=$now
  elif [ $((now - last_change)) -ge "$quiet" ]; then
    kill -INT "$pid" 2>/dev/null || true
    break
  fi
done
wait "$pid" && rc=0 || rc=$?
end=$(date +%s)

last=$(grep -E 'cov: [0-9]+' "$log" | tail -1)
runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)
[ -n "$runs" ] || runs=$(printf '%s\n' "$last" | grep -oE '^#[0-9]+' | tr -d '#')
{
echo "target:            $target"
echo "wall time:         $((end - start)) s (cov last grew $((last_change - start)) s in)"
echo "runs:              ${runs:-?}"
echo "last status line:  $last"
echo "corpus files:      $(find "corpus/$target" -type f | wc -l) ($(du -sh "corpus/$target" | cut -f1))"
echo "crashes saved:     $(find "artifacts/$target" -type f | wc -l)"
echo "libFuzzer exit:    $rc (log: $log)"
grep -E 'panicked at|SUMMARY|deadly signal' "$log" | head -5 || true
} | tee "target/plateau/$target.txt"
