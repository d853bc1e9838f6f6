#!/usr/bin/env bash
# The demos of two commits side by side: interleaved rounds (old, new, then new, old, ...),
# one load generator run per side and round, one core each (load generator on CPU 0, the
# server on CPU 1), then the medians over the rounds and their ratios new/old.
#
#   crates/a2a-sse-bench/against.sh OLD_BIN_DIR NEW_BIN_DIR [options]
#
# Each BIN_DIR is a `target/release` as bench.sh leaves it: `bench-bins/demo-axum` and
# `bench-bins/demo-actix` in it (and the floors, if asked for: link the new side's floors
# into the old directory so both sides run the same floor binaries). The load generator is
# NEW_BIN_DIR's. Options:
#   --rounds N        rounds per side (default 6)
#   --scenario S      a or b (default a)
#   --servers LIST    default ours-axum,ours-actix
#   --max-load L      wait (up to --wait-s seconds) for a 1-minute load average below L
#                     before each round (default 2.0; the load is logged either way)
#   --wait-s S        default 900
#   --log FILE        every run's line, with its side and round (default against.log)
#   --lock FILE       hold `flock FILE` over each round, so that benchmarks of others that
#                     take the same lock do not run beside it (a shared machine)
# `--summary FILE` only summarises a log written before.
set -euo pipefail
cd "$(dirname "$0")/../.."

summarise() {
    python3 - "$1" <<'EOF'
import re, statistics, sys
runs = {}
pattern = re.compile(
    r"side=(\w+) round=(\d+) .*\] (\S+)\s+conns.*?delivered (\d+)/(\d+)\s+missing (\d+) dup (\d+) "
    r"ooo (\d+) misrouted (\d+) faults (\d+).*?p50 ([\d.]+) ms\s+p99 ([\d.]+) ms.*?"
    r"rss ([\d.]+) KiB/conn\s+cpu ([\d.NaN]+) µs/delivery")
loads = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("load side="):
        side, rnd, load = re.match(r"load side=(\w+) round=(\d+) (.*)", line).groups()
        loads.setdefault(side, []).append(load.strip())
    m = pattern.search(line)
    if not m:
        continue
    side, rnd, server = m.group(1), int(m.group(2)), m.group(3)
    faults = sum(int(m.group(i)) for i in range(6, 11)) + int(m.group(5)) - int(m.group(4))
    runs.setdefault((server, side), []).append(dict(
        p50=float(m.group(11)), p99=float(m.group(12)), rss=float(m.group(13)),
        cpu=float(m.group(14)), faults=faults))
med = lambda xs: statistics.median(xs) if xs else float("nan")
servers = sorted({s for s, _ in runs})
print("| server | side | rounds | faults | CPU µs/delivery (range) | p50 ms | p99 ms (range) | KiB per idle stream (range) |")
print("|---|---|---|---|---|---|---|---|")
for server in servers:
    for side in ("old", "new"):
        rs = runs.get((server, side), [])
        if not rs:
            continue
        col = lambda k: [r[k] for r in rs]
        rng = lambda k: f"{min(col(k)):.2f}–{max(col(k)):.2f}"
        print(f"| {server} | {side} | {len(rs)} | {sum(col('faults'))} | {med(col('cpu')):.2f} ({rng('cpu')}) "
              f"| {med(col('p50')):.2f} | {med(col('p99')):.2f} ({rng('p99')}) | {med(col('rss')):.2f} ({rng('rss')}) |")
print()
print("| server | CPU new/old | p50 new/old | p99 new/old | KiB per idle stream new − old |")
print("|---|---|---|---|---|")
for server in servers:
    old, new = runs.get((server, "old"), []), runs.get((server, "new"), [])
    if not old or not new:
        continue
    m = lambda rs, k: med([r[k] for r in rs])
    ratio = lambda k: f"{m(new, k) / m(old, k):.3f}" if m(old, k) > 0 else "–"
    print(f"| {server} | {ratio('cpu')} | {ratio('p50')} | {ratio('p99')} "
          f"| {m(new,'rss')-m(old,'rss'):+.2f} |")
for side, ls in loads.items():
    print(f"\nload averages before each {side} run: {'; '.join(ls)}")
EOF
}

old="" new="" rounds=6 scenario=a servers=ours-axum,ours-actix max_load=2.0 wait_s=900
log=against.log lock=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --scenario) scenario="$2"; shift 2 ;;
        --servers) servers="$2"; shift 2 ;;
        --max-load) max_load="$2"; shift 2 ;;
        --wait-s) wait_s="$2"; shift 2 ;;
        --log) log="$2"; shift 2 ;;
        --lock) lock="$2"; shift 2 ;;
        --summary) summarise "$2"; exit 0 ;;
        *)
            if [[ -z "$old" ]]; then old="$1"; elif [[ -z "$new" ]]; then new="$1"; else
                echo "against.sh: unexpected argument $1" >&2; exit 2; fi
            shift ;;
    esac
done
[[ -n "$old" && -n "$new" ]] || { echo "usage: against.sh OLD_BIN_DIR NEW_BIN_DIR [options]" >&2; exit 2; }

# Waits for a quiet machine (at most wait_s seconds).
quiet() {
    local waited=0
    while (( waited < wait_s )) &&
        awk -v max="$max_load" '{ exit !($1 >= max) }' /proc/loadavg; do
        sleep 15
        waited=$((waited + 15))
    done
}

for ((round = 1; round <= rounds; round++)); do
    if ((round % 2)); then order=(old new); else order=(new old); fi
    quiet
    if [[ -n "$lock" ]]; then exec 9>>"$lock"; flock 9; fi
    for side in "${order[@]}"; do
        dir="$old"
        [[ "$side" == new ]] && dir="$new"
        echo "load side=$side round=$round $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
        taskset -c 0 "$new/loadgen" --bin-dir "$dir" --server-cpus 1 --scenario "$scenario" \
            --servers "$servers" --repeat 1 2>&1 |
            grep '^\[' | sed "s/^/side=$side round=$round /" | tee -a "$log"
    done
    if [[ -n "$lock" ]]; then flock -u 9; fi
done
summarise "$log"
